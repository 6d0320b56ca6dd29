//! Requests a client may send twice — a retry after a timeout, a double click, a proxy that
//! resends — handled once (issue 24). A request names itself with a key (`Idempotency-Key`);
//! the first arrival claims the key and, once handled, records its response; later arrivals
//! with the same key and the same request get that response again, and one arriving while the
//! first is still being handled is told so.

use time::OffsetDateTime;

use crate::{Exec, StoreError, args};

/// A recorded response.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Replay {
    pub request_hash: String,
    /// `None` while the first arrival is being handled.
    pub status: Option<i64>,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Option<Vec<u8>>,
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
/// node died while handling it) is taken over, and so is a key whose request was refused (4xx:
/// it changed nothing) by a different request — a form corrected and sent again.
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
    let taken_over = ex
        .execute(
            "UPDATE request_replays SET request_hash = $3, status = NULL, content_type = NULL, \
             location = NULL, body = NULL, created_at = $4 \
             WHERE scope = $1 AND key = $2 AND ((status IS NULL AND created_at < $5 \
             AND request_hash = $3) OR (status >= 400 AND request_hash <> $3))",
            args![scope, key, request_hash, now, stale],
        )
        .await?;
    if taken_over == 1 {
        return Ok(Claim::Claimed);
    }
    let seen: Option<Replay> = ex
        .fetch_optional(
            "SELECT request_hash, status, content_type, location, body, created_at \
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

/// Gives a claim up (the request failed in a way worth retrying): the next arrival runs again.
pub async fn release(ex: &mut impl Exec, scope: &str, key: &str) -> Result<(), StoreError> {
    ex.execute(
        "DELETE FROM request_replays WHERE scope = $1 AND key = $2 AND status IS NULL",
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
