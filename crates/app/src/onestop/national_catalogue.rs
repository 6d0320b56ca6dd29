//! The national procedure catalogue in: `LayDanhSachTTHC` lists the procedures, `LayThuTuc`
//! gives each one; every entry is compared with egov's version in force and held for an
//! administrator (new, changed with the fields that differ, or unreadable) until they publish
//! it as a new version. Literal shapes: `tests/fixtures/national/laydanhsachtthc-*.json` and
//! `laythutuc-*.json`.

use egov_domain::national::{Answer, Envelope};
use egov_domain::onestop::procedure::ProcedureVersion;
use egov_store::national_catalogue::{self as staged, StagedProcedure};
use serde_json::{Value, json};
use time::Date;

use super::catalogue::{CatalogueEntry, national_to_version, parse_procedure};
use super::national_sync::{CallError, Portal};
use crate::{Actor, App, AppError, Code, audit};

/// What one pull of the catalogue found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CataloguePull {
    pub listed: usize,
    pub new: usize,
    pub changed: usize,
    pub same: usize,
    pub bad: usize,
}

/// The catalogue held for review, for the operator's page.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct CatalogueReview {
    /// Entries by state: new, changed, same, bad, published.
    pub counts: Vec<(String, i64)>,
    /// New, changed and unreadable entries, by state and code.
    pub entries: Vec<ReviewEntry>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReviewEntry {
    pub code: String,
    pub name: String,
    pub state: String,
    /// The fields that differ from egov's version in force.
    pub differences: Vec<String>,
    pub problem: String,
}

/// The fields of a national entry that differ from egov's version.
pub fn differences(ours: &ProcedureVersion, theirs: &ProcedureVersion) -> Vec<&'static str> {
    let mut out = Vec::new();
    if ours.name != theirs.name {
        out.push("name");
    }
    if ours.field_code != theirs.field_code {
        out.push("field");
    }
    if ours.statutory_limit != theirs.statutory_limit {
        out.push("statutory_limit");
    }
    let amounts =
        |p: &ProcedureVersion| -> Vec<i64> { p.fees.iter().map(|f| f.amount(1, false)).collect() };
    if amounts(ours) != amounts(theirs) {
        out.push("fees");
    }
    let parts = |p: &ProcedureVersion| -> Vec<(String, bool)> {
        p.components
            .iter()
            .map(|c| (c.code.clone(), c.required))
            .collect()
    };
    if parts(ours) != parts(theirs) {
        out.push("components");
    }
    if ours.levels != theirs.levels {
        out.push("levels");
    }
    if ours.online != theirs.online {
        out.push("online");
    }
    // What egov lacks of the announcement (a version made before the catalogue carried it)
    // is a difference too: publishing adds it.
    if ours.announcement != theirs.announcement {
        out.push("announcement");
    }
    out
}

/// The entry published over egov's version in force: what the national catalogue says, and
/// what only egov keeps (the department, receiving anywhere, the result's kind, the supplement
/// rule, a same-day cut-off) from the version it replaces.
fn merged(theirs: ProcedureVersion, ours: Option<&ProcedureVersion>) -> ProcedureVersion {
    match ours {
        None => theirs,
        Some(o) => ProcedureVersion {
            department: o.department.clone(),
            receivable_anywhere: o.receivable_anywhere,
            result_type: o.result_type,
            supplement_rule: o.supplement_rule,
            same_day_cutoff: o.same_day_cutoff,
            ..theirs
        },
    }
}

impl App {
    /// An administrator's pull of the catalogue now (the worker pulls every day).
    pub async fn pull_catalogue_now<P: Portal>(
        &self,
        actor: &Actor,
        portal: &P,
    ) -> Result<CataloguePull, AppError> {
        self.require_system_admin(&mut self.db(), actor).await?;
        if !self.settings.national_portal.enabled {
            return Err(AppError::conflict(
                Code::NationalDisabled,
                "The national portal is not enabled.",
            ));
        }
        let pull = self.pull_catalogue(portal).await?;
        audit::event("catalogue.pull_national", "catalogue", pull.listed)
            .write(&mut self.db(), actor)
            .await?;
        Ok(pull)
    }

    /// Pulls the national catalogue and holds each entry for review.
    pub async fn pull_catalogue<P: Portal>(&self, portal: &P) -> Result<CataloguePull, AppError> {
        let unanswered = |e: CallError| {
            AppError::conflict(Code::NationalDisabled, format!("The national portal: {e}"))
        };
        let list = match portal
            .call(&Envelope {
                service: "LayDanhSachTTHC".into(),
                is_updating: false,
                data: vec![json!({})],
            })
            .await
            .map_err(unanswered)?
        {
            Answer::Accepted(v) => v["result"].as_array().cloned().unwrap_or_default(),
            Answer::Rejected { code, message, .. } => {
                return Err(AppError::conflict(
                    Code::NationalDisabled,
                    format!("The national portal refused the catalogue ({code}): {message}"),
                ));
            }
        };
        let mut pull = CataloguePull {
            listed: list.len(),
            ..CataloguePull::default()
        };
        let today = self.today();
        for item in &list {
            let Some(code) = item["MATTHC"]
                .as_str()
                .map(str::trim)
                .filter(|c| !c.is_empty())
            else {
                pull.bad += 1;
                continue;
            };
            let entry = match portal
                .call(&Envelope {
                    service: "LayThuTuc".into(),
                    is_updating: false,
                    data: vec![json!({ "MaTTHC": code })],
                })
                .await
                .map_err(unanswered)?
            {
                Answer::Accepted(v) => v["result"].get(0).cloned().unwrap_or(Value::Null),
                Answer::Rejected { .. } => Value::Null,
            };
            let staged = self.compare_entry(code, item, &entry, today).await?;
            match staged.state.as_str() {
                "new" => pull.new += 1,
                "changed" => pull.changed += 1,
                "same" => pull.same += 1,
                _ => pull.bad += 1,
            }
            staged::stage(&mut self.db(), &staged).await?;
        }
        Ok(pull)
    }

    /// One national entry against egov's version in force.
    async fn compare_entry(
        &self,
        code: &str,
        listed: &Value,
        entry: &Value,
        today: Date,
    ) -> Result<StagedProcedure, AppError> {
        let name = entry["TENTTHC"]
            .as_str()
            .or(listed["TENTTHC"].as_str())
            .unwrap_or_default()
            .to_owned();
        let mut staged = StagedProcedure {
            code: code.to_owned(),
            name,
            payload: entry.to_string(),
            state: "bad".into(),
            differences: String::new(),
            problem: None,
            pulled_at: self.now(),
            published_version: None,
        };
        let theirs = match national_to_version(entry, today) {
            Ok(p) if p.code.as_str() == code => p,
            Ok(p) => {
                staged.problem = Some(format!(
                    "listed as {code}, the entry says {}",
                    p.code.as_str()
                ));
                return Ok(staged);
            }
            Err(why) => {
                staged.problem = Some(why);
                return Ok(staged);
            }
        };
        let ours = egov_store::onestop::procedure_in_force(&mut self.db(), code, today).await?;
        match ours {
            None => {
                // A procedure of the province's own already reported under this code:
                // publishing the national one beside it would make two procedures of one code.
                for (local, _) in self
                    .settings
                    .national_portal
                    .procedure_codes
                    .iter()
                    .filter(|(_, national)| national.as_str() == code)
                {
                    if egov_store::onestop::procedure_in_force(&mut self.db(), local, today)
                        .await?
                        .is_some()
                    {
                        staged.problem = Some(format!(
                            "egov's procedure {local} is reported under this code ([national_portal.procedure_codes]): bring it up to date by hand, or remove the mapping first"
                        ));
                        return Ok(staged);
                    }
                }
                staged.state = "new".into();
            }
            Some(row) => {
                let ours = parse_procedure(&row)?;
                let diff = differences(&ours, &theirs);
                staged.state = if diff.is_empty() { "same" } else { "changed" }.into();
                staged.differences = diff.join(",");
            }
        }
        Ok(staged)
    }

    /// The catalogue held for review (system administrators).
    pub async fn catalogue_review(&self, actor: &Actor) -> Result<CatalogueReview, AppError> {
        let mut ex = self.db();
        self.require_system_admin(&mut ex, actor).await?;
        Ok(CatalogueReview {
            counts: staged::counts(&mut ex).await?,
            entries: staged::to_review(&mut ex, 500)
                .await?
                .into_iter()
                .map(|s| ReviewEntry {
                    differences: s
                        .differences
                        .split(',')
                        .filter(|d| !d.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    code: s.code,
                    name: s.name,
                    state: s.state,
                    problem: s.problem.unwrap_or_default(),
                })
                .collect(),
        })
    }

    /// Publishes a reviewed national entry as egov's next version of the procedure, in force
    /// from `effective_from` (the version it replaces ends the day before).
    pub async fn publish_national_procedure(
        &self,
        actor: &Actor,
        code: &str,
        effective_from: Date,
    ) -> Result<i64, AppError> {
        let mut tx = self.db.begin().await?;
        self.require_system_admin(&mut tx, actor).await?;
        let s = staged::get(&mut tx, code)
            .await?
            .ok_or_else(|| AppError::not_found("national procedure"))?;
        if !matches!(s.state.as_str(), "new" | "changed") {
            return Err(AppError::conflict(
                Code::NothingToPublish,
                "This national procedure has nothing new to publish.",
            ));
        }
        if effective_from < self.today() {
            return Err(AppError::invalid(
                Code::BadDate,
                "A new version takes effect today or later.",
            ));
        }
        let entry: Value = serde_json::from_str(&s.payload)
            .map_err(|e| AppError::internal(format!("staged entry {code}: {e}")))?;
        let theirs = national_to_version(&entry, effective_from)
            .map_err(|why| AppError::invalid(Code::BadCatalogue, why))?;
        let ours =
            match egov_store::onestop::procedure_in_force(&mut tx, code, self.today()).await? {
                Some(row) => Some(parse_procedure(&row)?),
                None => None,
            };
        let version = egov_store::onestop::max_procedure_version(&mut tx, code).await? + 1;
        let p = ProcedureVersion {
            version: version as u32,
            ..merged(theirs, ours.as_ref())
        };
        self.insert_entry(
            &mut tx,
            &CatalogueEntry {
                procedure: p,
                process: None,
            },
        )
        .await?;
        staged::published(&mut tx, code, version, self.now()).await?;
        audit::event("catalogue.publish_national", "procedure", code)
            .after(&json!({ "version": version, "effective_from": effective_from.to_string() }))
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(version)
    }
}
