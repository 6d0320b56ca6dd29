//! Organisation use cases: internal units, role grants, postings, staff moves, delegations and
//! who may sign for whom.

use crate::Code;
use egov_domain::org::{
    DelegationCheck, DelegationFact, DelegationKind, Governance, OrgUnitKind, PositionRank,
    PostingFact, Role, SigningAuthority, signing_authorities,
};
use egov_store::agencies::{self, Agency};
use egov_store::org::{self, Delegation, NewDelegation, OrgUnit, Posting, RoleGrant};
use egov_store::{Exec, people};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::OrNotFound;
use crate::views::AsView;
use crate::{Actor, App, AppError, audit, authz};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewOrgUnit {
    pub name: String,
    /// `office`, `division`, `one_stop` or `other`.
    pub kind: String,
    pub parent_id: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct GrantRole {
    pub role: String,
    /// None only for a deployment-wide administrator.
    pub agency_id: Option<i64>,
    pub org_unit_id: Option<i64>,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewPosting {
    pub agency_id: i64,
    pub org_unit_id: Option<i64>,
    pub position_key: String,
    /// An acting head (Q.).
    #[serde(default)]
    pub acting: bool,
}

/// A staff move: every current posting and role ends, the new ones begin.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct StaffMove {
    #[serde(flatten)]
    pub posting: NewPosting,
    /// Roles granted in the new agency (or unit).
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewDelegationCmd {
    pub agency_id: i64,
    /// `by_order` (TL.) or `authorised` (TUQ.).
    pub kind: String,
    pub delegator_id: i64,
    pub delegate_id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub valid_from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub valid_to: OffsetDateTime,
    #[serde(default)]
    pub scope: String,
    /// The written authorisation (number of the document).
    #[serde(default)]
    pub reference: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SigningAuthorityView {
    pub agency_id: i64,
    pub agency_name: String,
    /// The competence mark: "", "TM.", "KT.", "Q.", "TL.", "TUQ.".
    pub mark: String,
    pub delegation_id: Option<i64>,
    pub on_behalf_of: Option<i64>,
}

async fn live_agency(ex: &mut impl Exec, id: i64) -> Result<Agency, AppError> {
    let a = agencies::get(ex, id).await.or_not_found("agency")?;
    let v = egov_domain::validity::Validity {
        from: a.valid_from,
        to: a.valid_to,
    };
    if !v.contains(egov_store::vn_today()) {
        let successor = agencies::successors(ex, id)
            .await?
            .into_iter()
            .next()
            .map(|s| s.agency.name)
            .unwrap_or_else(|| "–".into());
        return Err(AppError::invalid(
            Code::AgencyNotCurrent,
            format!(
                "{} is not in operation today; its successor is {successor}",
                a.name
            ),
        )
        .arg("agency", &a.name)
        .arg("successor", successor));
    }
    Ok(a)
}

async fn unit_in(
    ex: &mut impl Exec,
    unit: Option<i64>,
    agency_id: i64,
) -> Result<Option<OrgUnit>, AppError> {
    let Some(u) = unit else { return Ok(None) };
    let u = org::get_org_unit(ex, u)
        .await
        .or_not_found("internal unit")?;
    if u.agency_id != agency_id {
        return Err(AppError::invalid(
            Code::UnitOutsideAgency,
            "That internal unit belongs to another agency.",
        ));
    }
    if u.valid_to.is_some_and(|t| t < egov_store::vn_today()) {
        return Err(AppError::invalid(
            Code::UnitClosed,
            "That internal unit is closed.",
        ));
    }
    Ok(Some(u))
}

fn parse_role(s: &str) -> Result<Role, AppError> {
    Role::parse(s).ok_or_else(|| {
        AppError::invalid(Code::BadRole, format!("{s:?} is not a role")).arg("role", s)
    })
}

impl App {
    pub async fn create_org_unit(
        &self,
        actor: &Actor,
        agency_id: i64,
        cmd: NewOrgUnit,
    ) -> Result<OrgUnit, AppError> {
        let name = crate::people::check_name(&cmd.name, Code::BadUnitName)?;
        let Some(kind) = OrgUnitKind::parse(&cmd.kind) else {
            return Err(AppError::invalid(
                Code::BadUnitKind,
                "Unknown kind of internal unit.",
            ));
        };
        let mut tx = self.db.begin().await?;
        authz::require_admin_of(&mut tx, actor, agency_id, self.now()).await?;
        live_agency(&mut tx, agency_id).await?;
        unit_in(&mut tx, cmd.parent_id, agency_id).await?;
        let dup: i64 = tx
            .scalar(
                "SELECT COUNT(*) FROM org_units WHERE agency_id = $1 AND name_fold = $2 \
                 AND valid_to IS NULL",
                egov_store::args![agency_id, egov_domain::text::fold(&name)],
            )
            .await?;
        if dup > 0 {
            return Err(AppError::conflict(
                Code::UnitExists,
                "The agency already has a unit of that name.",
            ));
        }
        let id = org::insert_org_unit(
            &mut tx,
            agency_id,
            cmd.parent_id,
            &name,
            kind,
            Some(self.today()),
            self.now(),
        )
        .await?;
        let unit = org::get_org_unit(&mut tx, id).await?;
        audit::event("org_unit.create", "org_unit", id)
            .agency(Some(agency_id))
            .after(&unit.view())
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(unit)
    }

    pub async fn grant_role(
        &self,
        actor: &Actor,
        person_id: i64,
        cmd: GrantRole,
    ) -> Result<RoleGrant, AppError> {
        let role = parse_role(&cmd.role)?;
        let mut tx = self.db.begin().await?;
        match cmd.agency_id {
            Some(a) => {
                authz::require_admin_of(&mut tx, actor, a, self.now()).await?;
                live_agency(&mut tx, a).await?;
                unit_in(&mut tx, cmd.org_unit_id, a).await?;
            }
            None => {
                if role != Role::Administrator || cmd.org_unit_id.is_some() {
                    return Err(AppError::invalid(
                        Code::AgencyRequired,
                        "Choose the agency the role applies in.",
                    ));
                }
                if !authz::is_system_admin(&mut tx, actor, self.now()).await? {
                    return Err(AppError::forbidden());
                }
            }
        }
        let person = people::get(&mut tx, person_id)
            .await
            .or_not_found("person")?;
        if !person.active {
            return Err(AppError::invalid(
                Code::PersonInactive,
                "That account is disabled.",
            ));
        }
        let now = self.now();
        let same = org::grants_of(&mut tx, person_id, Some(now))
            .await?
            .into_iter()
            .any(|g| {
                g.role == role.as_str()
                    && g.agency_id == cmd.agency_id
                    && g.org_unit_id == cmd.org_unit_id
            });
        if same {
            return Err(AppError::conflict(
                Code::RoleAlreadyGranted,
                "The person already holds that role there.",
            ));
        }
        let id = org::insert_grant(
            &mut tx,
            person_id,
            role.as_str(),
            cmd.agency_id,
            cmd.org_unit_id,
            now,
            actor.person_id,
            cmd.reason.trim(),
            now,
        )
        .await?;
        let grant = org::get_grant(&mut tx, id).await?;
        audit::event("role.grant", "role_grant", id)
            .agency(cmd.agency_id)
            .after(&grant.view())
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(grant)
    }

    pub async fn revoke_role(&self, actor: &Actor, grant_id: i64) -> Result<RoleGrant, AppError> {
        let mut tx = self.db.begin().await?;
        let before = org::get_grant(&mut tx, grant_id)
            .await
            .or_not_found("role grant")?;
        match before.agency_id {
            Some(a) => authz::require_admin_of(&mut tx, actor, a, self.now()).await?,
            None => {
                if !authz::is_system_admin(&mut tx, actor, self.now()).await? {
                    return Err(AppError::forbidden());
                }
            }
        }
        if org::revoke_grant(&mut tx, grant_id, self.now(), actor.person_id).await? == 0 {
            return Err(AppError::conflict(
                Code::RoleAlreadyEnded,
                "That role has already ended.",
            ));
        }
        let after = org::get_grant(&mut tx, grant_id).await?;
        audit::event("role.revoke", "role_grant", grant_id)
            .agency(before.agency_id)
            .before(&before.view())
            .after(&after.view())
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub(crate) async fn check_posting_target(
        &self,
        ex: &mut impl Exec,
        agency_id: i64,
        org_unit_id: Option<i64>,
        position_key: &str,
    ) -> Result<(), AppError> {
        live_agency(ex, agency_id).await?;
        unit_in(ex, org_unit_id, agency_id).await?;
        if org::position(ex, position_key).await?.is_none() {
            return Err(AppError::invalid(
                Code::BadPosition,
                format!("{position_key:?} is not a position"),
            )
            .arg("position", position_key));
        }
        Ok(())
    }

    pub async fn add_posting(
        &self,
        actor: &Actor,
        person_id: i64,
        cmd: NewPosting,
    ) -> Result<Posting, AppError> {
        let mut tx = self.db.begin().await?;
        authz::require_admin_of(&mut tx, actor, cmd.agency_id, self.now()).await?;
        people::get(&mut tx, person_id)
            .await
            .or_not_found("person")?;
        self.check_posting_target(&mut tx, cmd.agency_id, cmd.org_unit_id, &cmd.position_key)
            .await?;
        let now = self.now();
        let id = org::insert_posting(
            &mut tx,
            person_id,
            cmd.agency_id,
            cmd.org_unit_id,
            &cmd.position_key,
            cmd.acting,
            now,
            actor.person_id,
            now,
        )
        .await?;
        let posting = org::postings_of(&mut tx, person_id, None)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| AppError::internal("the new posting vanished"))?;
        audit::event("posting.create", "posting", id)
            .agency(Some(cmd.agency_id))
            .after(&posting.view())
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(posting)
    }

    /// Moves a person: every current posting and role ends now, the new posting and roles
    /// begin. History keeps the old rows with their end.
    pub async fn move_staff(
        &self,
        actor: &Actor,
        person_id: i64,
        cmd: StaffMove,
    ) -> Result<Vec<Posting>, AppError> {
        let roles = cmd
            .roles
            .iter()
            .map(|r| parse_role(r))
            .collect::<Result<Vec<_>, _>>()?;
        let mut tx = self.db.begin().await?;
        people::get(&mut tx, person_id)
            .await
            .or_not_found("person")?;
        let now = self.now();
        // The actor must administer where the person leaves and where they go.
        let current: Vec<i64> = org::postings_of(&mut tx, person_id, Some(now))
            .await?
            .iter()
            .map(|p| p.agency_id)
            .chain(
                org::grants_of(&mut tx, person_id, Some(now))
                    .await?
                    .iter()
                    .filter_map(|g| g.agency_id),
            )
            .collect();
        for a in current
            .iter()
            .chain(std::iter::once(&cmd.posting.agency_id))
        {
            authz::require_admin_of(&mut tx, actor, *a, self.now()).await?;
        }
        self.check_posting_target(
            &mut tx,
            cmd.posting.agency_id,
            cmd.posting.org_unit_id,
            &cmd.posting.position_key,
        )
        .await?;
        let before = serde_json::json!({
            "postings": crate::views::all::<_, crate::views::Posting>(org::postings_of(&mut tx, person_id, Some(now)).await?),
            "roles": crate::views::all::<_, crate::views::RoleGrant>(org::grants_of(&mut tx, person_id, Some(now)).await?),
        });
        org::end_postings(&mut tx, person_id, now, actor.person_id).await?;
        org::revoke_all_grants(&mut tx, person_id, now, actor.person_id).await?;
        org::insert_posting(
            &mut tx,
            person_id,
            cmd.posting.agency_id,
            cmd.posting.org_unit_id,
            &cmd.posting.position_key,
            cmd.posting.acting,
            now,
            actor.person_id,
            now,
        )
        .await?;
        for r in &roles {
            let unit = if *r == Role::UnitLeader {
                cmd.posting.org_unit_id
            } else {
                None
            };
            org::insert_grant(
                &mut tx,
                person_id,
                r.as_str(),
                Some(cmd.posting.agency_id),
                unit,
                now,
                actor.person_id,
                "staff move",
                now,
            )
            .await?;
        }
        let after_postings = org::postings_of(&mut tx, person_id, Some(now)).await?;
        let after = serde_json::json!({
            "postings": crate::views::all::<_, crate::views::Posting>(after_postings.clone()),
            "roles": crate::views::all::<_, crate::views::RoleGrant>(org::grants_of(&mut tx, person_id, Some(now)).await?),
        });
        audit::event("person.move", "person", person_id)
            .agency(Some(cmd.posting.agency_id))
            .before(&before)
            .after(&after)
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(after_postings)
    }

    async fn delegation_facts(
        &self,
        ex: &mut impl Exec,
        agency_id: i64,
    ) -> Result<Vec<DelegationFact>, AppError> {
        Ok(org::delegations_in(ex, agency_id)
            .await?
            .into_iter()
            .filter_map(|d| {
                Some(DelegationFact {
                    id: d.id,
                    agency_id: d.agency_id,
                    kind: DelegationKind::parse(&d.kind)?,
                    delegator_id: d.delegator_id,
                    delegate_id: d.delegate_id,
                    from: d.valid_from,
                    to: d.valid_to,
                })
            })
            .collect())
    }

    /// Records a time-limited delegation of signing authority. The head of the agency (or its
    /// acting head) delegates; an agency administrator may record it on their behalf.
    pub async fn create_delegation(
        &self,
        actor: &Actor,
        cmd: NewDelegationCmd,
    ) -> Result<Delegation, AppError> {
        let kind = DelegationKind::parse(&cmd.kind).ok_or_else(|| {
            AppError::invalid(
                Code::BadDelegationKind,
                "A delegation is by_order (TL.) or authorised (TUQ.).",
            )
        })?;
        let mut tx = self.db.begin().await?;
        if actor.person_id != Some(cmd.delegator_id) {
            authz::require_admin_of(&mut tx, actor, cmd.agency_id, self.now()).await?;
        }
        live_agency(&mut tx, cmd.agency_id).await?;
        let now = self.now();
        let postings = org::postings_in(&mut tx, cmd.agency_id, now).await?;
        let delegator = postings
            .iter()
            .find(|p| p.person_id == cmd.delegator_id)
            .map(posting_fact);
        let delegate_in_agency = postings.iter().any(|p| p.person_id == cmd.delegate_id);
        let existing = self.delegation_facts(&mut tx, cmd.agency_id).await?;
        DelegationCheck {
            delegator_id: cmd.delegator_id,
            delegate_id: cmd.delegate_id,
            kind,
            from: cmd.valid_from,
            to: cmd.valid_to,
            now,
            delegator_posting: delegator.as_ref(),
            delegate_in_agency,
            existing: &existing,
        }
        .run()
        .map_err(|e| {
            let code = match e {
                egov_domain::org::DelegationError::EmptyPeriod => Code::DelegationEmptyPeriod,
                egov_domain::org::DelegationError::Expired => Code::DelegationExpired,
                egov_domain::org::DelegationError::SelfDelegation => Code::DelegationToSelf,
                egov_domain::org::DelegationError::NotHead => Code::DelegationNotHead,
                egov_domain::org::DelegationError::DelegateOutsideAgency => {
                    Code::DelegationOutsideAgency
                }
                egov_domain::org::DelegationError::NoSubDelegation => {
                    Code::DelegationNoSubdelegation
                }
                egov_domain::org::DelegationError::Overlap(_) => Code::DelegationOverlap,
            };
            AppError::invalid(code, e.to_string())
        })?;
        let id = org::insert_delegation(
            &mut tx,
            &NewDelegation {
                agency_id: cmd.agency_id,
                kind: kind.as_str(),
                delegator_id: cmd.delegator_id,
                delegate_id: cmd.delegate_id,
                valid_from: egov_store::db_time(cmd.valid_from),
                valid_to: egov_store::db_time(cmd.valid_to),
                scope: cmd.scope.trim(),
                reference: cmd.reference.trim(),
                created_by: actor.person_id,
            },
            now,
        )
        .await?;
        let d = org::get_delegation(&mut tx, id).await?;
        audit::event("delegation.create", "delegation", id)
            .agency(Some(cmd.agency_id))
            .after(&d.view())
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(d)
    }

    pub async fn revoke_delegation(&self, actor: &Actor, id: i64) -> Result<Delegation, AppError> {
        let mut tx = self.db.begin().await?;
        let before = org::get_delegation(&mut tx, id)
            .await
            .or_not_found("delegation")?;
        if actor.person_id != Some(before.delegator_id) {
            authz::require_admin_of(&mut tx, actor, before.agency_id, self.now()).await?;
        }
        if org::revoke_delegation(&mut tx, id, self.now(), actor.person_id).await? == 0 {
            return Err(AppError::conflict(
                Code::DelegationAlreadyRevoked,
                "That delegation was already revoked.",
            ));
        }
        let after = org::get_delegation(&mut tx, id).await?;
        audit::event("delegation.revoke", "delegation", id)
            .agency(Some(before.agency_id))
            .before(&before.view())
            .after(&after.view())
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Delegations of an agency (for its administrators and its people).
    pub async fn agency_delegations(
        &self,
        actor: &Actor,
        agency_id: i64,
    ) -> Result<Vec<Delegation>, AppError> {
        let mut ex = &self.db;
        authz::require(
            &mut ex,
            actor,
            &Role::ALL,
            Some(agency_id),
            None,
            self.now(),
        )
        .await?;
        Ok(org::delegations_in(&mut ex, agency_id).await?)
    }

    /// How a person may sign at an instant: from their postings and the delegations they hold.
    pub async fn signing_authorities(
        &self,
        person_id: i64,
        at: OffsetDateTime,
    ) -> Result<Vec<SigningAuthorityView>, AppError> {
        let mut ex = &self.db;
        let postings = org::postings_of(&mut ex, person_id, Some(at)).await?;
        let facts: Vec<(PostingFact, Governance)> = postings
            .iter()
            .map(|p| (posting_fact(p), p.governance))
            .collect();
        let received: Vec<DelegationFact> = org::delegations_of(&mut ex, person_id)
            .await?
            .into_iter()
            .filter(|d| d.revoked_at.is_none_or(|r| r > at))
            .filter_map(|d| {
                Some(DelegationFact {
                    id: d.id,
                    agency_id: d.agency_id,
                    kind: DelegationKind::parse(&d.kind)?,
                    delegator_id: d.delegator_id,
                    delegate_id: d.delegate_id,
                    from: d.valid_from,
                    to: d.valid_to,
                })
            })
            .collect();
        let auth: Vec<SigningAuthority> = signing_authorities(person_id, &facts, &received, at);
        let mut out = Vec::new();
        for a in auth {
            out.push(SigningAuthorityView {
                agency_name: agencies::get(&mut ex, a.agency_id).await?.name,
                agency_id: a.agency_id,
                mark: a.form.mark().to_owned(),
                delegation_id: a.delegation_id,
                on_behalf_of: a.on_behalf_of,
            });
        }
        Ok(out)
    }
}

fn posting_fact(p: &Posting) -> PostingFact {
    PostingFact {
        agency_id: p.agency_id,
        rank: PositionRank::parse(&p.rank).unwrap_or(PositionRank::Staff),
        acting: p.acting,
    }
}

/// Reading the organisation, for pages that show it (lists the caller has already decided to
/// show; the use cases that change it check their own permissions).
impl App {
    /// Who works in the agency now.
    pub async fn postings_in(
        &self,
        agency_id: i64,
    ) -> Result<Vec<crate::views::Posting>, AppError> {
        let rows = org::postings_in(&mut &self.db, agency_id, self.now()).await?;
        Ok(crate::views::all(rows))
    }

    /// A person's postings in force now.
    pub async fn postings_of(
        &self,
        person_id: i64,
    ) -> Result<Vec<crate::views::Posting>, AppError> {
        let rows = org::postings_of(&mut &self.db, person_id, Some(self.now())).await?;
        Ok(crate::views::all(rows))
    }

    /// A person's roles in force now.
    pub async fn grants_of(
        &self,
        person_id: i64,
    ) -> Result<Vec<crate::views::RoleGrant>, AppError> {
        let rows = org::grants_of(&mut &self.db, person_id, Some(self.now())).await?;
        Ok(crate::views::all(rows))
    }

    /// The positions a posting may hold.
    pub async fn positions(&self) -> Result<Vec<crate::views::Position>, AppError> {
        Ok(crate::views::all(org::positions(&mut &self.db).await?))
    }

    /// An agency's internal units in force today.
    pub async fn org_units_of(
        &self,
        agency_id: i64,
    ) -> Result<Vec<crate::views::OrgUnit>, AppError> {
        let rows = org::org_units_of(&mut &self.db, agency_id, self.today()).await?;
        Ok(crate::views::all(rows))
    }

    /// The people (id, name) who hold `role` in the agency now.
    pub async fn holders(
        &self,
        agency_id: i64,
        role: &str,
    ) -> Result<Vec<(i64, String)>, AppError> {
        Ok(org::holders(&mut &self.db, agency_id, role, self.now()).await?)
    }
}
