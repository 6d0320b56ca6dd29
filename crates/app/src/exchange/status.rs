//! Statuses back to a sender on another system: as the records clerk and the leader work on a
//! document that came through the exchange — registered (03), refused (02), directed (04), in
//! progress (05), completed (06), a recall accepted (15) — the status travels back as a status
//! packet (the hub's guidance expects each step reported). Queued as an `exchange.status` job in
//! the transaction that makes the step, sent once per (document, sender, code).

use std::sync::Arc;

use egov_edxml::{Organ, ResponseFor, StaffInfo, StatusCode, StatusPacket};
use egov_store::Exec;
use egov_store::exchange::{self as log, MessageKey};
use serde::Deserialize;

use super::routes::Routes;
use super::transport::{MessageType, Transport};
use crate::App;
use crate::jobs::{Handler, HandlerFuture};

/// The job kind.
pub const STATUS_JOB: &str = "exchange.status";

#[derive(Debug, Clone, Deserialize)]
struct StatusJob {
    incoming_id: i64,
    status: String,
    #[serde(default)]
    note: String,
}

/// The job handler, sending back through the route the document came by.
pub fn status_handler(routes: Arc<Routes>) -> Handler {
    Arc::new(move |app: Arc<App>, job| -> HandlerFuture {
        let routes = routes.clone();
        Box::pin(async move {
            let p: StatusJob = serde_json::from_str(&job.payload)
                .map_err(|e| format!("the job's payload cannot be read: {e}"))?;
            let came_by = app.route_of_copy(p.incoming_id).await?;
            let Some(route) = routes.named(&came_by).or_else(|| routes.default_route()) else {
                return Err(
                    "no exchange route is configured (exchange.hub.url or exchange.lgsp)".into(),
                );
            };
            app.status_back(route, &p)
                .await
                .map_err(|e| format!("[{}] {e}", route.route()))
        })
    })
}

/// The words a status carries when the clerk wrote none.
fn default_description(code: &StatusCode) -> &'static str {
    match code {
        StatusCode::Arrived => "Đã đến",
        StatusCode::Refused => "Từ chối tiếp nhận",
        StatusCode::Registered => "Đã vào sổ văn bản đến",
        StatusCode::Assigned => "Đã phân công xử lý",
        StatusCode::InProgress => "Đang xử lý",
        StatusCode::Completed => "Đã hoàn thành",
        StatusCode::ChangeAccepted => "Đồng ý",
        StatusCode::ChangeRefused => "Không đồng ý",
        _ => "",
    }
}

impl App {
    /// The route an incoming copy came by (`hub` when the log does not say).
    async fn route_of_copy(&self, incoming_id: i64) -> Result<String, String> {
        let internal = |e: egov_store::StoreError| e.to_string();
        let copy = egov_store::documents::get_incoming(&mut &self.db, incoming_id)
            .await
            .map_err(internal)?;
        let route: Option<(String,)> = (&self.db)
            .fetch_optional(
                "SELECT route FROM exchange_messages WHERE direction = 'in' \
                 AND message_type = 'edoc' AND state = 'received' AND document_id = $1 \
                 ORDER BY id LIMIT 1",
                egov_store::args![copy.document_id],
            )
            .await
            .map_err(internal)?;
        Ok(route.map(|(r,)| r).unwrap_or_else(|| "hub".into()))
    }

    async fn status_back<T: Transport>(&self, t: &T, p: &StatusJob) -> Result<(), String> {
        let internal = |e: egov_store::StoreError| e.to_string();
        let copy = egov_store::documents::get_incoming(&mut &self.db, p.incoming_id)
            .await
            .map_err(internal)?;
        let ours = egov_store::agencies::get(&mut &self.db, copy.agency_id)
            .await
            .map_err(internal)?;
        // The packet it came in: its DocumentId and sender, from the message log.
        let came: Option<(i64, String, String, String)> = (&self.db)
            .fetch_optional(
                "SELECT id, packet_document_id, counterpart, action FROM exchange_messages \
                 WHERE direction = 'in' AND message_type = 'edoc' AND state = 'received' \
                 AND document_id = $1 ORDER BY id LIMIT 1",
                egov_store::args![copy.document_id],
            )
            .await
            .map_err(internal)?;
        let Some((message_id, packet_id, counterpart, action)) = came else {
            return Err(format!(
                "incoming copy {} did not come through the exchange",
                copy.id
            ));
        };
        // An update is agreed to (15) or refused (16) by registering or refusing its copy;
        // its later steps are those of the document it updates, already reported.
        let status = match (action.as_str(), p.status.as_str()) {
            ("update", "03") => "15",
            ("update", "02") => "16",
            ("update", _) => return Ok(()),
            _ => p.status.as_str(),
        };
        let sender = counterpart
            .split_once('>')
            .map(|(s, _)| s.to_string())
            .unwrap_or(counterpart);
        let d = egov_store::documents::get_document(&mut &self.db, copy.document_id)
            .await
            .map_err(internal)?;
        let code = StatusCode::from_wire(status);
        let description = if p.note.trim().is_empty() {
            default_description(&code).to_string()
        } else {
            p.note.trim().to_string()
        };
        let response_for = ResponseFor {
            organ_id: sender.clone(),
            code: d.notation.clone().unwrap_or_default(),
            promulgation_date: d.issued_on,
            document_id: packet_id,
        };
        // An update shares its DocumentId with the document (and with a revocation of it):
        // its answer is told apart by the update it answers.
        let sequence = if action == "update" { message_id } else { 0 };
        self.send_status(t, &ours, (response_for, sequence), code, &description)
            .await
    }

    /// Sends a status packet from our agency `ours` about the document `response_for`
    /// names, once per (DocumentId, our agency, sender, code); `Err` when the transport did not take it.
    pub(crate) async fn send_status<T: Transport>(
        &self,
        t: &T,
        ours: &egov_store::agencies::Agency,
        (response_for, sequence): (ResponseFor, i64),
        status: StatusCode,
        description: &str,
    ) -> Result<(), String> {
        let internal = |e: egov_store::StoreError| e.to_string();
        let now = self.now();
        let local = now.to_offset(egov_domain::VN_OFFSET);
        let key_doc = response_for.document_id.clone();
        // Each of our agencies reports its own statuses on a document addressed to several:
        // the key names both ends (`ours>sender`).
        let key_to = format!("{}>{}", ours.code, response_for.organ_id);
        let packet = StatusPacket {
            from: Organ::new(ours.code.clone(), ours.name.clone()),
            response_for,
            staff: StaffInfo {
                department: ours.short_name.clone(),
                ..StaffInfo::default()
            },
            status: status.clone(),
            description: description.to_string(),
            timestamp: Some(time::PrimitiveDateTime::new(local.date(), local.time())),
        };
        let key = MessageKey {
            direction: "out",
            packet_document_id: &key_doc,
            counterpart: &key_to,
            action: status.wire(),
            sequence,
        };
        let mut ex = &self.db;
        let row = log::attempt(&mut ex, &key, t.route(), "status", None, now)
            .await
            .map_err(internal)?;
        if row.state == "sent" {
            return Ok(());
        }
        let bytes = match egov_edxml::status_to_vec(&packet) {
            Ok(b) => b,
            Err(e) => {
                log::settle(
                    &mut ex,
                    row.id,
                    "refused",
                    None,
                    None,
                    Some(&e.to_string()),
                    now,
                )
                .await
                .map_err(internal)?;
                // Not to be retried: the packet itself is wrong (our identifier, say).
                return Ok(());
            }
        };
        self.deliver_packet(t, row.id, &ours.code, MessageType::Status, bytes)
            .await
            .map(|_| ())
    }
}
