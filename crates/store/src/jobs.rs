//! A durable job table: the outbox of every effect that leaves the process.
//!
//! Jobs are enqueued in the same transaction as the change that causes them. Workers claim a job
//! with a lease; a worker that dies mid-job leaves the lease to expire, and the job is claimed
//! again (at-least-once). The receiver sees the job's idempotency key every time, so it can
//! ignore a repeat. After `max_attempts` failures a job is dead until an administrator retries it.

use time::{Duration, OffsetDateTime};

use crate::db::{Db, Dialect, Exec};
use crate::{StoreError, args};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub idempotency_key: String,
    /// `queued`, `running`, `done` or `dead`.
    pub state: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: OffsetDateTime,
    pub locked_until: Option<OffsetDateTime>,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
}

const COLS: &str = "id, kind, payload, idempotency_key, state, attempts, max_attempts, run_at, \
                    locked_until, locked_by, last_error, created_at, updated_at, finished_at";

/// Enqueues a job unless one with the same idempotency key exists. Returns the job's id.
pub async fn enqueue(
    ex: &mut impl Exec,
    kind: &str,
    payload: &serde_json::Value,
    idempotency_key: &str,
    run_at: OffsetDateTime,
    max_attempts: i64,
) -> Result<i64, StoreError> {
    let now = crate::db::now();
    ex.execute(
        "INSERT INTO jobs (kind, payload, idempotency_key, state, attempts, max_attempts, run_at, \
         created_at, updated_at) VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $6) \
         ON CONFLICT (idempotency_key) DO NOTHING",
        args![
            kind,
            payload.to_string(),
            idempotency_key,
            max_attempts,
            run_at,
            now
        ],
    )
    .await?;
    ex.scalar(
        "SELECT id FROM jobs WHERE idempotency_key = $1",
        args![idempotency_key],
    )
    .await
}

/// Claims the next due job (queued and due, or running with an expired lease) for `worker`,
/// among the `kinds` it has handlers for (`None`: any). A job no worker handles yet — a
/// delivery waiting for the exchange to be configured — stays queued instead of dying.
pub async fn claim(
    db: &Db,
    worker: &str,
    lease: Duration,
    now: OffsetDateTime,
    kinds: Option<&[&str]>,
) -> Result<Option<Job>, StoreError> {
    let skip_locked = match db.dialect() {
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        Dialect::Sqlite => "",
    };
    let mut a = args![now + lease, worker, now];
    let kind_cond = match kinds {
        None => String::new(),
        Some([]) => return Ok(None),
        Some(ks) => format!(" AND kind IN ({})", crate::push_list(&mut a, ks)),
    };
    let sql = format!(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until = $1, \
         locked_by = $2, updated_at = $3 WHERE id = (SELECT id FROM jobs \
         WHERE ((state = 'queued' AND run_at <= $3) OR (state = 'running' AND locked_until < $3)){kind_cond} \
         ORDER BY run_at, id LIMIT 1{skip_locked}) RETURNING {COLS}"
    );
    let mut tx = db.begin().await?;
    let job = tx.fetch_optional(&sql, a).await?;
    tx.commit().await?;
    Ok(job)
}

/// Records success. Returns false if the job was no longer running (already recorded).
pub async fn complete(
    ex: &mut impl Exec,
    id: i64,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let n = ex
        .execute(
            "UPDATE jobs SET state = 'done', locked_until = NULL, last_error = NULL, \
             updated_at = $2, finished_at = $2 WHERE id = $1 AND state = 'running'",
            args![id, now],
        )
        .await?;
    Ok(n == 1)
}

/// Records a failure: the job runs again at `retry_at`, or is dead when that is None.
pub async fn fail(
    ex: &mut impl Exec,
    id: i64,
    error: &str,
    retry_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let error: String = error.chars().take(2000).collect();
    match retry_at {
        Some(at) => {
            ex.execute(
                "UPDATE jobs SET state = 'queued', run_at = $2, locked_until = NULL, \
                 last_error = $3, updated_at = $4 WHERE id = $1",
                args![id, at, error, now],
            )
            .await?
        }
        None => {
            ex.execute(
                "UPDATE jobs SET state = 'dead', locked_until = NULL, last_error = $2, \
                 updated_at = $3, finished_at = $3 WHERE id = $1",
                args![id, error, now],
            )
            .await?
        }
    };
    Ok(())
}

/// Puts a dead job back in the queue with a fresh set of attempts.
pub async fn retry(ex: &mut impl Exec, id: i64, now: OffsetDateTime) -> Result<bool, StoreError> {
    let n = ex
        .execute(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $2, last_error = NULL, \
             finished_at = NULL, updated_at = $2 WHERE id = $1 AND state = 'dead'",
            args![id, now],
        )
        .await?;
    Ok(n == 1)
}

pub async fn get(ex: &mut impl Exec, id: i64) -> Result<Job, StoreError> {
    ex.fetch_one(&format!("SELECT {COLS} FROM jobs WHERE id = $1"), args![id])
        .await
}

pub async fn list(
    ex: &mut impl Exec,
    state: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Job>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT {COLS} FROM jobs WHERE ($1 IS NULL OR state = $1) \
             ORDER BY id DESC LIMIT $2 OFFSET $3"
        ),
        args![state, limit, offset],
    )
    .await
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StateCount {
    pub state: String,
    pub count: i64,
}

pub async fn counts(ex: &mut impl Exec) -> Result<Vec<StateCount>, StoreError> {
    ex.fetch_all(
        "SELECT state, COUNT(*) AS count FROM jobs GROUP BY state ORDER BY state",
        args![],
    )
    .await
}

/// Brings forward the queued jobs of `kinds` that wait on a back-off after failing with an
/// error starting with one of `errors` (the service they failed on did not answer): it answers
/// again, so they need not wait out their back-off. Answers how many.
pub async fn hasten(
    ex: &mut impl Exec,
    kinds: &[&str],
    errors: &[&str],
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    let mut a: Vec<crate::Arg> = args![now];
    let list = crate::push_list(&mut a, kinds);
    let mut like = Vec::new();
    for e in errors {
        a.push(crate::Arg::from(format!("{e}%")));
        like.push(format!("last_error LIKE ${}", a.len()));
    }
    let like = if like.is_empty() {
        "1 = 1".to_string()
    } else {
        like.join(" OR ")
    };
    ex.execute(
        &format!(
            "UPDATE jobs SET run_at = $1 WHERE state = 'queued' AND attempts > 0 \
             AND run_at > $1 AND kind IN ({list}) AND ({like})"
        ),
        a,
    )
    .await
}
