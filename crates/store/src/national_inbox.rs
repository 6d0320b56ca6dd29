//! Online dossiers pulled from the National Public Service Portal, kept before (and after)
//! they become dossiers. See migration 0018 for the states.

use time::OffsetDateTime;

use crate::db::Exec;
use crate::{StoreError, args};

/// One submission as kept.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct InboxRow {
    pub id: i64,
    pub national_code: String,
    /// The submission as pulled (JSON).
    pub payload: String,
    /// `pending`, `taken` or `held`.
    pub state: String,
    pub problem_code: Option<String>,
    pub problem: Option<String>,
    pub dossier_id: Option<i64>,
    pub attempts: i64,
    /// How many more times the same national code was pulled.
    pub duplicates: i64,
    pub next_at: OffsetDateTime,
    pub pulled_at: OffsetDateTime,
}

const COLS: &str = "id, national_code, payload, state, problem_code, problem, dossier_id, \
    attempts, duplicates, next_at, pulled_at";

/// Keeps a pulled submission: true when its code is new, false when it was pulled before (it is
/// counted as a duplicate and nothing else changes).
pub async fn keep(
    ex: &mut impl Exec,
    national_code: &str,
    payload: &str,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let id: Option<i64> = ex
        .scalar_optional(
            "INSERT INTO national_inbox (national_code, payload, state, next_at, pulled_at, \
             updated_at) VALUES ($1, $2, 'pending', $3, $3, $3) \
             ON CONFLICT (national_code) DO NOTHING RETURNING id",
            args![national_code, payload, now],
        )
        .await?;
    if id.is_none() {
        ex.execute(
            "UPDATE national_inbox SET duplicates = duplicates + 1, updated_at = $2 \
             WHERE national_code = $1",
            args![national_code, now],
        )
        .await?;
    }
    Ok(id.is_some())
}

/// Where the pull named `name` goes on from (empty: the beginning).
pub async fn cursor(ex: &mut impl Exec, name: &str) -> Result<String, StoreError> {
    Ok(ex
        .scalar_optional(
            "SELECT value FROM national_cursor WHERE name = $1",
            args![name],
        )
        .await?
        .unwrap_or_default())
}

pub async fn set_cursor(
    ex: &mut impl Exec,
    name: &str,
    value: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO national_cursor (name, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        args![name, value, now],
    )
    .await?;
    Ok(())
}

/// Submissions to take in now, oldest first.
pub async fn due(
    ex: &mut impl Exec,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<InboxRow>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT {COLS} FROM national_inbox WHERE state = 'pending' AND next_at <= $1 \
             ORDER BY next_at, id LIMIT $2"
        ),
        args![now, limit],
    )
    .await
}

/// Takes a due submission out of the other workers' reach until `lease`; false when another
/// has it.
pub async fn claim(
    ex: &mut impl Exec,
    id: i64,
    now: OffsetDateTime,
    lease: OffsetDateTime,
) -> Result<bool, StoreError> {
    let n = ex
        .execute(
            "UPDATE national_inbox SET next_at = $3 WHERE id = $1 AND state = 'pending' \
             AND next_at <= $2",
            args![id, now, lease],
        )
        .await?;
    Ok(n == 1)
}

/// The submission became dossier `dossier_id`.
pub async fn taken(
    ex: &mut impl Exec,
    id: i64,
    dossier_id: i64,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE national_inbox SET state = 'taken', dossier_id = $2, problem_code = NULL, \
         problem = NULL, updated_at = $3 WHERE id = $1",
        args![id, dossier_id, now],
    )
    .await?;
    Ok(())
}

/// The submission cannot be taken in as it is: kept for an administrator with the reason.
pub async fn hold(
    ex: &mut impl Exec,
    id: i64,
    code: &str,
    problem: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE national_inbox SET state = 'held', problem_code = $2, problem = $3, \
         attempts = attempts + 1, updated_at = $4 WHERE id = $1",
        args![id, code, problem, now],
    )
    .await?;
    Ok(())
}

/// Taking it in failed for a passing reason (the portal did not answer): again at `next_at`.
pub async fn failed(
    ex: &mut impl Exec,
    id: i64,
    problem: &str,
    next_at: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE national_inbox SET problem = $2, attempts = attempts + 1, next_at = $3, \
         updated_at = $3 WHERE id = $1",
        args![id, problem, next_at],
    )
    .await?;
    Ok(())
}

/// An administrator's retry of a held submission (its cause fixed): due now.
pub async fn retry(ex: &mut impl Exec, id: i64, now: OffsetDateTime) -> Result<bool, StoreError> {
    let n = ex
        .execute(
            "UPDATE national_inbox SET state = 'pending', next_at = $2, attempts = 0 \
             WHERE id = $1 AND state = 'held'",
            args![id, now],
        )
        .await?;
    Ok(n == 1)
}

/// Held submissions, and pending ones that failed at least once; newest first.
pub async fn troubles(ex: &mut impl Exec, limit: i64) -> Result<Vec<InboxRow>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT {COLS} FROM national_inbox WHERE state = 'held' \
             OR (state = 'pending' AND attempts > 0) ORDER BY id DESC LIMIT $1"
        ),
        args![limit],
    )
    .await
}

/// Counts by state, and the duplicates recognised.
pub async fn counts(ex: &mut impl Exec) -> Result<Vec<(String, i64, i64)>, StoreError> {
    ex.fetch_all(
        "SELECT state, COUNT(*), CAST(COALESCE(SUM(duplicates), 0) AS BIGINT) FROM national_inbox \
         GROUP BY state",
        args![],
    )
    .await
}

pub async fn get(ex: &mut impl Exec, id: i64) -> Result<Option<InboxRow>, StoreError> {
    ex.fetch_optional(
        &format!("SELECT {COLS} FROM national_inbox WHERE id = $1"),
        args![id],
    )
    .await
}

/// The submission a dossier was taken in from, as pulled (JSON).
pub async fn payload_of(
    ex: &mut impl Exec,
    national_code: &str,
    dossier_id: i64,
) -> Result<Option<String>, StoreError> {
    ex.scalar_optional(
        "SELECT payload FROM national_inbox WHERE national_code = $1 AND dossier_id = $2",
        args![national_code, dossier_id],
    )
    .await
}
