//! The domain event log and its subscribers.
//!
//! A use case appends its events in the transaction that makes them happen ([`add`] puts them
//! in the use case's batch), numbered per aggregate. Each subscriber named in
//! `event_subscribers` when an event is appended gets a delivery row for it. A subscriber reads
//! its deliveries ([`pending`]) and handles each in a transaction of its own that also
//! [`take`]s it: the delivery is deleted and the subscriber's cursor for the aggregate moves
//! on, so the handling and the record of it commit together or not at all. A delivery is taken
//! only when no earlier version of the same aggregate is still pending for that subscriber,
//! which keeps the order per aggregate even with several workers — and does not depend on the
//! order in which identity values commit (PostgreSQL may commit a later id first).

use egov_domain::events::{Aggregate, EventKind};
use time::OffsetDateTime;

use crate::db::{Batch, Exec};
use crate::{StoreError, args};

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub aggregate_id: i64,
    /// 1 for the aggregate's first event; see [`last_version`].
    pub version: i64,
    pub kind: EventKind,
    pub agency_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub at: OffsetDateTime,
    pub payload: &'a serde_json::Value,
}

/// An appended event, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: i64,
    pub aggregate: Aggregate,
    pub aggregate_id: i64,
    pub version: i64,
    pub kind: EventKind,
    pub agency_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub occurred_at: OffsetDateTime,
    pub payload: serde_json::Value,
}

/// An event waiting for one subscriber, with the failures of earlier tries.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub event: Event,
    pub attempts: i64,
    pub last_error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Raw {
    id: i64,
    aggregate_kind: String,
    aggregate_id: i64,
    version: i64,
    kind: String,
    agency_id: Option<i64>,
    actor_id: Option<i64>,
    occurred_at: OffsetDateTime,
    payload: String,
    attempts: i64,
    last_error: Option<String>,
}

impl Raw {
    fn decode(self) -> Result<Pending, StoreError> {
        let bad = |what: &str, v: &str| StoreError::Invalid(format!("unknown {what} {v:?}"));
        Ok(Pending {
            event: Event {
                id: self.id,
                aggregate: Aggregate::parse(&self.aggregate_kind)
                    .ok_or_else(|| bad("aggregate", &self.aggregate_kind))?,
                aggregate_id: self.aggregate_id,
                version: self.version,
                kind: EventKind::parse(&self.kind).ok_or_else(|| bad("event kind", &self.kind))?,
                agency_id: self.agency_id,
                actor_id: self.actor_id,
                occurred_at: self.occurred_at,
                payload: serde_json::from_str(&self.payload)
                    .map_err(|e| StoreError::Invalid(format!("event payload: {e}")))?,
            },
            attempts: self.attempts,
            last_error: self.last_error,
        })
    }
}

const EVENT_COLS: &str = "e.id, e.aggregate_kind, e.aggregate_id, e.version, e.kind, e.agency_id, \
                          e.actor_id, e.occurred_at, e.payload";

/// The version of the aggregate's last event (0 when it has none). Read it in the transaction
/// that appends the next ones, after the aggregate's own row is locked or version-checked.
pub async fn last_version(
    ex: &mut impl Exec,
    aggregate: Aggregate,
    id: i64,
) -> Result<i64, StoreError> {
    ex.scalar(
        "SELECT COALESCE(MAX(version), 0) FROM domain_events \
         WHERE aggregate_kind = $1 AND aggregate_id = $2",
        args![aggregate.as_str(), id],
    )
    .await
}

/// Adds the events, and a delivery of each to every subscriber, to the batch.
pub fn add(b: &mut Batch, events: &[NewEvent<'_>]) {
    b.insert(
        "INSERT INTO domain_events (aggregate_kind, aggregate_id, version, kind, agency_id, \
         actor_id, occurred_at, payload)",
        events.iter().map(|e| {
            args![
                e.kind.aggregate().as_str(),
                e.aggregate_id,
                e.version,
                e.kind.as_str(),
                e.agency_id,
                e.actor_id,
                e.at,
                e.payload.to_string()
            ]
        }),
    );
    if events.is_empty() {
        return;
    }
    // One statement for all of them, in version order, so that delivery ids follow versions
    // (the parts of a batch may run in any order on PostgreSQL).
    let a: Vec<_> = events
        .iter()
        .flat_map(|e| args![e.kind.aggregate().as_str(), e.aggregate_id, e.version])
        .collect();
    b.statement(a, |m| {
        let rows: Vec<String> = m.chunks(3).map(|r| format!("({})", r.join(", "))).collect();
        format!(
            "INSERT INTO event_deliveries (subscriber, aggregate_kind, aggregate_id, version) \
             SELECT s.name, v.column1, v.column2, v.column3 FROM event_subscribers s \
             CROSS JOIN (VALUES {}) AS v ORDER BY v.column2, v.column3, s.name",
            rows.join(", ")
        )
    });
}

/// Appends the events at once (outside a use case's batch).
pub async fn append(ex: &mut impl Exec, events: &[NewEvent<'_>]) -> Result<(), StoreError> {
    let mut b = Batch::default();
    add(&mut b, events);
    b.run(ex).await
}

/// Names a subscriber: events appended from now on are delivered to it. Returns false when it
/// was already subscribed.
pub async fn subscribe(
    ex: &mut impl Exec,
    name: &str,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    Ok(ex
        .execute(
            "INSERT INTO event_subscribers (name, created_at) VALUES ($1, $2) \
             ON CONFLICT (name) DO NOTHING",
            args![name, now],
        )
        .await?
        == 1)
}

/// Removes a subscriber with its deliveries and cursors.
pub async fn unsubscribe(ex: &mut impl Exec, name: &str) -> Result<bool, StoreError> {
    // Deleted explicitly: SQLite enforces the cascade only with foreign keys switched on.
    ex.execute(
        "DELETE FROM event_deliveries WHERE subscriber = $1",
        args![name],
    )
    .await?;
    ex.execute(
        "DELETE FROM event_cursors WHERE subscriber = $1",
        args![name],
    )
    .await?;
    Ok(ex
        .execute("DELETE FROM event_subscribers WHERE name = $1", args![name])
        .await?
        == 1)
}

/// Up to `limit` events waiting for `subscriber` and due at `now`, oldest delivery first
/// (so in version order within each aggregate).
pub async fn pending(
    ex: &mut impl Exec,
    subscriber: &str,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Pending>, StoreError> {
    let rows: Vec<Raw> = ex
        .fetch_all(
            &format!(
                "SELECT {EVENT_COLS}, d.attempts, d.last_error FROM event_deliveries d \
                 JOIN domain_events e ON e.aggregate_kind = d.aggregate_kind \
                 AND e.aggregate_id = d.aggregate_id AND e.version = d.version \
                 WHERE d.subscriber = $1 AND (d.next_at IS NULL OR d.next_at <= $2) \
                 ORDER BY d.id LIMIT $3"
            ),
            args![subscriber, now, limit],
        )
        .await?;
    rows.into_iter().map(Raw::decode).collect()
}

/// Takes the event for `subscriber` in the caller's transaction, the one that handles it:
/// deletes the delivery and moves the subscriber's cursor. Returns false — and changes
/// nothing — when the event was already taken, or when an earlier version of the same
/// aggregate is still waiting (the caller handles that one first).
pub async fn take(
    ex: &mut impl Exec,
    subscriber: &str,
    e: &Event,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let a = || args![subscriber, e.aggregate.as_str(), e.aggregate_id, e.version];
    let taken = ex
        .execute(
            "DELETE FROM event_deliveries WHERE subscriber = $1 AND aggregate_kind = $2 \
             AND aggregate_id = $3 AND version = $4 AND NOT EXISTS (SELECT 1 FROM \
             event_deliveries l WHERE l.subscriber = $1 AND l.aggregate_kind = $2 \
             AND l.aggregate_id = $3 AND l.version < $4)",
            a(),
        )
        .await?;
    if taken == 0 {
        return Ok(false);
    }
    let mut args = a();
    args.push(now.into());
    ex.execute(
        "INSERT INTO event_cursors (subscriber, aggregate_kind, aggregate_id, version, handled_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subscriber, aggregate_kind, aggregate_id) \
         DO UPDATE SET version = excluded.version, handled_at = excluded.handled_at \
         WHERE event_cursors.version < excluded.version",
        args,
    )
    .await?;
    Ok(true)
}

/// Records a failed try: the delivery waits until `next_at`.
pub async fn failed(
    ex: &mut impl Exec,
    subscriber: &str,
    e: &Event,
    error: &str,
    next_at: OffsetDateTime,
) -> Result<(), StoreError> {
    let error: String = error.chars().take(2000).collect();
    ex.execute(
        "UPDATE event_deliveries SET attempts = attempts + 1, last_error = $5, next_at = $6 \
         WHERE subscriber = $1 AND aggregate_kind = $2 AND aggregate_id = $3 AND version = $4",
        args![
            subscriber,
            e.aggregate.as_str(),
            e.aggregate_id,
            e.version,
            error,
            next_at
        ],
    )
    .await?;
    Ok(())
}

/// The last version of an aggregate that `subscriber` handled (0: none).
pub async fn cursor(
    ex: &mut impl Exec,
    subscriber: &str,
    aggregate: Aggregate,
    id: i64,
) -> Result<i64, StoreError> {
    Ok(ex
        .scalar_optional(
            "SELECT version FROM event_cursors WHERE subscriber = $1 AND aggregate_kind = $2 \
             AND aggregate_id = $3",
            args![subscriber, aggregate.as_str(), id],
        )
        .await?
        .unwrap_or(0))
}

/// Every event of one aggregate, in version order.
pub async fn of_aggregate(
    ex: &mut impl Exec,
    aggregate: Aggregate,
    id: i64,
) -> Result<Vec<Event>, StoreError> {
    let rows: Vec<Raw> = ex
        .fetch_all(
            &format!(
                "SELECT {EVENT_COLS}, CAST(0 AS BIGINT) AS attempts, CAST(NULL AS TEXT) AS last_error FROM domain_events e \
                 WHERE e.aggregate_kind = $1 AND e.aggregate_id = $2 ORDER BY e.version"
            ),
            args![aggregate.as_str(), id],
        )
        .await?;
    rows.into_iter()
        .map(|r| r.decode().map(|p| p.event))
        .collect()
}

/// Subscribers with the number of events waiting for each, by name.
pub async fn backlog(ex: &mut impl Exec) -> Result<Vec<(String, i64)>, StoreError> {
    ex.fetch_all(
        "SELECT s.name, COUNT(d.id) FROM event_subscribers s LEFT JOIN event_deliveries d \
         ON d.subscriber = s.name GROUP BY s.name ORDER BY s.name",
        args![],
    )
    .await
}
