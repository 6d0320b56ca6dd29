//! Documents and work records (Decree 30/2020): outgoing documents from draft to issue with
//! numbers allocated at sign-off, delivery to every recipient agency in one transaction,
//! incoming documents from arrival to completion, recall, work files, registers and search.

mod convert;
pub mod files;
pub mod incoming;
pub mod ocr;
pub mod outgoing;
pub mod registers;
mod reminders;
mod text;
pub mod work_files;

use crate::Code;
use egov_store::documents::{self as store, DocumentRow};
use egov_store::{Exec, agencies};
use serde::Deserialize;

use crate::error::OrNotFound;
use crate::{Actor, App, AppError};

/// The words a document is found by: subject, number and notation, sender, and the text of
/// its files when there is any.
pub(crate) fn search_fold(d: &DocumentRow, extra: &str) -> String {
    let mut s = egov_domain::text::fold(&d.subject);
    for part in [d.issuer_name.as_str(), extra] {
        let f = egov_domain::text::fold(part);
        if !f.is_empty() {
            s.push(' ');
            s.push_str(&f);
        }
    }
    if let Some(n) = &d.notation {
        s.push(' ');
        s.push_str(&egov_domain::documents::notation::search_words(n));
    }
    s
}

/// A recipient of an outgoing document: an agency of this deployment, or one outside it known
/// by its identifier (for the exchange).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RecipientInput {
    pub agency_id: Option<i64>,
    /// The identifier of an agency outside the deployment (`000.00.00.G22`).
    pub external_code: Option<String>,
    pub name: Option<String>,
    /// "Kính gửi" (true, default) or only "Nơi nhận".
    #[serde(default = "yes")]
    pub addressed: bool,
}

fn yes() -> bool {
    true
}

impl RecipientInput {
    /// An agency of this deployment, addressed ("Kính gửi").
    pub fn agency(id: i64) -> Self {
        RecipientInput {
            agency_id: Some(id),
            external_code: None,
            name: None,
            addressed: true,
        }
    }
}

/// Whether a recipient of a document sees one of its files: the issued main file (the one the
/// document names, signed and sealed) and the attachments, never drafts or earlier PDFs.
pub(crate) fn issued_file(d: &DocumentRow, a: &store::AttachmentRow) -> bool {
    a.role == "attachment" || (a.role == "main" && d.main_sha.as_deref() == Some(a.sha256.as_str()))
}

/// The sender's events a recipient sees: that the document was issued, or recalled.
const EVENTS_FOR_RECIPIENTS: [&str; 2] = ["issue", "recall"];

impl App {
    /// The document, for someone who may see it; otherwise `not_found` (whether it exists is
    /// itself not for everyone).
    pub(crate) async fn visible_document(
        &self,
        ex: &mut impl Exec,
        actor: &Actor,
        id: i64,
    ) -> Result<DocumentRow, AppError> {
        let d = store::get_document(ex, id).await.or_not_found("document")?;
        if let Some(p) = actor.official()?
            && !store::can_see(ex, p, id, self.now()).await?
        {
            return Err(AppError::not_found("document"));
        }
        Ok(d)
    }

    /// Whether the actor reads a document as its sender — someone of the drafting agency (or
    /// the system, or a deployment-wide administrator) — and so sees its working files and
    /// its internal timeline. A recipient sees only what was issued.
    pub(crate) async fn reads_as_sender(
        &self,
        ex: &mut impl Exec,
        actor: &Actor,
        d: &DocumentRow,
    ) -> Result<bool, AppError> {
        let (Some(person), Some(agency)) = (actor.official()?, d.agency_id) else {
            return Ok(actor.is_system() || d.origin != "internal");
        };
        if d.origin != "internal" {
            return Ok(true);
        }
        let n: i64 = ex
            .scalar(
                "SELECT COUNT(*) FROM role_grants WHERE person_id = $1 AND valid_from <= $2 \
                 AND (valid_to IS NULL OR valid_to > $2) \
                 AND (agency_id = $3 OR (agency_id IS NULL AND role = 'administrator'))",
                egov_store::args![person, self.now(), agency],
            )
            .await?;
        Ok(n > 0)
    }

    /// Checks recipients: agencies that exist and are in force today. An agency that ended
    /// (merged in 2025) is refused with its successor suggested.
    pub(crate) async fn check_recipients(
        &self,
        ex: &mut impl Exec,
        rs: &[RecipientInput],
    ) -> Result<Vec<store::NewRecipient>, AppError> {
        let today = self.today();
        let mut out = Vec::with_capacity(rs.len());
        let mut seen = std::collections::HashSet::new();
        for r in rs {
            match (r.agency_id, r.external_code.as_deref().map(str::trim)) {
                (Some(id), _) => {
                    let a = agencies::get(ex, id).await.map_err(|_| {
                        AppError::invalid(
                            Code::UnknownRecipient,
                            "There is no such recipient agency.",
                        )
                        .arg("value", id)
                    })?;
                    if !seen.insert(id) {
                        return Err(chosen_twice(&a.name));
                    }
                    if a.valid_to.is_some_and(|t| t < today) {
                        let succ = agencies::successors(ex, id).await?;
                        let hint = succ
                            .first()
                            .map(|s| format!("{} ({})", s.agency.name, s.agency.id))
                            .unwrap_or_default();
                        return Err(AppError::invalid(
                            Code::RecipientEnded,
                            format!("{} no longer exists; send to its successor {hint}.", a.name),
                        )
                        .arg("name", a.name.clone())
                        .arg("successor", hint));
                    }
                    out.push(store::NewRecipient {
                        agency_id: Some(a.id),
                        external_code: None,
                        name: a.name,
                        addressed: r.addressed,
                    });
                }
                (None, Some(code)) if !code.is_empty() => {
                    let code = code
                        .parse::<egov_domain::agency_code::AgencyCode>()
                        .map_err(|e| {
                            AppError::invalid(Code::BadAgencyCode, e.to_string())
                                .arg("value", code.to_owned())
                        })?
                        .to_string();
                    // An identifier of ours is delivered internally.
                    if let Some(a) = agencies::find_by_code(ex, &code).await? {
                        if !seen.insert(a.id) {
                            return Err(chosen_twice(&a.name));
                        }
                        out.push(store::NewRecipient {
                            agency_id: Some(a.id),
                            external_code: None,
                            name: a.name,
                            addressed: r.addressed,
                        });
                    } else {
                        if out
                            .iter()
                            .any(|x| x.external_code.as_deref() == Some(code.as_str()))
                        {
                            return Err(chosen_twice(&code));
                        }
                        out.push(store::NewRecipient {
                            agency_id: None,
                            name: r.name.clone().unwrap_or_else(|| code.clone()),
                            external_code: Some(code),
                            addressed: r.addressed,
                        });
                    }
                }
                _ => {
                    return Err(AppError::invalid(
                        Code::UnknownRecipient,
                        "A recipient is an agency of this system or an agency identifier.",
                    ));
                }
            }
        }
        Ok(out)
    }
}

/// The same recipient twice in one list: said, not silently merged (the clerk may have meant
/// another agency).
fn chosen_twice(name: &str) -> AppError {
    AppError::invalid(
        Code::RecipientTwice,
        format!("{name} is chosen twice among the recipients."),
    )
    .arg("name", name.to_owned())
}

/// Content offered for a secret document, which is a metadata entry only.
pub fn secret_no_content() -> AppError {
    AppError::invalid(
        Code::SecretNoContent,
        "A secret document is a metadata entry only: its content never enters this system.",
    )
}

fn changed() -> AppError {
    AppError::conflict(
        Code::DocumentChanged,
        "Someone else acted on this document first: reload it and try again.",
    )
}
