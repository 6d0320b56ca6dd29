//! Reminders (nhắc việc) of incoming documents due soon or overdue.

use crate::{Exec, StoreError, args};
use time::OffsetDateTime;

/// A reminder with what its person needs to recognise the document.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReminderRow {
    pub id: i64,
    pub person_id: i64,
    pub incoming_id: i64,
    pub document_id: i64,
    /// The receiving agency.
    pub agency_id: i64,
    /// `due_soon` or `overdue`.
    pub kind: String,
    pub deadline: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub notation: Option<String>,
    pub subject: String,
    pub issuer_name: String,
}

const OPEN: &str = "('directed', 'processing')";

const SELECT: &str = "SELECT r.id, r.person_id, r.incoming_id, i.document_id, i.agency_id, r.kind, \
     COALESCE(i.deadline, r.deadline) AS deadline, r.created_at, d.notation, d.subject, d.issuer_name \
     FROM reminders r JOIN incoming i ON i.id = r.incoming_id JOIN documents d ON d.id = i.document_id";

/// Records the reminders due at `now`: for every copy being handled whose deadline is before
/// `horizon`, its lead person and coordinating people (`due_soon` before the deadline,
/// `overdue` after it), and for an overdue copy also the leader who directed it. Each person is
/// reminded once per copy and kind, however often this runs and from however many workers.
/// Returns the reminders recorded now.
pub async fn record_due(
    ex: &mut impl Exec,
    now: OffsetDateTime,
    horizon: OffsetDateTime,
) -> Result<Vec<ReminderRow>, StoreError> {
    let kind = "CASE WHEN i.deadline < $1 THEN 'overdue' ELSE 'due_soon' END";
    let ids: Vec<(i64,)> = ex
        .fetch_all(
            &format!(
                "INSERT INTO reminders (person_id, incoming_id, kind, deadline, created_at) \
                 SELECT person_id, incoming_id, kind, deadline, $1 FROM ( \
                   SELECT i.lead_person_id AS person_id, i.id AS incoming_id, {kind} AS kind, i.deadline AS deadline \
                   FROM incoming i WHERE i.state IN {OPEN} AND i.deadline < $2 AND i.lead_person_id IS NOT NULL \
                   UNION SELECT c.person_id, i.id, {kind}, i.deadline FROM incoming i \
                   JOIN incoming_coordinators c ON c.incoming_id = i.id \
                   WHERE i.state IN {OPEN} AND i.deadline < $2 AND c.person_id IS NOT NULL \
                   UNION SELECT i.directed_by, i.id, 'overdue', i.deadline FROM incoming i \
                   WHERE i.state IN {OPEN} AND i.deadline < $1 AND i.directed_by IS NOT NULL \
                 ) due WHERE person_id IS NOT NULL \
                 ON CONFLICT (person_id, incoming_id, kind) DO NOTHING RETURNING id"
            ),
            args![now, horizon],
        )
        .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut a = Vec::new();
    let list = crate::push_list(&mut a, &ids.iter().map(|r| r.0).collect::<Vec<_>>());
    ex.fetch_all(&format!("{SELECT} WHERE r.id IN ({list}) ORDER BY r.id"), a)
        .await
}

/// A person's reminders of copies still being handled, the most urgent first (an overdue
/// reminder replaces the earlier "due soon" one).
pub async fn open_for(ex: &mut impl Exec, person_id: i64) -> Result<Vec<ReminderRow>, StoreError> {
    ex.fetch_all(
        &format!(
            "{SELECT} WHERE r.person_id = $1 AND i.state IN {OPEN} AND NOT (r.kind = 'due_soon' AND EXISTS ( \
             SELECT 1 FROM reminders o WHERE o.person_id = r.person_id AND o.incoming_id = r.incoming_id \
             AND o.kind = 'overdue')) ORDER BY deadline, r.id LIMIT 100"
        ),
        args![person_id],
    )
    .await
}
