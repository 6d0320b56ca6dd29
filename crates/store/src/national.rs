//! What egov owes the National Public Service Portal: per dossier, whether its record is due
//! (and whether the portal has accepted its create), and the progress entries of its steps in
//! order. See migration 0016 for the states.

use time::OffsetDateTime;

use crate::db::Exec;
use crate::{StoreError, args};

/// The record of one dossier as the synchronisation keeps it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DossierSync {
    pub dossier_id: i64,
    pub agency_id: i64,
    /// The dossier's event version the record must reflect.
    pub due_version: i64,
    /// The last version the portal accepted.
    pub sent_version: i64,
    /// The portal accepted the dossier's create.
    pub created: bool,
    /// `pending`, `uncertain`, `synced` or `rejected`.
    pub state: String,
    pub attempts: i64,
    pub next_at: OffsetDateTime,
    pub last_error: Option<String>,
    pub reject_code: Option<String>,
    pub first_due_at: OffsetDateTime,
    pub synced_at: Option<OffsetDateTime>,
}

/// A progress entry (one processing step) as the synchronisation keeps it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ProgressSync {
    pub id: i64,
    pub dossier_id: i64,
    pub seq: i64,
    /// The entry as sent (JSON).
    pub entry: String,
    /// `pending`, `uncertain`, `sent` or `rejected`.
    pub state: String,
    pub attempts: i64,
    pub next_at: OffsetDateTime,
    pub last_error: Option<String>,
    pub reject_code: Option<String>,
    pub created_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
}

const DOSSIER_COLS: &str = "dossier_id, agency_id, due_version, sent_version, created, state, \
    attempts, next_at, last_error, reject_code, first_due_at, synced_at";
const PROGRESS_COLS: &str = "id, dossier_id, seq, entry, state, attempts, next_at, last_error, \
    reject_code, created_at, sent_at";

/// Records that the dossier changed at event `version`: its record is due. A record waiting
/// for an answer stays `uncertain` (the sender looks it up first); one an operator set aside
/// stays aside (with the newer version, sent if they retry); a synced or rejected one becomes
/// due now.
pub async fn record_due(
    ex: &mut impl Exec,
    dossier_id: i64,
    agency_id: i64,
    version: i64,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO national_dossiers (dossier_id, agency_id, due_version, state, next_at, \
         first_due_at, updated_at, created) VALUES ($1, $2, $3, 'pending', $4, $4, $4, \
         (SELECT national_code IS NOT NULL FROM dossiers WHERE id = $1)) \
         ON CONFLICT (dossier_id) DO UPDATE SET \
         due_version = CASE WHEN excluded.due_version > national_dossiers.due_version \
           THEN excluded.due_version ELSE national_dossiers.due_version END, \
         state = CASE WHEN national_dossiers.state IN ('uncertain', 'set_aside') \
           THEN national_dossiers.state ELSE 'pending' END, \
         next_at = CASE WHEN national_dossiers.state IN ('synced', 'rejected') \
           THEN excluded.next_at ELSE national_dossiers.next_at END, \
         attempts = CASE WHEN national_dossiers.state IN ('synced', 'rejected') \
           THEN 0 ELSE national_dossiers.attempts END, \
         updated_at = excluded.updated_at",
        args![dossier_id, agency_id, version, now],
    )
    .await?;
    Ok(())
}

/// Queues a progress entry (once: the same step twice is one entry).
pub async fn add_progress(
    ex: &mut impl Exec,
    dossier_id: i64,
    seq: i64,
    entry: &serde_json::Value,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO national_progress (dossier_id, seq, entry, state, next_at, created_at) \
         VALUES ($1, $2, $3, 'pending', $4, $4) ON CONFLICT (dossier_id, seq) DO NOTHING",
        args![dossier_id, seq, entry.to_string(), now],
    )
    .await?;
    Ok(())
}

/// Records whose turn has come, oldest first.
pub async fn due_records(
    ex: &mut impl Exec,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<DossierSync>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT {DOSSIER_COLS} FROM national_dossiers WHERE state IN ('pending', 'uncertain') \
             AND next_at <= $1 ORDER BY next_at, dossier_id LIMIT $2"
        ),
        args![now, limit],
    )
    .await
}

pub async fn get_record(
    ex: &mut impl Exec,
    dossier_id: i64,
) -> Result<Option<DossierSync>, StoreError> {
    ex.fetch_optional(
        &format!("SELECT {DOSSIER_COLS} FROM national_dossiers WHERE dossier_id = $1"),
        args![dossier_id],
    )
    .await
}

/// Progress entries whose turn has come: the first unsent entry of each dossier whose create
/// the portal accepted (an entry waits for every earlier one of its dossier).
pub async fn due_progress(
    ex: &mut impl Exec,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<ProgressSync>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT {PROGRESS_COLS} FROM national_progress p WHERE p.state IN ('pending', 'uncertain') \
             AND p.next_at <= $1 \
             AND EXISTS (SELECT 1 FROM national_dossiers n WHERE n.dossier_id = p.dossier_id AND n.created) \
             AND NOT EXISTS (SELECT 1 FROM national_progress q WHERE q.dossier_id = p.dossier_id \
               AND q.seq < p.seq AND q.state <> 'sent') \
             ORDER BY p.next_at, p.id LIMIT $2"
        ),
        args![now, limit],
    )
    .await
}

/// A dossier's progress entries in order.
pub async fn progress_of(
    ex: &mut impl Exec,
    dossier_id: i64,
) -> Result<Vec<ProgressSync>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT {PROGRESS_COLS} FROM national_progress WHERE dossier_id = $1 ORDER BY seq"
        ),
        args![dossier_id],
    )
    .await
}

/// Claims a due record for one call: marks it sent without a known answer yet (`uncertain`)
/// and out of the other workers' reach until `lease`. False when another worker has it or it
/// is no longer in `state`.
pub async fn claim_record(
    ex: &mut impl Exec,
    dossier_id: i64,
    state: &str,
    now: OffsetDateTime,
    lease: OffsetDateTime,
) -> Result<bool, StoreError> {
    claim(
        ex,
        "national_dossiers",
        "dossier_id",
        dossier_id,
        state,
        now,
        lease,
    )
    .await
}

/// Marks row `key = id` of `table` `uncertain` until `lease` if it is still in `state` and due.
async fn claim(
    ex: &mut impl Exec,
    table: &str,
    key: &str,
    id: i64,
    state: &str,
    now: OffsetDateTime,
    lease: OffsetDateTime,
) -> Result<bool, StoreError> {
    let n = ex
        .execute(
            &format!(
                "UPDATE {table} SET state = 'uncertain', next_at = $4 \
                 WHERE {key} = $1 AND state = $2 AND next_at <= $3"
            ),
            args![id, state, now, lease],
        )
        .await?;
    Ok(n == 1)
}

/// The portal knows the dossier (its create was accepted, or a look-up found it).
pub async fn record_created(ex: &mut impl Exec, dossier_id: i64) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE national_dossiers SET created = TRUE WHERE dossier_id = $1",
        args![dossier_id],
    )
    .await?;
    Ok(())
}

/// The portal accepted the record of `version`: synced, unless a later change is due.
pub async fn record_accepted(
    ex: &mut impl Exec,
    dossier_id: i64,
    version: i64,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE national_dossiers SET created = TRUE, \
         sent_version = CASE WHEN $2 > sent_version THEN $2 ELSE sent_version END, \
         state = CASE WHEN due_version > $2 THEN 'pending' ELSE 'synced' END, \
         attempts = 0, last_error = NULL, reject_code = NULL, next_at = $3, synced_at = $3, \
         updated_at = $3 WHERE dossier_id = $1",
        args![dossier_id, version, now],
    )
    .await?;
    Ok(())
}

/// The portal refused the record: kept with its code and message until the dossier changes
/// again or an operator retries it.
pub async fn record_rejected(
    ex: &mut impl Exec,
    dossier_id: i64,
    code: &str,
    message: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE national_dossiers SET state = 'rejected', reject_code = $2, last_error = $3, \
         attempts = attempts + 1, updated_at = $4 WHERE dossier_id = $1",
        args![dossier_id, code, message, now],
    )
    .await?;
    Ok(())
}

/// The call failed without an answer: tried again at `next_at`, as `state` (`pending` when
/// the call surely did not arrive, `uncertain` when it may have).
pub async fn record_failed(
    ex: &mut impl Exec,
    dossier_id: i64,
    state: &str,
    error: &str,
    next_at: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE national_dossiers SET state = $2, last_error = $3, attempts = attempts + 1, \
         next_at = $4, updated_at = $4 WHERE dossier_id = $1",
        args![dossier_id, state, error, next_at],
    )
    .await?;
    Ok(())
}

/// Claims a due progress entry for one call, as [`claim_record`] does a record.
pub async fn claim_progress(
    ex: &mut impl Exec,
    id: i64,
    state: &str,
    now: OffsetDateTime,
    lease: OffsetDateTime,
) -> Result<bool, StoreError> {
    claim(ex, "national_progress", "id", id, state, now, lease).await
}

/// Sets a progress entry's state after a call: `sent`, `rejected` (with the portal's code),
/// or back to `pending` / `uncertain` to be tried at `next_at`.
pub async fn progress_state(
    ex: &mut impl Exec,
    id: i64,
    state: &str,
    error: Option<&str>,
    reject_code: Option<&str>,
    next_at: OffsetDateTime,
) -> Result<(), StoreError> {
    let attempt = i64::from(state != "sent");
    ex.execute(
        "UPDATE national_progress SET state = $2, last_error = $3, reject_code = $4, \
         next_at = $5, attempts = attempts + $6, \
         sent_at = CASE WHEN $2 = 'sent' THEN $5 ELSE sent_at END WHERE id = $1",
        args![id, state, error, reject_code, next_at, attempt],
    )
    .await?;
    Ok(())
}

/// An operator's retry of a rejected or set-aside record or entry: due again now.
pub async fn retry(
    ex: &mut impl Exec,
    dossier_id: i64,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let mut n = 0;
    for table in ["national_dossiers", "national_progress"] {
        n += ex
            .execute(
                &format!(
                    "UPDATE {table} SET state = 'pending', next_at = $2, attempts = 0 \
                     WHERE dossier_id = $1 AND state IN ('rejected', 'set_aside')"
                ),
                args![dossier_id, now],
            )
            .await?;
    }
    Ok(n > 0)
}

/// An operator's decision to stop sending what is still owed of a dossier (its record and
/// unsent entries), with their reason, until they retry it. False when nothing was owed.
pub async fn set_aside(
    ex: &mut impl Exec,
    dossier_id: i64,
    reason: &str,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let mut n = 0;
    for table in ["national_dossiers", "national_progress"] {
        n += ex
            .execute(
                &format!(
                    "UPDATE {table} SET state = 'set_aside', last_error = $2, next_at = $3 \
                     WHERE dossier_id = $1 AND state IN ('pending', 'uncertain', 'rejected')"
                ),
                args![dossier_id, reason, now],
            )
            .await?;
    }
    Ok(n > 0)
}

/// Makes the row whose back-off ends first due now (a probe of a portal that stopped
/// answering): a record if any is failing, else a progress entry; never one claimed by a call
/// in flight (due no later than `lease`).
pub async fn wake_one(
    ex: &mut impl Exec,
    now: OffsetDateTime,
    lease: OffsetDateTime,
) -> Result<(), StoreError> {
    let n = ex
        .execute(
            "UPDATE national_dossiers SET next_at = $1 WHERE dossier_id = ( \
               SELECT dossier_id FROM national_dossiers WHERE state IN ('pending', 'uncertain') \
               AND attempts > 0 AND next_at > $2 ORDER BY next_at, dossier_id LIMIT 1)",
            args![now, lease],
        )
        .await?;
    if n == 0 {
        ex.execute(
            "UPDATE national_progress SET next_at = $1 WHERE id = ( \
               SELECT id FROM national_progress WHERE state IN ('pending', 'uncertain') \
               AND attempts > 0 AND next_at > $2 ORDER BY next_at, id LIMIT 1)",
            args![now, lease],
        )
        .await?;
    }
    Ok(())
}

/// Makes every row waiting out a back-off after failed calls due now (the portal answers
/// again), leaving alone rows claimed by a call in flight (due no later than `lease`).
pub async fn wake_failing(
    ex: &mut impl Exec,
    now: OffsetDateTime,
    lease: OffsetDateTime,
) -> Result<u64, StoreError> {
    let mut n = 0;
    for table in ["national_dossiers", "national_progress"] {
        n += ex
            .execute(
                &format!(
                    "UPDATE {table} SET next_at = $1 WHERE state IN ('pending', 'uncertain') \
                     AND attempts > 0 AND next_at > $2"
                ),
                args![now, lease],
            )
            .await?;
    }
    Ok(n)
}

/// Counts of the synchronisation's rows by table and state.
pub async fn counts(ex: &mut impl Exec) -> Result<Vec<(String, String, i64)>, StoreError> {
    ex.fetch_all(
        "SELECT 'dossier', state, COUNT(*) FROM national_dossiers GROUP BY state \
         UNION ALL SELECT 'progress', state, COUNT(*) FROM national_progress GROUP BY state",
        args![],
    )
    .await
}

/// Since when the oldest record still owed has waited, and the last success.
pub async fn times(
    ex: &mut impl Exec,
) -> Result<(Option<OffsetDateTime>, Option<OffsetDateTime>), StoreError> {
    let oldest: Option<OffsetDateTime> = ex
        .scalar_optional(
            "SELECT MIN(first_due_at) FROM national_dossiers WHERE state IN ('pending', 'uncertain')",
            args![],
        )
        .await?
        .flatten();
    let last: Option<OffsetDateTime> = ex
        .scalar_optional("SELECT MAX(synced_at) FROM national_dossiers", args![])
        .await?
        .flatten();
    Ok((oldest, last))
}

/// A record or entry that needs an operator's eye: refused, set aside, or still failing.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Trouble {
    pub dossier_id: i64,
    pub dossier_code: String,
    /// `dossier` or `progress`.
    pub what: String,
    /// `rejected`, `set_aside`, or `pending` / `uncertain` for a call that keeps failing.
    pub state: String,
    pub reject_code: Option<String>,
    /// The portal's message, the operator's reason, or the last failure.
    pub last_error: Option<String>,
    pub attempts: i64,
    pub next_at: OffsetDateTime,
}

/// Records and entries that were refused, set aside, or failed at least once and are still
/// owed; newest dossier first.
pub async fn troubles(ex: &mut impl Exec, limit: i64) -> Result<Vec<Trouble>, StoreError> {
    ex.fetch_all(
        "SELECT r.dossier_id, d.code AS dossier_code, r.what, r.state, r.reject_code, \
           r.last_error, r.attempts, r.next_at FROM ( \
           SELECT dossier_id, 'dossier' AS what, state, reject_code, last_error, attempts, next_at \
           FROM national_dossiers WHERE state IN ('rejected', 'set_aside') \
             OR (state IN ('pending', 'uncertain') AND attempts > 0) UNION ALL \
           SELECT dossier_id, 'progress', state, reject_code, last_error, attempts, next_at \
           FROM national_progress WHERE state IN ('rejected', 'set_aside') \
             OR (state IN ('pending', 'uncertain') AND attempts > 0)) r \
         JOIN dossiers d ON d.id = r.dossier_id ORDER BY r.dossier_id DESC, r.what LIMIT $1",
        args![limit],
    )
    .await
}

/// Refused records and entries counted by the portal's code, most first.
pub async fn rejected_by_code(ex: &mut impl Exec) -> Result<Vec<(String, i64)>, StoreError> {
    ex.fetch_all(
        "SELECT code, CAST(COUNT(*) AS BIGINT) AS n FROM ( \
           SELECT COALESCE(reject_code, '') AS code FROM national_dossiers WHERE state = 'rejected' \
           UNION ALL SELECT COALESCE(reject_code, '') FROM national_progress WHERE state = 'rejected') r \
         GROUP BY code ORDER BY n DESC, code",
        args![],
    )
    .await
}

/// The token of a dossier's result file, made with `new_token` the first time.
pub async fn result_token(
    ex: &mut impl Exec,
    dossier_id: i64,
    sha256: &str,
    new_token: &str,
    now: OffsetDateTime,
) -> Result<String, StoreError> {
    ex.execute(
        "INSERT INTO national_results (token, dossier_id, sha256, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (dossier_id, sha256) DO NOTHING",
        args![new_token, dossier_id, sha256, now],
    )
    .await?;
    ex.scalar(
        "SELECT token FROM national_results WHERE dossier_id = $1 AND sha256 = $2",
        args![dossier_id, sha256],
    )
    .await
}

/// The dossier and file a token is bound to.
pub async fn result_of_token(
    ex: &mut impl Exec,
    token: &str,
) -> Result<Option<(i64, String)>, StoreError> {
    ex.fetch_optional(
        "SELECT dossier_id, sha256 FROM national_results WHERE token = $1",
        args![token],
    )
    .await
}

/// Counts a fetch of a result file.
pub async fn result_fetched(
    ex: &mut impl Exec,
    token: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE national_results SET fetches = fetches + 1, last_fetched_at = $2 WHERE token = $1",
        args![token, now],
    )
    .await?;
    Ok(())
}

/// The dossiers received or submitted in `[from, to)`, by id: (id, code, competent agency).
pub async fn dossiers_between(
    ex: &mut impl Exec,
    from: OffsetDateTime,
    to: OffsetDateTime,
    after_id: i64,
    limit: i64,
) -> Result<Vec<(i64, String, i64)>, StoreError> {
    ex.fetch_all(
        "SELECT id, COALESCE(national_code, code), competent_agency_id FROM dossiers \
         WHERE submitted_at >= $1 \
         AND submitted_at < $2 AND id > $3 ORDER BY id LIMIT $4",
        args![from, to, after_id, limit],
    )
    .await
}

/// Queues a dossier's record again now (a reconciliation found it missing or stale on the
/// portal); `created` false sends it as a create.
pub async fn requeue(
    ex: &mut impl Exec,
    dossier_id: i64,
    agency_id: i64,
    created: bool,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO national_dossiers (dossier_id, agency_id, due_version, state, next_at, \
         first_due_at, updated_at, created) VALUES ($1, $2, 1, 'pending', $3, $3, $3, $4) \
         ON CONFLICT (dossier_id) DO UPDATE SET state = 'pending', next_at = excluded.next_at, \
         due_version = national_dossiers.sent_version + 1, attempts = 0, created = excluded.created, \
         updated_at = excluded.updated_at",
        args![dossier_id, agency_id, now, created],
    )
    .await?;
    Ok(())
}

/// Sends a progress entry again (the portal lost it).
pub async fn progress_again(
    ex: &mut impl Exec,
    id: i64,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE national_progress SET state = 'pending', next_at = $2, attempts = 0 WHERE id = $1",
        args![id, now],
    )
    .await?;
    Ok(())
}
