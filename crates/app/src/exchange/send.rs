//! Sending an issued document to a recipient outside egov: the `exchange.send` job that issuing
//! queues for each such recipient. The packet is built from the document as issued, kept as a
//! blob (the evidence), recorded in the message log under its idempotency key — the packet's
//! `DocumentId`, the recipient, the business action and its sequence — and sent through the
//! hub. Sent once: a job that runs again after a crash finds the message sent and stops. The
//! hub not answering fails the job, which the outbox retries with back-off; the hub refusing,
//! or a packet that may not travel (a locally allocated identifier, say), is recorded with its
//! reason and not retried.

use std::sync::Arc;

use bytes::Bytes;
use egov_edxml::{BusinessAction, StaffInfo};
use egov_store::exchange::{self as log, MessageKey};
use serde::Deserialize;

use super::outgoing::{Outgoing, OutgoingFile, document_code, document_packet};
use super::routes::Routes;
use super::transport::{MessageType, Transport, TransportError};
use crate::App;
use crate::jobs::{Handler, HandlerFuture};

/// What an `exchange.send` job carries.
#[derive(Debug, Clone, Deserialize)]
pub struct SendJob {
    pub document_id: i64,
    /// `new`, `revocation`, `update` or `replacement`.
    pub action: String,
    /// The recipient's identifier.
    pub to: String,
    #[serde(default)]
    pub reason: String,
    /// Sends of the same action to the same recipient, counted from 0.
    #[serde(default)]
    pub sequence: i64,
}

/// How a send ended, for the job and the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Sent now, or found sent before: the transport's id.
    Sent(String),
    /// Not to be sent: the code and message recorded in the log.
    Refused(String, String),
}

/// The job handler, sending through the route the directory names for the recipient.
pub fn send_handler(routes: Arc<Routes>) -> Handler {
    Arc::new(move |app: Arc<App>, job| -> HandlerFuture {
        let routes = routes.clone();
        Box::pin(async move {
            let p: SendJob = serde_json::from_str(&job.payload)
                .map_err(|e| format!("the job's payload cannot be read: {e}"))?;
            let Some(route) = routes.for_recipient(&app, &p.to).await else {
                return Err(
                    "no exchange route is configured (exchange.hub.url or exchange.lgsp)".into(),
                );
            };
            // The route leads the error, so that the route answering again brings the job
            // forward (`receive::hasten_exchange`).
            app.send_outside(route, &p)
                .await
                .map(|_| ())
                .map_err(|e| format!("[{}] {e}", route.route()))
        })
    })
}

fn vn_now(app: &App) -> time::PrimitiveDateTime {
    let t = app.now().to_offset(egov_domain::VN_OFFSET);
    time::PrimitiveDateTime::new(t.date(), t.time())
}

impl App {
    /// Sends one packet of an issued document to one outside recipient (see the module).
    /// `Err` means the transport did not take it and the job should run again.
    pub async fn send_outside<T: Transport>(&self, t: &T, p: &SendJob) -> Result<Sent, String> {
        let internal = |e: egov_store::StoreError| e.to_string();
        let mut ex = &self.db;
        let d = egov_store::documents::get_document(&mut ex, p.document_id)
            .await
            .map_err(internal)?;
        let Some(agency_id) = d.agency_id else {
            return Err(format!("document {} has no issuing agency here", d.id));
        };
        let sender = egov_store::agencies::get(&mut ex, agency_id)
            .await
            .map_err(internal)?;
        let recipients = egov_store::documents::recipients(&mut ex, d.id)
            .await
            .map_err(internal)?;
        let name = recipients
            .iter()
            .find(|r| r.external_code.as_deref() == Some(p.to.as_str()))
            .map(|r| r.name.clone())
            .unwrap_or_default();
        let mut files: Vec<OutgoingFile> = egov_store::documents::attachments(&mut ex, d.id)
            .await
            .map_err(internal)?
            .into_iter()
            .filter(|a| a.role == "main" || a.role == "attachment")
            .map(|a| OutgoingFile {
                name: a.name,
                content_type: a.media_type,
                sha256: a.sha256,
            })
            .collect();
        // The signed main file travels first.
        if let Some(main) = d.main_sha.as_deref()
            && let Some(i) = files.iter().position(|f| f.sha256 == main)
        {
            let f = files.remove(i);
            files.insert(0, f);
        }
        let action = BusinessAction::from(p.action.clone());
        // A revocation or an update sent again from the operator's page carries no reason of
        // its own.
        let default_reason = match action {
            BusinessAction::Revocation => "Thu hồi văn bản",
            BusinessAction::Update => "Cập nhật văn bản",
            BusinessAction::Replacement => "Thay thế văn bản",
            _ => "",
        };
        let to = [(p.to.clone(), name)];
        let now = self.now();
        let packet_id = document_code(&d, &sender.code)
            .map(|(id, _)| id)
            .unwrap_or_else(|_| format!("document:{}", d.id));
        let key = MessageKey {
            direction: "out",
            packet_document_id: &packet_id,
            counterpart: &p.to,
            action: action.name(),
            sequence: p.sequence,
        };
        let row = log::attempt(&mut ex, &key, t.route(), "edoc", Some(d.id), now)
            .await
            .map_err(internal)?;
        if row.state == "sent" {
            return Ok(Sent::Sent(row.remote_id.unwrap_or_default()));
        }
        // Only identifiers the hub's directory knows can travel through it (once a directory
        // was fetched: `egov exchange directory`).
        for (who, code) in [
            ("our agency", sender.code.as_str()),
            ("the recipient", p.to.as_str()),
        ] {
            if log::directory_knows(&mut ex, code)
                .await
                .map_err(internal)?
                == Some(false)
            {
                let message = format!(
                    "{who}'s identifier {code} is not in the hub's directory (identifier_not_registered)"
                );
                log::settle(&mut ex, row.id, "refused", None, None, Some(&message), now)
                    .await
                    .map_err(internal)?;
                return Ok(Sent::Refused("identifier_not_registered".into(), message));
            }
        }
        // A replacement names the document it replaces by that document's own DocumentId.
        let mut replaces = Vec::new();
        if action == BusinessAction::Replacement
            && let Some(old) = d.replaces_id
        {
            let old = egov_store::documents::get_document(&mut ex, old)
                .await
                .map_err(internal)?;
            if let Ok((old_id, _)) = document_code(&old, &sender.code) {
                replaces.push(old_id);
            }
        }
        let built = document_packet(&Outgoing {
            document: &d,
            sender: &sender,
            recipients: &to,
            files: &files,
            action,
            reason: if p.reason.trim().is_empty() {
                default_reason
            } else {
                &p.reason
            },
            replaces: &replaces,
            staff: StaffInfo {
                department: sender.short_name.clone(),
                ..StaffInfo::default()
            },
            now: vn_now(self),
        });
        let packet = match built {
            Ok(packet) => packet,
            Err(e) => {
                let code = e.code.as_str().to_string();
                log::settle(
                    &mut ex,
                    row.id,
                    "refused",
                    None,
                    None,
                    Some(&e.message),
                    now,
                )
                .await
                .map_err(internal)?;
                tracing::warn!(document = d.id, to = %p.to, code = %code, "packet not sent: {}", e.message);
                return Ok(Sent::Refused(code, e.message));
            }
        };
        let mut contents = Vec::with_capacity(files.len());
        for f in &files {
            contents.push(self.blobs.get(&f.sha256).await.map_err(internal)?);
        }
        let slices: Vec<&[u8]> = contents.iter().map(Vec::as_slice).collect();
        let bytes = egov_edxml::document_to_vec(&packet, &slices)
            .map_err(|e| format!("the packet cannot be written: {e}"))?;
        self.deliver_packet(t, row.id, &sender.code, MessageType::Edoc, bytes)
            .await
    }

    /// Keeps a packet as evidence, sends it through `t` and records the outcome on message
    /// `row_id`: `sent` with the transport's id, `refused` with its code (not to be retried),
    /// `failed` (`Err`: retried with back-off).
    pub(crate) async fn deliver_packet<T: Transport>(
        &self,
        t: &T,
        row_id: i64,
        from: &str,
        message_type: MessageType,
        bytes: Vec<u8>,
    ) -> Result<Sent, String> {
        let internal = |e: egov_store::StoreError| e.to_string();
        let mut ex = &self.db;
        let now = self.now();
        let sha = self.blobs.put(&bytes).await.map_err(internal)?;
        // An earlier attempt may have reached the transport with its answer lost (even if a
        // later one failed otherwise): look before sending it again; found, it is sent (under
        // the transport's id), not sent twice.
        let row = log::get(&mut ex, row_id).await.map_err(internal)?;
        if row.attempts > 1
            && let Some(remote) = self.find_taken(t, &row, from, message_type).await?
        {
            egov_store::blobs::record(&mut ex, &sha, bytes.len() as i64, "application/xml", now)
                .await
                .map_err(internal)?;
            log::settle(
                &mut ex,
                row_id,
                "sent",
                Some(&sha),
                Some(&remote),
                None,
                now,
            )
            .await
            .map_err(internal)?;
            tracing::info!(message = row_id, remote = %remote, "exchange: a lost answer found sent");
            return Ok(Sent::Sent(remote));
        }
        egov_store::blobs::record(&mut ex, &sha, bytes.len() as i64, "application/xml", now)
            .await
            .map_err(internal)?;
        let (state, remote, error, outcome) =
            match t.send(from, message_type, Bytes::from(bytes)).await {
                Ok(remote) => ("sent", Some(remote.clone()), None, Ok(Sent::Sent(remote))),
                Err(TransportError::Refused { code, message }) => (
                    "refused",
                    None,
                    Some(format!("{code}: {message}")),
                    Ok(Sent::Refused(code, message)),
                ),
                Err(e) => ("failed", None, Some(e.to_string()), Err(e.to_string())),
            };
        log::settle(
            &mut ex,
            row_id,
            state,
            Some(&sha),
            remote.as_deref(),
            error.as_deref(),
            self.now(),
        )
        .await
        .map_err(internal)?;
        outcome
    }
}

impl App {
    /// The transport's id for message `row`'s packet when the transport lists it as taken
    /// from `from` (same `DocumentId`, recipient and action, not already another message's).
    /// `Err` (retry later) when the transport cannot say.
    async fn find_taken<T: Transport>(
        &self,
        t: &T,
        row: &log::MessageRow,
        from: &str,
        message_type: MessageType,
    ) -> Result<Option<String>, String> {
        let taken = match t.taken(from, message_type).await {
            Ok(list) => list,
            // A transport without the call, or whose list cannot be read: it cannot say, and
            // the packet goes again (the receiver recognises a redelivery by its DocumentId).
            Err(TransportError::Refused { .. }) => return Ok(None),
            Err(TransportError::NoAnswer(e)) if e.starts_with("the list cannot be read") => {
                return Ok(None);
            }
            Err(e) => return Err(format!("the lost answer cannot be looked up: {e}")),
        };
        for item in taken {
            if item.document_id == row.packet_document_id
                && item.action == row.action
                && item.to.iter().any(|to| {
                    // A status's counterpart names both ends (`ours>sender`).
                    Some(to.as_str()) == row.counterpart.rsplit('>').next()
                })
                && log::by_remote_id(&mut &self.db, &item.id)
                    .await
                    .map_err(|e| e.to_string())?
                    .is_none_or(|other| other.id == row.id)
            {
                return Ok(Some(item.id));
            }
        }
        Ok(None)
    }

    /// Fetches the hub's directory of connected agencies and keeps it, each matched with our
    /// agency of the same identifier; answers (listed, matched).
    pub async fn import_directory<T: Transport>(&self, t: &T) -> Result<(usize, usize), String> {
        let list = t.agencies().await.map_err(|e| e.to_string())?;
        let entries: Vec<(String, String, Option<String>)> = list
            .into_iter()
            .filter(|a| !a.code.trim().is_empty())
            .map(|a| (a.code.trim().to_string(), a.name, a.parent))
            .collect();
        let mut tx = self.db.begin().await.map_err(|e| e.to_string())?;
        log::replace_directory(&mut tx, t.route(), &entries, self.now())
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        let rows = log::directory(&mut &self.db)
            .await
            .map_err(|e| e.to_string())?;
        let matched = rows.iter().filter(|r| r.agency_id.is_some()).count();
        Ok((rows.len(), matched))
    }
}
