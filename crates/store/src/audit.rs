//! The audit log: append-only, and sealed into a hash chain in batches.
//!
//! A use case appends its entry inside its own transaction, without touching any shared row, so
//! writers never queue behind one another. A sealer (in every worker loop, and before
//! `egov audit verify`) takes the committed entries that are not yet sealed, in id order, gives
//! each the next chain sequence number and `hash = SHA-256(prev_hash ‖ entry)`, and moves the
//! chain head. Verification walks the chain and reports the first link that does not hold: an
//! altered entry, a removed one (a gap in the sequence) or a removed tail (the head disagrees).

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::db::{Db, Exec, ts_text};
use crate::{StoreError, args};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The key of the entries' MACs and of the chain's links. It is held outside the database (a
/// key file, or derived from the key-encryption key) and set once when the process opens its
/// settings: whoever can only write to the database can neither write an entry that verifies
/// nor re-link the chain.
static KEY: std::sync::RwLock<Option<[u8; 32]>> = std::sync::RwLock::new(None);

/// Sets the process's audit key.
pub fn set_key(key: [u8; 32]) {
    *KEY.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(key);
}

fn key() -> Option<[u8; 32]> {
    *KEY.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// HMAC-SHA-256 of `parts`, each followed by a newline, under `key` (hex).
pub fn hmac_hex(key: &[u8], parts: &[&[u8]]) -> String {
    use hmac::{KeyInit, Mac};
    let mut m = <hmac::Hmac<sha2_11::Sha256> as KeyInit>::new_from_slice(key)
        .expect("HMAC takes a key of any length");
    for p in parts {
        m.update(p);
        m.update(b"\n");
    }
    hex::encode(m.finalize().into_bytes())
}

/// What an entry says, in a fixed order and the stored text forms, for its MAC: the same on
/// either backend and after a restore.
#[allow(clippy::too_many_arguments)]
fn content(
    at: OffsetDateTime,
    actor_id: Option<i64>,
    actor: &str,
    action: &str,
    object_type: &str,
    object_id: &str,
    agency_id: Option<i64>,
    before: Option<&str>,
    after: Option<&str>,
    ip: Option<&str>,
    request_id: Option<&str>,
) -> String {
    serde_json::json!([
        ts_text(at),
        actor_id,
        actor,
        action,
        object_type,
        object_id,
        agency_id,
        before,
        after,
        ip,
        request_id,
    ])
    .to_string()
}

/// The MAC of a stored entry.
fn stored_mac(key: &[u8], e: &Entry) -> String {
    let c = content(
        e.at,
        e.actor_id,
        &e.actor,
        &e.action,
        &e.object_type,
        &e.object_id,
        e.agency_id,
        e.before_json.as_deref(),
        e.after_json.as_deref(),
        e.ip.as_deref(),
        e.request_id.as_deref(),
    );
    hmac_hex(key, &[b"egov audit entry v1", c.as_bytes()])
}

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

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
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
    /// The keyed MAC written with the entry.
    pub mac: Option<String>,
}

const COLS: &str = "id, at, actor_id, actor, action, object_type, object_id, agency_id, \
                    before_json, after_json, ip, request_id, seq, prev_hash, hash, mac";

pub async fn append(ex: &mut impl Exec, e: NewEntry) -> Result<i64, StoreError> {
    let at = e.at.unwrap_or_else(crate::db::now);
    ex.scalar(
        &format!("INSERT INTO audit_log ({INSERT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id"),
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
                           before_json, after_json, ip, request_id, mac";

fn entry_args(e: NewEntry, at: OffsetDateTime) -> Vec<crate::Arg> {
    let at = crate::db::db_time(at);
    let before = e.before.map(|v| v.to_string());
    let after = e.after.map(|v| v.to_string());
    let mac = key().map(|k| {
        let c = content(
            at,
            e.actor_id,
            &e.actor,
            &e.action,
            &e.object_type,
            &e.object_id,
            e.agency_id,
            before.as_deref(),
            after.as_deref(),
            e.ip.as_deref(),
            e.request_id.as_deref(),
        );
        hmac_hex(&k, &[b"egov audit entry v1", c.as_bytes()])
    });
    args![
        at,
        e.actor_id,
        e.actor,
        e.action,
        e.object_type,
        e.object_id,
        e.agency_id,
        before,
        after,
        e.ip,
        e.request_id,
        mac
    ]
}

/// The link of an entry at position `seq` after `prev`: keyed (HMAC) once the chain is, so that
/// only the holder of the key can re-link it.
fn link(key: Option<&[u8; 32]>, prev: &str, seq: i64, e: &Entry) -> String {
    match key {
        Some(k) => {
            let legacy = entry_hash(prev, seq, e);
            hmac_hex(k, &[b"egov audit link v1", legacy.as_bytes()])
        }
        None => entry_hash(prev, seq, e),
    }
}

/// The unkeyed chain hash of an entry at position `seq` after `prev` (chains sealed before
/// the key existed, and the input of a keyed link).
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
    keyed: i64,
}

/// Reads the chain's head (`lock`: a row-lock clause for the sealer, or empty).
async fn read_head(ex: &mut impl Exec, lock: &str) -> Result<Head, StoreError> {
    ex.fetch_one(
        &format!("SELECT last_seq, last_hash, keyed FROM audit_chain WHERE id = 1{lock}"),
        args![],
    )
    .await
}

/// The key the chain's links use: none for a chain not yet keyed; an error when the chain is
/// keyed and this process has no key.
fn chain_key(head: &Head) -> Result<Option<[u8; 32]>, StoreError> {
    match (head.keyed != 0, key()) {
        (false, _) => Ok(None),
        (true, Some(k)) => Ok(Some(k)),
        (true, None) => Err(StoreError::Invalid(
            "the audit chain is keyed and this process has no audit key".into(),
        )),
    }
}

/// Keys a chain sealed before the key existed: when every entry is without a MAC (the database
/// was never written with a key) and the unkeyed chain holds, each entry gets its MAC and every
/// link is made again with the key. Anything else is left for `verify` to report. Returns
/// whether the chain is keyed now.
async fn key_the_chain(db: &Db, key: &[u8; 32]) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let head = read_head(&mut tx, "").await?;
    if head.keyed != 0 {
        tx.rollback().await?;
        return Ok(true);
    }
    let with_mac: i64 = tx
        .scalar(
            "SELECT COUNT(*) FROM audit_log WHERE mac IS NOT NULL AND seq IS NOT NULL",
            args![],
        )
        .await?;
    if with_mac > 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    tx.rollback().await?;
    if verify(db).await?.broken.is_some() {
        return Ok(false);
    }
    let mut tx = db.begin().await?;
    let mut prev = GENESIS.to_owned();
    let mut after_id = 0i64;
    loop {
        let rows: Vec<Entry> = tx
            .fetch_all(
                &format!(
                    "SELECT {COLS} FROM audit_log WHERE seq IS NOT NULL AND id > $1 ORDER BY seq LIMIT 1000"
                ),
                args![after_id],
            )
            .await?;
        if rows.is_empty() {
            break;
        }
        let mut a = Vec::new();
        let mut values = Vec::new();
        for e in &rows {
            let seq = e.seq.unwrap_or_default();
            let h = link(Some(key), &prev, seq, e);
            values.push(crate::db::push_row(
                &mut a,
                args![e.id, prev.as_str(), h.as_str(), stored_mac(key, e)],
            ));
            prev = h;
            after_id = after_id.max(e.id);
        }
        tx.execute(
            &format!(
                "UPDATE audit_log SET prev_hash = v.column2, hash = v.column3, mac = v.column4 \
                 FROM (VALUES {}) AS v WHERE audit_log.id = v.column1",
                values.join(", ")
            ),
            a,
        )
        .await?;
    }
    // Entries written but not sealed before the key existed get their MAC too.
    let unsealed: Vec<Entry> = tx
        .fetch_all(
            &format!("SELECT {COLS} FROM audit_log WHERE seq IS NULL AND mac IS NULL"),
            args![],
        )
        .await?;
    for e in &unsealed {
        tx.execute(
            "UPDATE audit_log SET mac = $1 WHERE id = $2",
            args![stored_mac(key, e), e.id],
        )
        .await?;
    }
    tx.execute(
        "UPDATE audit_chain SET last_hash = $1, keyed = 1 WHERE id = 1",
        args![prev.as_str()],
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Seals up to `batch` committed entries into the chain. Returns how many were sealed.
pub async fn seal(db: &Db, batch: i64) -> Result<u64, StoreError> {
    let mut tx = db.begin().await?;
    let lock = match tx.dialect() {
        crate::Dialect::Postgres => " FOR UPDATE",
        crate::Dialect::Sqlite => "",
    };
    let head = read_head(&mut tx, lock).await?;
    if head.keyed == 0
        && let Some(k) = key()
    {
        tx.rollback().await?;
        if key_the_chain(db, &k).await? {
            return Box::pin(seal(db, batch)).await;
        }
        return Err(StoreError::Invalid(
            "the audit chain cannot be keyed (it does not hold, or holds MACs already): \
             run `egov audit verify`"
                .into(),
        ));
    }
    let chain_key = chain_key(&head)?;
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
            let h = link(chain_key.as_ref(), &prev, seq, e);
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
#[derive(Debug, Clone, PartialEq)]
pub struct BrokenLink {
    /// The chain position where the break was found.
    pub seq: i64,
    /// The entry found there, if any.
    pub entry_id: Option<i64>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VerifyReport {
    /// Entries checked in the chain.
    pub sealed: i64,
    /// Entries not yet sealed (not covered by this check).
    pub unsealed: i64,
    pub head_seq: i64,
    pub head_hash: String,
    pub broken: Option<BrokenLink>,
    /// Checkpoints of the head kept outside the database that the chain was held against.
    pub checkpoints: i64,
}

/// Walks the whole chain and reports the first broken link: an entry whose MAC does not
/// hold (sealed or not: an entry changed before it was sealed is caught too), a link that does
/// not hold, a missing entry, or a head that disagrees with the chain's end.
///
/// A chain not yet keyed is walked with the unkeyed links it was sealed with.
pub async fn verify(db: &Db) -> Result<VerifyReport, StoreError> {
    let mut tx = db.begin_snapshot().await?;
    let head = read_head(&mut tx, "").await?;
    let key = chain_key(&head)?;
    let key = key.as_ref();
    let unsealed: i64 = tx
        .scalar("SELECT COUNT(*) FROM audit_log WHERE seq IS NULL", args![])
        .await?;
    let mac_holds = |e: &Entry| match key {
        Some(k) => e.mac.as_deref() == Some(stored_mac(k, e).as_str()),
        None => true,
    };
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
            let h = link(key, &prev, seq, &e);
            if e.hash.as_deref() != Some(h.as_str()) || !mac_holds(&e) {
                broken = Some(BrokenLink {
                    seq,
                    entry_id: Some(e.id),
                    reason: "the entry was altered after it was written".into(),
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
    // Entries not sealed yet are covered by their MACs.
    if broken.is_none() && key.is_some() {
        let mut after = 0i64;
        'unsealed: loop {
            let rows: Vec<Entry> = tx
                .fetch_all(
                    &format!(
                        "SELECT {COLS} FROM audit_log WHERE seq IS NULL AND id > $1 ORDER BY id LIMIT 2000"
                    ),
                    args![after],
                )
                .await?;
            if rows.is_empty() {
                break;
            }
            for e in rows {
                after = e.id;
                if !mac_holds(&e) {
                    broken = Some(BrokenLink {
                        seq: 0,
                        entry_id: Some(e.id),
                        reason: "an entry not yet sealed was altered after it was written".into(),
                    });
                    break 'unsealed;
                }
            }
        }
    }
    tx.rollback().await?;
    Ok(VerifyReport {
        sealed,
        unsealed,
        head_seq: head.last_seq,
        head_hash: head.last_hash,
        broken,
        checkpoints: 0,
    })
}

/// The link (hash) of the entry at chain position `seq`, if there is one.
pub async fn link_at(ex: &mut impl Exec, seq: i64) -> Result<Option<String>, StoreError> {
    let row: Option<(Option<String>,)> = ex
        .fetch_optional("SELECT hash FROM audit_log WHERE seq = $1", args![seq])
        .await?;
    Ok(row.and_then(|r| r.0))
}

/// The chain's head: (last position, its hash).
pub async fn head(ex: &mut impl Exec) -> Result<(i64, String), StoreError> {
    let h = read_head(ex, "").await?;
    Ok((h.last_seq, h.last_hash))
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
/// What the audit page looks for; every part optional.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// An account name, or part of a person's name (folded, without diacritics).
    pub actor: Option<String>,
    pub agency_id: Option<i64>,
    /// An action, or the start of one (`document.` for every document action).
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
}

/// Entries matching a filter, newest first.
pub async fn search(
    ex: &mut impl Exec,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> Result<Vec<Entry>, StoreError> {
    let actor_like = f
        .actor
        .as_deref()
        .map(|a| format!("%{}%", egov_domain::text::fold(a)));
    let action_like = f.action.as_deref().map(|a| {
        let escaped = a
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("{escaped}%")
    });
    ex.fetch_all(
        &format!(
            "SELECT {COLS} FROM audit_log WHERE ($1 IS NULL OR agency_id = $1) \
             AND ($2 IS NULL OR action LIKE $2 ESCAPE '\\') \
             AND ($3 IS NULL OR object_type = $3) AND ($4 IS NULL OR object_id = $4) \
             AND ($5 IS NULL OR at >= $5) AND ($6 IS NULL OR at < $6) \
             AND ($7 IS NULL OR LOWER(actor) LIKE $7 OR actor_id IN \
                  (SELECT id FROM people WHERE full_name_fold LIKE $7)) \
             ORDER BY id DESC LIMIT $8 OFFSET $9"
        ),
        args![
            f.agency_id,
            action_like,
            f.object_type.clone(),
            f.object_id.clone(),
            f.from.map(crate::db_time),
            f.to.map(crate::db_time),
            actor_like,
            limit,
            offset
        ],
    )
    .await
}

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
