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

/// The questions the use cases ask inside their own transaction.
impl crate::App {
    /// Requires one of `roles` in the agency (a grant for any of its units counts), as
    /// `forbidden`.
    pub(crate) async fn require_in(
        &self,
        ex: &mut impl Exec,
        actor: &Actor,
        roles: &[Role],
        agency_id: i64,
    ) -> Result<(), AppError> {
        if self.holds_in(ex, actor, roles, agency_id).await? {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }

    /// Whether the actor holds one of `roles` in the agency, for the whole agency or any of
    /// its units.
    pub async fn holds_in(
        &self,
        ex: &mut impl Exec,
        actor: &Actor,
        roles: &[Role],
        agency_id: i64,
    ) -> Result<bool, AppError> {
        self.holds_in_unit(ex, actor, roles, agency_id, None).await
    }

    /// [`App::holds_in`] outside a transaction, for a page deciding what to offer.
    pub async fn has_role_in(
        &self,
        actor: &Actor,
        roles: &[Role],
        agency_id: i64,
    ) -> Result<bool, AppError> {
        self.holds_in(&mut &self.db, actor, roles, agency_id).await
    }

    /// Like [`App::holds_in`], but a grant limited to a unit counts only for `unit` (when
    /// given): the head of one division does not review another's drafts.
    pub(crate) async fn holds_in_unit(
        &self,
        ex: &mut impl Exec,
        actor: &Actor,
        roles: &[Role],
        agency_id: i64,
        unit: Option<i64>,
    ) -> Result<bool, AppError> {
        let Some(person) = actor.official()? else {
            return Ok(true);
        };
        if roles.contains(&Role::Administrator) && is_system_admin(ex, actor, self.now()).await? {
            return Ok(true);
        }
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Ok(org::holds_in(ex, person, &names, agency_id, unit, self.now()).await?)
    }

    /// Whether the actor holds one of `roles` by a grant for the whole agency (a grant limited
    /// to a unit does not count); without an agency, whether they are the system administrator.
    pub(crate) async fn holds(
        &self,
        ex: &mut impl Exec,
        actor: &Actor,
        roles: &[Role],
        agency: Option<i64>,
    ) -> Result<bool, AppError> {
        match agency {
            Some(a) => match require(ex, actor, roles, Some(a), None, self.now()).await {
                Ok(()) => Ok(true),
                Err(e) if e.kind == crate::ErrorKind::Forbidden => Ok(false),
                Err(e) => Err(e),
            },
            None => is_system_admin(ex, actor, self.now()).await,
        }
    }

    /// Requires a deployment-wide administrator (the calendar, the catalogue).
    pub(crate) async fn require_system_admin(
        &self,
        ex: &mut impl Exec,
        actor: &Actor,
    ) -> Result<(), AppError> {
        if is_system_admin(ex, actor, self.now()).await? {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }

    /// Requires one of `roles` in some agency (a front-desk task not tied to one agency).
    pub(crate) async fn require_somewhere(
        &self,
        ex: &mut impl Exec,
        actor: &Actor,
        roles: &[Role],
    ) -> Result<(), AppError> {
        match agencies_with(ex, actor, roles, self.now()).await? {
            Some(v) if v.is_empty() => Err(AppError::forbidden()),
            _ => Ok(()),
        }
    }
}
