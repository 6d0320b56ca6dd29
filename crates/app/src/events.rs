//! Domain events and their subscribers.
//!
//! Use cases append what happened (dossier submitted, received, step done, supplement requested,
//! result ready, paid, status changed; document issued) in their own transaction, numbered per
//! dossier or document (`egov_store::events`). A subscriber — the national portal's
//! synchronisation, the document exchange, notifications, the scorecard's summaries — is named
//! once ([`App::subscribe`]) and from then on receives every event exactly once, in order per
//! aggregate: [`App::deliver_events`] hands it each waiting event in a transaction that also records
//! it as handled, so a crash between the handling and the record undoes both and the event
//! comes again. What a subscriber does outside the database (a call to the national portal)
//! must therefore be idempotent: it is keyed by the event's aggregate and version.
//!
//! The job outbox stays for one-off work (a delivery to one agency, a reminder).

use crate::Code;
use std::collections::HashSet;
use std::future::Future;

use egov_domain::events::{Aggregate, EventKind};
use egov_store::events as store;
use egov_store::{Batch, Tx};
use time::{Duration, OffsetDateTime};

use crate::{App, AppError};

pub use egov_store::events::Event;

/// Something that follows the event log.
pub trait Subscriber: Send + Sync {
    /// The subscriber's stable name (its deliveries and cursors are kept under it).
    fn name(&self) -> &str;

    /// Handles one event inside `tx`, the transaction that records it as handled. An error
    /// rolls both back; the event is tried again later, and the aggregate's later events wait.
    fn handle(
        &self,
        tx: &mut Tx,
        event: &Event,
    ) -> impl Future<Output = Result<(), AppError>> + Send;
}

/// What one round of [`App::deliver_events`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivered {
    pub handled: usize,
    pub failed: usize,
}

/// The wait before the next try of an event that failed `attempts` times: 30 s, doubling, at
/// most an hour.
pub fn retry_delay(attempts: i64) -> Duration {
    let doublings = attempts.clamp(0, 7) as u32;
    Duration::seconds((30_i64 << doublings).min(3600))
}

/// The events of one aggregate that one use case appends: the kinds in order (all of the
/// aggregate their kinds belong to), numbered after the aggregate's last version.
pub(crate) struct Appended<'a> {
    pub aggregate_id: i64,
    pub agency_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub at: OffsetDateTime,
    pub kinds: Vec<EventKind>,
    /// What the subscribers read with every event of the use case (the aggregate as it is after it).
    pub payload: &'a serde_json::Value,
}

impl Appended<'_> {
    /// Adds the events to the use case's batch, numbered after version `after` (0 for an
    /// aggregate created in the same batch).
    pub fn add_to(&self, b: &mut Batch, after: i64) {
        let rows: Vec<store::NewEvent<'_>> = self
            .kinds
            .iter()
            .enumerate()
            .map(|(i, kind)| store::NewEvent {
                aggregate_id: self.aggregate_id,
                version: after + 1 + i as i64,
                kind: *kind,
                agency_id: self.agency_id,
                actor_id: self.actor_id,
                at: self.at,
                payload: self.payload,
            })
            .collect();
        store::add(b, &rows);
    }

    /// Appends the events in the caller's transaction, after its last version there.
    pub async fn append(&self, tx: &mut Tx) -> Result<(), AppError> {
        let Some(first) = self.kinds.first() else {
            return Ok(());
        };
        let after = store::last_version(tx, first.aggregate(), self.aggregate_id).await?;
        let mut b = Batch::default();
        self.add_to(&mut b, after);
        b.run(tx).await?;
        Ok(())
    }
}

impl App {
    /// Names a subscriber: every event appended from now on waits for it. Returns false when
    /// it was already subscribed.
    pub async fn subscribe(&self, name: &str) -> Result<bool, AppError> {
        if name.trim().is_empty() || name.len() > 100 {
            return Err(AppError::invalid(
                Code::BadSubscriber,
                "A subscriber is named by 1 to 100 characters.",
            ));
        }
        Ok(store::subscribe(&mut &self.db, name, self.now()).await?)
    }

    /// Subscribers and the number of events waiting for each.
    pub async fn event_backlog(&self) -> Result<Vec<(String, i64)>, AppError> {
        Ok(store::backlog(&mut &self.db).await?)
    }

    /// Hands up to `limit` waiting events to `sub`, each in a transaction of its own that
    /// also records it as handled. After a failure the aggregate's later events wait for the
    /// next round, and the failed one is tried again after [`retry_delay`].
    pub async fn deliver_events<S: Subscriber>(
        &self,
        sub: &S,
        limit: i64,
    ) -> Result<Delivered, AppError> {
        let name = sub.name();
        let now = self.now();
        let waiting = store::pending(&mut &self.db, name, now, limit).await?;
        let mut held: HashSet<(Aggregate, i64)> = HashSet::new();
        let mut done = Delivered::default();
        for w in waiting {
            let e = &w.event;
            let key = (e.aggregate, e.aggregate_id);
            if held.contains(&key) {
                continue;
            }
            let mut tx = self.db.begin().await?;
            if !store::take(&mut tx, name, e, now).await? {
                // Taken by another worker, or an earlier version still waits.
                tx.rollback().await?;
                held.insert(key);
                continue;
            }
            let outcome = match sub.handle(&mut tx, e).await {
                Ok(()) => tx.commit().await.map_err(AppError::from),
                Err(err) => {
                    tx.rollback().await.ok();
                    Err(err)
                }
            };
            match outcome {
                Ok(()) => done.handled += 1,
                Err(err) => {
                    held.insert(key);
                    done.failed += 1;
                    tracing::warn!(subscriber = name, aggregate = e.aggregate.as_str(),
                        id = e.aggregate_id, version = e.version, error = %err,
                        "an event subscriber failed; it will be tried again");
                    let next = self.now() + retry_delay(w.attempts);
                    store::failed(&mut &self.db, name, e, &err.to_string(), next).await?;
                }
            }
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(retry_delay(0), Duration::seconds(30));
        assert_eq!(retry_delay(1), Duration::seconds(60));
        assert_eq!(retry_delay(3), Duration::seconds(240));
        assert_eq!(retry_delay(7), Duration::hours(1));
        assert_eq!(retry_delay(50), Duration::hours(1));
    }
}
