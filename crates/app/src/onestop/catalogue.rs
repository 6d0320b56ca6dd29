//! The procedure catalogue and internal processes: versioned, validated, imported and exported
//! as JSON (ours, and the national catalogue's `LayThuTuc` shape).

use crate::Code;
use egov_domain::onestop::procedure::{
    Announcement, Component, CopyKind, Fee, FeeRule, ImplementingLevel, LimitUnit, OnlineService,
    ProcedureCode, ProcedureVersion, ResultType, SupplementRule, TimeLimit,
};
use egov_domain::onestop::process::Process;
use egov_store::Tx;
use egov_store::onestop::{self as store, NewProcedure, ProcedureRow};
use serde::{Deserialize, Serialize};
use time::Date;

use crate::error::OrNotFound;
use crate::{Actor, App, AppError, audit};

/// A catalogue entry: a procedure version and (optionally) its internal process.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CatalogueEntry {
    #[schema(value_type = Object)]
    pub procedure: ProcedureVersion,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub process: Option<Process>,
}

/// A procedure as officers see it: the row and its parsed version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProcedureView {
    pub id: i64,
    #[schema(value_type = Object)]
    pub procedure: ProcedureVersion,
    #[schema(value_type = Option<Object>)]
    pub process: Option<Process>,
    pub process_id: Option<i64>,
    /// The classic online level (2/3/4) derived from the current classification.
    pub classic_level: u8,
}

pub(crate) fn parse_procedure(row: &ProcedureRow) -> Result<ProcedureVersion, AppError> {
    serde_json::from_str(&row.data_json)
        .map_err(|e| AppError::internal(format!("stored procedure {}: {e}", row.code)))
}

fn procedure_error(e: egov_domain::onestop::procedure::ProcedureError) -> AppError {
    AppError::invalid(Code::BadProcedure, e.to_string()).arg("reason", e)
}

fn process_error(e: egov_domain::onestop::process::ProcessError) -> AppError {
    use egov_domain::onestop::process::ProcessError as E;
    // Office minutes, shown as hours.
    let hours = |m: f64| format!("{:.1}", m / 60.0);
    match e {
        E::AllotmentsTooLong { sum, limit } => {
            AppError::invalid(Code::ProcessAllotmentsTooLong, e.to_string())
                .arg("sum", hours(sum))
                .arg("limit", hours(limit))
        }
        E::PublishedTooLong {
            published,
            statutory,
        } => AppError::invalid(Code::ProcessLimitTooLong, e.to_string())
            .arg("published", hours(published))
            .arg("statutory", hours(statutory)),
        _ => AppError::invalid(Code::BadProcess, e.to_string()).arg("reason", e),
    }
}

impl App {
    /// Adds a procedure version (and its process). A later version closes the open one the day
    /// before it starts; dossiers stay on the version they were received under.
    pub async fn add_catalogue_entry(
        &self,
        actor: &Actor,
        entry: &CatalogueEntry,
    ) -> Result<ProcedureView, AppError> {
        let mut tx = self.db.begin().await?;
        self.require_system_admin(&mut tx, actor).await?;
        let id = self.insert_entry(&mut tx, entry).await?;
        audit::event("procedure.add", "procedure", entry.procedure.code.as_str())
            .after(&entry)
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        self.procedure_view(id).await
    }

    pub(crate) async fn insert_entry(
        &self,
        tx: &mut Tx,
        entry: &CatalogueEntry,
    ) -> Result<i64, AppError> {
        let p = &entry.procedure;
        p.validate().map_err(procedure_error)?;
        let code = p.code.as_str();
        let max = store::max_procedure_version(tx, code).await?;
        if i64::from(p.version) <= max {
            return Err(AppError::conflict(
                Code::ProcedureVersionExists,
                format!("{code} already has version {max}; a new version must be higher"),
            )
            .arg("code", code)
            .arg("version", max));
        }
        if let Some(prev) = p.effective_from.previous_day() {
            store::close_procedure_version(tx, code, prev).await?;
        }
        let levels = p
            .levels
            .iter()
            .map(|l| {
                serde_json::to_value(l)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(",");
        let online = serde_json::to_value(p.online)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let data = serde_json::to_string(p).map_err(|e| AppError::internal(e.to_string()))?;
        let id = store::insert_procedure(
            tx,
            &NewProcedure {
                code,
                version: i64::from(p.version),
                name: &p.name,
                field_code: &p.field_code,
                field_name: &p.field_name,
                levels: &levels,
                online: &online,
                data_json: &data,
                effective_from: p.effective_from,
                effective_to: p.effective_to,
            },
            self.now(),
        )
        .await?;
        if let Some(proc_) = &entry.process {
            self.insert_process(tx, p, proc_).await?;
        }
        Ok(id)
    }

    async fn insert_process(
        &self,
        tx: &mut Tx,
        p: &ProcedureVersion,
        process: &Process,
    ) -> Result<i64, AppError> {
        if process.procedure != p.code {
            return Err(AppError::invalid(
                Code::BadProcess,
                "The process belongs to another procedure.",
            )
            .arg("reason", "procedure code"));
        }
        let statutory = if p.same_day_cutoff.is_some() {
            TimeLimit::working_days(1.0)
        } else {
            p.statutory_limit
        };
        process.validate(&statutory).map_err(process_error)?;
        let code = p.code.as_str();
        let max = store::max_process_version(tx, code).await?;
        if i64::from(process.version) <= max {
            return Err(AppError::conflict(
                Code::ProcessVersionExists,
                format!("the process of {code} already has version {max}"),
            )
            .arg("code", code)
            .arg("version", max));
        }
        if let Some(prev) = process.effective_from.previous_day() {
            store::close_process_version(tx, code, prev).await?;
        }
        let data = serde_json::to_string(process).map_err(|e| AppError::internal(e.to_string()))?;
        Ok(store::insert_process(
            tx,
            code,
            i64::from(process.version),
            &data,
            process.effective_from,
            process.effective_to,
            self.now(),
        )
        .await?)
    }

    /// Adds a new version of a procedure's internal process.
    pub async fn add_process(&self, actor: &Actor, process: &Process) -> Result<i64, AppError> {
        let mut tx = self.db.begin().await?;
        self.require_system_admin(&mut tx, actor).await?;
        let row =
            store::procedure_in_force(&mut tx, process.procedure.as_str(), process.effective_from)
                .await?
                .ok_or_else(|| AppError::not_found("procedure"))?;
        let p = parse_procedure(&row)?;
        let id = self.insert_process(&mut tx, &p, process).await?;
        audit::event("process.add", "process", id)
            .after(process)
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Imports a catalogue (our JSON: an array of entries) in one transaction.
    pub async fn import_catalogue(&self, actor: &Actor, json: &str) -> Result<usize, AppError> {
        let entries: Vec<CatalogueEntry> = serde_json::from_str(json).map_err(|e| {
            AppError::invalid(Code::BadCatalogue, format!("not a catalogue: {e}")).arg("reason", e)
        })?;
        let mut tx = self.db.begin().await?;
        self.require_system_admin(&mut tx, actor).await?;
        for e in &entries {
            self.insert_entry(&mut tx, e).await?;
        }
        audit::event("catalogue.import", "catalogue", entries.len())
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(entries.len())
    }

    /// The catalogue in force today, with processes, as importable JSON.
    pub async fn export_catalogue(&self) -> Result<Vec<CatalogueEntry>, AppError> {
        let rows = store::search_procedures(&mut &self.db, &[], self.today(), 10_000).await?;
        let mut out = Vec::new();
        for r in rows {
            let procedure = parse_procedure(&r)?;
            let process =
                match store::process_in_force(&mut &self.db, &r.code, self.today()).await? {
                    Some(pr) => Some(
                        serde_json::from_str(&pr.data_json)
                            .map_err(|e| AppError::internal(e.to_string()))?,
                    ),
                    None => None,
                };
            out.push(CatalogueEntry { procedure, process });
        }
        Ok(out)
    }

    pub async fn procedure_view(&self, id: i64) -> Result<ProcedureView, AppError> {
        let row = store::get_procedure(&mut &self.db, id)
            .await
            .or_not_found("procedure")?;
        let procedure = parse_procedure(&row)?;
        let on = procedure.effective_from.max(self.today());
        let pr = store::process_in_force(&mut &self.db, &row.code, on).await?;
        let process = match &pr {
            Some(pr) => Some(
                serde_json::from_str(&pr.data_json)
                    .map_err(|e| AppError::internal(e.to_string()))?,
            ),
            None => None,
        };
        Ok(ProcedureView {
            id,
            classic_level: procedure.online.classic_level(),
            process_id: pr.map(|p| p.id),
            process,
            procedure,
        })
    }

    /// Procedures in force today, searched by words of their code or name (diacritics ignored).
    pub async fn search_procedures(
        &self,
        q: &str,
        limit: i64,
    ) -> Result<Vec<ProcedureRow>, AppError> {
        let words = egov_domain::text::query_words(q);
        Ok(
            store::search_procedures(&mut &self.db, &words, self.today(), limit.clamp(1, 500))
                .await?,
        )
    }

    /// Imports procedures in the national catalogue's shape (`LayThuTuc`): `MATTHC`, `TENTTHC`,
    /// `LINHVUCTHUCHIEN[]`, `CACHTHUCTHUCHIEN[].THOIGIAN[]` (`THOIGIANGIAIQUYET`, `DONVITINH`,
    /// `PHILEPHI[]`), `THANHPHANHOSO[]`, `CAPTHUCHIEN`. Fields egov needs but the national shape
    /// lacks get defaults an administrator reviews (paper result, online level from `MUCDO`).
    pub async fn import_national(
        &self,
        actor: &Actor,
        json: &str,
        effective_from: Date,
    ) -> Result<usize, AppError> {
        let items: Vec<serde_json::Value> = match serde_json::from_str::<serde_json::Value>(json) {
            Ok(serde_json::Value::Array(a)) => a,
            Ok(v @ serde_json::Value::Object(_)) => {
                match v.get("data").and_then(|d| d.as_array()) {
                    Some(a) => a.clone(),
                    None => vec![v],
                }
            }
            _ => {
                return Err(
                    AppError::invalid(Code::BadCatalogue, "not a LayThuTuc answer")
                        .arg("reason", "JSON"),
                );
            }
        };
        let mut entries = Vec::new();
        for (i, it) in items.iter().enumerate() {
            entries.push(national_to_version(it, effective_from).map_err(|why| {
                AppError::invalid(Code::BadCatalogue, format!("item {}: {why}", i + 1))
                    .arg("reason", format!("item {}: {why}", i + 1))
            })?);
        }
        let mut tx = self.db.begin().await?;
        self.require_system_admin(&mut tx, actor).await?;
        for p in &entries {
            let version = store::max_procedure_version(&mut tx, p.code.as_str()).await? + 1;
            let p = ProcedureVersion {
                version: version as u32,
                ..p.clone()
            };
            self.insert_entry(
                &mut tx,
                &CatalogueEntry {
                    procedure: p,
                    process: None,
                },
            )
            .await?;
        }
        audit::event("catalogue.import_national", "catalogue", entries.len())
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(entries.len())
    }
}

fn s<'a>(v: &'a serde_json::Value, k: &str) -> Option<&'a str> {
    v.get(k)
        .and_then(|x| x.as_str())
        .map(str::trim)
        .filter(|x| !x.is_empty())
}

fn num(v: &serde_json::Value, k: &str) -> Option<f64> {
    match v.get(k)? {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().replace(',', ".").parse().ok(),
        _ => None,
    }
}

/// One `LayThuTuc` item as a procedure version (version number set by the caller).
pub fn national_to_version(v: &serde_json::Value, from: Date) -> Result<ProcedureVersion, String> {
    let code = ProcedureCode::parse(s(v, "MATTHC").ok_or("MATTHC is missing")?)
        .map_err(|e| e.to_string())?;
    let name = s(v, "TENTTHC").ok_or("TENTTHC is missing")?.to_owned();
    let field = v
        .get("LINHVUCTHUCHIEN")
        .and_then(|a| a.as_array())
        .and_then(|a| a.first());
    let field_code = field
        .and_then(|f| s(f, "MALINHVUC"))
        .unwrap_or("KHAC")
        .to_owned();
    let field_name = field
        .and_then(|f| s(f, "TENLINHVUC"))
        .unwrap_or("Khác")
        .to_owned();
    let time = v
        .get("CACHTHUCTHUCHIEN")
        .and_then(|a| a.as_array())
        .and_then(|a| {
            a.iter().find_map(|k| {
                k.get("THOIGIAN")
                    .and_then(|t| t.as_array())
                    .and_then(|t| t.first().cloned())
            })
        });
    let (limit, fees) = match &time {
        Some(t) => {
            let value = num(t, "THOIGIANGIAIQUYET").ok_or("THOIGIANGIAIQUYET is missing")?;
            let unit = match s(t, "DONVITINH")
                .unwrap_or("Ngày làm việc")
                .to_lowercase()
                .as_str()
            {
                u if u.contains("giờ") => LimitUnit::WorkingHours,
                u if u.contains("tháng") => LimitUnit::Months,
                u if u.contains("làm việc") => LimitUnit::WorkingDays,
                u if u.contains("ngày") => LimitUnit::CalendarDays,
                _ => LimitUnit::WorkingDays,
            };
            let fees = t
                .get("PHILEPHI")
                .and_then(|a| a.as_array())
                .map(|a| {
                    a.iter()
                        .enumerate()
                        .filter_map(|(i, f)| {
                            let amount = num(f, "SOTIEN")? as i64;
                            Some(Fee {
                                code: format!("LP{}", i + 1),
                                name: s(f, "MOTA").unwrap_or("Lệ phí").to_owned(),
                                kind: "charge".into(),
                                rule: if amount == 0 {
                                    FeeRule::Free
                                } else {
                                    FeeRule::Fixed { amount }
                                },
                                exemptions: vec![],
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            (TimeLimit { value, unit }, fees)
        }
        None => return Err("CACHTHUCTHUCHIEN[].THOIGIAN is missing".into()),
    };
    let components = v
        .get("THANHPHANHOSO")
        .and_then(|a| a.as_array())
        .map(|a| {
            a.iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    let name = s(c, "TENGIAYTO")
                        .or_else(|| s(c, "TENTHANHPHAN"))?
                        .to_owned();
                    let originals = num(c, "SOBANCHINH").unwrap_or(0.0);
                    let copies = num(c, "SOBANSAO").unwrap_or(0.0);
                    Some(Component {
                        code: s(c, "MATHANHPHAN")
                            .map(str::to_owned)
                            .unwrap_or_else(|| format!("TP{}", i + 1)),
                        name,
                        kind: if originals > 0.0 {
                            CopyKind::Original
                        } else {
                            CopyKind::Copy
                        },
                        quantity: (originals + copies).max(1.0) as u16,
                        required: !matches!(s(c, "BATBUOC"), Some("0" | "false")),
                        form: s(c, "MAUDON").map(str::to_owned),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let levels = match s(v, "CAPTHUCHIEN").unwrap_or("").to_lowercase() {
        l if l.contains("xã") => vec![ImplementingLevel::Commune],
        l if l.contains("tỉnh") && l.contains("sở") => vec![ImplementingLevel::Department],
        l if l.contains("tỉnh") => vec![ImplementingLevel::Province],
        _ => vec![ImplementingLevel::Department],
    };
    let online = match num(v, "MUCDO").map(|m| m as i64) {
        Some(4) => OnlineService::Full,
        Some(3) => OnlineService::Partial,
        _ => OnlineService::None,
    };
    let p = ProcedureVersion {
        code,
        version: 1,
        name,
        field_code,
        field_name,
        levels,
        department: None,
        components,
        statutory_limit: limit,
        same_day_cutoff: None,
        fees,
        result_type: ResultType::Paper,
        online,
        supplement_rule: SupplementRule::Resume,
        receivable_anywhere: false,
        effective_from: from,
        effective_to: None,
        announcement: announcement(v)?,
    };
    p.validate().map_err(|e| e.to_string())?;
    Ok(p)
}

/// A national date (`yyyyMMdd`, also read with a time or with dashes); absent when empty, an
/// error when present and not a date.
fn national_date(v: &serde_json::Value, k: &str) -> Result<Option<Date>, String> {
    let Some(text) = s(v, k) else {
        return Ok(None);
    };
    let digits: String = text.chars().filter(char::is_ascii_digit).take(8).collect();
    let parsed = (digits.len() == 8)
        .then(|| {
            let n = |r: std::ops::Range<usize>| digits[r].parse::<u16>().ok();
            let month = time::Month::try_from(n(4..6)? as u8).ok()?;
            Date::from_calendar_date(n(0..4)? as i32, month, n(6..8)? as u8).ok()
        })
        .flatten();
    parsed
        .map(Some)
        .ok_or_else(|| format!("{k} is not a date: {text}"))
}

/// The names under `key[]`, each read from the first of `names` it carries.
fn names(v: &serde_json::Value, key: &str, names: &[&str]) -> Vec<String> {
    v.get(key)
        .and_then(|a| a.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| names.iter().find_map(|n| s(x, n)).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// What the entry announces besides what egov runs the procedure by (766 indicators 1.1–1.3,
/// 3.5): the decision, the dates, the steps, channels and applicant types, online payment.
fn announcement(v: &serde_json::Value) -> Result<Announcement, String> {
    let ways = v
        .get("CACHTHUCTHUCHIEN")
        .and_then(|a| a.as_array())
        .cloned()
        .unwrap_or_default();
    let mut channels: Vec<String> = Vec::new();
    for name in ways.iter().filter_map(|w| s(w, "KENH")) {
        if !channels.iter().any(|c| c == name) {
            channels.push(name.to_owned());
        }
    }
    let steps = v
        .get("TRINHTUTHUCHIEN")
        .and_then(|a| a.as_array())
        .map(|cases| {
            cases
                .iter()
                .flat_map(|case| names(case, "TRINHTU", &["TENTRINHTU"]))
                .collect()
        })
        .unwrap_or_default();
    Ok(Announcement {
        decision: s(v, "QUYETDINHCONGBO").map(str::to_owned),
        decision_date: national_date(v, "NGAYBANHANHQD")?,
        legal_effective: national_date(v, "NGAYHIEULUC")?,
        published_nationally: national_date(v, "NGAYCAPNHAT")?,
        steps,
        channels,
        applicant_types: names(v, "DOITUONGTHUCHIEN", &["TENDOITUONG", "MADOITUONG"]),
        online_payment: ways
            .iter()
            .any(|w| matches!(s(w, "THANHTOANTRUCTUYEN"), Some("1" | "true"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_shape() {
        let item = serde_json::json!({
            "MATTHC": "1.001612",
            "TENTTHC": "Đăng ký thành lập hộ kinh doanh",
            "LINHVUCTHUCHIEN": [{"MALINHVUC": "TLDN", "TENLINHVUC": "Thành lập và hoạt động của hộ kinh doanh"}],
            "CACHTHUCTHUCHIEN": [{"KENH": "Trực tiếp", "THOIGIAN": [{"THOIGIANGIAIQUYET": "3", "DONVITINH": "Ngày làm việc",
                "PHILEPHI": [{"SOTIEN": "100000", "MOTA": "Lệ phí đăng ký hộ kinh doanh"}]}]}],
            "THANHPHANHOSO": [{"TENGIAYTO": "Giấy đề nghị đăng ký hộ kinh doanh", "SOBANCHINH": "1", "SOBANSAO": "0"}],
            "CAPTHUCHIEN": "Cấp Xã",
            "MUCDO": 4
        });
        let p = national_to_version(&item, time::macros::date!(2025 - 07 - 01)).unwrap();
        assert_eq!(p.code.as_str(), "1.001612");
        assert_eq!(p.statutory_limit, TimeLimit::working_days(3.0));
        assert_eq!(p.fees[0].amount(1, false), 100_000);
        assert_eq!(p.levels, vec![ImplementingLevel::Commune]);
        assert_eq!(p.online, OnlineService::Full);
        assert_eq!(p.components[0].kind, CopyKind::Original);
        // Nothing announced beyond that: the parts indicator 1.3 needs are missing.
        assert_eq!(p.announcement.decision, None);
        assert_eq!(p.announcement.channels, vec!["Trực tiếp"]);
        assert_eq!(
            p.announcement.missing_parts(),
            vec!["steps", "applicant_types"]
        );
        let bad = serde_json::json!({"MATTHC": "1.0016", "TENTTHC": "x"});
        assert!(national_to_version(&bad, time::macros::date!(2025 - 07 - 01)).is_err());
    }

    #[test]
    fn national_announcement() {
        let mut item: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/national/laythutuc-answer.json"
        ))
        .unwrap();
        let item = item["result"][0].take();
        let p = national_to_version(&item, time::macros::date!(2026 - 12 - 01)).unwrap();
        let a = &p.announcement;
        assert_eq!(a.decision.as_deref(), Some("1234/QĐ-BTP"));
        assert_eq!(a.decision_date, Some(time::macros::date!(2026 - 11 - 10)));
        assert_eq!(a.legal_effective, Some(time::macros::date!(2026 - 12 - 01)));
        assert_eq!(
            a.published_nationally,
            Some(time::macros::date!(2026 - 12 - 01))
        );
        assert_eq!(a.steps, vec!["Nộp hồ sơ", "Xem xét, cấp Giấy xác nhận"]);
        assert_eq!(a.channels, vec!["Trực tuyến"]);
        assert_eq!(a.applicant_types, vec!["Công dân Việt Nam"]);
        assert!(a.online_payment);
        assert!(a.missing_parts().is_empty());
        // A date that is there but is not a date makes the entry unreadable, naming the field.
        let mut bad = item.clone();
        bad["NGAYHIEULUC"] = serde_json::json!("31/02/2026");
        let why = national_to_version(&bad, time::macros::date!(2026 - 12 - 01)).unwrap_err();
        assert!(why.contains("NGAYHIEULUC"), "{why}");
        // With dashes or a time it is still read.
        bad["NGAYHIEULUC"] = serde_json::json!("2026-12-01 00:00:00");
        let p = national_to_version(&bad, time::macros::date!(2026 - 12 - 01)).unwrap();
        assert_eq!(
            p.announcement.legal_effective,
            Some(time::macros::date!(2026 - 12 - 01))
        );
    }
}
