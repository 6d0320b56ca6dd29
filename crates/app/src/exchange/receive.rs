//! Receiving through the hub: a round polls what waits for each of our agencies that the
//! national directory can know (identifiers not allocated locally), keeps every packet's raw
//! bytes as a blob (the evidence), reads it — attachments streamed into the file store — and:
//!
//! - a **new document** becomes an incoming document in the recipient agency's queue
//!   (`arrived`, channel `exchange`, the sender's first file as its main file), and status 01
//!   goes back to the sender the same day, as Decree 30 wants;
//! - a **status packet** about a document we sent sets that recipient's status on our side;
//! - a packet already received — the same `DocumentId`, sender, recipient, business action and
//!   the sender's own timestamp (the hub's re-serialisation and its extra trace entries do not
//!   change these) — is recognised and makes nothing;
//! - a packet that cannot be read, or that this version does not handle yet (revocations,
//!   updates, replacements received), is logged with the reason and reported `fail` to the hub.
//!
//! Each packet is then marked `done` or `fail` at the hub, so it is not listed again.

use bytes::Bytes;
use egov_edxml::{BusinessAction, Limits, Packet, StatusCode, StatusPacket};
use egov_store::Exec;
use egov_store::documents::{self as store, NewDocument};
use egov_store::exchange::{self as log, MessageKey};

use super::BlobSink;
use super::transport::{MessageType, Transport};
use crate::App;

/// The job kind of a receiving round: one per route and poll interval, claimed by one worker.
pub const POLL_JOB: &str = "exchange.poll";

#[derive(serde::Deserialize)]
struct PollJob {
    route: String,
    /// Fetch the route's directory first (once per `exchange.directory_hours`).
    #[serde(default)]
    directory: bool,
}

/// The receiving round's job handler. A round that fails is logged, not retried: the next
/// interval's round tries again.
pub fn poll_handler(routes: std::sync::Arc<super::routes::Routes>) -> crate::jobs::Handler {
    std::sync::Arc::new(
        move |app: std::sync::Arc<App>, job| -> crate::jobs::HandlerFuture {
            let routes = routes.clone();
            Box::pin(async move {
                let p: PollJob = serde_json::from_str(&job.payload)
                    .map_err(|e| format!("the job's payload cannot be read: {e}"))?;
                let Some(route) = routes.named(&p.route) else {
                    return Ok(());
                };
                if p.directory {
                    match app.import_directory(route).await {
                        Ok((listed, matched)) => {
                            tracing::info!(route = %p.route, listed, matched, "exchange: directory fetched")
                        }
                        Err(e) => {
                            tracing::warn!(route = %p.route, error = %e, "exchange: directory not fetched")
                        }
                    }
                }
                match app.receive_round(route).await {
                    Ok(r) if r != Received::default() => tracing::info!(
                        route = %p.route,
                        documents = r.documents,
                        statuses = r.statuses,
                        duplicates = r.duplicates,
                        refused = r.refused,
                        "exchange: packets received"
                    ),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(route = %p.route, error = %e, "exchange: receiving failed")
                    }
                }
                Ok(())
            })
        },
    )
}

/// What a round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Received {
    /// New incoming documents.
    pub documents: usize,
    /// Statuses applied to documents we sent.
    pub statuses: usize,
    /// Packets recognised as already received.
    pub duplicates: usize,
    /// Packets refused (unreadable, not ours, not handled yet).
    pub refused: usize,
    /// Revocations passed to the copies they concern (the clerk accepts or refuses them).
    pub recalls: usize,
}

impl App {
    /// One round of receiving through `t` for every agency of ours with an identifier the
    /// directory can know. Calls that fail end the round for that agency (the next round
    /// tries again); nothing is marked at the hub unless it was handled.
    pub async fn receive_round<T: Transport>(&self, t: &T) -> Result<Received, String> {
        let codes: Vec<(String,)> = (&self.db)
            .fetch_all(
                "SELECT code FROM agencies WHERE code_source <> 'local' ORDER BY code",
                egov_store::args![],
            )
            .await
            .map_err(|e| e.to_string())?;
        let mut out = Received::default();
        let mut answered = false;
        for (code,) in codes {
            for kind in [MessageType::Status, MessageType::Edoc] {
                let waiting = match t.received(&code, kind).await {
                    Ok(w) => {
                        if !answered {
                            answered = true;
                            self.hasten_exchange(t.route()).await;
                        }
                        w
                    }
                    // The hub refusing one agency (not connected, say) does not stop the round;
                    // the hub not answering does: the next round tries again.
                    Err(super::transport::TransportError::Refused { code: c, message })
                        if matches!(
                            c.as_str(),
                            "unknown_system" | "bad_signature" | "stale_request" | "unauthorized"
                        ) =>
                    {
                        // The hub refuses us, not the agency: our configuration is wrong.
                        return Err(format!("the hub refuses this system ({c}): {message}"));
                    }
                    Err(e @ super::transport::TransportError::Refused { .. }) => {
                        tracing::warn!(agency = %code, error = %e, "exchange: listing refused");
                        break;
                    }
                    Err(e) => return Err(format!("the hub does not answer: {e}")),
                };
                for w in waiting {
                    let bytes = match t.get(&code, &w.id).await {
                        Ok(b) => b,
                        Err(e) => {
                            tracing::warn!(agency = %code, id = %w.id, error = %e, "exchange: fetching failed");
                            continue;
                        }
                    };
                    let handled = self.take_packet(t, &code, bytes, &mut out).await;
                    let done = match handled {
                        Ok(()) => true,
                        Err(reason) => {
                            out.refused += 1;
                            tracing::warn!(agency = %code, id = %w.id, "exchange: packet refused: {reason}");
                            false
                        }
                    };
                    if let Err(e) = t.update_status(&code, &w.id, done).await {
                        tracing::warn!(agency = %code, id = %w.id, error = %e, "exchange: marking failed");
                    }
                }
            }
        }
        Ok(out)
    }

    /// Route `route` answers: its sends and statuses waiting on a back-off because it was
    /// unreachable or answered as a gateway does when a service is down (a 5xx) go now,
    /// instead of up to an hour after it came back. Those that timed out are left to their
    /// back-off: a route that lists but times out on a large packet is not down.
    async fn hasten_exchange(&self, route: &str) {
        let kinds = [
            crate::documents::outgoing::EXCHANGE_SEND,
            super::status::STATUS_JOB,
        ];
        let errors = [
            format!("[{route}] not sent:"),
            format!("[{route}] no answer: HTTP 5"),
        ];
        let errors: Vec<&str> = errors.iter().map(String::as_str).collect();
        match egov_store::jobs::hasten(&mut &self.db, &kinds, &errors, self.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                jobs = n,
                "exchange: the hub answers again; waiting packets go now"
            ),
            Err(e) => tracing::warn!(error = %e, "exchange: waiting packets not brought forward"),
        }
    }

    /// Takes one packet for our agency `agency`; `Err` is the reason it was refused (already
    /// logged).
    async fn take_packet<T: Transport>(
        &self,
        t: &T,
        agency: &str,
        bytes: Bytes,
        out: &mut Received,
    ) -> Result<(), String> {
        let route = t.route();
        let now = self.now();
        let internal = |e: egov_store::StoreError| e.to_string();
        let mut ex = &self.db;
        let sha = self.blobs.put(&bytes).await.map_err(internal)?;
        egov_store::blobs::record(&mut ex, &sha, bytes.len() as i64, "application/xml", now)
            .await
            .map_err(internal)?;
        let mut sink = BlobSink::new(self.blobs.staging().clone(), 512 * 1024 * 1024);
        let reading = match egov_edxml::read_slice(&bytes, &Limits::default(), &mut sink) {
            Ok(r) => r,
            Err(e) => {
                let key = MessageKey {
                    direction: "in",
                    packet_document_id: &format!("unreadable:{sha}"),
                    counterpart: agency,
                    action: e.code(),
                    sequence: 0,
                };
                self.log_in(
                    route,
                    &key,
                    "edoc",
                    None,
                    &sha,
                    "refused",
                    Some(&e.to_string()),
                )
                .await?;
                return Err(format!("{e} ({})", e.code()));
            }
        };
        // The attachments were written where a parser can write (the local staging folder);
        // they go to the store before any row names them.
        for w in sink.kept() {
            self.blobs.adopt(w).await.map_err(internal)?;
        }
        match reading.packet {
            Packet::Status(s) => self.take_status(route, agency, &sha, *s, out).await,
            Packet::Document(d) => {
                let sender = d.header.from.organ_id.clone();
                let stamp = d
                    .trace
                    .iter()
                    .find_map(|h| h.timestamp)
                    .map(|t| t.assume_offset(egov_domain::VN_OFFSET).unix_timestamp())
                    .unwrap_or(0);
                let counterpart = format!("{sender}>{agency}");
                let key = MessageKey {
                    direction: "in",
                    packet_document_id: &d.header.document_id,
                    counterpart: &counterpart,
                    action: d.business.action.name(),
                    sequence: stamp,
                };
                if self
                    .logged(&key)
                    .await?
                    .is_some_and(|seen| seen.state == "received")
                {
                    out.duplicates += 1;
                    return Ok(());
                }
                if !d.header.to.iter().any(|o| o.organ_id == agency) {
                    self.log_in(
                        route,
                        &key,
                        "edoc",
                        None,
                        &sha,
                        "refused",
                        Some("not addressed to us"),
                    )
                    .await?;
                    return Err(format!("the packet is not addressed to {agency}"));
                }
                if d.business.action == BusinessAction::Revocation {
                    return self.take_revocation(route, &d, &key, &sha, out).await;
                }
                // An update or a replacement is filed as a document of its own, tied to the
                // copy it concerns: an update of a document this sender never sent us is
                // refused; a replacement stands on its own when the replaced one is not here.
                let concerns = match &d.business.action {
                    BusinessAction::New => None,
                    BusinessAction::Update => {
                        let target = if d.business.document_id.is_empty() {
                            d.header.document_id.as_str()
                        } else {
                            d.business.document_id.as_str()
                        };
                        match self.received_copy(target, &counterpart).await? {
                            Some(id) => Some(id),
                            None => {
                                let why = "an update of a document this sender did not send us";
                                self.log_in(route, &key, "edoc", None, &sha, "refused", Some(why))
                                    .await?;
                                return Err(why.into());
                            }
                        }
                    }
                    BusinessAction::Replacement => {
                        let mut found = None;
                        for r in &d.business.replacements {
                            if let Some(id) =
                                self.received_copy(&r.document_id, &counterpart).await?
                            {
                                found = Some(id);
                                break;
                            }
                        }
                        found
                    }
                    other => {
                        let why = format!(
                            "business action {:?} is not one the standard defines; the clerk registers it by hand",
                            other.wire()
                        );
                        self.log_in(route, &key, "edoc", None, &sha, "refused", Some(&why))
                            .await?;
                        return Err(why);
                    }
                };
                // The integrity check: a PDF whose signature is invalid is returned to the
                // sender with status 02 and the reason (Decree 30), unless an operator chose to
                // register such documents; an indeterminate one (an unknown CA) is filed, its
                // verdict beside the file for the clerk to judge.
                if let Some(why) = self.invalid_signature(&d, sink.kept()).await?
                    && self.settings.exchange.invalid_signature != "register"
                {
                    self.log_in(route, &key, "edoc", None, &sha, "refused", Some(&why))
                        .await?;
                    self.report_to_sender(t, agency, &d, StatusCode::Refused, &why)
                        .await;
                    out.refused += 1;
                    return Ok(());
                }
                let Some((_doc_id, filed_at)) = self
                    .file_incoming(route, agency, &d, sink.kept(), (&key, concerns), &sha)
                    .await?
                else {
                    // Another worker filed it a moment ago.
                    out.duplicates += 1;
                    return Ok(());
                };
                out.documents += 1;
                // Status 01 back to the sender, the same day; a failure is logged, not undone.
                // Filed with a successor (the 2025 mergers): it answers from its own
                // identifier and names the old addressee.
                let arrived = if filed_at.code == agency {
                    "Đã đến".to_string()
                } else {
                    format!(
                        "Đã đến. Văn bản gửi {agency} (cơ quan đã sắp xếp lại), do {} ({}) tiếp nhận",
                        filed_at.name, filed_at.code
                    )
                };
                self.report_to_sender(t, &filed_at.code, &d, StatusCode::Arrived, &arrived)
                    .await;
                Ok(())
            }
        }
    }

    async fn logged(&self, key: &MessageKey<'_>) -> Result<Option<log::MessageRow>, String> {
        log::find(&mut &self.db, key)
            .await
            .map_err(|e| e.to_string())
    }

    #[allow(clippy::too_many_arguments)]
    async fn log_in(
        &self,
        route: &str,
        key: &MessageKey<'_>,
        message_type: &str,
        document_id: Option<i64>,
        sha: &str,
        state: &str,
        error: Option<&str>,
    ) -> Result<(), String> {
        let internal = |e: egov_store::StoreError| e.to_string();
        let mut ex = &self.db;
        let row = log::attempt(&mut ex, key, route, message_type, document_id, self.now())
            .await
            .map_err(internal)?;
        if document_id.is_some() {
            log::set_document(&mut ex, row.id, document_id)
                .await
                .map_err(internal)?;
        }
        log::settle(&mut ex, row.id, state, Some(sha), None, error, self.now())
            .await
            .map_err(internal)
    }

    /// Files a received document in `agency`'s incoming queue, recording it under its key in
    /// the same transaction; answers its id, or `None` when the key was taken meanwhile.
    async fn file_incoming(
        &self,
        route: &str,
        agency: &str,
        d: &egov_edxml::DocumentPacket,
        kept: &[egov_store::blobs::Written],
        (key, concerns): (&MessageKey<'_>, Option<i64>),
        sha: &str,
    ) -> Result<Option<(i64, egov_store::agencies::Agency)>, String> {
        let internal = |e: egov_store::StoreError| e.to_string();
        let now = self.now();
        let addressed = egov_store::agencies::find_by_code(&mut &self.db, agency)
            .await
            .map_err(internal)?
            .ok_or_else(|| format!("{agency} is not an agency here"))?;
        let ours = self.receiving_agency(&addressed).await?;
        let h = &d.header;
        let kind = egov_domain::documents::kind::KINDS
            .iter()
            .find(|k| k.name_vi.eq_ignore_ascii_case(h.document_type.name.trim()))
            .map(|k| k.key)
            .unwrap_or("official_letter");
        let urgency = match h.other_info.priority {
            egov_edxml::Priority::Urgent => "urgent",
            egov_edxml::Priority::VeryUrgent => "very_urgent",
            egov_edxml::Priority::Express => "express",
            _ => "normal",
        };
        let issuer = if h.from.organ_name.trim().is_empty() {
            h.from.organ_id.clone()
        } else {
            h.from.organ_name.trim().to_string()
        };
        let notation = h.code.joined();
        let subject = if h.subject.trim().is_empty() {
            "(không có trích yếu)".to_string()
        } else {
            h.subject.trim().to_string()
        };
        let mut tx = self.db.begin().await.map_err(internal)?;
        let doc_id = store::insert_document(
            &mut tx,
            &NewDocument {
                origin: "external",
                agency_id: None,
                issuer_name: &issuer,
                issuer_code: Some(h.from.organ_id.as_str()),
                kind,
                legal: h.document_type.code.trim() == "1",
                subject: &subject,
                urgency,
                secrecy: None,
                state: "issued",
                drafter_id: None,
                drafting_unit_id: None,
                recipients_text: "",
                replaces_id: concerns,
                copies: 1,
                search_fold: "",
                access_fold: &egov_store::fts::agency_words(&[ours.id]),
            },
            now,
        )
        .await
        .map_err(internal)?;
        let number: Option<i64> = h.code.number.trim().parse().ok();
        tx.execute(
            "UPDATE documents SET notation = $1, issued_on = $2, number = $3 WHERE id = $4",
            egov_store::args![notation.as_str(), h.promulgation_date, number, doc_id],
        )
        .await
        .map_err(internal)?;
        for (i, (a, blob)) in d.attachments.iter().zip(kept).enumerate() {
            let role = if i == 0 { "main" } else { "attachment" };
            egov_store::blobs::record(
                &mut tx,
                &blob.sha256,
                blob.size as i64,
                &a.content_type,
                now,
            )
            .await
            .map_err(internal)?;
            store::insert_attachment(
                &mut tx,
                doc_id,
                &blob.sha256,
                &a.name,
                &a.content_type,
                blob.size as i64,
                role,
                now,
            )
            .await
            .map_err(internal)?;
            if i == 0 {
                tx.execute(
                    "UPDATE documents SET main_sha = $1 WHERE id = $2",
                    egov_store::args![blob.sha256.as_str(), doc_id],
                )
                .await
                .map_err(internal)?;
            }
        }
        let row = store::get_document(&mut tx, doc_id)
            .await
            .map_err(internal)?;
        store::set_search_fold(&mut tx, doc_id, &crate::documents::search_fold(&row, ""))
            .await
            .map_err(internal)?;
        store::insert_incoming(&mut tx, ours.id, doc_id, "exchange", false, now)
            .await
            .map_err(internal)?;
        if !log::claim_received(&mut tx, key, route, "edoc", Some(doc_id), sha, now)
            .await
            .map_err(internal)?
        {
            // Rolled back: nothing of it is kept twice.
            return Ok(None);
        }
        tx.commit().await.map_err(internal)?;
        Ok(Some((doc_id, ours)))
    }

    /// A status about a document we sent: that recipient's status on our side.
    async fn take_status(
        &self,
        route: &str,
        agency: &str,
        sha: &str,
        s: StatusPacket,
        out: &mut Received,
    ) -> Result<(), String> {
        let internal = |e: egov_store::StoreError| e.to_string();
        let stamp = s
            .timestamp
            .map(|t| t.assume_offset(egov_domain::VN_OFFSET).unix_timestamp())
            .unwrap_or(0);
        let counterpart = format!("{}>{agency}", s.from.organ_id);
        let key = MessageKey {
            direction: "in",
            packet_document_id: &s.response_for.document_id,
            counterpart: &counterpart,
            action: s.status.wire(),
            sequence: stamp,
        };
        if self
            .logged(&key)
            .await?
            .is_some_and(|m| m.state == "received")
        {
            out.duplicates += 1;
            return Ok(());
        }
        // The document it reports on: one we sent to that agency under that DocumentId.
        let sent: Option<(i64,)> = (&self.db)
            .fetch_optional(
                "SELECT document_id FROM exchange_messages WHERE direction = 'out' \
                 AND packet_document_id = $1 AND counterpart = $2 AND state = 'sent' \
                 AND document_id IS NOT NULL LIMIT 1",
                egov_store::args![
                    s.response_for.document_id.as_str(),
                    s.from.organ_id.as_str()
                ],
            )
            .await
            .map_err(internal)?;
        let Some((doc_id,)) = sent else {
            let why = "a status about a document we did not send to that agency";
            self.log_in(route, &key, "status", None, sha, "refused", Some(why))
                .await?;
            return Err(why.into());
        };
        let at = s
            .timestamp
            .map(|t| t.assume_offset(egov_domain::VN_OFFSET))
            .unwrap_or_else(|| self.now());
        (&self.db)
            .execute(
                "UPDATE document_recipients SET status = $1, status_at = $2 \
                 WHERE document_id = $3 AND external_code = $4",
                egov_store::args![s.status.wire(), at, doc_id, s.from.organ_id.as_str()],
            )
            .await
            .map_err(internal)?;
        self.log_in(route, &key, "status", Some(doc_id), sha, "received", None)
            .await?;
        out.statuses += 1;
        Ok(())
    }

    /// egov's document of the copy received from `counterpart` (`sender>addressee`) under this
    /// `DocumentId`, if any.
    async fn received_copy(
        &self,
        document_id: &str,
        counterpart: &str,
    ) -> Result<Option<i64>, String> {
        let found: Option<(i64,)> = (&self.db)
            .fetch_optional(
                "SELECT document_id FROM exchange_messages WHERE direction = 'in' \
                 AND message_type = 'edoc' AND action IN ('new', 'replacement') \
                 AND state = 'received' AND packet_document_id = $1 AND counterpart = $2 \
                 AND document_id IS NOT NULL ORDER BY id LIMIT 1",
                egov_store::args![document_id, counterpart],
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(found.map(|(id,)| id))
    }

    /// A revocation by the sender of a document it sent us: the copy waits for the clerk to
    /// accept (15) or refuse (16) it, as a recall inside egov does. Only the document's own
    /// sender can revoke it.
    async fn take_revocation(
        &self,
        route: &str,
        d: &egov_edxml::DocumentPacket,
        key: &MessageKey<'_>,
        sha: &str,
        out: &mut Received,
    ) -> Result<(), String> {
        let internal = |e: egov_store::StoreError| e.to_string();
        let target = if d.business.document_id.is_empty() {
            d.header.document_id.as_str()
        } else {
            d.business.document_id.as_str()
        };
        let Some(doc_id) = self.received_copy(target, key.counterpart).await? else {
            let why = "a revocation of a document this sender did not send us";
            self.log_in(route, key, "edoc", None, sha, "refused", Some(why))
                .await?;
            return Err(why.into());
        };
        let now = self.now();
        let mut tx = self.db.begin().await.map_err(internal)?;
        if !log::claim_received(&mut tx, key, route, "edoc", Some(doc_id), sha, now)
            .await
            .map_err(internal)?
        {
            out.duplicates += 1;
            return Ok(());
        }
        store::request_recall_of_copies(&mut tx, doc_id, now)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        out.recalls += 1;
        Ok(())
    }

    /// Where a document addressed to `addressed` is filed: the agency itself while it exists;
    /// after it ceased (the 2025 mergers) its default successor, or its only one; where there
    /// is no single successor (a commune split, an abolished district), the province's People's
    /// Committee, whose clerk routes it by hand.
    async fn receiving_agency(
        &self,
        addressed: &egov_store::agencies::Agency,
    ) -> Result<egov_store::agencies::Agency, String> {
        let internal = |e: egov_store::StoreError| e.to_string();
        let today = self.today();
        if addressed.valid_to.is_none_or(|end| end >= today) {
            return Ok(addressed.clone());
        }
        let next = egov_store::agencies::successors(&mut &self.db, addressed.id)
            .await
            .map_err(internal)?;
        let chosen = next
            .iter()
            .find(|l| l.is_default)
            .or_else(|| (next.len() == 1).then(|| &next[0]));
        if let Some(link) = chosen {
            // The successor may itself have ceased since.
            return Box::pin(self.receiving_agency(&link.agency)).await;
        }
        // The province's People's Committee: the level-1 unit of the old identifier.
        let root = match addressed
            .code
            .parse::<egov_domain::agency_code::AgencyCode>()
        {
            Ok(code) => egov_store::agencies::find_by_code(&mut &self.db, &code.root().to_string())
                .await
                .map_err(internal)?,
            Err(_) => None,
        };
        root.ok_or_else(|| {
            format!(
                "{} has ceased and has no single successor, and the province's People's Committee is not here",
                addressed.code
            )
        })
    }

    /// The first PDF attachment whose signature is invalid, as a reason (judged now, the
    /// verdict kept like any file's).
    async fn invalid_signature(
        &self,
        d: &egov_edxml::DocumentPacket,
        kept: &[egov_store::blobs::Written],
    ) -> Result<Option<String>, String> {
        for (a, blob) in d.attachments.iter().zip(kept) {
            let pdf = a.content_type.eq_ignore_ascii_case("application/pdf")
                || a.name.to_ascii_lowercase().ends_with(".pdf");
            if !pdf {
                continue;
            }
            self.judge_stored(&blob.sha256)
                .await
                .map_err(|e| e.message)?;
            let verdict = egov_store::signatures::get(&mut &self.db, &blob.sha256)
                .await
                .map_err(|e| e.to_string())?;
            if verdict.is_some_and(|v| v.status == "invalid") {
                return Ok(Some(format!(
                    "Chữ ký số trên tệp {} không hợp lệ (signature invalid)",
                    a.name
                )));
            }
        }
        Ok(None)
    }

    /// A status about a received document back to its sender; a failure is logged (the
    /// message log shows it failed), not undone.
    async fn report_to_sender<T: Transport>(
        &self,
        t: &T,
        agency: &str,
        d: &egov_edxml::DocumentPacket,
        status: StatusCode,
        description: &str,
    ) {
        let Ok(Some(ours)) = egov_store::agencies::find_by_code(&mut &self.db, agency).await else {
            return;
        };
        let response_for = egov_edxml::ResponseFor {
            organ_id: d.header.from.organ_id.clone(),
            code: d.header.code.joined(),
            promulgation_date: d.header.promulgation_date,
            document_id: d.header.document_id.clone(),
        };
        if let Err(e) = self
            .send_status(t, &ours, (response_for, 0), status, description)
            .await
        {
            tracing::warn!(agency, error = %e, "exchange: status not sent");
        }
    }
}
