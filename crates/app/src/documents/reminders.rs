//! Reminders (nhắc việc): the people handling an incoming document are reminded when its
//! deadline is near (`documents.remind_hours_before`) and again when it has passed; the leader
//! who directed it is reminded when it is overdue. Reminders are recorded once per person, copy
//! and kind by the worker's periodic pass, listed on the person's work list and in the API, and
//! — with `documents.reminder_url` — posted to the province's SMS or e-mail gateway through the
//! job outbox (retried, with an idempotency key per reminder).

use egov_store::reminders::{self, ReminderRow};
use time::OffsetDateTime;

use crate::{Actor, App, AppError};

impl App {
    /// Records the reminders due at `now` and queues them for the gateway when one is
    /// configured; returns how many were new. Safe to run often and from several workers.
    pub async fn send_reminders(&self, now: OffsetDateTime) -> Result<usize, AppError> {
        let horizon = now + time::Duration::hours(self.settings.documents.remind_hours_before);
        let mut tx = self.db.begin().await?;
        let new = reminders::record_due(&mut tx, now, horizon).await?;
        if let Some(url) = &self.settings.documents.reminder_url {
            for r in &new {
                let p = egov_store::people::get(&mut tx, r.person_id).await?;
                let body = serde_json::json!({
                    "kind": r.kind,
                    "person": { "username": p.username, "full_name": p.full_name, "email": p.email, "phone": p.phone },
                    "document": { "id": r.document_id, "notation": r.notation, "subject": r.subject, "sender": r.issuer_name },
                    "deadline": r.deadline.to_offset(egov_domain::VN_OFFSET).format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                });
                egov_store::jobs::enqueue(
                    &mut tx,
                    crate::jobs::HTTP_POST,
                    &serde_json::json!({ "url": url, "body": body }),
                    &format!("reminder-{}", r.id),
                    now,
                    self.settings.worker.max_attempts,
                )
                .await?;
            }
        }
        tx.commit().await?;
        for r in &new {
            metrics::counter!("egov_reminders_total", "kind" => r.kind.clone()).increment(1);
        }
        Ok(new.len())
    }

    /// The signed-in person's reminders of documents still being handled, most urgent first.
    pub async fn my_reminders(&self, actor: &Actor) -> Result<Vec<ReminderRow>, AppError> {
        let Some(p) = actor.person_id else {
            return Ok(Vec::new());
        };
        Ok(reminders::open_for(&mut &self.db, p).await?)
    }
}
