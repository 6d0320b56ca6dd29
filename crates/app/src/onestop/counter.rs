//! What the counter screen needs before a dossier exists: the counters the officer staffs,
//! the procedure in force with its components, the agencies that may decide it, and the
//! appointment a receipt issued now would carry.

use crate::Code;
use egov_domain::onestop::procedure::ImplementingLevel;
use egov_domain::org::{AgencyKind, Role};
use egov_store::agencies::{self, Agency};
use egov_store::onestop as store;
use serde::Serialize;
use time::OffsetDateTime;

use super::catalogue::{ProcedureView, parse_procedure};
use crate::{Actor, App, AppError, authz};

/// A procedure ready for the counter.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CounterProcedure {
    pub view: ProcedureView,
    /// Agencies that may decide it when received at this counter (the counter's own first).
    pub competent: Vec<crate::views::Agency>,
    /// The appointment if the receipt were issued now.
    #[serde(with = "time::serde::rfc3339::option")]
    pub appointment: Option<OffsetDateTime>,
}

impl App {
    /// The agencies whose one-stop counter the officer staffs.
    pub async fn counters_of(&self, actor: &Actor) -> Result<Vec<Agency>, AppError> {
        let mut ex = &self.db;
        let ids = authz::agencies_with(&mut ex, actor, &[Role::OneStopOfficer], self.now()).await?;
        let mut out = Vec::new();
        for id in ids.unwrap_or_default() {
            out.push(agencies::get(&mut ex, id).await?);
        }
        Ok(out)
    }

    /// The procedure in force under `code`, for a dossier received at `receiving`.
    pub async fn counter_procedure(
        &self,
        receiving: &Agency,
        code: &str,
    ) -> Result<CounterProcedure, AppError> {
        let today = self.today();
        let mut ex = &self.db;
        let row = store::procedure_in_force(&mut ex, code.trim(), today)
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    Code::ProcedureNotInForce,
                    "No version of this procedure is in force today.",
                )
                .arg("code", code.trim().to_owned())
            })?;
        let view = self.procedure_view(row.id).await?;
        let p = parse_procedure(&row)?;
        let fits = |a: &Agency| {
            p.levels.iter().any(|l| {
                l.is_carried_out_by(a.kind, a.parent_id.is_some())
                    && (*l != ImplementingLevel::Department
                        || p.department.as_deref().is_none_or(|d| d == a.short_name))
            })
        };
        let mut competent = Vec::new();
        if fits(receiving) {
            competent.push(receiving.clone());
        }
        // The province's departments and communes: those that carry the procedure out and may
        // receive through this counter.
        let province = match receiving.parent_id {
            Some(p) if receiving.kind != AgencyKind::Other => Some(p),
            _ => None,
        };
        if let Some(province) = province {
            let siblings = agencies::children_on(&mut ex, Some(province), today).await?;
            for s in siblings {
                let a = s.agency;
                if a.id == receiving.id || !fits(&a) {
                    continue;
                }
                // The same rule as reception: a provincial centre receives for the departments;
                // listed procedures are received anywhere.
                let centre_for_department =
                    ImplementingLevel::centre_receives_for(receiving.kind, a.kind);
                if centre_for_department || p.receivable_anywhere {
                    competent.push(a);
                }
            }
        }
        // The officer's own agency first, then the rest in Vietnamese dictionary order.
        let own = usize::from(competent.first().is_some_and(|a| a.id == receiving.id));
        competent[own..].sort_by_cached_key(|a| egov_domain::text::vi_sort_key(&a.name));
        let appointment = match &view.process {
            Some(process) => {
                let limit = match p.same_day_cutoff {
                    Some(c) => Some(egov_domain::calendar::Limit::SameDay { cutoff: c }),
                    None => process.published_limit.to_limit(),
                };
                match limit {
                    Some(l) => {
                        let cal = self.work_calendar().await?;
                        let hours = self.office_hours(Some(receiving.id)).await?;
                        cal.due_with(&hours, self.now(), l, &[]).ok().map(|d| d.at)
                    }
                    None => None,
                }
            }
            None => None,
        };
        Ok(CounterProcedure {
            view,
            competent: crate::views::all(competent),
            appointment,
        })
    }
}
