//! Officials: creating them, their passwords, and reading their records.

use crate::Code;
use egov_domain::org::Role;
use egov_store::people::{self, NewPerson, Person};
use egov_store::{Exec, org};
use serde::{Deserialize, Serialize};

use crate::auth::{check_password_rules, hash_password_blocking};
use crate::error::OrNotFound;
use crate::views::AsView;
use crate::{Actor, App, AppError, audit, authz};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewOfficial {
    pub username: String,
    pub full_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub password: String,
    /// Where the person works: required unless a system administrator creates them.
    pub agency_id: Option<i64>,
    pub org_unit_id: Option<i64>,
    /// A key of the position catalogue (`chuyen_vien`, `truong_phong` …).
    pub position_key: Option<String>,
}

/// A person with what an administrator needs to see.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonDetail {
    pub person: crate::views::Person,
    pub postings: Vec<crate::views::Posting>,
    pub roles: Vec<crate::views::RoleGrant>,
    pub delegations: Vec<crate::views::Delegation>,
}

pub fn check_username(u: &str) -> Result<String, AppError> {
    let u = u.trim().to_lowercase();
    let ok = (3..=40).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && u.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(u)
    } else {
        Err(AppError::invalid(
            Code::BadUsername,
            "A user name has 3–40 characters: letters a–z, digits, dot, dash or underscore.",
        ))
    }
}

pub(crate) fn check_name(name: &str, code: Code) -> Result<String, AppError> {
    let n = egov_domain::text::nfc(name.trim());
    if n.is_empty() || n.chars().count() > 200 {
        return Err(AppError::invalid(
            code,
            "A name is required (at most 200 characters).",
        ));
    }
    Ok(n)
}

impl App {
    /// The actor of the person with this username: the CLI acting for someone, the demo and
    /// the tests. No sign-in happens here; callers are trusted local tools.
    pub async fn actor_by_username(&self, username: &str) -> Result<Actor, AppError> {
        let p = people::find_by_username(&mut &self.db, username)
            .await?
            .ok_or_else(|| AppError::not_found("person"))?;
        Ok(Actor::person(p.id, username))
    }

    /// The full names of people by id, for showing who did what; ids of no one are left out.
    pub async fn person_names(
        &self,
        ids: impl IntoIterator<Item = i64>,
    ) -> Result<std::collections::HashMap<i64, String>, AppError> {
        let mut names = std::collections::HashMap::new();
        for id in ids {
            if let std::collections::hash_map::Entry::Vacant(v) = names.entry(id) {
                match egov_store::people::get(&mut &self.db, id).await {
                    Ok(p) => {
                        v.insert(p.full_name);
                    }
                    Err(egov_store::StoreError::NotFound) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(names)
    }

    /// Creates an official, with a posting when an agency is given.
    pub async fn create_person(&self, actor: &Actor, cmd: NewOfficial) -> Result<Person, AppError> {
        let username = check_username(&cmd.username)?;
        let full_name = check_name(&cmd.full_name, Code::BadFullName)?;
        check_password_rules(&cmd.password)?;
        let email = cmd
            .email
            .map(|e| e.trim().to_owned())
            .filter(|e| !e.is_empty());
        if email
            .as_deref()
            .is_some_and(|e| !e.contains('@') || e.len() > 200)
        {
            return Err(AppError::invalid(
                Code::BadEmail,
                "The e-mail address is not valid.",
            ));
        }
        let phone = cmd
            .phone
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty());
        if phone.as_deref().is_some_and(|p| {
            !(8..=15).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit() || b == b'+')
        }) {
            return Err(AppError::invalid(
                Code::BadPhone,
                "The phone number is not valid.",
            ));
        }
        let hash = hash_password_blocking(&cmd.password).await?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        match cmd.agency_id {
            Some(a) => authz::require_admin_of(&mut tx, actor, a, self.now()).await?,
            None => {
                if !authz::is_system_admin(&mut tx, actor, self.now()).await? {
                    return Err(AppError::invalid(
                        Code::AgencyRequired,
                        "Choose the agency the person works in.",
                    ));
                }
            }
        }
        if people::find_by_username(&mut tx, &username)
            .await?
            .is_some()
        {
            return Err(AppError::conflict(
                Code::UsernameTaken,
                "That user name is already taken.",
            )
            .arg("username", &username));
        }
        let id = people::insert(
            &mut tx,
            &NewPerson {
                username: &username,
                full_name: &full_name,
                email: email.as_deref(),
                phone: phone.as_deref(),
                password_hash: &hash,
            },
            now,
        )
        .await?;
        if let Some(agency_id) = cmd.agency_id {
            let key = cmd.position_key.as_deref().unwrap_or("chuyen_vien");
            self.check_posting_target(&mut tx, agency_id, cmd.org_unit_id, key)
                .await?;
            org::insert_posting(
                &mut tx,
                id,
                agency_id,
                cmd.org_unit_id,
                key,
                false,
                now,
                actor.person_id,
                now,
            )
            .await?;
        }
        let person = people::get(&mut tx, id).await?;
        audit::event("person.create", "person", id)
            .agency(cmd.agency_id)
            .after(&person.view())
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(person)
    }

    /// Can the actor administer this person? (A system administrator, an administrator of an
    /// agency the person works in, or the person themselves when `self_ok`.)
    pub(crate) async fn require_person_admin(
        &self,
        ex: &mut impl Exec,
        actor: &Actor,
        person_id: i64,
        self_ok: bool,
    ) -> Result<(), AppError> {
        if self_ok && actor.person_id == Some(person_id) {
            return Ok(());
        }
        let Some(mine) =
            authz::agencies_with(ex, actor, &[Role::Administrator], self.now()).await?
        else {
            return Ok(());
        };
        let theirs = self.agencies_of(ex, person_id).await?;
        if theirs.iter().any(|a| mine.contains(a)) {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }

    /// Agencies where the person has (or had) a posting or a role.
    pub(crate) async fn agencies_of(
        &self,
        ex: &mut impl Exec,
        person_id: i64,
    ) -> Result<Vec<i64>, AppError> {
        let rows: Vec<(i64,)> = ex
            .fetch_all(
                "SELECT agency_id FROM postings WHERE person_id = $1 UNION \
                 SELECT agency_id FROM role_grants WHERE person_id = $1 AND agency_id IS NOT NULL",
                egov_store::args![person_id],
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// A person's record for an administrator (or themselves). Reading another person's
    /// contact details is logged.
    pub async fn person_detail(
        &self,
        actor: &Actor,
        person_id: i64,
    ) -> Result<PersonDetail, AppError> {
        let mut tx = self.db.begin().await?;
        // Someone the actor may not administer is answered as someone who does not exist.
        self.require_person_admin(&mut tx, actor, person_id, true)
            .await
            .map_err(|e| {
                if e.code == "forbidden" {
                    AppError::not_found("person")
                } else {
                    e
                }
            })?;
        let person = people::get(&mut tx, person_id)
            .await
            .or_not_found("person")?;
        let detail = PersonDetail {
            postings: crate::views::all(org::postings_of(&mut tx, person_id, None).await?),
            roles: crate::views::all(org::grants_of(&mut tx, person_id, None).await?),
            delegations: crate::views::all(org::delegations_of(&mut tx, person_id).await?),
            person: person.into(),
        };
        if actor.person_id != Some(person_id) {
            audit::event("person.read", "person", person_id)
                .write(&mut tx, actor)
                .await?;
        }
        tx.commit().await?;
        Ok(detail)
    }

    /// People the actor administers, searched by name (diacritics ignored).
    pub async fn list_people(
        &self,
        actor: &Actor,
        q: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Person>, AppError> {
        let mut ex = &self.db;
        let scope =
            authz::agencies_with(&mut ex, actor, &[Role::Administrator], self.now()).await?;
        if scope.as_ref().is_some_and(|s| s.is_empty()) {
            return Err(AppError::forbidden());
        }
        let words = egov_domain::text::query_words(q);
        Ok(people::search(&mut ex, &words, scope.as_deref(), limit, offset).await?)
    }

    /// Sets a password: the person themselves (with the current one) or an administrator.
    pub async fn set_password(
        &self,
        actor: &Actor,
        person_id: i64,
        current: Option<&str>,
        new: &str,
    ) -> Result<(), AppError> {
        check_password_rules(new)?;
        let hash = hash_password_blocking(new).await?;
        let mut tx = self.db.begin().await?;
        if actor.person_id == Some(person_id) {
            let creds = people::credentials_by_id(&mut tx, person_id).await?;
            let ok = match current {
                Some(c) => crate::auth::verify_password_blocking(c, &creds.password_hash).await,
                None => false,
            };
            if !ok {
                return Err(AppError::invalid(
                    Code::PasswordWrong,
                    "The current password is wrong.",
                ));
            }
        } else {
            self.require_person_admin(&mut tx, actor, person_id, false)
                .await?;
        }
        people::set_password(&mut tx, person_id, &hash, self.now()).await?;
        people::delete_sessions_of(&mut tx, person_id).await?;
        audit::event("person.password", "person", person_id)
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn usernames() {
        assert_eq!(
            super::check_username(" VanThu.UBND ").unwrap(),
            "vanthu.ubnd"
        );
        assert!(super::check_username("ab").is_err());
        assert!(super::check_username("-abc").is_err());
        assert!(super::check_username("văn.thư").is_err());
    }
}
