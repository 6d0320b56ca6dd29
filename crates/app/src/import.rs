//! Imports of reference data: administrative units, the 2025 succession table and published
//! agency identifiers. Each import is one transaction and one audit entry.

use crate::Code;
use std::collections::{BTreeMap, HashMap, HashSet};

use egov_domain::admin_unit::{
    Structure, SuccessionKind, UnitLevel, people_committee_name, valid_stat_code,
};
use egov_domain::agency_code::{AgencyCode, IdentifierScheme};
use egov_domain::org::{AgencyKind, Governance};
use egov_store::agencies::{self, NewAgency};
use egov_store::units::{self, Lineage, NewUnit};
use egov_store::{Exec, Tx};
use serde::Serialize;

use crate::{Actor, App, AppError, audit, data};

/// A row of a units file: `level,code,name,division_type,parent_code`.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRow {
    pub level: UnitLevel,
    pub code: String,
    pub name: String,
    pub division_type: String,
    pub parent_code: Option<String>,
}

fn bad_row(line: usize, why: impl Into<String>) -> AppError {
    let why = why.into();
    AppError::invalid(Code::ImportBadRow, format!("line {line}: {why}"))
        .arg("line", line)
        .arg("reason", why)
}

fn records(text: &str, expected: &[&str]) -> Result<Vec<(usize, csv::StringRecord)>, AppError> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| bad_row(1, e.to_string()))?
        .clone();
    let got: Vec<&str> = headers.iter().collect();
    if !expected.iter().all(|h| got.contains(h)) {
        return Err(AppError::invalid(
            Code::ImportBadHeader,
            format!(
                "the header must name the columns {}; it has {}",
                expected.join(","),
                got.join(",")
            ),
        )
        .arg("expected", expected.join(","))
        .arg("found", got.join(",")));
    }
    let mut out = Vec::new();
    for (i, r) in rdr.records().enumerate() {
        let line = i + 2;
        out.push((line, r.map_err(|e| bad_row(line, e.to_string()))?));
    }
    let _ = headers;
    Ok(out)
}

fn field<'r>(headers: &csv::StringRecord, r: &'r csv::StringRecord, name: &str) -> Option<&'r str> {
    let i = headers.iter().position(|h| h == name)?;
    r.get(i).filter(|s| !s.is_empty())
}

/// Parses and checks a units file.
pub fn parse_units(text: &str) -> Result<Vec<UnitRow>, AppError> {
    let cols = ["level", "code", "name", "division_type", "parent_code"];
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| bad_row(1, e.to_string()))?
        .clone();
    records(text, &cols)?
        .into_iter()
        .map(|(line, r)| {
            let level_s = field(&headers, &r, "level").unwrap_or_default();
            let level = UnitLevel::parse(level_s)
                .ok_or_else(|| bad_row(line, format!("unknown level {level_s:?}")))?;
            let code = field(&headers, &r, "code").unwrap_or_default().to_owned();
            if !valid_stat_code(level, &code) {
                return Err(bad_row(
                    line,
                    format!("{code:?} is not a {} code", level.as_str()),
                ));
            }
            let name = egov_domain::text::nfc(field(&headers, &r, "name").unwrap_or_default());
            if name.trim().is_empty() {
                return Err(bad_row(line, "the name is empty"));
            }
            let parent_code = field(&headers, &r, "parent_code").map(str::to_owned);
            if level != UnitLevel::Province && parent_code.is_none() {
                return Err(bad_row(line, "a district or commune needs a parent_code"));
            }
            Ok(UnitRow {
                level,
                code,
                name,
                division_type: field(&headers, &r, "division_type")
                    .unwrap_or_default()
                    .to_owned(),
                parent_code,
            })
        })
        .collect()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub units: u64,
    pub agencies_created: u64,
    pub successions: u64,
    pub skipped: u64,
}

/// Allocates identifiers for People's Committees that no published list names.
struct Allocator {
    scheme: IdentifierScheme,
    used: HashMap<String, HashSet<AgencyCode>>,
}

impl Allocator {
    async fn used_under(
        &mut self,
        ex: &mut Tx,
        root: AgencyCode,
    ) -> Result<&mut HashSet<AgencyCode>, AppError> {
        let key = root.to_string()[10..].to_owned();
        if !self.used.contains_key(&key) {
            let codes = agencies::codes_under(ex, &key).await?;
            let set = codes.iter().filter_map(|c| c.parse().ok()).collect();
            self.used.insert(key.clone(), set);
        }
        Ok(self.used.get_mut(&key).expect("just inserted"))
    }

    /// The first free code produced by `make(n)` for n = 0, 1, 2 …
    async fn next(
        &mut self,
        ex: &mut Tx,
        root: AgencyCode,
        make: impl Fn(
            &IdentifierScheme,
            usize,
        ) -> Result<AgencyCode, egov_domain::agency_code::SchemeError>,
    ) -> Result<AgencyCode, AppError> {
        let scheme = self.scheme;
        let used = self.used_under(ex, root).await?;
        for n in 0.. {
            let c = make(&scheme, n).map_err(|e| {
                AppError::conflict(Code::IdentifierExhausted, e.to_string())
                    .arg("reason", e.to_string())
            })?;
            if used.insert(c) {
                return Ok(c);
            }
        }
        unreachable!("the scheme reports exhaustion before n overflows")
    }

    fn mark_used(&mut self, code: AgencyCode) {
        let key = code.to_string()[10..].to_owned();
        self.used.entry(key).or_default().insert(code);
    }
}

impl App {
    /// Imports a units file for one structure (optionally only one province), and creates the
    /// People's Committee of every unit that has none yet.
    pub async fn import_units(
        &self,
        actor: &Actor,
        structure: Structure,
        text: &str,
        province: Option<&str>,
    ) -> Result<ImportReport, AppError> {
        let rows = parse_units(text)?;
        let by_code: HashMap<&str, &UnitRow> = rows.iter().map(|r| (r.code.as_str(), r)).collect();
        let province_of = |r: &UnitRow| -> Option<String> {
            let mut cur = r;
            for _ in 0..3 {
                if cur.level == UnitLevel::Province {
                    return Some(cur.code.clone());
                }
                cur = by_code.get(cur.parent_code.as_deref()?)?;
            }
            None
        };
        let mut new_units = Vec::new();
        for r in &rows {
            let Some(p) = province_of(r) else {
                return Err(AppError::invalid(
                    Code::ImportOrphanUnit,
                    format!("unit {} has no province in the file", r.code),
                )
                .arg("code", &r.code));
            };
            if province.is_some_and(|want| want != p) {
                continue;
            }
            if structure == Structure::TwoTier && r.level == UnitLevel::District {
                return Err(AppError::invalid(
                    Code::ImportBadRow,
                    format!("the two-tier structure has no districts (unit {})", r.code),
                )
                .arg("line", 0)
                .arg("reason", format!("district {}", r.code)));
            }
            new_units.push(NewUnit {
                structure: structure.as_str(),
                code: r.code.clone(),
                level: r.level.as_str(),
                name: r.name.clone(),
                division_type: r.division_type.clone(),
                parent_code: r.parent_code.clone(),
                province_code: p,
                valid_from: structure.valid_from(),
                valid_to: structure.valid_to(),
            });
        }
        if new_units.is_empty() {
            return Err(AppError::invalid(
                Code::ImportEmpty,
                "the file has no units to import",
            ));
        }
        let mut tx = self.db.begin().await?;
        self.require_system_admin(&mut tx, actor).await?;
        let written = units::upsert_units(&mut tx, &new_units).await?;
        let created = self.ensure_committees(&mut tx, structure, province).await?;
        let report = ImportReport {
            units: written,
            agencies_created: created,
            ..Default::default()
        };
        audit::event("units.import", "structure", structure.as_str())
            .after(&serde_json::json!({ "province": province, "report": report }))
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Creates the People's Committee of every unit of the structure that lacks one.
    async fn ensure_committees(
        &self,
        tx: &mut Tx,
        structure: Structure,
        province: Option<&str>,
    ) -> Result<u64, AppError> {
        let scheme = self.settings.scheme().map_err(AppError::internal)?;
        let mut alloc = Allocator {
            scheme,
            used: HashMap::new(),
        };
        let all = units::list(tx, structure.as_str(), province).await?;
        let mut pc: HashMap<i64, (i64, AgencyCode)> = HashMap::new();
        for (unit_id, agency_id, code) in agencies::committees(tx).await? {
            if let Ok(code) = code.parse() {
                pc.insert(unit_id, (agency_id, code));
            }
        }
        let now = self.now();
        let mut created = 0;
        // Provinces first, then districts, then communes, each in code order.
        for level in [UnitLevel::Province, UnitLevel::District, UnitLevel::Commune] {
            for u in all.iter().filter(|u| u.level == level) {
                if pc.contains_key(&u.id) {
                    continue;
                }
                let parent = u.parent_id.and_then(|p| pc.get(&p).copied());
                let mapped = units::mapped_identifier(tx, structure.as_str(), &u.code).await?;
                let (code, source) = match (mapped, level) {
                    (Some(m), _) => (parse_code(&m.identifier)?, source_of(&m.status)),
                    (None, UnitLevel::Province) => match data::province_identifier(&u.code) {
                        Some((id, status)) => (parse_code(&id)?, source_of(status)),
                        None => {
                            return Err(AppError::invalid(
                                Code::IdentifierUnknownProvince,
                                format!(
                                    "no identifier is known for province {}; import one first",
                                    u.code
                                ),
                            )
                            .arg("code", &u.code));
                        }
                    },
                    (None, _) => {
                        let Some((_, parent_code)) = parent else {
                            return Err(AppError::invalid(
                                Code::ImportOrphanUnit,
                                format!("unit {} has no parent People's Committee", u.code),
                            )
                            .arg("code", &u.code));
                        };
                        let root = parent_code.root();
                        let code = match (structure, level) {
                            (Structure::ThreeTier, UnitLevel::District) => {
                                alloc.next(tx, root, |s, n| s.district(root, n)).await?
                            }
                            (Structure::ThreeTier, _) => {
                                alloc
                                    .next(tx, root, |s, n| s.district_commune(parent_code, n))
                                    .await?
                            }
                            (Structure::TwoTier, _) => {
                                alloc.next(tx, root, |s, n| s.commune(root, n)).await?
                            }
                        };
                        (code, "local")
                    }
                };
                alloc.mark_used(code);
                // A province that continues across the reform keeps one People's Committee.
                if let Some(existing) = agencies::find_by_code(tx, &code.to_string()).await? {
                    if level != UnitLevel::Province {
                        return Err(AppError::conflict(
                            Code::IdentifierTaken,
                            format!("identifier {code} already belongs to {}", existing.name),
                        )
                        .arg("code", code)
                        .arg("agency", existing.name));
                    }
                    let from = min_open(existing.valid_from, u.valid_from);
                    let to = max_open(existing.valid_to, u.valid_to);
                    agencies::set_validity(tx, existing.id, from, to).await?;
                    if structure == Structure::TwoTier {
                        agencies::set_unit(tx, existing.id, Some(u.id)).await?;
                    }
                    pc.insert(u.id, (existing.id, code));
                    continue;
                }
                let id = agencies::insert(
                    tx,
                    &NewAgency {
                        code: code.to_string(),
                        code_source: source,
                        name: people_committee_name(&u.name),
                        short_name: "UBND".into(),
                        kind: AgencyKind::PeopleCommittee,
                        governance: Governance::Collective,
                        admin_unit_id: Some(u.id),
                        parent_id: parent.map(|p| p.0),
                        valid_from: u.valid_from,
                        valid_to: u.valid_to,
                    },
                    now,
                )
                .await?;
                pc.insert(u.id, (id, code));
                created += 1;
            }
        }
        Ok(created)
    }

    /// Imports the old → new commune table of the 2025 reform, and derives from it which new
    /// communes succeeded each district and which province succeeded each province.
    pub async fn import_succession(
        &self,
        actor: &Actor,
        text: &str,
    ) -> Result<ImportReport, AppError> {
        let cols = [
            "old_commune_code",
            "new_commune_code",
            "kind",
            "default_successor",
        ];
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = rdr
            .headers()
            .map_err(|e| bad_row(1, e.to_string()))?
            .clone();
        let mut rows = Vec::new();
        for (line, r) in records(text, &cols)? {
            let old = field(&headers, &r, "old_commune_code")
                .unwrap_or_default()
                .to_owned();
            let new = field(&headers, &r, "new_commune_code")
                .unwrap_or_default()
                .to_owned();
            if !valid_stat_code(UnitLevel::Commune, &old)
                || !valid_stat_code(UnitLevel::Commune, &new)
            {
                return Err(bad_row(line, "commune codes have five digits"));
            }
            let kind_s = field(&headers, &r, "kind").unwrap_or_default();
            let kind = SuccessionKind::parse(kind_s)
                .ok_or_else(|| bad_row(line, format!("unknown kind {kind_s:?}")))?;
            let default = matches!(
                field(&headers, &r, "default_successor"),
                Some("yes" | "true" | "1")
            );
            rows.push((old, new, kind, default));
        }
        let mut tx = self.db.begin().await?;
        self.require_system_admin(&mut tx, actor).await?;
        let old_units = units::list(&mut tx, Structure::ThreeTier.as_str(), None).await?;
        let new_units = units::list(&mut tx, Structure::TwoTier.as_str(), None).await?;
        let old_by_code: HashMap<&str, &egov_store::units::AdminUnit> =
            old_units.iter().map(|u| (u.code.as_str(), u)).collect();
        let new_by_code: HashMap<&str, &egov_store::units::AdminUnit> =
            new_units.iter().map(|u| (u.code.as_str(), u)).collect();
        let old_by_id: HashMap<i64, &egov_store::units::AdminUnit> =
            old_units.iter().map(|u| (u.id, u)).collect();
        let new_provinces: HashMap<&str, i64> = new_units
            .iter()
            .filter(|u| u.level == UnitLevel::Province)
            .map(|u| (u.code.as_str(), u.id))
            .collect();
        let committees: HashMap<i64, i64> = agencies::committees(&mut tx)
            .await?
            .into_iter()
            .map(|(u, a, _)| (u, a))
            .collect();
        let mut report = ImportReport::default();
        // (old district or province) → new unit → number of old communes that went there.
        let mut derived: BTreeMap<i64, BTreeMap<i64, u32>> = BTreeMap::new();
        for (old, new, kind, default) in &rows {
            let (Some(o), Some(n)) = (old_by_code.get(old.as_str()), new_by_code.get(new.as_str()))
            else {
                report.skipped += 1;
                continue;
            };
            units::link_succession(&mut tx, Lineage::Units, o.id, n.id, *kind, *default).await?;
            if let (Some(a), Some(b)) = (committees.get(&o.id), committees.get(&n.id)) {
                units::link_succession(&mut tx, Lineage::Agencies, *a, *b, *kind, *default).await?;
            }
            report.successions += 1;
            if let Some(district) = o.parent_id.and_then(|p| old_by_id.get(&p)) {
                *derived
                    .entry(district.id)
                    .or_default()
                    .entry(n.id)
                    .or_default() += 1;
            }
            if let (Some(op), Some(np)) = (
                old_units
                    .iter()
                    .find(|u| u.level == UnitLevel::Province && u.code == o.province_code),
                new_provinces.get(n.province_code.as_str()),
            ) {
                *derived.entry(op.id).or_default().entry(*np).or_default() += 1;
            }
        }
        for (old_id, targets) in &derived {
            let most = targets
                .iter()
                .max_by_key(|(id, n)| (**n, std::cmp::Reverse(**id)))
                .map(|t| *t.0);
            let kind = if targets.len() == 1 {
                SuccessionKind::Merged
            } else {
                SuccessionKind::Split
            };
            for new_id in targets.keys() {
                let is_default = Some(*new_id) == most;
                units::link_succession(&mut tx, Lineage::Units, *old_id, *new_id, kind, is_default)
                    .await?;
                let (a, b) = (
                    self.committee_of(&mut tx, *old_id).await?,
                    self.committee_of(&mut tx, *new_id).await?,
                );
                if let (Some(a), Some(b)) = (a, b)
                    && a != b
                {
                    units::link_succession(&mut tx, Lineage::Agencies, a, b, kind, is_default)
                        .await?;
                }
            }
        }
        audit::event("succession.import", "structure", "2025")
            .after(&report)
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// The People's Committee of a unit (for a province, also through its identifier, since one
    /// committee spans both structures).
    pub(crate) async fn committee_of(
        &self,
        ex: &mut impl Exec,
        unit_id: i64,
    ) -> Result<Option<i64>, AppError> {
        if let Some(a) = agencies::find_by_unit(ex, unit_id).await? {
            return Ok(Some(a.id));
        }
        let u = units::get(ex, unit_id).await?;
        if u.level != UnitLevel::Province {
            return Ok(None);
        }
        let mapped = units::mapped_identifier(ex, &u.structure, &u.code)
            .await?
            .map(|m| m.identifier);
        let Some(code) = mapped.or_else(|| data::province_identifier(&u.code).map(|p| p.0)) else {
            return Ok(None);
        };
        Ok(agencies::find_by_code(ex, &code).await?.map(|a| a.id))
    }

    /// Imports published identifiers: rows `structure,unit_code,identifier[,status]`, or the
    /// province list shape `stat_code,name,identifier,status` (applied to both structures).
    /// Existing People's Committees take the published identifier.
    pub async fn import_identifiers(
        &self,
        actor: &Actor,
        text: &str,
    ) -> Result<ImportReport, AppError> {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = rdr
            .headers()
            .map_err(|e| bad_row(1, e.to_string()))?
            .clone();
        let province_shape = headers.iter().any(|h| h == "stat_code");
        let cols: &[&str] = if province_shape {
            &["stat_code", "identifier"]
        } else {
            &["structure", "unit_code", "identifier"]
        };
        let mut entries = Vec::new();
        for (line, r) in records(text, cols)? {
            let id_s = field(&headers, &r, "identifier").unwrap_or_default();
            let code: AgencyCode =
                id_s.parse()
                    .map_err(|e: egov_domain::agency_code::AgencyCodeError| {
                        bad_row(line, format!("{id_s}: {e}"))
                    })?;
            let status = match field(&headers, &r, "status") {
                Some("derived") => "derived",
                _ => "official",
            };
            if province_shape {
                let unit = field(&headers, &r, "stat_code")
                    .unwrap_or_default()
                    .to_owned();
                for s in Structure::ALL {
                    entries.push((s, unit.clone(), code, status));
                }
            } else {
                let s_s = field(&headers, &r, "structure").unwrap_or_default();
                let s = Structure::parse(s_s)
                    .ok_or_else(|| bad_row(line, format!("unknown structure {s_s:?}")))?;
                let unit = field(&headers, &r, "unit_code")
                    .unwrap_or_default()
                    .to_owned();
                entries.push((s, unit, code, status));
            }
        }
        let mut tx = self.db.begin().await?;
        self.require_system_admin(&mut tx, actor).await?;
        let mut report = ImportReport::default();
        for (s, unit, code, status) in &entries {
            units::map_identifier(&mut tx, s.as_str(), unit, &code.to_string(), status).await?;
            let Some(u) = units::find(&mut tx, s.as_str(), unit).await? else {
                continue;
            };
            let Some(agency_id) = self.committee_of(&mut tx, u.id).await? else {
                continue;
            };
            let agency = agencies::get(&mut tx, agency_id).await?;
            if agency.code == code.to_string() && agency.code_source == source_of(status) {
                continue;
            }
            if let Some(other) = agencies::find_by_code(&mut tx, &code.to_string()).await?
                && other.id != agency_id
            {
                return Err(AppError::conflict(
                    Code::IdentifierTaken,
                    format!("identifier {code} already belongs to {}", other.name),
                )
                .arg("code", code)
                .arg("agency", other.name));
            }
            agencies::set_code(&mut tx, agency_id, &code.to_string(), source_of(status)).await?;
            report.units += 1;
        }
        audit::event("identifiers.import", "identifier_map", entries.len())
            .after(&report)
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(report)
    }
}

fn parse_code(s: &str) -> Result<AgencyCode, AppError> {
    s.parse()
        .map_err(|e: egov_domain::agency_code::AgencyCodeError| {
            AppError::invalid(Code::BadAgencyCode, format!("{s}: {e}"))
                .arg("code", s)
                .arg("reason", e)
        })
}

fn source_of(status: &str) -> &'static str {
    match status {
        "official" | "confirmed" => "official",
        "derived" => "derived",
        _ => "local",
    }
}

fn min_open(a: Option<time::Date>, b: Option<time::Date>) -> Option<time::Date> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        _ => None,
    }
}

fn max_open(a: Option<time::Date>, b: Option<time::Date>) -> Option<time::Date> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shipped_files() {
        let three = parse_units(data::UNITS_THREE_TIER).unwrap();
        assert_eq!(three.len(), 10_810);
        let two = parse_units(data::UNITS_TWO_TIER).unwrap();
        assert_eq!(two.len(), 3_355);
        assert_eq!(
            two.iter()
                .filter(|u| u.parent_code.as_deref() == Some("38"))
                .count(),
            166
        );
    }

    #[test]
    fn reports_the_bad_line() {
        let e = parse_units("level,code,name,division_type,parent_code\nprovince,38,Tỉnh X,tỉnh,\ncommune,123,Xã Y,xã,38\n")
            .unwrap_err();
        assert_eq!(e.code, "import_bad_row");
        assert!(e.message.starts_with("line 3"), "{}", e.message);
        let e = parse_units("lvl,code\nprovince,38\n").unwrap_err();
        assert_eq!(e.code, "import_bad_header");
        let e = parse_units("level,code,name,division_type,parent_code\nward,38,X,tỉnh,\n")
            .unwrap_err();
        assert!(e.message.contains("unknown level"));
    }
}
