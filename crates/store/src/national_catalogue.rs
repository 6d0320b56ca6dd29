//! The national procedure catalogue as last pulled, held for review. See migration 0019.

use time::OffsetDateTime;

use crate::db::Exec;
use crate::{StoreError, args};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StagedProcedure {
    pub code: String,
    pub name: String,
    /// The catalogue's entry as pulled (JSON).
    pub payload: String,
    /// `new`, `changed`, `same`, `bad` or `published`.
    pub state: String,
    /// The fields that differ from the version in force, comma-separated.
    pub differences: String,
    pub problem: Option<String>,
    pub pulled_at: OffsetDateTime,
    pub published_version: Option<i64>,
}

const COLS: &str = "code, name, payload, state, differences, problem, pulled_at, published_version";

/// Keeps an entry as pulled, replacing what the last pull kept of it.
pub async fn stage(ex: &mut impl Exec, p: &StagedProcedure) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO national_catalogue (code, name, payload, state, differences, problem, pulled_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
         payload = excluded.payload, state = excluded.state, differences = excluded.differences, \
         problem = excluded.problem, pulled_at = excluded.pulled_at",
        args![
            p.code.as_str(),
            p.name.as_str(),
            p.payload.as_str(),
            p.state.as_str(),
            p.differences.as_str(),
            p.problem.as_deref(),
            p.pulled_at
        ],
    )
    .await?;
    Ok(())
}

pub async fn get(ex: &mut impl Exec, code: &str) -> Result<Option<StagedProcedure>, StoreError> {
    ex.fetch_optional(
        &format!("SELECT {COLS} FROM national_catalogue WHERE code = $1"),
        args![code],
    )
    .await
}

/// Entries waiting for review (new, changed, bad), by code.
pub async fn to_review(ex: &mut impl Exec, limit: i64) -> Result<Vec<StagedProcedure>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT {COLS} FROM national_catalogue WHERE state IN ('new', 'changed', 'bad') \
             ORDER BY state, code LIMIT $1"
        ),
        args![limit],
    )
    .await
}

/// Counts by state.
pub async fn counts(ex: &mut impl Exec) -> Result<Vec<(String, i64)>, StoreError> {
    ex.fetch_all(
        "SELECT state, CAST(COUNT(*) AS BIGINT) FROM national_catalogue GROUP BY state",
        args![],
    )
    .await
}

/// An administrator published the entry as egov's version `version`.
pub async fn published(
    ex: &mut impl Exec,
    code: &str,
    version: i64,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE national_catalogue SET state = 'published', published_version = $2, \
         published_at = $3 WHERE code = $1",
        args![code, version, now],
    )
    .await?;
    Ok(())
}
