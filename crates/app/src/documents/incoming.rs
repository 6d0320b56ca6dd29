//! Incoming documents (văn bản đến): a copy arrives (delivered from an agency of this
//! deployment, or a paper document registered by hand with its scan), is registered with the
//! year's arrival number (shared by paper and electronic documents; secret ones in their own
//! register), presented to the leader, directed to a lead with coordinators and a deadline,
//! handled and completed with the reply linked. Every step is a status the sender sees.

use crate::Code;
use egov_domain::calendar::Limit;
use egov_domain::documents::flow::{InEvent, InState, OutState, next_in, recall_status};
use egov_domain::documents::kind::{DocKind, Secrecy, Urgency};
use egov_domain::documents::notation::parse_loose;
use egov_domain::org::Role;
use egov_store::documents::{self as store, DocumentRow, IncomingRow, IncomingUpdate, NewDocument};
use egov_store::{Exec, Tx};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::outgoing::DocumentDetail;
use super::{changed, search_fold};
use crate::error::OrNotFound;
use crate::views::AsView;
use crate::{Actor, App, AppError, audit, views};

/// Any role an office worker holds in an agency (to see its lists).
pub const ANY_OFFICE_ROLE: [Role; 5] = [
    Role::RecordsClerk,
    Role::Specialist,
    Role::UnitLeader,
    Role::AgencyLeader,
    Role::Administrator,
];

/// A paper document (or one that came by e-mail) registered by hand.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PaperInCmd {
    /// The receiving agency.
    pub agency_id: i64,
    /// The sender as written (`Bộ Nội vụ`).
    pub issuer_name: String,
    /// The sender's identifier, when known.
    #[serde(default)]
    pub issuer_code: Option<String>,
    /// Number and notation exactly as written (`57-NQ/TW`, `12/SY-UBND`).
    pub notation: String,
    pub issued_on: Option<Date>,
    /// A kind key; guessed from the notation when absent.
    #[serde(default)]
    pub kind: Option<String>,
    pub subject: String,
    #[serde(default)]
    pub urgency: Option<String>,
    /// A secret document: a metadata entry in the secret register, nothing more.
    #[serde(default)]
    pub secrecy: Option<String>,
    /// The scan (uploaded first, see `/api/v1/scans`); not allowed for secret documents.
    #[serde(default)]
    pub scan: Option<String>,
    /// When it arrived (default: now).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub arrived_at: Option<OffsetDateTime>,
}

/// Whom an incoming document is directed to, and by when.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
pub struct Direction {
    /// The lead unit and/or person (at least one).
    #[serde(default)]
    pub lead_unit_id: Option<i64>,
    #[serde(default)]
    pub lead_person_id: Option<i64>,
    #[serde(default)]
    pub coordinator_units: Vec<i64>,
    #[serde(default)]
    pub coordinator_people: Vec<i64>,
    /// A deadline date, or a number of working days from now.
    #[serde(default)]
    pub deadline: Option<Date>,
    #[serde(default)]
    pub working_days: Option<u32>,
}

/// What is done to an incoming copy: one variant per event, with exactly what it needs,
/// tagged by `event` (`{"event": "direct", "version": 2, "lead_person_id": 7, "working_days": 5}`).
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum InCommand {
    /// The records office enters it in the incoming register.
    Register,
    /// The records office refuses it (the note gives the reason).
    Reject,
    /// A leader directs it.
    Direct(Direction),
    /// The lead starts handling it.
    Start,
    /// The lead completes it, with the reply document if there is one.
    Complete {
        #[serde(default)]
        reply_document_id: Option<i64>,
    },
    /// The sender asked for it back, and gets it.
    AcceptRecall,
    /// The sender asked for it back, and is refused.
    RefuseRecall,
}

impl InCommand {
    /// The event's name (`register`, …, `refuse_recall`).
    pub fn name(&self) -> &'static str {
        match self.event() {
            Some(e) => e.as_str(),
            None => "refuse_recall",
        }
    }

    /// The event of the copy's flow; none for refusing a recall, which leaves the copy's
    /// state as it is.
    pub fn event(&self) -> Option<InEvent> {
        Some(match self {
            InCommand::Register => InEvent::Register,
            InCommand::Reject => InEvent::Reject,
            InCommand::Direct(_) => InEvent::Direct,
            InCommand::Start => InEvent::Start,
            InCommand::Complete { .. } => InEvent::Complete,
            InCommand::AcceptRecall => InEvent::AcceptRecall,
            InCommand::RefuseRecall => return None,
        })
    }

    /// The command of an event given by name (a form's `event` field), with the direction and
    /// the reply a form may carry; an unknown name is `bad_event`.
    pub fn parse(
        event: &str,
        direction: Direction,
        reply_document_id: Option<i64>,
    ) -> Result<InCommand, AppError> {
        if event == "refuse_recall" {
            return Ok(InCommand::RefuseRecall);
        }
        let e = InEvent::parse(event).ok_or_else(|| {
            AppError::invalid(Code::BadEvent, "There is no such action.").arg("value", event)
        })?;
        Ok(match e {
            InEvent::Register => InCommand::Register,
            InEvent::Reject => InCommand::Reject,
            InEvent::Direct => InCommand::Direct(direction),
            InEvent::Start => InCommand::Start,
            InEvent::Complete => InCommand::Complete { reply_document_id },
            InEvent::AcceptRecall => InCommand::AcceptRecall,
        })
    }
}

/// An incoming copy's command with what every command carries: the version the person saw
/// and a note.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct InAction {
    pub version: i64,
    #[serde(default)]
    pub note: String,
    #[serde(flatten)]
    pub command: InCommand,
}

/// What a registration returns: the copy, and a likely duplicate to look at.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Registered {
    pub copy: crate::views::Incoming,
    pub duplicate_of: Option<i64>,
}

fn sender_status(s: InState) -> &'static str {
    s.status_code()
}

impl App {
    /// Registers a paper document that arrived: the external document, its copy, its arrival
    /// number, in one transaction. A likely duplicate is flagged, not refused.
    pub async fn register_paper_incoming(
        &self,
        actor: &Actor,
        cmd: PaperInCmd,
    ) -> Result<Registered, AppError> {
        let now = self.now();
        let PaperChecked {
            notation,
            issuer,
            subject,
            number,
            kind,
            urgency,
            secrecy,
            arrived,
        } = check_paper(&cmd, now)?;
        let mut tx = self.db.begin().await?;
        self.require_in(&mut tx, actor, &[Role::RecordsClerk], cmd.agency_id)
            .await?;
        let scan_type: Option<String> = match &cmd.scan {
            Some(sha) => Some(crate::onestop::scans::referable_scan(&mut tx, actor, sha).await?),
            None => None,
        };
        let duplicate =
            store::find_duplicate(&mut tx, cmd.agency_id, &issuer, &notation, cmd.issued_on)
                .await?;
        let doc_id = store::insert_document(
            &mut tx,
            &NewDocument {
                origin: "external",
                agency_id: None,
                issuer_name: &issuer,
                issuer_code: cmd
                    .issuer_code
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty()),
                kind,
                legal: false,
                subject: &subject,
                urgency: urgency.as_str(),
                secrecy: secrecy.map(|s| s.as_str()),
                state: "issued",
                drafter_id: None,
                drafting_unit_id: None,
                recipients_text: "",
                replaces_id: None,
                copies: 1,
                search_fold: "",
                access_fold: &egov_store::fts::agency_words(&[cmd.agency_id]),
            },
            self.now(),
        )
        .await?;
        tx.execute(
            "UPDATE documents SET notation = $1, issued_on = $2, number = $3 WHERE id = $4",
            egov_store::args![notation.as_str(), cmd.issued_on, number, doc_id],
        )
        .await?;
        let d = store::get_document(&mut tx, doc_id).await?;
        if secrecy.is_none() {
            store::set_search_fold(&mut tx, doc_id, &search_fold(&d, "")).await?;
        }
        if let (Some(sha), Some(t)) = (&cmd.scan, &scan_type) {
            self.attach_paper_scan(&mut tx, doc_id, sha, t).await?;
        }
        let copy_id = store::insert_incoming(
            &mut tx,
            cmd.agency_id,
            doc_id,
            "paper",
            secrecy.is_some(),
            arrived,
        )
        .await?;
        let copy = store::get_incoming(&mut tx, copy_id).await?;
        let copy = self
            .apply_in(
                &mut tx,
                actor,
                &copy,
                InEvent::Register,
                &InAction::plain(InCommand::Register, copy.version),
                duplicate,
            )
            .await?;
        audit::event("document.register_incoming", "incoming", copy_id)
            .agency(Some(cmd.agency_id))
            .after(&copy.view())
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(Registered {
            copy: copy.into(),
            duplicate_of: duplicate,
        })
    }

    /// Attaches a paper document's scan as its main file; a worker reads it for search (its
    /// text layer, else OCR).
    async fn attach_paper_scan(
        &self,
        tx: &mut Tx,
        doc_id: i64,
        sha: &str,
        t: &str,
    ) -> Result<(), AppError> {
        self.queue_text(tx, doc_id, sha, t).await?;
        let size: i64 = tx
            .scalar(
                "SELECT size FROM blobs WHERE sha256 = $1",
                egov_store::args![sha],
            )
            .await?;
        store::insert_attachment(tx, doc_id, sha, "scan", t, size, "main", self.now()).await?;
        tx.execute(
            "UPDATE documents SET main_sha = $1 WHERE id = $2",
            egov_store::args![sha, doc_id],
        )
        .await?;
        Ok(())
    }

    /// Acts on an incoming copy.
    pub async fn act_on_incoming(
        &self,
        actor: &Actor,
        copy_id: i64,
        a: InAction,
    ) -> Result<IncomingRow, AppError> {
        if matches!(a.command, InCommand::Direct(_)) {
            self.ensure_calendar_seeded().await?;
        }
        let mut tx = self.db.begin().await?;
        let copy = store::get_incoming(&mut tx, copy_id)
            .await
            .or_not_found("document")?;
        if !self
            .holds_in(&mut tx, actor, &ANY_OFFICE_ROLE, copy.agency_id)
            .await?
        {
            return Err(AppError::not_found("document"));
        }
        if copy.version != a.version {
            return Err(changed());
        }
        let after = match a.command.event() {
            None => self.refuse_recall(&mut tx, actor, &copy, &a).await?,
            Some(event) => {
                self.apply_in(&mut tx, actor, &copy, event, &a, None)
                    .await?
            }
        };
        audit::event(
            &format!("incoming.{}", a.command.name()),
            "incoming",
            copy_id,
        )
        .agency(Some(copy.agency_id))
        .before(&copy.view())
        .after(&after.view())
        .write(&mut tx, actor)
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The sender is on another system: the step's status goes back as a packet, sent by the
    /// worker after this transaction commits.
    async fn queue_status_back(
        &self,
        tx: &mut Tx,
        copy: &IncomingRow,
        status: &str,
        note: &str,
    ) -> Result<(), AppError> {
        egov_store::jobs::enqueue(
            tx,
            crate::exchange::status::STATUS_JOB,
            &serde_json::json!({ "incoming_id": copy.id, "status": status, "note": note.trim() }),
            &format!("exchange-status:{}:{status}:{}", copy.id, copy.version),
            self.now(),
            self.settings.exchange.max_attempts,
        )
        .await?;
        Ok(())
    }

    async fn refuse_recall(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        copy: &IncomingRow,
        a: &InAction,
    ) -> Result<IncomingRow, AppError> {
        if copy.recall_status.as_deref() != Some(recall_status::REQUESTED) {
            return Err(AppError::conflict(
                Code::NoRecall,
                "The sender has not asked for this document back.",
            ));
        }
        self.require_in(
            tx,
            actor,
            &[Role::AgencyLeader, Role::RecordsClerk],
            copy.agency_id,
        )
        .await?;
        let u = IncomingUpdate {
            recall_status: Some(Some(recall_status::REFUSED.into())),
            ..Default::default()
        };
        if !store::update_incoming(tx, copy.id, copy.version, &u, self.now()).await? {
            return Err(changed());
        }
        if copy.channel == "exchange" {
            self.queue_status_back(tx, copy, recall_status::REFUSED, &a.note)
                .await?;
        }
        store::set_recipient_status(
            tx,
            copy.document_id,
            copy.agency_id,
            recall_status::REFUSED,
            self.now(),
        )
        .await?;
        store::insert_event(
            tx,
            copy.document_id,
            Some(copy.id),
            self.now(),
            actor.person_id,
            &actor.username,
            "refuse_recall",
            Some(copy.state.as_str()),
            copy.state.as_str(),
            &serde_json::json!({ "status": recall_status::REFUSED, "note": a.note.trim() }),
        )
        .await?;
        Ok(store::get_incoming(tx, copy.id).await?)
    }

    /// Whether the actor may take `event` on an incoming copy (its state aside): the one check
    /// behind both the action and the buttons a page shows.
    pub(crate) async fn may_act_in(
        &self,
        ex: &mut impl Exec,
        actor: &Actor,
        copy: &IncomingRow,
        event: InEvent,
    ) -> Result<bool, AppError> {
        let agency = copy.agency_id;
        let leads = copy.lead_person_id.is_some() && copy.lead_person_id == actor.person_id;
        Ok(match event {
            InEvent::Register | InEvent::Reject => {
                self.holds_in(&mut *ex, actor, &[Role::RecordsClerk], agency)
                    .await?
            }
            InEvent::Direct => {
                self.holds_in(
                    &mut *ex,
                    actor,
                    &[Role::AgencyLeader, Role::UnitLeader],
                    agency,
                )
                .await?
            }
            InEvent::Start | InEvent::Complete => {
                leads
                    || self
                        .holds_in(
                            &mut *ex,
                            actor,
                            &[Role::AgencyLeader, Role::UnitLeader],
                            agency,
                        )
                        .await?
            }
            InEvent::AcceptRecall => {
                copy.recall_status.as_deref() == Some(recall_status::REQUESTED)
                    && self
                        .holds_in(
                            &mut *ex,
                            actor,
                            &[Role::AgencyLeader, Role::RecordsClerk],
                            agency,
                        )
                        .await?
            }
        })
    }

    async fn apply_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        copy: &IncomingRow,
        event: InEvent,
        a: &InAction,
        duplicate: Option<i64>,
    ) -> Result<IncomingRow, AppError> {
        let from = copy.state;
        let to = next_in(from, event).map_err(|e| {
            AppError::conflict(Code::IllegalTransition, e.to_string())
                .arg("state", from.as_str())
                .arg("event", event.as_str())
        })?;
        let agency = copy.agency_id;
        let allowed = self.may_act_in(&mut *tx, actor, copy, event).await?;
        if !allowed {
            if event == InEvent::AcceptRecall
                && copy.recall_status.as_deref() != Some(recall_status::REQUESTED)
            {
                return Err(AppError::conflict(
                    Code::NoRecall,
                    "The sender has not asked for this document back.",
                ));
            }
            return Err(AppError::forbidden());
        }
        let mut u = IncomingUpdate {
            state: Some(to.as_str().to_owned()),
            ..Default::default()
        };
        let mut data = serde_json::json!({ "note": a.note.trim() });
        match event {
            InEvent::Register => {
                data = self.on_register(tx, actor, copy, duplicate, &mut u).await?;
            }
            InEvent::Reject => {
                if a.note.trim().is_empty() {
                    return Err(AppError::invalid(
                        Code::ReasonRequired,
                        "Give the reason for refusing it.",
                    ));
                }
            }
            InEvent::Direct => {
                let none = Direction::default();
                let direction = match &a.command {
                    InCommand::Direct(d) => d,
                    _ => &none,
                };
                data = self
                    .on_direct(tx, actor, copy, &a.note, direction, &mut u)
                    .await?;
            }
            InEvent::Complete => {
                u.completed = true;
                if let InCommand::Complete {
                    reply_document_id: Some(r),
                } = a.command
                {
                    let reply = store::get_document(tx, r).await.or_not_found("document")?;
                    if reply.agency_id != Some(agency) {
                        return Err(AppError::invalid(
                            Code::BadReply,
                            "The reply is a document of the same agency.",
                        ));
                    }
                    u.reply_document_id = Some(r);
                    data = serde_json::json!({ "note": a.note.trim(), "reply_document_id": r });
                }
            }
            InEvent::AcceptRecall => {
                u.recall_status = Some(Some(recall_status::ACCEPTED.into()));
            }
            InEvent::Start => {}
        }
        if !store::update_incoming(tx, copy.id, copy.version, &u, self.now()).await? {
            return Err(changed());
        }
        let status = if event == InEvent::AcceptRecall {
            recall_status::ACCEPTED
        } else {
            sender_status(to)
        };
        store::set_recipient_status(tx, copy.document_id, agency, status, self.now()).await?;
        if copy.channel == "exchange" {
            self.queue_status_back(tx, copy, status, &a.note).await?;
        }
        store::insert_event(
            tx,
            copy.document_id,
            Some(copy.id),
            self.now(),
            actor.person_id,
            &actor.username,
            event.as_str(),
            Some(from.as_str()),
            to.as_str(),
            &data,
        )
        .await?;
        Ok(store::get_incoming(tx, copy.id).await?)
    }

    /// Registration: the next arrival number of the agency's register for the year (the
    /// secret register counts on its own).
    async fn on_register(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        copy: &IncomingRow,
        duplicate: Option<i64>,
        u: &mut IncomingUpdate,
    ) -> Result<serde_json::Value, AppError> {
        let agency = copy.agency_id;
        let year = self.today().year();
        let n = egov_store::onestop::next_counter(
            tx,
            "doc-in",
            &format!(
                "{agency}:{}:{year}",
                if copy.secret { "secret" } else { "all" }
            ),
        )
        .await?;
        u.arrival = Some((year, n));
        u.registered_by = actor.person_id;
        u.duplicate_of = duplicate;
        Ok(serde_json::json!({ "arrival_number": n, "year": year, "duplicate_of": duplicate }))
    }

    /// Direction: a lead (unit or person), coordinators of the same agency, and a deadline
    /// (a date, or working days from now).
    async fn on_direct(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        copy: &IncomingRow,
        note: &str,
        d: &Direction,
        u: &mut IncomingUpdate,
    ) -> Result<serde_json::Value, AppError> {
        let agency = copy.agency_id;
        if d.lead_unit_id.is_none() && d.lead_person_id.is_none() {
            return Err(AppError::invalid(
                Code::LeadRequired,
                "Name the lead unit or person who handles the document.",
            ));
        }
        self.check_people_and_units(tx, agency, d).await?;
        let deadline = match (d.deadline, d.working_days) {
            (Some(d), _) => {
                if d < self.today() {
                    return Err(
                        AppError::invalid(Code::BadDate, "The deadline is in the past.")
                            .arg("value", d),
                    );
                }
                Some(
                    d.with_hms(17, 0, 0)
                        .map_err(|e| AppError::internal(e.to_string()))?
                        .assume_offset(egov_domain::VN_OFFSET)
                        .to_offset(time::UtcOffset::UTC),
                )
            }
            (None, Some(days)) if days > 0 && days <= 365 => Some(
                self.due(
                    tx,
                    Some(agency),
                    self.now(),
                    Limit::WorkingDays { halves: days * 2 },
                    &[],
                )
                .await?,
            ),
            (None, Some(_)) => {
                return Err(AppError::invalid(
                    Code::BadDeadline,
                    "Working days run from 1 to 365.",
                ));
            }
            (None, None) => None,
        };
        u.lead_unit_id = Some(d.lead_unit_id);
        u.lead_person_id = Some(d.lead_person_id);
        u.deadline = Some(deadline.map(egov_store::db_time));
        u.direction = Some(note.trim().to_owned());
        u.directed_by = actor.person_id;
        store::set_coordinators(tx, copy.id, &d.coordinator_units, &d.coordinator_people).await?;
        Ok(serde_json::json!({
            "note": note.trim(), "lead_unit_id": d.lead_unit_id, "lead_person_id": d.lead_person_id,
            "coordinator_units": d.coordinator_units, "coordinator_people": d.coordinator_people,
            "deadline": deadline.map(egov_store::ts_text),
        }))
    }

    /// Leads and coordinators must belong to the receiving agency.
    async fn check_people_and_units(
        &self,
        tx: &mut Tx,
        agency: i64,
        d: &Direction,
    ) -> Result<(), AppError> {
        let units = d.lead_unit_id.iter().chain(d.coordinator_units.iter());
        for u in units {
            let unit = egov_store::org::get_org_unit(tx, *u).await.map_err(|_| {
                AppError::invalid(Code::UnknownUnit, "There is no such unit.").arg("value", *u)
            })?;
            if unit.agency_id != agency {
                return Err(AppError::invalid(
                    Code::UnitOfOtherAgency,
                    "That unit belongs to another agency.",
                )
                .arg("value", *u));
            }
        }
        for p in d.lead_person_id.iter().chain(d.coordinator_people.iter()) {
            let n: i64 = tx
                .scalar(
                    "SELECT COUNT(*) FROM postings WHERE person_id = $1 AND agency_id = $2 AND valid_from <= $3 \
                     AND (valid_to IS NULL OR valid_to > $3)",
                    egov_store::args![*p, agency, self.now()],
                )
                .await?;
            if n == 0 {
                return Err(AppError::invalid(
                    Code::PersonOfOtherAgency,
                    "That person does not work in this agency now.",
                )
                .arg("value", *p));
            }
        }
        Ok(())
    }

    /// Incoming copies of an agency in some states (the clerk's arrivals, the leader's list).
    pub async fn incoming_list(
        &self,
        actor: &Actor,
        agency_id: i64,
        states: &[&str],
    ) -> Result<Vec<IncomingRow>, AppError> {
        let mut ex = &self.db;
        self.require_in(&mut ex, actor, &ANY_OFFICE_ROLE, agency_id)
            .await?;
        Ok(store::incoming_of(&mut ex, agency_id, states, 200).await?)
    }

    /// What the person leads or coordinates, soonest deadline first.
    pub async fn my_handling(&self, actor: &Actor) -> Result<Vec<IncomingRow>, AppError> {
        let Some(p) = actor.person_id else {
            return Ok(Vec::new());
        };
        Ok(store::handling_of(&mut &self.db, p, 200).await?)
    }

    /// Full-text search over what the person may see.
    pub async fn search_documents(
        &self,
        actor: &Actor,
        q: &str,
    ) -> Result<Vec<DocumentRow>, AppError> {
        let Some(p) = actor.person_id else {
            return Ok(Vec::new());
        };
        Ok(store::search(&mut &self.db, p, q, self.now(), 50).await?)
    }

    /// A document as its reader may see it; the read is audited.
    pub async fn document_detail(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<DocumentDetail, AppError> {
        let mut tx = self.db.begin_snapshot().await?;
        let d = self.visible_document(&mut tx, actor, id).await?;
        let copy = match actor.official()? {
            Some(p) => {
                store::reader_copy(
                    &mut tx,
                    id,
                    p,
                    &ANY_OFFICE_ROLE.map(|r| r.as_str()),
                    self.now(),
                )
                .await?
            }
            None => None,
        };
        let actions = self
            .reader_actions(&mut tx, actor, &d, copy.as_ref())
            .await?;
        let may_add_files = d.origin == "internal"
            && d.secrecy.is_none()
            && matches!(
                d.state,
                OutState::Draft | OutState::InReview | OutState::AwaitingSignOff
            )
            && match d.agency_id {
                Some(a) => {
                    self.holds_in(&mut tx, actor, &super::outgoing::DRAFTERS, a)
                        .await?
                }
                None => false,
            };
        let may_send_update = d.origin == "internal"
            && d.state == OutState::Issued
            && d.secrecy.is_none()
            && match d.agency_id {
                Some(a) => {
                    self.holds_in(&mut tx, actor, &[Role::AgencyLeader, Role::RecordsClerk], a)
                        .await?
                        && store::recipients(&mut tx, id)
                            .await?
                            .iter()
                            .any(|r| r.external_code.is_some())
                }
                None => false,
            };
        let (lead, coordinators) = match &copy {
            Some(c) => direction_names(&mut tx, c).await?,
            None => (Vec::new(), Vec::new()),
        };
        let kind_name = DocKind::by_key(&d.kind)
            .map(|k| k.name_vi.to_owned())
            .unwrap_or_else(|| d.kind.clone());
        let mut attachments = store::attachments(&mut tx, id).await?;
        let mut events = store::events(&mut tx, id).await?;
        let mut files = store::files_of_document(&mut tx, id).await?;
        let mut d = d;
        let as_sender = self.reads_as_sender(&mut tx, actor, &d).await?;
        if !as_sender {
            // A recipient sees what was issued, and their own agency's handling of it: not the
            // sender's drafts, earlier PDFs, reviews, comments, nor who drafted it.
            attachments.retain(|a| super::issued_file(&d, a));
            let own_copy = copy.as_ref().map(|c| c.id);
            events.retain(|e| match e.incoming_id {
                Some(copy) => Some(copy) == own_copy,
                None => super::EVENTS_FOR_RECIPIENTS.contains(&e.event.as_str()),
            });
            let own_agency = copy.as_ref().map(|c| c.agency_id);
            files.retain(|f| Some(f.agency_id) == own_agency);
            d.drafter_id = None;
            d.drafting_unit_id = None;
        }
        // The statuses outside recipients reported, for the sender's people only.
        let outside_statuses = if as_sender {
            let rows: Vec<(String, String, time::OffsetDateTime)> = tx
                .fetch_all(
                    "SELECT counterpart, action, created_at FROM exchange_messages \
                     WHERE document_id = $1 AND direction = 'in' AND message_type = 'status' \
                     AND state = 'received' ORDER BY id",
                    egov_store::args![id],
                )
                .await?;
            rows.into_iter()
                .map(|(agency, status, at)| super::outgoing::OutsideStatus {
                    agency: agency
                        .split_once('>')
                        .map_or(agency.clone(), |(s, _)| s.to_string()),
                    status,
                    at,
                })
                .collect()
        } else {
            Vec::new()
        };
        let detail = DocumentDetail {
            outside_statuses,
            attachments: views::all(attachments),
            recipients: views::all(store::recipients(&mut tx, id).await?),
            events: views::all(events),
            files: views::all(files),
            kind_name,
            copy: copy.map(Into::into),
            actions,
            may_add_files,
            may_send_update,
            lead,
            coordinators,
            document: d.into(),
        };
        tx.commit().await?;
        let mut w = self.db.begin().await?;
        audit::event("document.read", "document", id)
            .agency(detail.document.agency_id)
            .write(&mut w, actor)
            .await?;
        w.commit().await?;
        Ok(detail)
    }

    /// What the reader may do to a document now: the incoming flow's events on their
    /// agency's copy, refusing a recall, and the outgoing flow's events in the sending agency.
    async fn reader_actions(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        d: &DocumentRow,
        copy: Option<&IncomingRow>,
    ) -> Result<Vec<String>, AppError> {
        let mut actions = Vec::new();
        if let Some(c) = copy {
            let s = c.state;
            for e in InEvent::ALL {
                if next_in(s, *e).is_ok() && self.may_act_in(tx, actor, c, *e).await? {
                    actions.push(e.as_str().to_owned());
                }
            }
            if c.recall_status.as_deref() == Some(recall_status::REQUESTED)
                && self
                    .holds_in(
                        tx,
                        actor,
                        &[Role::AgencyLeader, Role::RecordsClerk],
                        c.agency_id,
                    )
                    .await?
            {
                actions.push("refuse_recall".into());
            }
        }
        if d.origin == "internal"
            && d.agency_id
                .is_some_and(|a| copy.is_none_or(|c| c.agency_id != a))
        {
            let s = d.state;
            let agency = d.agency_id.unwrap_or_default();
            for e in egov_domain::documents::flow::OutEvent::ALL {
                if egov_domain::documents::flow::next_out(s, *e).is_ok()
                    && self.may_act_out(tx, actor, d, agency, *e).await?
                {
                    actions.push(e.as_str().to_owned());
                }
            }
        }
        Ok(actions)
    }

    /// The incoming register of an agency for a year (secret entries in their own register,
    /// for the records office only).
    pub async fn incoming_register(
        &self,
        actor: &Actor,
        agency_id: i64,
        year: i32,
        secret: bool,
    ) -> Result<Vec<IncomingRow>, AppError> {
        let mut ex = &self.db;
        self.require_in(&mut ex, actor, register_readers(secret), agency_id)
            .await?;
        Ok(store::incoming_register(&mut ex, agency_id, year, secret).await?)
    }

    pub async fn outgoing_register(
        &self,
        actor: &Actor,
        agency_id: i64,
        year: i32,
        secret: bool,
    ) -> Result<Vec<DocumentRow>, AppError> {
        let mut ex = &self.db;
        self.require_in(&mut ex, actor, register_readers(secret), agency_id)
            .await?;
        Ok(store::outgoing_register(&mut ex, agency_id, year, secret).await?)
    }
}

/// Who reads a register: the secret ones are the records office's alone.
fn register_readers(secret: bool) -> &'static [Role] {
    if secret {
        &[Role::RecordsClerk]
    } else {
        &ANY_OFFICE_ROLE
    }
}

impl InAction {
    /// A command without a note.
    fn plain(command: InCommand, version: i64) -> InAction {
        InAction {
            version,
            note: String::new(),
            command,
        }
    }
}

/// A paper document's particulars as the clerk typed them, checked.
struct PaperChecked {
    notation: String,
    issuer: String,
    subject: String,
    /// The number read from the notation, when it has one.
    number: Option<i64>,
    kind: &'static str,
    urgency: Urgency,
    secrecy: Option<Secrecy>,
    arrived: OffsetDateTime,
}

/// Checks what a clerk typed for a paper document (pure: nothing is read).
fn check_paper(cmd: &PaperInCmd, now: OffsetDateTime) -> Result<PaperChecked, AppError> {
    let notation = egov_domain::text::nfc(cmd.notation.trim());
    let issuer = egov_domain::text::nfc(cmd.issuer_name.trim());
    if notation.is_empty() || notation.chars().count() > 50 {
        return Err(AppError::invalid(
            Code::BadNotation,
            "The number and notation are required, as written on the document (at most 50 characters).",
        ));
    }
    if issuer.is_empty() {
        return Err(AppError::invalid(
            Code::SenderRequired,
            "Who sent the document?",
        ));
    }
    let subject = super::outgoing::subject_of(&cmd.subject)?;
    let loose = parse_loose(&notation);
    let kind = match cmd.kind.as_deref().filter(|k| !k.is_empty()) {
        Some(k) => {
            DocKind::by_key(k)
                .ok_or_else(|| {
                    AppError::invalid(
                        Code::UnknownDocumentKind,
                        "There is no such kind of document.",
                    )
                    .arg("value", k.to_owned())
                })?
                .key
        }
        None => loose.kind.unwrap_or("official_letter"),
    };
    let urgency = super::outgoing::urgency_of(cmd.urgency.as_deref())?;
    let secrecy = super::outgoing::secrecy_of(cmd.secrecy.as_deref())?;
    if secrecy.is_some() && cmd.scan.is_some() {
        return Err(super::secret_no_content());
    }
    let arrived = egov_store::db_time(cmd.arrived_at.unwrap_or(now));
    if arrived > now + time::Duration::minutes(5) {
        return Err(
            AppError::invalid(Code::BadDate, "The arrival cannot be in the future.")
                .arg("value", arrived),
        );
    }
    Ok(PaperChecked {
        number: loose.number.map(i64::from),
        notation,
        issuer,
        subject,
        kind,
        urgency,
        secrecy,
        arrived,
    })
}

/// The names of the unit and person leading the handling of a copy, and of those
/// coordinating, leaders first.
async fn direction_names(
    tx: &mut Tx,
    c: &IncomingRow,
) -> Result<(Vec<String>, Vec<String>), AppError> {
    let (mut lead, mut coordinators) = (Vec::new(), Vec::new());
    let rows = store::coordinators(&mut *tx, c.id).await?;
    let units = c
        .lead_unit_id
        .into_iter()
        .map(|u| (true, u))
        .chain(rows.iter().filter_map(|r| r.unit_id).map(|u| (false, u)));
    for (leads, u) in units.collect::<Vec<_>>() {
        let name = egov_store::org::get_org_unit(&mut *tx, u).await?.name;
        if leads { &mut lead } else { &mut coordinators }.push(name);
    }
    let people = c
        .lead_person_id
        .into_iter()
        .map(|p| (true, p))
        .chain(rows.iter().filter_map(|r| r.person_id).map(|p| (false, p)));
    for (leads, p) in people.collect::<Vec<_>>() {
        let name = egov_store::people::get(&mut *tx, p).await?.full_name;
        if leads { &mut lead } else { &mut coordinators }.push(name);
    }
    Ok((lead, coordinators))
}
