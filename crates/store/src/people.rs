//! Officials (people who sign in) and their sessions.

use time::OffsetDateTime;

use crate::db::{Arg, Exec};
use crate::{StoreError, args};

/// An official. The password hash and TOTP secret never leave the store through this type.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Person {
    pub id: i64,
    pub username: String,
    pub full_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub totp_enabled: bool,
    pub active: bool,
    pub locked_until: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// What sign-in needs to check a person.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Credentials {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub failed_logins: i64,
    pub locked_until: Option<OffsetDateTime>,
    pub active: bool,
}

const COLS: &str =
    "id, username, full_name, email, phone, totp_enabled, active, locked_until, created_at";

pub struct NewPerson<'a> {
    pub username: &'a str,
    pub full_name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub password_hash: &'a str,
}

pub async fn insert(
    ex: &mut impl Exec,
    p: &NewPerson<'_>,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    ex.scalar(
        "INSERT INTO people (username, full_name, full_name_fold, email, phone, password_hash, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        args![
            p.username,
            p.full_name,
            egov_domain::text::fold(&format!("{} {}", p.full_name, p.username)),
            p.email,
            p.phone,
            p.password_hash,
            now
        ],
    )
    .await
}

pub async fn get(ex: &mut impl Exec, id: i64) -> Result<Person, StoreError> {
    ex.fetch_one(
        &format!("SELECT {COLS} FROM people WHERE id = $1"),
        args![id],
    )
    .await
}

pub async fn find_by_username(
    ex: &mut impl Exec,
    username: &str,
) -> Result<Option<Person>, StoreError> {
    ex.fetch_optional(
        &format!("SELECT {COLS} FROM people WHERE username = $1"),
        args![username],
    )
    .await
}

pub async fn credentials(
    ex: &mut impl Exec,
    username: &str,
) -> Result<Option<Credentials>, StoreError> {
    ex.fetch_optional(
        "SELECT id, username, password_hash, totp_secret, totp_enabled, failed_logins, \
         locked_until, active FROM people WHERE username = $1",
        args![username],
    )
    .await
}

pub async fn credentials_by_id(ex: &mut impl Exec, id: i64) -> Result<Credentials, StoreError> {
    ex.fetch_one(
        "SELECT id, username, password_hash, totp_secret, totp_enabled, failed_logins, \
         locked_until, active FROM people WHERE id = $1",
        args![id],
    )
    .await
}

/// Counts a failed sign-in; locks the account until `lock_until` when the count reaches `max`.
/// Returns the new count.
pub async fn record_failed_login(
    ex: &mut impl Exec,
    id: i64,
    max: i64,
    lock_until: OffsetDateTime,
) -> Result<i64, StoreError> {
    ex.scalar(
        "UPDATE people SET failed_logins = failed_logins + 1, \
         locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END \
         WHERE id = $1 RETURNING failed_logins",
        args![id, max, lock_until],
    )
    .await
}

/// Until when sign-ins under a user name that belongs to nobody are refused (see
/// `sign_in_failures`), by the SHA-256 of the name.
pub async fn unknown_name_locked_until(
    ex: &mut impl Exec,
    name_hash: &str,
) -> Result<Option<OffsetDateTime>, StoreError> {
    let row: Option<(Option<OffsetDateTime>,)> = ex
        .fetch_optional(
            "SELECT locked_until FROM sign_in_failures WHERE name_hash = $1",
            args![name_hash],
        )
        .await?;
    Ok(row.and_then(|r| r.0))
}

/// Counts a failed sign-in under a user name that belongs to nobody, as
/// [`record_failed_login`] counts a person's.
pub async fn record_unknown_name_failure(
    ex: &mut impl Exec,
    name_hash: &str,
    max: i64,
    lock_until: OffsetDateTime,
) -> Result<i64, StoreError> {
    ex.scalar(
        "INSERT INTO sign_in_failures (name_hash, failures, locked_until) \
         VALUES ($1, 1, CASE WHEN 1 >= $2 THEN $3 ELSE NULL END) \
         ON CONFLICT (name_hash) DO UPDATE SET failures = sign_in_failures.failures + 1, \
         locked_until = CASE WHEN sign_in_failures.failures + 1 >= $2 THEN $3 \
         ELSE sign_in_failures.locked_until END RETURNING failures",
        args![name_hash, max, lock_until],
    )
    .await
}

pub async fn reset_failed_logins(ex: &mut impl Exec, id: i64) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE people SET failed_logins = 0, locked_until = NULL WHERE id = $1",
        args![id],
    )
    .await?;
    Ok(())
}

pub async fn set_password(
    ex: &mut impl Exec,
    id: i64,
    hash: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE people SET password_hash = $2, updated_at = $3 WHERE id = $1",
        args![id, hash, now],
    )
    .await?;
    Ok(())
}

pub async fn set_totp(
    ex: &mut impl Exec,
    id: i64,
    secret: Option<&str>,
    enabled: bool,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE people SET totp_secret = $2, totp_enabled = $3, updated_at = $4 WHERE id = $1",
        args![id, secret, enabled, now],
    )
    .await?;
    Ok(())
}

/// People visible in a list. `agency_ids`: only people with a posting or grant in one of these
/// agencies (None: everyone, for a system administrator).
pub async fn search(
    ex: &mut impl Exec,
    words: &[String],
    agency_ids: Option<&[i64]>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Person>, StoreError> {
    let mut sql = format!("SELECT {COLS} FROM people p WHERE 1 = 1");
    let mut args: Vec<Arg> = Vec::new();
    for w in words {
        args.push(Arg::from(format!("%{w}%")));
        sql.push_str(&format!(" AND p.full_name_fold LIKE ${}", args.len()));
    }
    if let Some(ids) = agency_ids {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut list = Vec::new();
        for id in ids {
            args.push(Arg::from(*id));
            list.push(format!("${}", args.len()));
        }
        let list = list.join(",");
        sql.push_str(&format!(
            " AND (EXISTS (SELECT 1 FROM postings x WHERE x.person_id = p.id AND x.agency_id IN ({list})) \
             OR EXISTS (SELECT 1 FROM role_grants y WHERE y.person_id = p.id AND y.agency_id IN ({list})))"
        ));
    }
    args.push(Arg::from(limit));
    args.push(Arg::from(offset));
    sql.push_str(&format!(
        " ORDER BY p.full_name, p.id LIMIT ${} OFFSET ${}",
        args.len() - 1,
        args.len()
    ));
    ex.fetch_all(&sql, args).await
}

pub async fn count(ex: &mut impl Exec) -> Result<i64, StoreError> {
    ex.scalar("SELECT COUNT(*) FROM people", args![]).await
}

/// A signed-in session, looked up by the hash of the cookie's token.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Session {
    pub id_hash: String,
    pub person_id: i64,
    pub csrf_token: String,
    pub mfa_passed: bool,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_session(
    ex: &mut impl Exec,
    id_hash: &str,
    person_id: i64,
    csrf_token: &str,
    mfa_passed: bool,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
    ip: &str,
    user_agent: &str,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO sessions (id_hash, person_id, csrf_token, mfa_passed, created_at, \
         last_seen_at, expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)",
        args![
            id_hash, person_id, csrf_token, mfa_passed, now, expires_at, ip, user_agent
        ],
    )
    .await?;
    Ok(())
}

/// The session with this token hash, if it has not expired.
pub async fn session(
    ex: &mut impl Exec,
    id_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<Session>, StoreError> {
    ex.fetch_optional(
        "SELECT id_hash, person_id, csrf_token, mfa_passed, created_at, last_seen_at, expires_at \
         FROM sessions WHERE id_hash = $1 AND expires_at > $2",
        args![id_hash, now],
    )
    .await
}

/// A live session with its person, in one statement (every signed-in request asks this).
pub async fn session_with_person(
    ex: &mut impl Exec,
    id_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<(Session, Person)>, StoreError> {
    let row: Option<SessionPerson> = ex
        .fetch_optional(
            "SELECT s.id_hash, s.person_id, s.csrf_token, s.mfa_passed, s.created_at, s.last_seen_at, \
             s.expires_at, p.username, p.full_name, p.email, p.phone, p.totp_enabled, p.active, \
             p.locked_until, p.created_at AS person_created_at \
             FROM sessions s JOIN people p ON p.id = s.person_id WHERE s.id_hash = $1 AND s.expires_at > $2",
            args![id_hash, now],
        )
        .await?;
    Ok(row.map(|r| {
        let person = Person {
            id: r.person_id,
            username: r.username,
            full_name: r.full_name,
            email: r.email,
            phone: r.phone,
            totp_enabled: r.totp_enabled,
            active: r.active,
            locked_until: r.locked_until,
            created_at: r.person_created_at,
        };
        let session = Session {
            id_hash: r.id_hash,
            person_id: r.person_id,
            csrf_token: r.csrf_token,
            mfa_passed: r.mfa_passed,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
        };
        (session, person)
    }))
}

#[derive(sqlx::FromRow)]
struct SessionPerson {
    id_hash: String,
    person_id: i64,
    csrf_token: String,
    mfa_passed: bool,
    created_at: OffsetDateTime,
    last_seen_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    username: String,
    full_name: String,
    email: Option<String>,
    phone: Option<String>,
    totp_enabled: bool,
    active: bool,
    locked_until: Option<OffsetDateTime>,
    person_created_at: OffsetDateTime,
}

pub async fn touch_session(
    ex: &mut impl Exec,
    id_hash: &str,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE sessions SET last_seen_at = $2, expires_at = $3 WHERE id_hash = $1",
        args![id_hash, now, expires_at],
    )
    .await?;
    Ok(())
}

pub async fn pass_mfa(ex: &mut impl Exec, id_hash: &str) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE sessions SET mfa_passed = TRUE WHERE id_hash = $1",
        args![id_hash],
    )
    .await?;
    Ok(())
}

pub async fn delete_session(ex: &mut impl Exec, id_hash: &str) -> Result<(), StoreError> {
    ex.execute("DELETE FROM sessions WHERE id_hash = $1", args![id_hash])
        .await?;
    Ok(())
}

pub async fn delete_sessions_of(ex: &mut impl Exec, person_id: i64) -> Result<u64, StoreError> {
    ex.execute(
        "DELETE FROM sessions WHERE person_id = $1",
        args![person_id],
    )
    .await
}

pub async fn purge_expired_sessions(
    ex: &mut impl Exec,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    ex.execute("DELETE FROM sessions WHERE expires_at <= $1", args![now])
        .await
}

/// Records the TOTP time step just accepted, if it is newer than the last one; returns false
/// when the step was already used (a replayed code).
pub async fn use_totp_step(ex: &mut impl Exec, id: i64, step: i64) -> Result<bool, StoreError> {
    let n = ex
        .execute(
            "UPDATE people SET totp_last_step = $2 WHERE id = $1 \
             AND (totp_last_step IS NULL OR totp_last_step < $2)",
            args![id, step],
        )
        .await?;
    Ok(n == 1)
}
