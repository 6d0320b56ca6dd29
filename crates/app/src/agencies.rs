//! Browsing the agency tree as of a date, searching it, and adding province-level bodies.

use crate::Code;
use egov_domain::admin_unit::SuccessionKind;
use egov_domain::agency_code::AgencyCode;
use egov_domain::org::{AgencyKind, Governance};
use egov_store::agencies::{self, Agency, NewAgency, SearchHit, TreeNode};
use egov_store::org;
use egov_store::units;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::error::OrNotFound;
use crate::views::AsView;
use crate::{Actor, App, AppError, audit, views};

/// An agency with its place in history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgencyDetail {
    pub agency: crate::views::Agency,
    /// From the top-level agency down to this one's parent.
    pub ancestors: Vec<crate::views::Agency>,
    pub children: Vec<crate::views::TreeNode>,
    pub org_units: Vec<crate::views::OrgUnit>,
    pub predecessors: Vec<crate::views::AgencyLink>,
    pub successors: Vec<crate::views::AgencyLink>,
    pub admin_unit: Option<crate::views::AdminUnit>,
    /// True when the agency is valid on the date asked about.
    pub valid_on_date: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitDetail {
    pub unit: crate::views::AdminUnit,
    pub parent: Option<crate::views::AdminUnit>,
    pub children: Vec<crate::views::AdminUnit>,
    pub predecessors: Vec<crate::views::UnitLink>,
    pub successors: Vec<crate::views::UnitLink>,
    pub committee: Option<crate::views::Agency>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewBody {
    pub name: String,
    /// Abbreviation used in document notations (`SNV`, `STC` …).
    pub short_name: String,
    /// The People's Committee it belongs to.
    pub parent_id: i64,
    /// An identifier the province published; allocated by egov's scheme when absent.
    pub code: Option<String>,
    pub valid_from: Option<Date>,
    /// Agencies this one takes over from (a merger of departments).
    #[serde(default)]
    pub succeeds: Vec<i64>,
}

impl App {
    /// An agency by id; `not_found` when there is none. (Public facts: any page may name one.)
    pub async fn agency(&self, id: i64) -> Result<Agency, AppError> {
        agencies::get(&mut &self.db, id)
            .await
            .or_not_found("agency")
    }

    /// The agency and those above it, from the top-level agency down.
    pub async fn agency_ancestors(&self, id: i64) -> Result<Vec<Agency>, AppError> {
        Ok(agencies::ancestors(&mut &self.db, id).await?)
    }

    /// Agencies by id, in the order given.
    pub async fn agencies_by_id(&self, ids: &[i64]) -> Result<Vec<Agency>, AppError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.agency(*id).await?);
        }
        Ok(out)
    }

    /// Top-level agencies (no parent) or the children of one, valid on a date.
    pub async fn agency_children(
        &self,
        parent: Option<i64>,
        on: Date,
    ) -> Result<Vec<TreeNode>, AppError> {
        Ok(agencies::children_on(&mut &self.db, parent, on).await?)
    }

    /// Every agency in force on `on` (id and name), for choosing recipients.
    pub async fn agencies_in_force(&self, on: Date) -> Result<Vec<(i64, String)>, AppError> {
        let hits = agencies::search(&mut &self.db, &[], Some(on), 10_000, 0).await?;
        Ok(hits
            .into_iter()
            .map(|h| (h.agency.id, h.agency.name))
            .collect())
    }

    /// Search by name (diacritics ignored) or by exact identifier.
    pub async fn search_agencies(
        &self,
        q: &str,
        on: Option<Date>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<SearchHit>, AppError> {
        let mut ex = &self.db;
        if let Ok(code) = q.trim().parse::<AgencyCode>() {
            let Some(a) = agencies::find_by_code(&mut ex, &code.to_string()).await? else {
                return Ok(Vec::new());
            };
            let parent_name = match a.parent_id {
                Some(p) => Some(agencies::get(&mut ex, p).await?.name),
                None => None,
            };
            return Ok(vec![SearchHit {
                agency: a,
                parent_name,
            }]);
        }
        let words = egov_domain::text::query_words(q);
        Ok(agencies::search(&mut ex, &words, on, limit.clamp(1, 200), offset.max(0)).await?)
    }

    pub async fn agency_detail(&self, id: i64, on: Date) -> Result<AgencyDetail, AppError> {
        let mut ex = &self.db;
        let agency = agencies::get(&mut ex, id).await.or_not_found("agency")?;
        let mut ancestors = agencies::ancestors(&mut ex, id).await?;
        ancestors.pop();
        let admin_unit = match agency.admin_unit_id {
            Some(u) => Some(units::get(&mut ex, u).await?),
            None => None,
        };
        let valid_on_date = egov_domain::validity::Validity {
            from: agency.valid_from,
            to: agency.valid_to,
        }
        .contains(on);
        Ok(AgencyDetail {
            children: views::all(agencies::children_on(&mut ex, Some(id), on).await?),
            org_units: views::all(org::org_units_of(&mut ex, id, on).await?),
            predecessors: views::all(agencies::predecessors(&mut ex, id).await?),
            successors: views::all(agencies::successors(&mut ex, id).await?),
            admin_unit: admin_unit.map(Into::into),
            ancestors: views::all(ancestors),
            valid_on_date,
            agency: agency.into(),
        })
    }

    pub async fn unit_detail(&self, id: i64) -> Result<UnitDetail, AppError> {
        let mut ex = &self.db;
        let unit = units::get(&mut ex, id)
            .await
            .or_not_found("administrative unit")?;
        let parent = match unit.parent_id {
            Some(p) => Some(units::get(&mut ex, p).await?),
            None => None,
        };
        let committee = match self.committee_of(&mut ex, id).await? {
            Some(a) => Some(agencies::get(&mut ex, a).await?),
            None => None,
        };
        Ok(UnitDetail {
            children: views::all(units::children(&mut ex, id).await?),
            predecessors: views::all(units::predecessors(&mut ex, id).await?),
            successors: views::all(units::successors(&mut ex, id).await?),
            parent: parent.map(Into::into),
            committee: committee.map(Into::into),
            unit: unit.into(),
        })
    }

    /// Adds a department or other body under a People's Committee.
    pub async fn create_body(&self, actor: &Actor, cmd: NewBody) -> Result<Agency, AppError> {
        let name = crate::people::check_name(&cmd.name, Code::BadAgencyName)?;
        let short = cmd.short_name.trim().to_owned();
        if short.is_empty() || short.chars().count() > 20 {
            return Err(AppError::invalid(
                Code::BadShortName,
                "An abbreviation has 1–20 characters.",
            ));
        }
        let mut tx = self.db.begin().await?;
        self.require_system_admin(&mut tx, actor).await?;
        let parent = agencies::get(&mut tx, cmd.parent_id)
            .await
            .or_not_found("agency")?;
        let parent_code: AgencyCode = parent
            .code
            .parse()
            .map_err(|_| AppError::internal("the parent's identifier does not parse"))?;
        let (code, source) = match cmd.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => {
                let code: AgencyCode =
                    c.parse()
                        .map_err(|e: egov_domain::agency_code::AgencyCodeError| {
                            AppError::invalid(Code::BadAgencyCode, format!("{c}: {e}"))
                                .arg("code", c)
                                .arg("reason", e)
                        })?;
                (code, "official")
            }
            None => {
                let scheme = self.settings.scheme().map_err(AppError::internal)?;
                let used: std::collections::HashSet<String> =
                    agencies::codes_under(&mut tx, &parent_code.root().to_string()[10..])
                        .await?
                        .into_iter()
                        .collect();
                let mut found = None;
                for n in 0.. {
                    let c = scheme.department(parent_code.root(), n).map_err(|e| {
                        AppError::conflict(Code::IdentifierExhausted, e.to_string())
                            .arg("reason", e)
                    })?;
                    if !used.contains(&c.to_string()) {
                        found = Some(c);
                        break;
                    }
                }
                (
                    found.ok_or_else(|| AppError::internal("no identifier"))?,
                    "local",
                )
            }
        };
        if let Some(other) = agencies::find_by_code(&mut tx, &code.to_string()).await? {
            return Err(AppError::conflict(
                Code::IdentifierTaken,
                format!("identifier {code} already belongs to {}", other.name),
            )
            .arg("code", code)
            .arg("agency", other.name));
        }
        let id = agencies::insert(
            &mut tx,
            &NewAgency {
                code: code.to_string(),
                code_source: source,
                name,
                short_name: short,
                kind: AgencyKind::Department,
                governance: Governance::Head,
                admin_unit_id: None,
                parent_id: Some(parent.id),
                valid_from: cmd.valid_from,
                valid_to: None,
            },
            self.now(),
        )
        .await?;
        for old in &cmd.succeeds {
            let o = agencies::get(&mut tx, *old).await.or_not_found("agency")?;
            if o.valid_to.is_none()
                && let Some(from) = cmd.valid_from
            {
                agencies::set_validity(&mut tx, o.id, o.valid_from, from.previous_day()).await?;
            }
            units::link_succession(
                &mut tx,
                units::Lineage::Agencies,
                o.id,
                id,
                SuccessionKind::Merged,
                true,
            )
            .await?;
        }
        let agency = agencies::get(&mut tx, id).await?;
        audit::event("agency.create", "agency", id)
            .agency(Some(id))
            .after(&agency.view())
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(agency)
    }
}
