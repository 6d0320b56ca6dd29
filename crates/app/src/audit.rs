//! Writing audit entries from use cases.

use egov_store::Exec;
use egov_store::audit::{self, NewEntry};
use serde::Serialize;

use crate::{Actor, AppError};

/// An audit entry under construction: `event("agency.create", "agency", id).after(&a)`.
#[derive(Debug, Clone)]
pub struct Event {
    action: String,
    object_type: String,
    object_id: String,
    agency_id: Option<i64>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
}

pub fn event(action: &str, object_type: &str, object_id: impl ToString) -> Event {
    Event {
        action: action.to_owned(),
        object_type: object_type.to_owned(),
        object_id: object_id.to_string(),
        agency_id: None,
        before: None,
        after: None,
    }
}

fn json(v: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

impl Event {
    /// The agency whose records these are (entries are listed per agency).
    pub fn agency(mut self, id: Option<i64>) -> Self {
        self.agency_id = id;
        self
    }

    pub fn before(mut self, v: &impl Serialize) -> Self {
        self.before = Some(json(v));
        self
    }

    pub fn after(mut self, v: &impl Serialize) -> Self {
        self.after = Some(json(v));
        self
    }

    /// Appends the entry in the caller's transaction.
    pub async fn write(self, ex: &mut impl Exec, actor: &Actor) -> Result<(), AppError> {
        audit::append(ex, self.entry(actor)).await?;
        Ok(())
    }

    fn entry(self, actor: &Actor) -> NewEntry {
        NewEntry {
            at: None,
            actor_id: actor.person_id,
            actor: actor.username.clone(),
            action: self.action,
            object_type: self.object_type,
            object_id: self.object_id,
            agency_id: self.agency_id,
            before: self.before,
            after: self.after,
            ip: actor.ip.clone(),
            request_id: actor.request_id.clone(),
        }
    }
}

/// Adds entries of one actor to a batch of the caller's transaction.
pub fn add_all(b: &mut egov_store::Batch, actor: &Actor, events: Vec<Event>) {
    audit::add_entries(b, events.into_iter().map(|e| e.entry(actor)).collect());
}
