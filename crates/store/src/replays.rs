//! Requests a client may send twice — a retry after a timeout, a double click, a proxy that
//! resends — handled once (issue 24). A request names itself with a key (`Idempotency-Key`);
//! the first arrival claims the key and, once handled, records its response; later arrivals
//! with the same key and the same request get that response again, and one arriving while the
//! first is still being handled is told so.
//!
//! A node can die between committing what a request did and recording its answer. So the
//! request is handled inside [`CURRENT`], and every write transaction that commits inside it
//! marks the key (`effect_at`) in that same transaction: a claim abandoned after its effect is
//! never run again — its later arrivals learn that it was done and its answer lost (status 0) —
//! and one abandoned before any effect is run again.

use time::OffsetDateTime;

use crate::{Exec, StoreError, args};

tokio::task_local! {
    /// The request being handled in this task, as (scope, key), for [`mark_effect`].
    pub static CURRENT: (String, String);
}

/// Marks the current request (if any) as having had an effect, inside the transaction `tx`
/// that is about to commit. Called by [`crate::Tx::commit`].
pub(crate) async fn mark_effect(tx: &mut crate::Tx) -> Result<(), StoreError> {
    let Ok((scope, key)) = CURRENT.try_with(Clone::clone) else {
        return Ok(());
    };
    tx.execute(
        "UPDATE request_replays SET effect_at = $3 \
         WHERE scope = $1 AND key = $2 AND status IS NULL AND effect_at IS NULL",
        args![scope, key, crate::db::now()],
    )
    .await?;
    Ok(())
}

/// A recorded response.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Replay {
    pub request_hash: String,
    /// `None` while the first arrival is being handled; 0 when it had an effect and its
    /// answer was lost.
    pub status: Option<i64>,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Option<Vec<u8>>,
    pub effect_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// What a claim found.
#[derive(Debug)]
pub enum Claim {
    /// The key is this request's now: handle it, then [`finish`] or [`release`].
    Claimed,
    /// The key was claimed before (handled or being handled).
    Seen(Replay),
}

/// Claims `key` for `scope` (the caller). A claim left unfinished since before `stale` (its
/// node died while handling it) is taken over if it had no effect (and marked done, status 0,
/// if it had), and so is a key whose request was refused (4xx: it changed nothing) by a
/// different request — a form corrected and sent again.
pub async fn claim(
    ex: &mut impl Exec,
    scope: &str,
    key: &str,
    request_hash: &str,
    now: OffsetDateTime,
    stale: OffsetDateTime,
) -> Result<Claim, StoreError> {
    let inserted = ex
        .execute(
            "INSERT INTO request_replays (scope, key, request_hash, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (scope, key) DO NOTHING",
            args![scope, key, request_hash, now],
        )
        .await?;
    if inserted == 1 {
        return Ok(Claim::Claimed);
    }
    // Abandoned by a node that died: done, if it had an effect; else run again.
    ex.execute(
        "UPDATE request_replays SET status = 0 WHERE scope = $1 AND key = $2 \
         AND status IS NULL AND created_at < $3 AND effect_at IS NOT NULL",
        args![scope, key, stale],
    )
    .await?;
    let taken_over = ex
        .execute(
            "UPDATE request_replays SET request_hash = $3, status = NULL, content_type = NULL, \
             location = NULL, body = NULL, effect_at = NULL, created_at = $4 \
             WHERE scope = $1 AND key = $2 AND ((status IS NULL AND effect_at IS NULL \
             AND created_at < $5 AND request_hash = $3) OR (status >= 400 AND request_hash <> $3))",
            args![scope, key, request_hash, now, stale],
        )
        .await?;
    if taken_over == 1 {
        return Ok(Claim::Claimed);
    }
    let seen: Option<Replay> = ex
        .fetch_optional(
            "SELECT request_hash, status, content_type, location, body, effect_at, created_at \
             FROM request_replays WHERE scope = $1 AND key = $2",
            args![scope, key],
        )
        .await?;
    match seen {
        Some(r) => Ok(Claim::Seen(r)),
        // Removed between the two statements (a day-old key purged): claim it afresh.
        None => Box::pin(claim(ex, scope, key, request_hash, now, stale)).await,
    }
}

/// Records the response of a claimed request.
pub async fn finish(
    ex: &mut impl Exec,
    scope: &str,
    key: &str,
    status: u16,
    content_type: Option<&str>,
    location: Option<&str>,
    body: Vec<u8>,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE request_replays SET status = $3, content_type = $4, location = $5, body = $6 \
         WHERE scope = $1 AND key = $2",
        args![scope, key, i64::from(status), content_type, location, body],
    )
    .await?;
    Ok(())
}

/// Gives a claim up (the request failed in a way worth retrying): the next arrival runs again
/// — unless the request had an effect before it failed; then it is done, its answer lost.
pub async fn release(ex: &mut impl Exec, scope: &str, key: &str) -> Result<(), StoreError> {
    ex.execute(
        "DELETE FROM request_replays WHERE scope = $1 AND key = $2 AND status IS NULL \
         AND effect_at IS NULL",
        args![scope, key],
    )
    .await?;
    ex.execute(
        "UPDATE request_replays SET status = 0 WHERE scope = $1 AND key = $2 AND status IS NULL",
        args![scope, key],
    )
    .await?;
    Ok(())
}

/// Removes keys claimed before `before`; how many.
pub async fn purge(ex: &mut impl Exec, before: OffsetDateTime) -> Result<u64, StoreError> {
    ex.execute(
        "DELETE FROM request_replays WHERE created_at < $1",
        args![before],
    )
    .await
}
