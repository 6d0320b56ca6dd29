//! The document exchange with systems outside egov (edXML packets through the national hub and
//! provincial LGSPs): the transports behind one trait ([`transport`]), and the bridge from the
//! packet reader to the file store, so that an incoming packet's attachments go straight from
//! the network into blobs, never whole in memory.

pub mod lgsp;
pub mod outgoing;
pub mod receive;
pub mod routes;
pub mod send;
pub mod status;
pub mod transport;

pub use egov_store::exchange::{DirectoryRow, Discrepancy};

use std::io::Write;

use egov_edxml::AttachmentSink;
use egov_store::Exec as _;
use egov_store::blobs::{BlobStore, BlobWriter, Written};

/// Keeps a packet's attachments as blobs while the reader decodes them. Each attachment is
/// written to a temporary file and put in place under its hash when complete; when the packet
/// turns out unreadable the attachment being written is dropped (its temporary file removed).
/// Attachments already complete stay as blobs no row refers to, which the housekeeping sweep
/// removes — they are content-addressed and may be another object's, so they are never
/// deleted here.
pub struct BlobSink {
    store: BlobStore,
    max: u64,
    current: Option<BlobWriter>,
    kept: Vec<Written>,
}

impl BlobSink {
    /// Attachments of at most `max` bytes each.
    pub fn new(store: BlobStore, max: u64) -> Self {
        BlobSink {
            store,
            max,
            current: None,
            kept: Vec::new(),
        }
    }

    /// The blobs written, in the packet's order.
    pub fn kept(&self) -> &[Written] {
        &self.kept
    }
}

impl AttachmentSink for BlobSink {
    fn begin(&mut self, _index: usize) -> std::io::Result<()> {
        let writer = self
            .store
            .writer(self.max)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        self.current = Some(writer);
        Ok(())
    }

    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match self.current.as_mut() {
            Some(w) => w.write_all(chunk),
            None => Err(std::io::Error::other(
                "an attachment's bytes before its start",
            )),
        }
    }

    fn finish(&mut self) -> std::io::Result<String> {
        let writer = self
            .current
            .take()
            .ok_or_else(|| std::io::Error::other("no attachment to finish"))?;
        let written = writer
            .finish()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let sha = written.sha256.clone();
        self.kept.push(written);
        Ok(sha)
    }

    fn abort(&mut self) {
        self.current = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egov_edxml::{Limits, Packet};

    fn temporary_files(root: &std::path::Path) -> usize {
        std::fs::read_dir(root.join(".incoming").join("tmp"))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    #[test]
    fn a_packets_attachments_become_blobs_and_a_refused_one_leaves_no_file_half_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path());
        let packet = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../edxml/tests/foreign/java_vxp_new_docid_after_to.edxml"),
        )
        .unwrap();
        let mut sink = BlobSink::new(store.clone(), 10 << 20);
        let reading = egov_edxml::read_slice(&packet, &Limits::default(), &mut sink).unwrap();
        let Packet::Document(d) = reading.packet else {
            panic!("a document")
        };
        assert_eq!(d.attachments.len(), 2);
        for (a, kept) in d.attachments.iter().zip(sink.kept()) {
            assert_eq!(a.stored, kept.sha256);
            assert_eq!(a.sha256, kept.sha256, "the reader's hash is the blob's");
            let bytes = store.get(&a.stored).unwrap();
            assert_eq!(bytes.len() as u64, a.size);
            assert_eq!(BlobStore::digest(&bytes), a.sha256);
        }
        assert_eq!(temporary_files(dir.path()), 0);

        // The same packet cut inside its second attachment: refused, no temporary file left.
        let cut = String::from_utf8(packet).unwrap();
        let second = cut.rfind("<ContentTransferEncoded>").unwrap() + 100;
        let mut sink = BlobSink::new(store.clone(), 10 << 20);
        let err = egov_edxml::read_slice(&cut.as_bytes()[..second], &Limits::default(), &mut sink)
            .unwrap_err();
        assert_eq!(err.code(), "not_xml", "{err}");
        assert_eq!(temporary_files(dir.path()), 0, "nothing half-written");

        // An attachment over the sink's own limit is refused the same way.
        let mut sink = BlobSink::new(store, 100);
        let err =
            egov_edxml::read_slice(cut.as_bytes(), &Limits::default(), &mut sink).unwrap_err();
        assert_eq!(err.code(), "attachment_not_kept", "{err}");
        assert_eq!(temporary_files(dir.path()), 0);
    }
}

/// A line of the message log, as the operator's page shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MessageView {
    pub id: i64,
    pub direction: String,
    pub message_type: String,
    pub document_id: Option<i64>,
    pub packet_document_id: String,
    pub counterpart: String,
    pub action: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub has_packet: bool,
    pub updated_at: time::OffsetDateTime,
}

impl crate::App {
    /// The message log, newest first (system administrators): one state, or a part of the
    /// other side's identifier, or all.
    pub async fn exchange_log(
        &self,
        actor: &crate::Actor,
        state: Option<&str>,
        agency: Option<&str>,
    ) -> Result<Vec<MessageView>, crate::AppError> {
        let mut ex = &self.db;
        self.require_system_admin(&mut ex, actor).await?;
        let rows = egov_store::exchange::search(&mut ex, state, None, agency, 200).await?;
        Ok(rows
            .into_iter()
            .map(|r| MessageView {
                id: r.id,
                direction: r.direction,
                message_type: r.message_type,
                document_id: r.document_id,
                packet_document_id: r.packet_document_id,
                counterpart: r.counterpart,
                action: r.action,
                state: r.state,
                attempts: r.attempts,
                last_error: r.last_error,
                has_packet: r.packet_sha.is_some(),
                updated_at: r.updated_at,
            })
            .collect())
    }

    /// The exchange's dead letters for the operations page (system administrators): how many
    /// messages failed to go or were refused and wait for an operator.
    pub async fn exchange_dead_letters(
        &self,
        actor: &crate::Actor,
    ) -> Result<(i64, i64), crate::AppError> {
        let mut ex = &self.db;
        self.require_system_admin(&mut ex, actor).await?;
        let counts = egov_store::exchange::counts(&mut ex).await?;
        let of = |state: &str| {
            counts
                .iter()
                .find(|(s, _)| s == state)
                .map(|(_, n)| *n)
                .unwrap_or(0)
        };
        Ok((of("failed"), of("refused")))
    }

    /// The raw packet of a logged message (system administrators): the evidence, as it was
    /// sent or received.
    pub async fn exchange_packet(
        &self,
        actor: &crate::Actor,
        id: i64,
    ) -> Result<Vec<u8>, crate::AppError> {
        let mut ex = &self.db;
        self.require_system_admin(&mut ex, actor).await?;
        let sha: Option<Option<String>> = ex
            .scalar_optional(
                "SELECT packet_sha FROM exchange_messages WHERE id = $1",
                egov_store::args![id],
            )
            .await?;
        let Some(Some(sha)) = sha else {
            return Err(crate::AppError::not_found("packet"));
        };
        Ok(self.blobs.get(&sha).await?)
    }
}

impl crate::App {
    /// Sends a failed or refused document packet again (system administrators): a new
    /// `exchange.send` job for the same document, action and recipient. Sent once all the same:
    /// the message's key is unchanged.
    pub async fn retry_exchange(
        &self,
        actor: &crate::Actor,
        id: i64,
    ) -> Result<(), crate::AppError> {
        use crate::error_code::Code;
        let mut tx = self.db.begin().await?;
        self.require_system_admin(&mut tx, actor).await?;
        let m = egov_store::exchange::get(&mut tx, id).await?;
        let (Some(document_id), "out", "edoc", "failed" | "refused") = (
            m.document_id,
            m.direction.as_str(),
            m.message_type.as_str(),
            m.state.as_str(),
        ) else {
            return Err(crate::AppError::conflict(
                Code::IllegalTransition,
                "Only a document packet we failed to send, or that was refused, is sent again.",
            ));
        };
        egov_store::jobs::enqueue(
            &mut tx,
            crate::documents::outgoing::EXCHANGE_SEND,
            &serde_json::json!({
                "document_id": document_id, "action": m.action, "to": m.counterpart,
                "sequence": m.sequence,
            }),
            &format!("exchange-retry:{id}:{}", m.attempts),
            self.now(),
            self.settings.exchange.max_attempts,
        )
        .await?;
        crate::audit::event("exchange.retry", "exchange_message", id)
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks a failed or refused message handled (system administrators): an operator dealt
    /// with it another way; it leaves the lists of failures, its reason kept.
    pub async fn mark_exchange_handled(
        &self,
        actor: &crate::Actor,
        id: i64,
    ) -> Result<(), crate::AppError> {
        use crate::error_code::Code;
        let mut tx = self.db.begin().await?;
        self.require_system_admin(&mut tx, actor).await?;
        if !egov_store::exchange::mark_handled(&mut tx, id, self.now()).await? {
            return Err(crate::AppError::conflict(
                Code::IllegalTransition,
                "Only a failed or refused message can be marked handled.",
            ));
        }
        crate::audit::event("exchange.handled", "exchange_message", id)
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// What checking the message log found (`egov exchange verify`).
#[derive(Debug, Clone)]
pub struct LogReport {
    /// The audit chain's own verdict: its entries record the log.
    pub audit: egov_store::audit::VerifyReport,
    /// Messages compared with their audit trail.
    pub messages: u64,
    pub discrepancies: Vec<egov_store::exchange::Discrepancy>,
    /// Packets read back from the file store and hashed.
    pub packets: u64,
    /// Messages whose packet is missing or whose bytes no longer hash to the name the log
    /// keeps.
    pub bad_packets: Vec<(i64, String)>,
}

impl LogReport {
    pub fn holds(&self) -> bool {
        self.audit.broken.is_none() && self.discrepancies.is_empty() && self.bad_packets.is_empty()
    }
}

impl crate::App {
    /// Checks the message log: the audit chain that records it (MACs, links, checkpoints),
    /// every message against its last audit entry, and every packet's bytes against its hash.
    pub async fn verify_exchange_log(&self) -> Result<LogReport, crate::AppError> {
        let audit = self.verify_audit().await?;
        let mut ex = &self.db;
        let (messages, discrepancies) = egov_store::exchange::verify(&mut ex, 1000).await?;
        let mut bad_packets = Vec::new();
        let packets = egov_store::exchange::packets(&mut ex).await?;
        for (id, sha) in &packets {
            match self.blobs.get(sha).await {
                Ok(bytes) if BlobStore::digest(&bytes) == *sha => {}
                Ok(_) => bad_packets.push((*id, format!("the packet {sha} was changed"))),
                Err(e) => bad_packets.push((*id, format!("the packet {sha} cannot be read: {e}"))),
            }
        }
        Ok(LogReport {
            audit,
            messages,
            discrepancies,
            packets: packets.len() as u64,
            bad_packets,
        })
    }
}

impl crate::App {
    /// The hub's directory as last fetched (system administrators).
    pub async fn exchange_directory(
        &self,
        actor: &crate::Actor,
    ) -> Result<Vec<egov_store::exchange::DirectoryRow>, crate::AppError> {
        let mut ex = &self.db;
        self.require_system_admin(&mut ex, actor).await?;
        Ok(egov_store::exchange::directory(&mut ex).await?)
    }

    /// Fetches the hub's directory now (system administrators; audited): answers (listed,
    /// matched with our agencies).
    pub async fn refresh_directory(
        &self,
        actor: &crate::Actor,
    ) -> Result<(usize, usize), crate::AppError> {
        use crate::error_code::Code;
        let mut ex = &self.db;
        self.require_system_admin(&mut ex, actor).await?;
        let hub = transport::HubClient::new(self.settings.exchange.hub.clone());
        let (listed, matched) = self.import_directory(&hub).await.map_err(|reason| {
            crate::AppError::new(
                crate::ErrorKind::Conflict,
                Code::HubUnreachable,
                reason.clone(),
            )
            .arg("reason", reason)
        })?;
        crate::audit::event("exchange.directory", "exchange_directory", "hub")
            .after(&serde_json::json!({"listed": listed, "matched": matched}))
            .write(&mut ex, actor)
            .await?;
        Ok((listed, matched))
    }

    /// The agencies outside egov a document can be sent to (the hub's directory, less our
    /// own), by name: the choices when drafting.
    pub async fn outside_recipients(&self) -> Result<Vec<(String, String)>, crate::AppError> {
        let rows = egov_store::exchange::directory(&mut &self.db).await?;
        let mut list: Vec<(String, String)> = rows
            .into_iter()
            .filter(|r| r.agency_id.is_none())
            .map(|r| (r.code, r.name))
            .collect();
        list.sort_by_cached_key(|a| egov_domain::text::vi_sort_key(&a.1));
        Ok(list)
    }
}

impl crate::App {
    /// Adds to a draft the outside recipients chosen by identifier, each named as the hub's
    /// directory names it; an identifier the directory does not list is refused
    /// (`outside_recipient_unknown`).
    pub async fn with_outside_recipients(
        &self,
        mut cmd: crate::documents::outgoing::DraftCmd,
        codes: &[String],
    ) -> Result<crate::documents::outgoing::DraftCmd, crate::AppError> {
        if codes.is_empty() {
            return Ok(cmd);
        }
        let known = self.outside_recipients().await?;
        for code in codes {
            let Some((_, name)) = known.iter().find(|(c, _)| c == code) else {
                return Err(crate::AppError::invalid(
                    crate::error_code::Code::OutsideRecipientUnknown,
                    format!("{code} is not in the exchange hub's directory."),
                )
                .arg("code", code));
            };
            cmd.recipients.push(crate::documents::RecipientInput {
                agency_id: None,
                external_code: Some(code.clone()),
                name: Some(name.clone()),
                addressed: true,
            });
        }
        Ok(cmd)
    }
}
