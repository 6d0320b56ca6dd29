//! Permission checks. Every check asks the database (roles in force at this instant), inside the
//! use case's transaction.

use egov_domain::org::Role;
use egov_store::{Exec, args, org};
use time::OffsetDateTime;

use crate::{Actor, AppError};

/// Requires one of `roles` covering the agency (and unit), or refuses with `forbidden`.
/// The system actor may do anything.
pub async fn require(
    ex: &mut impl Exec,
    actor: &Actor,
    roles: &[Role],
    agency_id: Option<i64>,
    org_unit_id: Option<i64>,
    at: OffsetDateTime,
) -> Result<(), AppError> {
    let Some(person) = actor.official()? else {
        return Ok(());
    };
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    if org::has_role(ex, person, &names, agency_id, org_unit_id, at).await? {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

/// True for the system and for a deployment-wide administrator.
pub async fn is_system_admin(
    ex: &mut impl Exec,
    actor: &Actor,
    at: OffsetDateTime,
) -> Result<bool, AppError> {
    let Some(person) = actor.official()? else {
        return Ok(true);
    };
    let n: i64 = ex
        .scalar(
            "SELECT COUNT(*) FROM role_grants WHERE person_id = $1 AND role = 'administrator' \
             AND agency_id IS NULL AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2)",
            args![person, at],
        )
        .await?;
    Ok(n > 0)
}

/// The agencies in which the actor holds one of `roles` now; None means every agency (the
/// system, or a deployment-wide administrator when `roles` includes administrator).
pub async fn agencies_with(
    ex: &mut impl Exec,
    actor: &Actor,
    roles: &[Role],
    at: OffsetDateTime,
) -> Result<Option<Vec<i64>>, AppError> {
    if roles.contains(&Role::Administrator) && is_system_admin(ex, actor, at).await? {
        return Ok(None);
    }
    let Some(person) = actor.official()? else {
        return Ok(None);
    };
    let list = roles
        .iter()
        .map(|r| format!("'{}'", r.as_str()))
        .collect::<Vec<_>>()
        .join(",");
    let rows: Vec<(i64,)> = ex
        .fetch_all(
            &format!(
                "SELECT DISTINCT agency_id FROM role_grants WHERE person_id = $1 \
                 AND role IN ({list}) AND agency_id IS NOT NULL AND valid_from <= $2 \
                 AND (valid_to IS NULL OR valid_to > $2) ORDER BY agency_id"
            ),
            args![person, at],
        )
        .await?;
    Ok(Some(rows.into_iter().map(|r| r.0).collect()))
}

/// Requires the actor to administer the agency (its administrator or a system administrator).
pub async fn require_admin_of(
    ex: &mut impl Exec,
    actor: &Actor,
    agency_id: i64,
    at: OffsetDateTime,
) -> Result<(), AppError> {
    require(ex, actor, &[Role::Administrator], Some(agency_id), None, at).await
}

/// The agencies an actor administers now (every current agency for a system administrator).
pub async fn administered(
    ex: &mut impl Exec,
    actor: &Actor,
    at: OffsetDateTime,
) -> Result<Vec<egov_store::agencies::Agency>, AppError> {
    let today = egov_domain::vn_date(at);
    let ids = agencies_with(ex, actor, &[Role::Administrator], at).await?;
    let all: Vec<egov_store::agencies::Agency> = match ids {
        None => {
            ex.fetch_all(
                "SELECT id, code, code_source, name, short_name, kind, governance, admin_unit_id, \
                 parent_id, valid_from, valid_to FROM agencies \
                 WHERE (valid_from IS NULL OR valid_from <= $1) AND (valid_to IS NULL OR valid_to >= $1) \
                 ORDER BY CASE kind WHEN 'people_committee' THEN 1 ELSE 0 END, code",
                args![today],
            )
            .await?
        }
        Some(ids) => {
            let mut out = Vec::new();
            for id in ids {
                out.push(egov_store::agencies::get(ex, id).await?);
            }
            out
        }
    };
    Ok(all)
}

/// True when the actor administers the agency.
pub async fn can_admin(
    ex: &mut impl Exec,
    actor: &Actor,
    agency_id: i64,
    at: OffsetDateTime,
) -> Result<bool, AppError> {
    match require_admin_of(ex, actor, agency_id, at).await {
        Ok(()) => Ok(true),
        Err(e) if e.kind == crate::ErrorKind::Forbidden => Ok(false),
        Err(e) => Err(e),
    }
}

/// True when the actor administers at least one agency (or the deployment).
pub async fn is_any_admin(
    ex: &mut impl Exec,
    actor: &Actor,
    at: OffsetDateTime,
) -> Result<bool, AppError> {
    Ok(agencies_with(ex, actor, &[Role::Administrator], at)
        .await?
        .is_none_or(|v| !v.is_empty()))
}

/// The same questions for a page or an API handler deciding what to offer (the use case
/// behind the offer asks again, in its own transaction).
impl crate::App {
    /// The agencies in which the actor holds one of `roles` now (`None`: every agency).
    pub async fn agencies_where(
        &self,
        actor: &Actor,
        roles: &[Role],
    ) -> Result<Option<Vec<i64>>, AppError> {
        agencies_with(&mut &self.db, actor, roles, self.now()).await
    }

    /// True for the system and for a deployment-wide administrator.
    pub async fn is_system_admin(&self, actor: &Actor) -> Result<bool, AppError> {
        is_system_admin(&mut &self.db, actor, self.now()).await
    }

    /// True when the actor administers at least one agency (or the deployment).
    pub async fn is_any_admin(&self, actor: &Actor) -> Result<bool, AppError> {
        is_any_admin(&mut &self.db, actor, self.now()).await
    }

    /// True when the actor administers the agency.
    pub async fn may_administer(&self, actor: &Actor, agency_id: i64) -> Result<bool, AppError> {
        can_admin(&mut &self.db, actor, agency_id, self.now()).await
    }

    /// The agencies the actor administers now (every current agency for a system
    /// administrator).
    pub async fn administered(&self, actor: &Actor) -> Result<Vec<crate::views::Agency>, AppError> {
        Ok(crate::views::all(
            administered(&mut &self.db, actor, self.now()).await?,
        ))
    }

    /// Requires one of `roles` covering the agency (and unit), or refuses with `forbidden`.
    pub async fn require_role(
        &self,
        actor: &Actor,
        roles: &[Role],
        agency_id: Option<i64>,
    ) -> Result<(), AppError> {
        require(&mut &self.db, actor, roles, agency_id, None, self.now()).await
    }
}
