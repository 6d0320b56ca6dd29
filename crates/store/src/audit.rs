//! The audit log: append-only, and sealed into a hash chain in batches.
//!
//! A use case appends its entry inside its own transaction, without touching any shared row, so
//! writers never queue behind one another. A sealer (in every worker loop, and before
//! `egov audit verify`) takes the committed entries that are not yet sealed, in id order, gives
//! each the next chain sequence number and `hash = SHA-256(prev_hash ‖ entry)`, and moves the
//! chain head. Verification walks the chain and reports the first link that does not hold: an
//! altered entry, a removed one (a gap in the sequence) or a removed tail (the head disagrees).

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::db::{Db, Exec, ts_text};
use crate::{StoreError, args};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a use case records.
#[derive(Debug, Clone, Default)]
pub struct NewEntry {
    pub at: Option<OffsetDateTime>,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub agency_id: Option<i64>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, ToSchema)]
pub struct Entry {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub agency_id: Option<i64>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub seq: Option<i64>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

const COLS: &str = "id, at, actor_id, actor, action, object_type, object_id, agency_id, \
                    before_json, after_json, ip, request_id, seq, prev_hash, hash";

pub async fn append(ex: &mut impl Exec, e: NewEntry) -> Result<i64, StoreError> {
    let at = e.at.unwrap_or_else(crate::db::now);
    ex.scalar(
        &format!("INSERT INTO audit_log ({INSERT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id"),
        entry_args(e, at),
    )
    .await
}

/// Adds entries to a batch (one round trip for a use case that records more than one thing).
pub fn add_entries(b: &mut crate::Batch, entries: Vec<NewEntry>) {
    let now = crate::db::now();
    b.insert(
        &format!("INSERT INTO audit_log ({INSERT_COLS})"),
        entries.into_iter().map(|e| {
            let at = e.at.unwrap_or(now);
            entry_args(e, at)
        }),
    );
}

const INSERT_COLS: &str = "at, actor_id, actor, action, object_type, object_id, agency_id, \
                           before_json, after_json, ip, request_id";

fn entry_args(e: NewEntry, at: OffsetDateTime) -> Vec<crate::Arg> {
    args![
        at,
        e.actor_id,
        e.actor,
        e.action,
        e.object_type,
        e.object_id,
        e.agency_id,
        e.before.map(|v| v.to_string()),
        e.after.map(|v| v.to_string()),
        e.ip,
        e.request_id
    ]
}

/// The chain hash of an entry at position `seq` after `prev`.
pub fn entry_hash(prev: &str, seq: i64, e: &Entry) -> String {
    // A fixed field order, and the timestamp in the stored text form, so that the hash is the
    // same whichever backend (or restore) the entry is read from.
    let canonical = serde_json::json!([
        seq,
        e.id,
        ts_text(e.at),
        e.actor_id,
        e.actor,
        e.action,
        e.object_type,
        e.object_id,
        e.agency_id,
        e.before_json,
        e.after_json,
        e.ip,
        e.request_id,
    ]);
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(canonical.to_string().as_bytes());
    hex::encode(h.finalize())
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct Head {
    last_seq: i64,
    last_hash: String,
}

/// Seals up to `batch` committed entries into the chain. Returns how many were sealed.
pub async fn seal(db: &Db, batch: i64) -> Result<u64, StoreError> {
    let mut tx = db.begin().await?;
    let lock = match tx.dialect() {
        crate::Dialect::Postgres => " FOR UPDATE",
        crate::Dialect::Sqlite => "",
    };
    let head: Head = tx
        .fetch_one(
            &format!("SELECT last_seq, last_hash FROM audit_chain WHERE id = 1{lock}"),
            args![],
        )
        .await?;
    let pending: Vec<Entry> = tx
        .fetch_all(
            &format!("SELECT {COLS} FROM audit_log WHERE seq IS NULL ORDER BY id LIMIT $1"),
            args![batch],
        )
        .await?;
    if pending.is_empty() {
        tx.rollback().await?;
        return Ok(0);
    }
    let mut seq = head.last_seq;
    let mut prev = head.last_hash;
    // The links are written a few hundred per statement: a busy day appends thousands of
    // entries a minute, and one statement per entry would hold the writer for long.
    for chunk in pending.chunks(250) {
        let mut a = Vec::with_capacity(chunk.len() * 4);
        let mut rows = Vec::with_capacity(chunk.len());
        for e in chunk {
            seq += 1;
            let h = entry_hash(&prev, seq, e);
            rows.push(crate::db::push_row(
                &mut a,
                args![e.id, seq, prev.as_str(), h.as_str()],
            ));
            prev = h;
        }
        tx.execute(
            &format!(
                "UPDATE audit_log SET seq = v.column2, prev_hash = v.column3, hash = v.column4 \
                 FROM (VALUES {}) AS v WHERE audit_log.id = v.column1",
                rows.join(", ")
            ),
            a,
        )
        .await?;
    }
    tx.execute(
        "UPDATE audit_chain SET last_seq = $1, last_hash = $2, sealed_at = $3 WHERE id = 1",
        args![seq, prev.as_str(), crate::db::now()],
    )
    .await?;
    tx.commit().await?;
    Ok(pending.len() as u64)
}

/// Seals everything committed so far.
pub async fn seal_all(db: &Db) -> Result<u64, StoreError> {
    let mut total = 0;
    loop {
        let n = seal(db, 1000).await?;
        total += n;
        if n == 0 {
            return Ok(total);
        }
    }
}

/// The first place the chain does not hold.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BrokenLink {
    /// The chain position where the break was found.
    pub seq: i64,
    /// The entry found there, if any.
    pub entry_id: Option<i64>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct VerifyReport {
    /// Entries checked in the chain.
    pub sealed: i64,
    /// Entries not yet sealed (not covered by this check).
    pub unsealed: i64,
    pub head_seq: i64,
    pub head_hash: String,
    pub broken: Option<BrokenLink>,
}

/// Walks the whole chain and reports the first broken link.
pub async fn verify(db: &Db) -> Result<VerifyReport, StoreError> {
    let mut tx = db.begin_snapshot().await?;
    let head: Head = tx
        .fetch_one(
            "SELECT last_seq, last_hash FROM audit_chain WHERE id = 1",
            args![],
        )
        .await?;
    let unsealed: i64 = tx
        .scalar("SELECT COUNT(*) FROM audit_log WHERE seq IS NULL", args![])
        .await?;
    let mut expected = 1i64;
    let mut prev = GENESIS.to_owned();
    let mut broken = None;
    'walk: loop {
        let rows: Vec<Entry> = tx
            .fetch_all(
                &format!("SELECT {COLS} FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 2000"),
                args![expected],
            )
            .await?;
        if rows.is_empty() {
            break;
        }
        for e in rows {
            let seq = e.seq.unwrap_or_default();
            if seq != expected {
                broken = Some(BrokenLink {
                    seq: expected,
                    entry_id: None,
                    reason: format!("entry {expected} of the chain is missing (next found: {seq})"),
                });
                break 'walk;
            }
            if e.prev_hash.as_deref() != Some(prev.as_str()) {
                broken = Some(BrokenLink {
                    seq,
                    entry_id: Some(e.id),
                    reason: "the entry does not point to the hash of the one before it".into(),
                });
                break 'walk;
            }
            let h = entry_hash(&prev, seq, &e);
            if e.hash.as_deref() != Some(h.as_str()) {
                broken = Some(BrokenLink {
                    seq,
                    entry_id: Some(e.id),
                    reason: "the entry was altered after it was sealed".into(),
                });
                break 'walk;
            }
            prev = h;
            expected += 1;
        }
    }
    let sealed = expected - 1;
    if broken.is_none() && (sealed != head.last_seq || prev != head.last_hash) {
        broken = Some(BrokenLink {
            seq: sealed + 1,
            entry_id: None,
            reason: format!(
                "the chain ends at {sealed} but its head says {}: entries were removed",
                head.last_seq
            ),
        });
    }
    tx.rollback().await?;
    Ok(VerifyReport {
        sealed,
        unsealed,
        head_seq: head.last_seq,
        head_hash: head.last_hash,
        broken,
    })
}

/// Entries about one object, newest first.
pub async fn for_object(
    ex: &mut impl Exec,
    object_type: &str,
    object_id: &str,
    limit: i64,
) -> Result<Vec<Entry>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT {COLS} FROM audit_log WHERE object_type = $1 AND object_id = $2 \
             ORDER BY id DESC LIMIT $3"
        ),
        args![object_type, object_id, limit],
    )
    .await
}

/// The newest entries, optionally of one agency.
pub async fn recent(
    ex: &mut impl Exec,
    agency_id: Option<i64>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Entry>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT {COLS} FROM audit_log WHERE ($1 IS NULL OR agency_id = $1) \
             ORDER BY id DESC LIMIT $2 OFFSET $3"
        ),
        args![agency_id, limit, offset],
    )
    .await
}
