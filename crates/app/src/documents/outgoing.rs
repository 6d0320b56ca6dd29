//! Outgoing documents (văn bản đi): draft → review → sign-off (number and date allocated, in
//! the same transaction) → issue (registered and delivered to every recipient agency of this
//! deployment in one transaction; those outside queued for the exchange). Paper-signed
//! documents are registered in the same series; numbers can be reserved; issued documents can
//! be recalled or replaced, and a number is never reused.

use crate::Code;
use egov_domain::documents::flow::{OutEvent, OutState, next_out};
use egov_domain::documents::kind::{DocKind, Secrecy, Urgency};
use egov_domain::documents::notation::Notation;
use egov_domain::org::Role;
use egov_store::documents::{self as store, DocumentRow, NewDocument, Numbering};
use egov_store::{Exec, Tx, agencies, org};
use serde::{Deserialize, Serialize};
use time::Date;

use super::files::{FileRole, check};
use super::{RecipientInput, changed, search_fold};
use crate::error::OrNotFound;
use crate::views::AsView;
use crate::{Actor, App, AppError, audit};

pub(crate) const DRAFTERS: [Role; 3] = [Role::Specialist, Role::UnitLeader, Role::AgencyLeader];

/// A new draft.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct DraftCmd {
    /// The issuing agency.
    pub agency_id: i64,
    /// A kind key (`decision`, `official_letter` …; see `/api/v1/document-kinds`).
    pub kind: String,
    /// A legal normative document (resolutions and decisions only): its own series, and the
    /// year in the notation.
    #[serde(default)]
    pub legal: bool,
    pub subject: String,
    /// `normal` (default), `urgent`, `very_urgent`, `express`.
    #[serde(default)]
    pub urgency: Option<String>,
    /// For a công văn: the drafting unit's or field's abbreviation (`VX`); by default the
    /// initials of the drafter's unit.
    #[serde(default)]
    pub unit_abbr: Option<String>,
    #[serde(default)]
    pub recipients: Vec<RecipientInput>,
    /// "Nơi nhận" as printed, for those not in the list (`Lưu: VT, TCBC.`).
    #[serde(default)]
    pub recipients_text: String,
    /// The document this one replaces.
    #[serde(default)]
    pub replaces_id: Option<i64>,
    /// A secrecy mark: refused — secret documents are never drafted on a networked system.
    #[serde(default)]
    pub secrecy: Option<String>,
}

impl DraftCmd {
    /// A draft of `kind` by `agency_id` with everything else as the form leaves it by default.
    pub fn new(agency_id: i64, kind: &str, subject: &str) -> Self {
        DraftCmd {
            agency_id,
            kind: kind.to_owned(),
            subject: subject.to_owned(),
            ..Default::default()
        }
    }
}

/// A file sent with a new draft.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub name: String,
    /// The type the browser declared, checked against the content.
    pub declared: Option<String>,
    pub bytes: Vec<u8>,
}

fn main_file_required() -> AppError {
    AppError::invalid(
        Code::MainFileRequired,
        "Upload the document itself (a PDF, or a .docx/.odt converted to PDF) first.",
    )
}

/// What a person does to an outgoing document: one variant per event, with exactly what that
/// event needs, tagged by `event` (`{"event": "sign_off", "version": 3, "mark": "KT."}`).
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum OutCommand {
    /// The drafter hands the draft to review.
    Submit,
    /// Back to the drafters; the note says what must change.
    Return,
    /// The reviewer passes it to the signer.
    Approve,
    /// The signer signs off: number and date are allocated.
    SignOff {
        /// The competence mark to sign with when the leader holds several (`""`, `KT.`, `TM.`,
        /// `TL.`, `TUQ.`, `Q.`); the first in force otherwise.
        #[serde(default)]
        mark: Option<String>,
    },
    /// The records office issues it to its recipients.
    Issue,
    /// The sender asks for it back.
    Recall,
    /// The draft is abandoned.
    Cancel,
}

impl OutCommand {
    pub fn event(&self) -> OutEvent {
        match self {
            OutCommand::Submit => OutEvent::Submit,
            OutCommand::Return => OutEvent::Return,
            OutCommand::Approve => OutEvent::Approve,
            OutCommand::SignOff { .. } => OutEvent::SignOff,
            OutCommand::Issue => OutEvent::Issue,
            OutCommand::Recall => OutEvent::Recall,
            OutCommand::Cancel => OutEvent::Cancel,
        }
    }

    /// The command of an event given by name (a form's `event` field, with its `mark`); an
    /// unknown name is `bad_event`.
    pub fn parse(event: &str, mark: Option<String>) -> Result<OutCommand, AppError> {
        Ok(
            match OutEvent::parse(event).ok_or_else(|| {
                AppError::invalid(Code::BadEvent, "There is no such action.").arg("value", event)
            })? {
                OutEvent::Submit => OutCommand::Submit,
                OutEvent::Return => OutCommand::Return,
                OutEvent::Approve => OutCommand::Approve,
                OutEvent::SignOff => OutCommand::SignOff { mark },
                OutEvent::Issue => OutCommand::Issue,
                OutEvent::Recall => OutCommand::Recall,
                OutEvent::Cancel => OutCommand::Cancel,
            },
        )
    }
}

/// An outgoing document's command with what every command carries: the version the person saw
/// (a stale one is refused) and a note.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct OutAction {
    pub version: i64,
    #[serde(default)]
    pub note: String,
    #[serde(flatten)]
    pub command: OutCommand,
}

impl OutAction {
    /// A command by its event's name, as a form or a test names it.
    pub fn parse(
        event: &str,
        version: i64,
        note: String,
        mark: Option<String>,
    ) -> Result<Self, AppError> {
        Ok(OutAction {
            version,
            note,
            command: OutCommand::parse(event, mark)?,
        })
    }
}

/// A paper-signed document registered by the records office in the agency's series.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct PaperOutCmd {
    pub agency_id: i64,
    pub kind: String,
    #[serde(default)]
    pub legal: bool,
    pub subject: String,
    #[serde(default)]
    pub urgency: Option<String>,
    /// A secrecy mark makes this a metadata-only entry in the secret register.
    #[serde(default)]
    pub secrecy: Option<String>,
    #[serde(default)]
    pub unit_abbr: Option<String>,
    pub signer_name: String,
    #[serde(default)]
    pub signer_mark: String,
    #[serde(default)]
    pub signer_position: String,
    /// Default: today.
    #[serde(default)]
    pub issued_on: Option<Date>,
    #[serde(default)]
    pub recipients: Vec<RecipientInput>,
    #[serde(default)]
    pub recipients_text: String,
    /// Use a number reserved earlier instead of the next one.
    #[serde(default)]
    pub reservation_id: Option<i64>,
    #[serde(default)]
    pub copies: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ReserveCmd {
    pub agency_id: i64,
    pub kind: String,
    #[serde(default)]
    pub legal: bool,
    #[serde(default)]
    pub note: String,
}

/// A document with everything about it its reader may see.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentDetail {
    pub document: crate::views::Document,
    pub kind_name: String,
    pub attachments: Vec<crate::views::Attachment>,
    pub recipients: Vec<crate::views::Recipient>,
    pub events: Vec<crate::views::DocumentEvent>,
    /// The reader's agency's copy, when the document came in.
    pub copy: Option<crate::views::Incoming>,
    /// Work files the document is in.
    pub files: Vec<crate::views::WorkFile>,
    /// What the reader may do now (events of the outgoing or the incoming flow).
    pub actions: Vec<String>,
    /// Whether the reader may add files now (a draft's drafters, until sign-off).
    pub may_add_files: bool,
    /// Whether the reader may send the issued document's outside recipients an update (the
    /// issuing agency's leader or records clerk).
    pub may_send_update: bool,
    /// For the sender: every status the outside recipients reported through the exchange,
    /// oldest first.
    pub outside_statuses: Vec<OutsideStatus>,
    /// For the reader's copy: who leads it and who coordinates, by name (units, then people).
    pub lead: Vec<String>,
    pub coordinators: Vec<String>,
}

/// A status an agency outside egov reported on a document we sent it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutsideStatus {
    /// The agency's identifier.
    pub agency: String,
    /// `01`…`06`, `15`, `16`.
    pub status: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
}

fn kind_of(key: &str) -> Result<&'static DocKind, AppError> {
    DocKind::by_key(key).ok_or_else(|| {
        AppError::invalid(
            Code::UnknownDocumentKind,
            "There is no such kind of document.",
        )
        .arg("value", key.to_owned())
    })
}

pub(super) fn urgency_of(s: Option<&str>) -> Result<Urgency, AppError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Urgency::Normal),
        Some(u) => Urgency::parse(u).ok_or_else(|| {
            AppError::invalid(
                Code::BadUrgency,
                "Urgency is normal, urgent, very_urgent or express.",
            )
            .arg("value", u.to_owned())
        }),
    }
}

pub(super) fn secrecy_of(s: Option<&str>) -> Result<Option<Secrecy>, AppError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => Secrecy::parse(v).map(Some).ok_or_else(|| {
            AppError::invalid(
                Code::BadSecrecy,
                "Secrecy is confidential, secret or top_secret.",
            )
            .arg("value", v.to_owned())
        }),
    }
}

fn check_legal(kind: &DocKind, legal: bool) -> Result<(), AppError> {
    if legal && !kind.may_be_legal {
        return Err(AppError::invalid(
            Code::NotLegalKind,
            "Only resolutions and decisions can be legal normative documents here.",
        ));
    }
    Ok(())
}

pub(super) fn subject_of(s: &str) -> Result<String, AppError> {
    let s = egov_domain::text::nfc(s.trim());
    if s.is_empty() || s.chars().count() > 500 {
        return Err(AppError::invalid(
            Code::BadSubject,
            "The subject (trích yếu) is required, at most 500 characters.",
        ));
    }
    Ok(s)
}

/// The series a number comes from: secret documents have their own, legal normative documents
/// one per kind, the rest one for the agency or one per kind as the agency chose.
fn series_for(kind: &DocKind, legal: bool, secret: bool, mode: &str) -> String {
    if secret {
        "secret".into()
    } else if legal {
        format!("legal:{}", kind.key)
    } else if mode == "per_kind" {
        kind.key.into()
    } else {
        "all".into()
    }
}

/// The default abbreviation of an internal unit: the initials of its name after its kind word
/// ("Phòng Tổ chức - Biên chế" → `TCBC`; "Văn phòng" → `VP`).
pub fn unit_initials(name: &str) -> String {
    let folded = egov_domain::text::fold(name);
    if folded == "van phong" || folded.starts_with("van phong ") {
        return "VP".into();
    }
    let words: Vec<&str> = name
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !w.is_empty())
        .collect();
    let skip = match words.first().map(|w| egov_domain::text::fold(w)) {
        Some(w) if ["phong", "ban", "trung", "chi"].contains(&w.as_str()) => 1,
        _ => 0,
    };
    words[skip.min(words.len())..]
        .iter()
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_uppercase)
        .collect()
}

impl App {
    /// Starts a draft in the actor's agency.
    pub async fn create_draft(
        &self,
        actor: &Actor,
        cmd: DraftCmd,
    ) -> Result<DocumentRow, AppError> {
        let kind = kind_of(&cmd.kind)?;
        if secrecy_of(cmd.secrecy.as_deref())?.is_some() {
            return Err(AppError::invalid(
                Code::SecretNotAllowed,
                "A document with a secrecy mark is never drafted or stored on a networked system: register only its paper original's details in the secret register.",
            ));
        }
        check_legal(kind, cmd.legal)?;
        let subject = subject_of(&cmd.subject)?;
        let urgency = urgency_of(cmd.urgency.as_deref())?;
        let mut tx = self.db.begin().await?;
        self.require_in(&mut tx, actor, &DRAFTERS, cmd.agency_id)
            .await?;
        let agency = agencies::get(&mut tx, cmd.agency_id)
            .await
            .or_not_found("agency")?;
        let unit = match actor.official()? {
            Some(p) => org::postings_of(&mut tx, p, Some(self.now()))
                .await?
                .into_iter()
                .find(|x| x.agency_id == agency.id)
                .and_then(|x| x.org_unit_id),
            None => None,
        };
        let recipients = self.check_recipients(&mut tx, &cmd.recipients).await?;
        if let Some(r) = cmd.replaces_id {
            let old = store::get_document(&mut tx, r)
                .await
                .or_not_found("document")?;
            if old.agency_id != Some(agency.id) || old.state != OutState::Issued {
                return Err(AppError::invalid(
                    Code::BadReplacement,
                    "A document replaces an issued document of the same agency.",
                ));
            }
        }
        let unit_abbr = match cmd
            .unit_abbr
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(a) => Some(a.to_owned()),
            None => match unit {
                Some(u) => Some(unit_initials(&org::get_org_unit(&mut tx, u).await?.name)),
                None => None,
            },
        };
        let data = serde_json::json!({ "unit_abbr": unit_abbr });
        let fold = egov_domain::text::fold(&format!("{subject} {}", agency.name));
        let id = store::insert_document(
            &mut tx,
            &NewDocument {
                origin: "internal",
                agency_id: Some(agency.id),
                issuer_name: &agency.name,
                issuer_code: Some(&agency.code),
                kind: kind.key,
                legal: cmd.legal,
                subject: &subject,
                urgency: urgency.as_str(),
                secrecy: None,
                state: OutState::Draft.as_str(),
                drafter_id: actor.person_id,
                drafting_unit_id: unit,
                recipients_text: cmd.recipients_text.trim(),
                replaces_id: cmd.replaces_id,
                copies: 1,
                search_fold: &fold,
                access_fold: &egov_store::fts::agency_words(&[agency.id]),
            },
            self.now(),
        )
        .await?;
        store::insert_recipients(&mut tx, id, &recipients).await?;
        store::insert_event(
            &mut tx,
            id,
            None,
            self.now(),
            actor.person_id,
            &actor.username,
            "draft",
            None,
            OutState::Draft.as_str(),
            &data,
        )
        .await?;
        let d = store::get_document(&mut tx, id).await?;
        audit::event("document.draft", "document", id)
            .agency(Some(agency.id))
            .after(&d.view())
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(d)
    }

    /// Adds a file to a document: the main PDF, the editable draft, or an attachment. Drafts
    /// take files until sign-off; nothing is ever attached to a secret entry. A .docx or .odt
    /// draft also becomes the document's PDF when LibreOffice is installed
    /// (`documents.libreoffice`); it is converted first, so a draft that cannot be converted is
    /// refused with nothing stored.
    pub async fn add_document_file(
        &self,
        actor: &Actor,
        document_id: i64,
        role: &str,
        name: &str,
        declared: Option<&str>,
        bytes: Vec<u8>,
    ) -> Result<store::AttachmentRow, AppError> {
        let converted = match FileRole::parse(role) {
            Some(FileRole::Draft) => {
                self.convert_draft(actor, document_id, name, declared, &bytes)
                    .await?
            }
            _ => None,
        };
        let row = self
            .store_document_file(actor, document_id, role, name, declared, bytes)
            .await?;
        if let Some(pdf) = converted {
            let stem = name.rsplit_once('.').map_or(name, |(s, _)| s).trim();
            self.store_document_file(
                actor,
                document_id,
                "main",
                &format!("{stem}.pdf"),
                Some(super::files::PDF),
                pdf,
            )
            .await?;
        }
        Ok(row)
    }

    /// The PDF of a word-processor draft, when LibreOffice is installed and the actor may see
    /// the document; `None` for other files or without LibreOffice.
    async fn convert_draft(
        &self,
        actor: &Actor,
        document_id: i64,
        name: &str,
        declared: Option<&str>,
        bytes: &[u8],
    ) -> Result<Option<Vec<u8>>, AppError> {
        let media_type = check(FileRole::Draft, name, declared, bytes)?;
        if media_type == super::files::PDF {
            return Ok(None);
        }
        let d = self
            .visible_document(&mut &self.db, actor, document_id)
            .await?;
        if d.secrecy.is_some() {
            return Err(super::secret_no_content());
        }
        self.word_to_pdf(media_type, bytes).await
    }

    /// A .docx or .odt turned into PDF by LibreOffice; `None` for other types or when
    /// LibreOffice is not installed.
    async fn word_to_pdf(
        &self,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Option<Vec<u8>>, AppError> {
        let extension = match media_type {
            super::files::DOCX => "docx",
            super::files::ODT => "odt",
            _ => return Ok(None),
        };
        let Some(soffice) = super::convert::find_program(&self.settings.documents.libreoffice)
        else {
            return Ok(None);
        };
        let bytes = bytes.to_vec();
        let pdf = tokio::task::spawn_blocking(move || {
            super::convert::to_pdf(&soffice, &bytes, extension)
        })
        .await
        .map_err(|e| AppError::internal(e.to_string()))??;
        Ok(Some(pdf))
    }

    /// Starts a draft with its files, as the drafting page sends it: the document itself (a
    /// PDF, or a .docx/.odt turned into the PDF) and any attachments. Every file is judged —
    /// and a word-processor draft converted — before anything is written, so a refused file
    /// leaves no draft behind.
    pub async fn create_draft_with_files(
        &self,
        actor: &Actor,
        cmd: DraftCmd,
        main: Option<NewFile>,
        attachments: Vec<NewFile>,
    ) -> Result<DocumentRow, AppError> {
        let main = main.ok_or_else(main_file_required)?;
        let main_type = check(
            FileRole::Draft,
            &main.name,
            main.declared.as_deref(),
            &main.bytes,
        )?;
        self.check_pdf_size(main_type, &main.bytes)?;
        for a in &attachments {
            let t = check(
                FileRole::Attachment,
                &a.name,
                a.declared.as_deref(),
                &a.bytes,
            )?;
            self.check_pdf_size(t, &a.bytes)?;
        }
        let converted = if main_type == super::files::PDF {
            None
        } else {
            Some(self.word_to_pdf(main_type, &main.bytes).await?.ok_or_else(|| {
                AppError::invalid(
                    Code::ConversionUnavailable,
                    "This server cannot turn .docx or .odt files into PDF: upload the PDF of the document.",
                )
            })?)
        };
        let d = self.create_draft(actor, cmd).await?;
        let stored = async {
            let main_role = if converted.is_some() { "draft" } else { "main" };
            self.store_document_file(
                actor,
                d.id,
                main_role,
                &main.name,
                main.declared.as_deref(),
                main.bytes,
            )
            .await?;
            if let Some(pdf) = converted {
                let stem = main
                    .name
                    .rsplit_once('.')
                    .map_or(main.name.as_str(), |(s, _)| s);
                self.store_document_file(
                    actor,
                    d.id,
                    "main",
                    &format!("{}.pdf", stem.trim()),
                    Some(super::files::PDF),
                    pdf,
                )
                .await?;
            }
            for a in attachments {
                self.store_document_file(
                    actor,
                    d.id,
                    "attachment",
                    &a.name,
                    a.declared.as_deref(),
                    a.bytes,
                )
                .await?;
            }
            Ok::<_, AppError>(())
        }
        .await;
        if let Err(e) = stored {
            // Judged above, so only the disk or the database can fail here: the draft does
            // not stay behind without its files.
            let current = store::get_document(&mut &self.db, d.id).await?;
            let _ = self
                .act_on_document(
                    actor,
                    d.id,
                    OutAction {
                        version: current.version,
                        note: format!("files not stored: {}", e.code),
                        command: OutCommand::Cancel,
                    },
                )
                .await;
            return Err(e);
        }
        Ok(store::get_document(&mut &self.db, d.id).await?)
    }

    async fn store_document_file(
        &self,
        actor: &Actor,
        document_id: i64,
        role: &str,
        name: &str,
        declared: Option<&str>,
        bytes: Vec<u8>,
    ) -> Result<store::AttachmentRow, AppError> {
        let role = FileRole::parse(role).ok_or_else(|| {
            AppError::invalid(
                Code::BadFileRole,
                "A file is the main document, a draft or an attachment.",
            )
        })?;
        // Check the document before the bytes: a secret entry refuses any content.
        {
            let mut ex = &self.db;
            let d = self.visible_document(&mut ex, actor, document_id).await?;
            if d.secrecy.is_some() {
                return Err(super::secret_no_content());
            }
        }
        let media_type = check(role, name, declared, &bytes)?;
        self.check_pdf_size(media_type, &bytes)?;
        let size = bytes.len() as i64;
        let (sha, bytes) = Self::digest(bytes).await?;
        let att_id = self
            .with_new_blob(sha, bytes, |sha, _bytes| async move {
                let mut tx = self.db.begin().await?;
                let d = self.visible_document(&mut tx, actor, document_id).await?;
                if d.secrecy.is_some() {
                    return Err(super::secret_no_content());
                }
                let editable = d.origin == "external"
                    || matches!(d.state, OutState::Draft | OutState::InReview)
                    || (d.state == OutState::AwaitingSignOff && role == FileRole::Attachment);
                if !editable {
                    return Err(AppError::conflict(
                        Code::DocumentNotEditable,
                        "Files can no longer be changed: the document is signed off.",
                    ));
                }
                match (d.agency_id, d.origin.as_str()) {
                    (Some(a), "internal") => self.require_in(&mut tx, actor, &DRAFTERS, a).await?,
                    _ => {
                        // A registered external document: the records office of a recipient adds scans.
                        let copy: Option<i64> = match actor.person_id {
                            Some(p) => tx
                                .scalar_optional(
                                    "SELECT i.agency_id FROM incoming i JOIN role_grants g ON g.agency_id = i.agency_id \
                                     WHERE i.document_id = $1 AND g.person_id = $2 AND g.role = 'records_clerk' \
                                     AND g.valid_from <= $3 AND (g.valid_to IS NULL OR g.valid_to > $3) LIMIT 1",
                                    egov_store::args![document_id, p, self.now()],
                                )
                                .await?,
                            None => Some(0),
                        };
                        if copy.is_none() {
                            return Err(AppError::forbidden());
                        }
                    }
                }
                egov_store::blobs::record(&mut tx, &sha, size, media_type, self.now()).await?;
                // Signatures are judged by a worker as soon as it can (judging parses the whole
                // file); the verdict is kept with the file and shown beside it.
                if media_type == crate::documents::files::PDF {
                    self.queue_judging(&mut tx, &sha).await?;
                }
                let att_id = store::insert_attachment(
                    &mut tx,
                    document_id,
                    &sha,
                    name.trim(),
                    media_type,
                    size,
                    role.as_str(),
                    self.now(),
                )
                .await?;
                // The files' words are read for search by a worker (text layers, then OCR for
                // what has none), not on the upload. A new main file starts the index entry
                // again, so every file of the document is read again.
                if role == FileRole::Main {
                    store::set_main_file(&mut tx, document_id, &sha, &search_fold(&d, "")).await?;
                    for a in store::attachments(&mut tx, document_id).await? {
                        self.queue_text(&mut tx, document_id, &a.sha256, &a.media_type)
                            .await?;
                    }
                } else {
                    self.queue_text(&mut tx, document_id, &sha, media_type).await?;
                }
                audit::event("document.file_added", "document", document_id)
                    .agency(d.agency_id)
                    .after(&serde_json::json!({"sha256": sha, "role": role.as_str(), "name": name}))
                    .write(&mut tx, actor)
                    .await?;
                tx.commit().await?;
                Ok(att_id)
            })
            .await?;
        store::attachments(&mut &self.db, document_id)
            .await?
            .into_iter()
            .find(|a| a.id == att_id)
            .ok_or_else(|| AppError::internal("attachment vanished"))
    }

    /// A file of a document, for someone who may see the document; the read is audited.
    /// Returns (bytes, media type, file name).
    pub async fn document_file(
        &self,
        actor: &Actor,
        document_id: i64,
        attachment_id: i64,
    ) -> Result<(Vec<u8>, String, String), AppError> {
        let mut tx = self.db.begin().await?;
        let d = self.visible_document(&mut tx, actor, document_id).await?;
        let sender = self.reads_as_sender(&mut tx, actor, &d).await?;
        let a = store::attachments(&mut tx, document_id)
            .await?
            .into_iter()
            .find(|a| a.id == attachment_id && (sender || super::issued_file(&d, a)))
            .ok_or_else(|| AppError::not_found("file"))?;
        audit::event("document.file_read", "document", document_id)
            .agency(d.agency_id)
            .after(&serde_json::json!({ "attachment_id": attachment_id }))
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        let bytes = self.read_blob(&a.sha256).await?;
        Ok((bytes, a.media_type, a.name))
    }

    /// Moves an outgoing document along its flow.
    pub async fn act_on_document(
        &self,
        actor: &Actor,
        id: i64,
        a: OutAction,
    ) -> Result<DocumentRow, AppError> {
        let event = a.command.event();
        // Signing authority is read before the write transaction (it reads postings and
        // delegations at this instant).
        let authorities = match (event, actor.person_id) {
            (OutEvent::SignOff, Some(p)) => Some(self.signing_authorities(p, self.now()).await?),
            _ => None,
        };
        if matches!(event, OutEvent::Issue) {
            self.ensure_calendar_seeded().await?;
        }
        let mut tx = self.db.begin().await?;
        let d = self.visible_document(&mut tx, actor, id).await?;
        let agency = d
            .agency_id
            .filter(|_| d.origin == "internal")
            .ok_or_else(|| {
                AppError::conflict(
                    Code::NotOutgoing,
                    "Only documents drafted here move along the outgoing flow.",
                )
            })?;
        if d.version != a.version {
            return Err(changed());
        }
        let from = d.state;
        let to = next_out(from, event).map_err(|e| {
            AppError::conflict(Code::IllegalTransition, e.to_string())
                .arg("state", from.as_str())
                .arg("event", event.as_str())
        })?;
        let allowed = self.may_act_out(&mut tx, actor, &d, agency, event).await?;
        if !allowed {
            return Err(AppError::forbidden());
        }
        if event == OutEvent::Return && a.note.trim().is_empty() {
            return Err(AppError::invalid(
                Code::CommentsRequired,
                "Say what needs to change when returning a draft.",
            ));
        }
        if matches!(
            event,
            OutEvent::Submit | OutEvent::Approve | OutEvent::SignOff
        ) && d.main_sha.is_none()
        {
            return Err(main_file_required());
        }
        let note = a.note.trim();
        let data = match event {
            OutEvent::SignOff => {
                let mark = match &a.command {
                    OutCommand::SignOff { mark } => mark.as_deref(),
                    _ => None,
                };
                self.on_sign_off(&mut tx, actor, &d, agency, authorities, mark, note)
                    .await?
            }
            OutEvent::Issue => self.on_issue(&mut tx, actor, &d, agency, note).await?,
            OutEvent::Recall => self.on_recall(&mut tx, &d, note).await?,
            _ => serde_json::json!({ "note": note }),
        };
        if !store::set_document_state(&mut tx, id, d.version, to.as_str(), self.now()).await? {
            return Err(changed());
        }
        store::insert_event(
            &mut tx,
            id,
            None,
            self.now(),
            actor.person_id,
            &actor.username,
            event.as_str(),
            Some(from.as_str()),
            to.as_str(),
            &data,
        )
        .await?;
        let after = store::get_document(&mut tx, id).await?;
        audit::event(&format!("document.{}", event.as_str()), "document", id)
            .agency(Some(agency))
            .before(&d.view())
            .after(&after.view())
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Sign-off: the signer's authority for this agency now (its mark, or the first in
    /// force), the number and date allocated and written into the file before anyone signs.
    #[allow(clippy::too_many_arguments)]
    async fn on_sign_off(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        d: &DocumentRow,
        agency: i64,
        authorities: Option<Vec<crate::org::SigningAuthorityView>>,
        mark: Option<&str>,
        note: &str,
    ) -> Result<serde_json::Value, AppError> {
        let id = d.id;
        let auth = authorities.unwrap_or_default();
        let mine: Vec<_> = auth.iter().filter(|x| x.agency_id == agency).collect();
        let chosen = match mark {
            Some(m) => mine.iter().find(|x| x.mark == m).copied(),
            None => mine.first().copied(),
        };
        let Some(chosen) = chosen else {
            return Err(AppError::new(
                crate::ErrorKind::Forbidden,
                Code::NoSigningAuthority,
                "You may not sign for this agency now (no posting or delegation in force).",
            ));
        };
        let mark = chosen.mark.clone();
        let (name, position) = self.signer_identity(tx, actor, agency).await?;
        let n = self
            .allocate_number(tx, d, agency, None, self.today())
            .await?;
        store::set_numbering(
            tx,
            id,
            &Numbering {
                signer_id: actor.person_id,
                signer_name: &name,
                signer_mark: &mark,
                signer_position: &position,
                ..n.as_numbering()
            },
        )
        .await?;
        // The number and date go into the file before anyone signs it.
        let numbered = store::get_document(tx, id).await?;
        let file = self
            .number_into_pdf(tx, &numbered, &n.notation, n.issued_on, actor.person_id)
            .await?;
        Ok(serde_json::json!({
            "note": note, "number": n.number, "notation": n.notation,
            "issued_on": n.issued_on.to_string(), "mark": mark, "delegation_id": chosen.delegation_id,
            "file": file,
        }))
    }

    /// Issue: the seal goes on, the copies go out, and the issue is a domain event.
    async fn on_issue(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        d: &DocumentRow,
        agency: i64,
        note: &str,
    ) -> Result<serde_json::Value, AppError> {
        let id = d.id;
        // The seal goes on before the copies go out, so that every recipient gets it.
        let code = agencies::get(tx, agency).await?.code;
        let seal = self.seal_at_issue(tx, d, &code).await?;
        let d = store::get_document(tx, id).await?;
        let delivered = self.deliver(tx, &d).await?;
        let data = serde_json::json!({ "note": note, "delivered": delivered.0, "queued_for_exchange": delivered.1, "seal": seal });
        let payload = serde_json::json!({
            "notation": d.notation, "number": d.number,
            "issued_on": d.issued_on.map(|x| x.to_string()),
            "delivered": delivered.0, "queued_for_exchange": delivered.1,
        });
        crate::events::Appended {
            aggregate_id: id,
            agency_id: Some(agency),
            actor_id: actor.person_id,
            at: self.now(),
            kinds: vec![egov_domain::events::EventKind::DocumentIssued],
            payload: &payload,
        }
        .append(tx)
        .await?;
        Ok(data)
    }

    /// Recall: every copy is asked back, through the exchange where it went out that way.
    async fn on_recall(
        &self,
        tx: &mut Tx,
        d: &DocumentRow,
        note: &str,
    ) -> Result<serde_json::Value, AppError> {
        let id = d.id;
        if note.is_empty() {
            return Err(AppError::invalid(
                Code::ReasonRequired,
                "Give the reason for the recall.",
            ));
        }
        let n = store::request_recall_of_copies(tx, id, self.now()).await?;
        let rs = store::recipients(tx, id).await?;
        self.queue_exchange(tx, d, &rs, "revocation", note, 0)
            .await?;
        Ok(serde_json::json!({ "reason": note, "copies": n }))
    }

    /// Whether the actor may take `event` on an outgoing document of `agency` (its state
    /// aside): the one check behind both the action and the buttons a page shows.
    pub(crate) async fn may_act_out(
        &self,
        ex: &mut impl Exec,
        actor: &Actor,
        d: &DocumentRow,
        agency: i64,
        event: OutEvent,
    ) -> Result<bool, AppError> {
        Ok(match event {
            OutEvent::Submit => {
                d.drafter_id == actor.person_id
                    || self.holds_in(&mut *ex, actor, &DRAFTERS, agency).await?
            }
            OutEvent::Return | OutEvent::Approve => {
                self.holds_in(&mut *ex, actor, &[Role::AgencyLeader], agency)
                    .await?
                    || self
                        .holds_in_unit(
                            &mut *ex,
                            actor,
                            &[Role::UnitLeader],
                            agency,
                            d.drafting_unit_id.or(Some(0)),
                        )
                        .await?
            }
            OutEvent::SignOff => {
                self.holds_in(&mut *ex, actor, &[Role::AgencyLeader], agency)
                    .await?
            }
            OutEvent::Issue => {
                self.holds_in(&mut *ex, actor, &[Role::RecordsClerk], agency)
                    .await?
            }
            OutEvent::Recall => {
                self.holds_in(
                    &mut *ex,
                    actor,
                    &[Role::AgencyLeader, Role::RecordsClerk],
                    agency,
                )
                .await?
            }
            OutEvent::Cancel => {
                d.drafter_id == actor.person_id
                    || self
                        .holds_in(&mut *ex, actor, &[Role::AgencyLeader], agency)
                        .await?
            }
        })
    }

    async fn signer_identity(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        agency: i64,
    ) -> Result<(String, String), AppError> {
        let Some(p) = actor.person_id else {
            return Ok((actor.username.clone(), String::new()));
        };
        let postings = org::postings_of(tx, p, Some(self.now())).await?;
        let posting = postings
            .iter()
            .find(|x| x.agency_id == agency)
            .or(postings.first());
        Ok(match posting {
            Some(x) => (x.person_name.clone(), x.position_name.clone()),
            None => (actor.username.clone(), String::new()),
        })
    }

    /// Takes the next number of the document's series (or a reserved one) and builds its
    /// notation. Inside the caller's transaction: a failure later gives the number back.
    async fn allocate_number(
        &self,
        tx: &mut Tx,
        d: &DocumentRow,
        agency_id: i64,
        reserved: Option<i64>,
        issued_on: Date,
    ) -> Result<Allocated, AppError> {
        let kind = kind_of(&d.kind)?;
        let agency = agencies::get(tx, agency_id).await?;
        let mode = store::series_mode(tx, agency_id).await?;
        let series = series_for(kind, d.legal, d.secrecy.is_some(), &mode);
        let year = issued_on.year();
        let number = match reserved {
            Some(r) => {
                let res = store::get_reservation(tx, r)
                    .await
                    .or_not_found("reservation")?;
                if res.agency_id != agency_id || res.series != series || res.year != i64::from(year)
                {
                    return Err(AppError::invalid(
                        Code::ReservationMismatch,
                        "That reserved number belongs to another series or year.",
                    ));
                }
                if !store::use_reservation(tx, r, d.id).await? {
                    return Err(AppError::conflict(
                        Code::NumberTaken,
                        "That reserved number has been used already.",
                    ));
                }
                res.number
            }
            None => {
                egov_store::onestop::next_counter(
                    tx,
                    "doc-out",
                    &format!("{agency_id}:{series}:{year}"),
                )
                .await?
            }
        };
        let unit_abbr: Option<String> = store::events(tx, d.id)
            .await?
            .iter()
            .find(|e| e.event == "draft")
            .and_then(|e| serde_json::from_str::<serde_json::Value>(&e.data_json).ok())
            .and_then(|v| {
                v.get("unit_abbr")
                    .and_then(|u| u.as_str())
                    .map(str::to_owned)
            });
        let issuer = if agency.short_name.trim().is_empty() {
            "UBND".to_owned()
        } else {
            agency.short_name.trim().to_owned()
        };
        let notation = Notation::new(
            kind,
            d.legal.then_some(year),
            u32::try_from(number).map_err(|_| AppError::internal("number out of range"))?,
            &issuer,
            if kind.abbr.is_none() {
                unit_abbr.as_deref().or(Some("VP"))
            } else {
                None
            },
        )
        .map_err(|e| AppError::invalid(Code::BadNotation, e.to_string()))?
        .to_string();
        let mut with = d.clone();
        with.notation = Some(notation.clone());
        Ok(Allocated {
            series,
            year,
            number,
            notation,
            issued_on,
            fold: search_fold(&with, ""),
        })
    }

    /// Issues: every recipient agency of this deployment gets its incoming copy now, in this
    /// transaction; recipients outside are queued for the exchange. Returns (delivered, queued).
    async fn deliver(&self, tx: &mut Tx, d: &DocumentRow) -> Result<(usize, usize), AppError> {
        let rs = store::recipients(tx, d.id).await?;
        let internal: Vec<i64> = rs
            .iter()
            .filter_map(|r| r.agency_id)
            .filter(|a| Some(*a) != d.agency_id)
            .collect();
        if d.secrecy.is_none() {
            store::insert_incoming_many(tx, d.id, &internal, "electronic", self.now()).await?;
            store::add_access(tx, d.id, &internal).await?;
            store::mark_delivered(tx, d.id, self.now()).await?;
        }
        let external = rs.iter().filter(|r| r.agency_id.is_none()).count();
        if external > 0 && d.secrecy.is_none() {
            // A document replacing an issued one goes out as a replacement of it.
            let action = if d.replaces_id.is_some() {
                "replacement"
            } else {
                "new"
            };
            self.queue_exchange(tx, d, &rs, action, "", 0).await?;
        }
        Ok((internal.len(), external))
    }

    /// Queues a packet for each recipient outside the deployment (sent by the exchange).
    async fn queue_exchange(
        &self,
        tx: &mut Tx,
        d: &DocumentRow,
        recipients: &[store::RecipientRow],
        action: &str,
        reason: &str,
        sequence: i64,
    ) -> Result<(), AppError> {
        for r in recipients {
            let Some(code) = &r.external_code else {
                continue;
            };
            egov_store::jobs::enqueue(
                tx,
                EXCHANGE_SEND,
                &serde_json::json!({
                    "document_id": d.id, "action": action, "to": code, "reason": reason,
                    "sequence": sequence,
                }),
                &format!("exchange:{}:{}:{}:{sequence}", d.id, action, code),
                self.now(),
                self.settings.exchange.max_attempts,
            )
            .await?;
        }
        Ok(())
    }

    /// Sends the issued document's outside recipients an update of it (edXML business action
    /// 2: the same `DocumentId`, the document as it is now, the reason): each update its own
    /// message, never taken for a resend. The issuing agency's leader or records clerk; audited.
    pub async fn send_update(&self, actor: &Actor, id: i64, reason: &str) -> Result<i64, AppError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::invalid(
                Code::ReasonRequired,
                "Say what the update changes.",
            ));
        }
        let mut tx = self.db.begin().await?;
        let d = store::get_document(&mut tx, id)
            .await
            .or_not_found("document")?;
        let Some(agency) = d.agency_id else {
            return Err(AppError::not_found("document"));
        };
        if !self
            .holds_in(
                &mut tx,
                actor,
                &[Role::AgencyLeader, Role::RecordsClerk],
                agency,
            )
            .await?
        {
            return Err(AppError::forbidden());
        }
        let rs = store::recipients(&mut tx, id).await?;
        if d.state != OutState::Issued
            || d.secrecy.is_some()
            || !rs.iter().any(|r| r.external_code.is_some())
        {
            return Err(AppError::conflict(
                Code::IllegalTransition,
                "Only an issued document sent to agencies outside egov can be updated for them.",
            ));
        }
        // The updates sent before, counted in the audit log: each update its own sequence. The
        // document's row is written first, so that two updates at once are counted in turn.
        tx.execute(
            "UPDATE documents SET updated_at = $2 WHERE id = $1",
            egov_store::args![id, self.now()],
        )
        .await?;
        let sequence: i64 = tx
            .scalar(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'document.exchange_update' \
                 AND object_type = 'document' AND object_id = $1",
                egov_store::args![id.to_string()],
            )
            .await?;
        self.queue_exchange(&mut tx, &d, &rs, "update", reason, sequence)
            .await?;
        audit::event("document.exchange_update", "document", id)
            .agency(Some(agency))
            .after(&serde_json::json!({ "reason": reason, "sequence": sequence }))
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(sequence)
    }

    /// Registers a paper-signed document in the agency's series (or a secret one, metadata
    /// only, in the secret series) and delivers it like an issued one.
    pub async fn register_paper_outgoing(
        &self,
        actor: &Actor,
        cmd: PaperOutCmd,
    ) -> Result<DocumentRow, AppError> {
        let kind = kind_of(&cmd.kind)?;
        check_legal(kind, cmd.legal)?;
        let subject = subject_of(&cmd.subject)?;
        let urgency = urgency_of(cmd.urgency.as_deref())?;
        let secrecy = secrecy_of(cmd.secrecy.as_deref())?;
        if cmd.signer_name.trim().is_empty() {
            return Err(AppError::invalid(
                Code::SignerRequired,
                "Who signed the paper original?",
            ));
        }
        let mut tx = self.db.begin().await?;
        self.require_in(&mut tx, actor, &[Role::RecordsClerk], cmd.agency_id)
            .await?;
        let agency = agencies::get(&mut tx, cmd.agency_id)
            .await
            .or_not_found("agency")?;
        let recipients = self.check_recipients(&mut tx, &cmd.recipients).await?;
        let id = store::insert_document(
            &mut tx,
            &NewDocument {
                origin: "internal",
                agency_id: Some(agency.id),
                issuer_name: &agency.name,
                issuer_code: Some(&agency.code),
                kind: kind.key,
                legal: cmd.legal,
                subject: &subject,
                urgency: urgency.as_str(),
                secrecy: secrecy.map(|s| s.as_str()),
                state: OutState::SignedOff.as_str(),
                drafter_id: None,
                drafting_unit_id: None,
                recipients_text: cmd.recipients_text.trim(),
                replaces_id: None,
                copies: cmd.copies.unwrap_or(1).max(1),
                search_fold: "",
                access_fold: &egov_store::fts::agency_words(&[agency.id]),
            },
            self.now(),
        )
        .await?;
        store::insert_recipients(&mut tx, id, &recipients).await?;
        store::insert_event(
            &mut tx,
            id,
            None,
            self.now(),
            actor.person_id,
            &actor.username,
            "draft",
            None,
            OutState::SignedOff.as_str(),
            &serde_json::json!({ "unit_abbr": cmd.unit_abbr, "paper": true }),
        )
        .await?;
        let d = store::get_document(&mut tx, id).await?;
        let issued_on = cmd.issued_on.unwrap_or_else(egov_store::vn_today);
        let n = self
            .allocate_number(&mut tx, &d, agency.id, cmd.reservation_id, issued_on)
            .await?;
        let fold = if secrecy.is_some() {
            String::new()
        } else {
            n.fold.clone()
        };
        store::set_numbering(
            &mut tx,
            id,
            &Numbering {
                signer_id: None,
                signer_name: cmd.signer_name.trim(),
                signer_mark: cmd.signer_mark.trim(),
                signer_position: cmd.signer_position.trim(),
                search_fold: &fold,
                ..n.as_numbering()
            },
        )
        .await?;
        let d = store::get_document(&mut tx, id).await?;
        let delivered = self.deliver(&mut tx, &d).await?;
        if !store::set_document_state(
            &mut tx,
            id,
            d.version,
            OutState::Issued.as_str(),
            self.now(),
        )
        .await?
        {
            return Err(changed());
        }
        store::insert_event(
            &mut tx,
            id,
            None,
            self.now(),
            actor.person_id,
            &actor.username,
            "issue",
            Some(OutState::SignedOff.as_str()),
            OutState::Issued.as_str(),
            &serde_json::json!({ "paper": true, "number": n.number, "notation": n.notation, "delivered": delivered.0 }),
        )
        .await?;
        let after = store::get_document(&mut tx, id).await?;
        audit::event("document.register_paper", "document", id)
            .agency(Some(agency.id))
            .after(&after.view())
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Reserves the next number of a series for a document to be registered later.
    pub async fn reserve_number(
        &self,
        actor: &Actor,
        cmd: ReserveCmd,
    ) -> Result<store::ReservationRow, AppError> {
        let kind = kind_of(&cmd.kind)?;
        check_legal(kind, cmd.legal)?;
        let mut tx = self.db.begin().await?;
        self.require_in(&mut tx, actor, &[Role::RecordsClerk], cmd.agency_id)
            .await?;
        let mode = store::series_mode(&mut tx, cmd.agency_id).await?;
        let series = series_for(kind, cmd.legal, false, &mode);
        let year = self.today().year();
        let number = egov_store::onestop::next_counter(
            &mut tx,
            "doc-out",
            &format!("{}:{series}:{year}", cmd.agency_id),
        )
        .await?;
        let id = store::insert_reservation(
            &mut tx,
            cmd.agency_id,
            &series,
            year,
            number,
            kind.key,
            actor.person_id,
            cmd.note.trim(),
            self.now(),
        )
        .await?;
        let r = store::get_reservation(&mut tx, id).await?;
        audit::event("document.reserve_number", "reservation", id)
            .agency(Some(cmd.agency_id))
            .after(&r.view())
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(r)
    }

    /// Sets whether an agency numbers all its administrative documents in one series or one
    /// series per kind (its head decides; legal normative and secret documents always have
    /// their own).
    pub async fn set_series_mode(
        &self,
        actor: &Actor,
        agency_id: i64,
        mode: &str,
    ) -> Result<(), AppError> {
        if !["single", "per_kind"].contains(&mode) {
            return Err(AppError::invalid(
                Code::BadSeriesMode,
                "The series mode is single or per_kind.",
            )
            .arg("value", mode.to_owned()));
        }
        let mut tx = self.db.begin().await?;
        self.require_in(
            &mut tx,
            actor,
            &[Role::AgencyLeader, Role::Administrator],
            agency_id,
        )
        .await?;
        store::set_series_mode(&mut tx, agency_id, mode).await?;
        audit::event("document.series_mode", "agency", agency_id)
            .agency(Some(agency_id))
            .after(&serde_json::json!({ "mode": mode }))
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Outgoing documents of an agency in some states (a leader's sign-off list, the clerk's
    /// list to issue, a specialist's drafts).
    pub async fn outgoing_list(
        &self,
        actor: &Actor,
        agency_id: i64,
        states: &[&str],
    ) -> Result<Vec<DocumentRow>, AppError> {
        let mut ex = &self.db;
        self.require_in(
            &mut ex,
            actor,
            &crate::documents::incoming::ANY_OFFICE_ROLE,
            agency_id,
        )
        .await?;
        Ok(store::outgoing(&mut ex, agency_id, states, 200).await?)
    }
}

/// The job kind that sends an edXML packet through the exchange.
pub const EXCHANGE_SEND: &str = "exchange.send";

struct Allocated {
    series: String,
    year: i32,
    number: i64,
    notation: String,
    issued_on: Date,
    fold: String,
}

impl Allocated {
    fn as_numbering(&self) -> Numbering<'_> {
        Numbering {
            series: &self.series,
            year: self.year,
            number: self.number,
            notation: &self.notation,
            issued_on: self.issued_on,
            signer_id: None,
            signer_name: "",
            signer_mark: "",
            signer_position: "",
            search_fold: &self.fold,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_abbreviations() {
        assert_eq!(unit_initials("Phòng Tổ chức - Biên chế"), "TCBC");
        assert_eq!(unit_initials("Văn phòng"), "VP");
        assert_eq!(unit_initials("Văn phòng Sở"), "VP");
        assert_eq!(unit_initials("Phòng Văn hóa - Xã hội"), "VHXH");
    }

    #[test]
    fn series() {
        let d = DocKind::by_key("decision").unwrap();
        assert_eq!(series_for(d, false, false, "single"), "all");
        assert_eq!(series_for(d, false, false, "per_kind"), "decision");
        assert_eq!(series_for(d, true, false, "single"), "legal:decision");
        assert_eq!(series_for(d, false, true, "per_kind"), "secret");
    }
}
