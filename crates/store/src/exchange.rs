//! The exchange's message log: every packet sent to or received from a system outside egov.
//! See migration 0021.

use time::OffsetDateTime;

use crate::db::Exec;
use crate::{StoreError, args};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MessageRow {
    pub id: i64,
    /// `out` or `in`.
    pub direction: String,
    /// `hub` (the national document exchange hub), later an LGSP's name.
    pub route: String,
    /// `edoc` or `status`.
    pub message_type: String,
    pub document_id: Option<i64>,
    /// The packet's edXML `DocumentId`.
    pub packet_document_id: String,
    /// The recipient's identifier (out) or the sender's (in).
    pub counterpart: String,
    /// `new`, `revocation`, `update`, `replacement`, or a status code.
    pub action: String,
    pub sequence: i64,
    /// The raw packet's blob (the evidence).
    pub packet_sha: Option<String>,
    /// The transport's id for the delivery.
    pub remote_id: Option<String>,
    /// `sending`, `sent`, `failed`, `refused` or `received`.
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl MessageRow {
    /// What the audit trail records of the message at each change: everything but its times
    /// (the audit entry has its own).
    pub fn digest(&self) -> serde_json::Value {
        serde_json::json!({
            "direction": self.direction,
            "route": self.route,
            "message_type": self.message_type,
            "document_id": self.document_id,
            "packet_document_id": self.packet_document_id,
            "counterpart": self.counterpart,
            "action": self.action,
            "sequence": self.sequence,
            "packet_sha": self.packet_sha,
            "remote_id": self.remote_id,
            "state": self.state,
            "attempts": self.attempts,
            "last_error": self.last_error,
        })
    }
}

/// The audit action under which every change of a message is recorded.
pub const TRAIL_ACTION: &str = "exchange.message";

/// Records message `id` as it is now in the audit log, in the caller's transaction: the log's
/// tamper evidence is the audit chain's (keyed MACs, sealed links, checkpoints outside the
/// database). [`verify`] compares each message with its last entry.
async fn trail(ex: &mut impl Exec, id: i64, now: OffsetDateTime) -> Result<MessageRow, StoreError> {
    let row: MessageRow = ex
        .fetch_one(
            &format!("SELECT {COLS} FROM exchange_messages WHERE id = $1"),
            args![id],
        )
        .await?;
    crate::audit::append(
        ex,
        crate::audit::NewEntry {
            at: Some(now),
            actor: "system:exchange".into(),
            action: TRAIL_ACTION.into(),
            object_type: "exchange_message".into(),
            object_id: id.to_string(),
            after: Some(row.digest()),
            ..Default::default()
        },
    )
    .await?;
    Ok(row)
}

/// A message that disagrees with its audit trail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Discrepancy {
    pub message_id: i64,
    /// `altered` (the row differs from its last recorded state), `unrecorded` (a row the
    /// trail never saw) or `removed` (the trail records a message that is gone).
    pub kind: &'static str,
    pub detail: String,
}

/// Compares every message with its last audit entry, `page` messages at a time. The audit
/// entries themselves are checked by the audit chain's verification.
pub async fn verify(ex: &mut impl Exec, page: i64) -> Result<(u64, Vec<Discrepancy>), StoreError> {
    let mut found = Vec::new();
    let mut checked = 0u64;
    let mut after = 0i64;
    loop {
        let rows: Vec<MessageRow> = ex
            .fetch_all(
                &format!("SELECT {COLS} FROM exchange_messages WHERE id > $1 ORDER BY id LIMIT $2"),
                args![after, page],
            )
            .await?;
        let Some(last) = rows.last() else { break };
        let last = last.id;
        let trails: Vec<(String, Option<String>)> = ex
            .fetch_all(
                "SELECT a.object_id, a.after_json FROM audit_log a WHERE a.id IN \
                 (SELECT MAX(b.id) FROM audit_log b WHERE b.object_type = 'exchange_message' \
                  AND b.action = $1 AND b.object_id IN (SELECT CAST(m.id AS TEXT) \
                  FROM exchange_messages m WHERE m.id > $2 AND m.id <= $3) GROUP BY b.object_id)",
                args![TRAIL_ACTION, after, last],
            )
            .await?;
        let trails: std::collections::HashMap<String, Option<String>> =
            trails.into_iter().collect();
        for r in &rows {
            checked += 1;
            match trails.get(&r.id.to_string()) {
                None => found.push(Discrepancy {
                    message_id: r.id,
                    kind: "unrecorded",
                    detail: "no audit entry records this message".into(),
                }),
                Some(recorded) => {
                    let recorded: Option<serde_json::Value> = recorded
                        .as_deref()
                        .and_then(|j| serde_json::from_str(j).ok());
                    if recorded.as_ref() != Some(&r.digest()) {
                        found.push(Discrepancy {
                            message_id: r.id,
                            kind: "altered",
                            detail: format!(
                                "recorded {}, now {}",
                                recorded.map(|v| v.to_string()).unwrap_or_default(),
                                r.digest()
                            ),
                        });
                    }
                }
            }
        }
        after = last;
    }
    // Messages the trail knows and the table does not.
    let gone: Vec<(String,)> = ex
        .fetch_all(
            "SELECT DISTINCT a.object_id FROM audit_log a WHERE a.object_type = 'exchange_message' \
             AND a.action = $1 AND NOT EXISTS (SELECT 1 FROM exchange_messages m \
             WHERE CAST(m.id AS TEXT) = a.object_id)",
            args![TRAIL_ACTION],
        )
        .await?;
    for (id,) in gone {
        found.push(Discrepancy {
            message_id: id.parse().unwrap_or(0),
            kind: "removed",
            detail: "the audit trail records this message; the log no longer has it".into(),
        });
    }
    found.sort_by_key(|d| d.message_id);
    Ok((checked, found))
}

/// The packets the log names, with their messages, for checking the blobs' contents.
pub async fn packets(ex: &mut impl Exec) -> Result<Vec<(i64, String)>, StoreError> {
    ex.fetch_all(
        "SELECT id, packet_sha FROM exchange_messages WHERE packet_sha IS NOT NULL ORDER BY id",
        args![],
    )
    .await
}

const COLS: &str = "id, direction, route, message_type, document_id, packet_document_id, counterpart, \
     action, sequence, packet_sha, remote_id, state, attempts, last_error, created_at, updated_at";

/// The key that makes a message idempotent.
pub struct MessageKey<'a> {
    pub direction: &'a str,
    pub packet_document_id: &'a str,
    pub counterpart: &'a str,
    pub action: &'a str,
    pub sequence: i64,
}

/// Selects the message of a key, whose parts are `$1`…`$5`.
const BY_KEY: &str = "direction = $1 AND packet_document_id = $2 AND counterpart = $3 \
     AND action = $4 AND sequence = $5";

impl MessageKey<'_> {
    fn args(&self) -> Vec<crate::Arg> {
        args![
            self.direction,
            self.packet_document_id,
            self.counterpart,
            self.action,
            self.sequence
        ]
    }
}

/// The id of the message of this key.
async fn id_of(ex: &mut impl Exec, key: &MessageKey<'_>) -> Result<i64, StoreError> {
    ex.scalar(
        &format!("SELECT id FROM exchange_messages WHERE {BY_KEY}"),
        key.args(),
    )
    .await
}

/// The message of this key, created (`sending`) when there is none yet; either way one more
/// attempt is counted on it unless it was already sent.
pub async fn attempt(
    ex: &mut impl Exec,
    key: &MessageKey<'_>,
    route: &str,
    message_type: &str,
    document_id: Option<i64>,
    now: OffsetDateTime,
) -> Result<MessageRow, StoreError> {
    ex.execute(
        "INSERT INTO exchange_messages (direction, route, message_type, document_id, \
         packet_document_id, counterpart, action, sequence, state, attempts, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'sending', 0, $9, $9) \
         ON CONFLICT (direction, packet_document_id, counterpart, action, sequence) DO NOTHING",
        args![
            key.direction,
            route,
            message_type,
            document_id,
            key.packet_document_id,
            key.counterpart,
            key.action,
            key.sequence,
            now
        ],
    )
    .await?;
    let mut with_now = key.args();
    with_now.extend(args![now]);
    let counted = ex
        .execute(
            &format!(
                "UPDATE exchange_messages SET attempts = attempts + 1, updated_at = $6 \
                 WHERE {BY_KEY} AND state <> 'sent'"
            ),
            with_now,
        )
        .await?;
    if counted == 0 {
        // Sent already: nothing changed, nothing to record.
        return find(ex, key).await?.ok_or(StoreError::NotFound);
    }
    let id = id_of(ex, key).await?;
    trail(ex, id, now).await
}

/// Records what became of an attempt: `sent` with the transport's id, or `failed` / `refused`
/// with the reason; the packet's blob either way.
pub async fn settle(
    ex: &mut impl Exec,
    id: i64,
    state: &str,
    packet_sha: Option<&str>,
    remote_id: Option<&str>,
    error: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE exchange_messages SET state = $2, packet_sha = COALESCE($3, packet_sha), \
         remote_id = COALESCE($4, remote_id), last_error = $5, updated_at = $6 WHERE id = $1",
        args![id, state, packet_sha, remote_id, error, now],
    )
    .await?;
    trail(ex, id, now).await?;
    Ok(())
}

/// The messages of a document, oldest first.
pub async fn of_document(
    ex: &mut impl Exec,
    document_id: i64,
) -> Result<Vec<MessageRow>, StoreError> {
    ex.fetch_all(
        &format!("SELECT {COLS} FROM exchange_messages WHERE document_id = $1 ORDER BY id"),
        args![document_id],
    )
    .await
}

/// The message of this key, if any.
pub async fn find(
    ex: &mut impl Exec,
    key: &MessageKey<'_>,
) -> Result<Option<MessageRow>, StoreError> {
    ex.fetch_optional(
        &format!("SELECT {COLS} FROM exchange_messages WHERE {BY_KEY}"),
        key.args(),
    )
    .await
}

/// Ties a message to egov's document (a received one is filed after it is logged).
pub async fn set_document(
    ex: &mut impl Exec,
    id: i64,
    document_id: Option<i64>,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE exchange_messages SET document_id = $2 WHERE id = $1",
        args![id, document_id],
    )
    .await?;
    trail(ex, id, crate::db::now()).await?;
    Ok(())
}

/// Records a received message under its key, unless one is there already: `true` when this
/// call recorded it. In the transaction that files what it brought, so that of two workers
/// taking the same packet at once only one files it.
#[allow(clippy::too_many_arguments)]
pub async fn claim_received(
    ex: &mut impl Exec,
    key: &MessageKey<'_>,
    route: &str,
    message_type: &str,
    document_id: Option<i64>,
    packet_sha: &str,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let n = ex
        .execute(
            "INSERT INTO exchange_messages (direction, route, message_type, document_id, \
             packet_document_id, counterpart, action, sequence, packet_sha, state, attempts, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'received', 1, $10, $10) \
             ON CONFLICT (direction, packet_document_id, counterpart, action, sequence) DO NOTHING",
            args![
                key.direction,
                route,
                message_type,
                document_id,
                key.packet_document_id,
                key.counterpart,
                key.action,
                key.sequence,
                packet_sha,
                now
            ],
        )
        .await?;
    if n == 1 {
        let id = id_of(ex, key).await?;
        trail(ex, id, now).await?;
    }
    Ok(n == 1)
}

/// The message log, newest first: optionally one state, one document, one counterpart.
pub async fn search(
    ex: &mut impl Exec,
    state: Option<&str>,
    document_id: Option<i64>,
    counterpart: Option<&str>,
    limit: i64,
) -> Result<Vec<MessageRow>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT {COLS} FROM exchange_messages WHERE ($1 IS NULL OR state = $1) \
             AND ($2 IS NULL OR document_id = $2) AND ($3 IS NULL OR counterpart LIKE $3) \
             ORDER BY id DESC LIMIT $4"
        ),
        args![
            state,
            document_id,
            counterpart.map(|c| format!("%{c}%")),
            limit
        ],
    )
    .await
}

/// An agency the hub connects.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DirectoryRow {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    pub route: String,
    /// egov's agency of the same identifier, when there is one.
    pub agency_id: Option<i64>,
    pub fetched_at: OffsetDateTime,
}

/// Replaces the directory of `route` with what it listed now, matching each entry with egov's
/// agency of the same identifier.
pub async fn replace_directory(
    ex: &mut impl Exec,
    route: &str,
    entries: &[(String, String, Option<String>)],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "DELETE FROM exchange_directory WHERE route = $1",
        args![route],
    )
    .await?;
    for (code, name, parent) in entries {
        ex.execute(
            "INSERT INTO exchange_directory (code, name, parent, route, agency_id, fetched_at) \
             VALUES ($1, $2, $3, $4, (SELECT id FROM agencies WHERE code = $1), $5) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent = excluded.parent, \
             route = excluded.route, agency_id = excluded.agency_id, fetched_at = excluded.fetched_at",
            args![code.as_str(), name.as_str(), parent.as_deref(), route, now],
        )
        .await?;
    }
    Ok(())
}

/// The directory, by identifier.
pub async fn directory(ex: &mut impl Exec) -> Result<Vec<DirectoryRow>, StoreError> {
    ex.fetch_all(
        "SELECT code, name, parent, route, agency_id, fetched_at FROM exchange_directory ORDER BY code",
        args![],
    )
    .await
}

/// Whether the directory knows this identifier (`None`: no directory was fetched yet).
pub async fn directory_knows(ex: &mut impl Exec, code: &str) -> Result<Option<bool>, StoreError> {
    let (total, known): (i64, i64) = ex
        .fetch_one(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN code = $1 THEN 1 ELSE 0 END), 0) \
             FROM exchange_directory",
            args![code],
        )
        .await?;
    Ok((total > 0).then_some(known > 0))
}

/// One message of the log.
pub async fn get(ex: &mut impl Exec, id: i64) -> Result<MessageRow, StoreError> {
    ex.fetch_one(
        &format!("SELECT {COLS} FROM exchange_messages WHERE id = $1"),
        args![id],
    )
    .await
}

/// Marks a failed or refused message handled by an operator (the reason stays); false when it
/// was in another state.
pub async fn mark_handled(
    ex: &mut impl Exec,
    id: i64,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let n = ex
        .execute(
            "UPDATE exchange_messages SET state = 'handled', updated_at = $2 \
             WHERE id = $1 AND state IN ('failed', 'refused')",
            args![id, now],
        )
        .await?;
    if n == 1 {
        trail(ex, id, now).await?;
    }
    Ok(n == 1)
}

/// How many messages are in each state.
pub async fn counts(ex: &mut impl Exec) -> Result<Vec<(String, i64)>, StoreError> {
    ex.fetch_all(
        "SELECT state, COUNT(*) FROM exchange_messages GROUP BY state ORDER BY state",
        args![],
    )
    .await
}

/// The outgoing message the transport knows under `remote_id`, if any.
pub async fn by_remote_id(
    ex: &mut impl Exec,
    remote_id: &str,
) -> Result<Option<MessageRow>, StoreError> {
    ex.fetch_optional(
        &format!(
            "SELECT {COLS} FROM exchange_messages WHERE direction = 'out' AND remote_id = $1 \
             ORDER BY id LIMIT 1"
        ),
        args![remote_id],
    )
    .await
}

/// The route the directory names for an agency, if it lists it.
pub async fn route_of(ex: &mut impl Exec, code: &str) -> Result<Option<String>, StoreError> {
    ex.scalar_optional(
        "SELECT route FROM exchange_directory WHERE code = $1",
        args![code],
    )
    .await
}
