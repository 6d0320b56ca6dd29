//! Online dossiers in from the National Public Service Portal: a pull of new submissions for
//! the agencies in scope, each kept as it came (`national_inbox`) and then taken in — its files
//! streamed into the file store with their hashes checked, the dossier **submitted** (national
//! status 1) with the portal's code beside egov's own — or held for an administrator with the
//! reason. No public interface exists for this: the service, its fields and the file address
//! are assumptions kept in configuration (`[national_portal]`, docs/national-portal.md), and
//! the literal shapes built against are `tests/fixtures/national/layhosomoi-*.json`.

use std::pin::Pin;
use std::task::{Context, Poll};

use egov_domain::national::{Answer, DateStyle, Envelope};
use egov_store::blobs::BlobStorage;
use egov_store::national_inbox as inbox;
use serde_json::{Value, json};
use time::{Date, OffsetDateTime};

use super::dossiers::{ApplicantRef, ComponentInput, NationalOrigin, Reception};
use super::national_sync::{CallError, Portal, backoff};
use crate::applicants::NewApplicantCmd;
use crate::settings::SubmissionFields;
use crate::{Actor, App, AppError, Integration};

/// The cursor's name for the pull of new submissions.
const CURSOR: &str = "submissions";

/// A submission as read from the portal's record.
#[derive(Debug, Clone)]
pub struct Submission {
    pub code: String,
    pub procedure: String,
    /// The identifier of the agency it was submitted to.
    pub agency: String,
    pub submitted_at: OffsetDateTime,
    pub subject: String,
    pub eid_verified: bool,
    pub paid_online: bool,
    pub applicant: NewApplicantCmd,
    pub components: Vec<SubmittedComponent>,
    pub fees: Vec<SubmittedFee>,
    /// The form the applicant filled in on the portal (`DuLieuBieuMau`): its fields and values,
    /// in the order given.
    pub form: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SubmittedComponent {
    pub code: String,
    pub files: Vec<SubmittedFile>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SubmittedFile {
    /// The portal's id of the file (letters, digits, `.`, `_`, `-`).
    pub id: String,
    pub name: String,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SubmittedFee {
    pub code: String,
    pub amount: i64,
    pub paid: bool,
}

/// What is wrong with a submission's record: the field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {why}")]
pub struct Malformed {
    pub field: String,
    pub why: &'static str,
}

fn malformed(field: &str, why: &'static str) -> Malformed {
    Malformed {
        field: field.to_owned(),
        why,
    }
}

/// A value the portal writes as a string (numbers and flags included), or as a number.
fn text(v: &Value, field: &str) -> Option<String> {
    match v.get(field)? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn required(v: &Value, field: &str) -> Result<String, Malformed> {
    text(v, field).ok_or_else(|| malformed(field, "missing"))
}

/// `1`, `True` or `true` is yes; anything else (or nothing) is no.
fn flag(v: &Value, field: &str) -> bool {
    text(v, field).is_some_and(|s| s == "1" || s.eq_ignore_ascii_case("true"))
}

fn list<'a>(v: &'a Value, field: &str) -> Result<&'a [Value], Malformed> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(malformed(field, "not a list")),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Whether a file id is safe to put in an address.
fn safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// The components of a submission or supplement, with their files.
fn read_components(
    item: &Value,
    f: &SubmissionFields,
) -> Result<Vec<SubmittedComponent>, Malformed> {
    let mut components = Vec::new();
    for c in list(item, &f.components)? {
        let mut files = Vec::new();
        for file in list(c, &f.files)? {
            let id = required(file, &f.file_id)?;
            if !safe_id(&id) {
                return Err(malformed(
                    &f.file_id,
                    "not letters, digits, '.', '_' or '-'",
                ));
            }
            let sha256 = required(file, &f.file_hash)?.to_ascii_lowercase();
            if !egov_store::blobs::is_sha256(&sha256) {
                return Err(malformed(&f.file_hash, "not a SHA-256 in hex"));
            }
            files.push(SubmittedFile {
                name: text(file, &f.file_name).unwrap_or_else(|| id.clone()),
                id,
                sha256,
            });
        }
        components.push(SubmittedComponent {
            code: required(c, &f.component_code)?,
            files,
        });
    }
    Ok(components)
}

/// An applicant's supplement to a dossier submitted on the portal.
#[derive(Debug, Clone, PartialEq)]
pub struct Supplement {
    /// The dossier's national code.
    pub code: String,
    pub id: String,
    pub components: Vec<SubmittedComponent>,
}

/// Reads a supplement's record (one that carries the supplement field).
pub fn read_supplement(item: &Value, f: &SubmissionFields) -> Result<Supplement, Malformed> {
    Ok(Supplement {
        code: required(item, &f.code)?,
        id: required(item, &f.supplement)?,
        components: read_components(item, f)?,
    })
}

/// Reads a submission's record with the configured field names and date style.
pub fn read_submission(
    item: &Value,
    f: &SubmissionFields,
    dates: DateStyle,
) -> Result<Submission, Malformed> {
    let code = required(item, &f.code)?;
    let submitted = required(item, &f.submitted_at)?;
    let submitted_at = dates
        .parse(&submitted)
        .ok_or_else(|| malformed(&f.submitted_at, "not a date in the configured style"))?;
    let who = item
        .get(&f.applicant)
        .filter(|v| v.is_object())
        .ok_or_else(|| malformed(&f.applicant, "missing"))?;
    let kind = match text(who, &f.applicant_kind).as_deref() {
        Some("1") | None => "citizen",
        Some("2") => "organisation",
        Some(_) => return Err(malformed(&f.applicant_kind, "neither 1 nor 2")),
    };
    let birth_date = match text(who, &f.applicant_birth_date) {
        None => None,
        Some(s) => Some(
            Date::parse(&s, time::macros::format_description!("[year][month][day]"))
                .map_err(|_| malformed(&f.applicant_birth_date, "not yyyyMMdd"))?,
        ),
    };
    let applicant = NewApplicantCmd {
        kind: kind.into(),
        identifier: required(who, &f.applicant_identifier)?,
        country: None,
        name: required(who, &f.applicant_name)?,
        birth_date,
        phone: text(who, &f.applicant_phone),
        email: text(who, &f.applicant_email),
        address: text(who, &f.applicant_address),
    };
    let components = read_components(item, f)?;
    let mut fees = Vec::new();
    for fee in list(item, &f.fees)? {
        let amount = required(fee, &f.fee_amount)?;
        fees.push(SubmittedFee {
            code: text(fee, &f.fee_code).unwrap_or_default(),
            amount: amount
                .parse()
                .ok()
                .filter(|a: &i64| *a >= 0)
                .ok_or_else(|| malformed(&f.fee_amount, "not an amount in đồng"))?,
            paid: flag(fee, &f.fee_paid),
        });
    }
    Ok(Submission {
        code,
        procedure: required(item, &f.procedure)?,
        agency: required(item, &f.agency)?,
        submitted_at,
        subject: text(item, &f.subject).unwrap_or_default(),
        eid_verified: flag(item, &f.eid_verified),
        paid_online: flag(item, &f.paid_online),
        applicant,
        components,
        fees,
        form: read_form(item, &f.form)?,
    })
}

/// The applicant's form: an object of fields whose values are text, numbers or yes/no (absent
/// or `null`: no form).
pub fn read_form(item: &Value, field: &str) -> Result<Vec<(String, String)>, Malformed> {
    match item.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(o)) => o
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.trim().to_owned())),
                Value::Number(n) => Ok((k.clone(), n.to_string())),
                Value::Bool(b) => Ok((k.clone(), if *b { "1" } else { "0" }.to_owned())),
                Value::Null => Ok((k.clone(), String::new())),
                _ => Err(malformed(field, "a field's value is not text")),
            })
            .collect(),
        Some(_) => Err(malformed(field, "not an object of fields")),
    }
}

/// Every submitted component must be one of the procedure version's, given once.
fn check_components(
    version: &egov_domain::onestop::procedure::ProcedureVersion,
    submitted: &[SubmittedComponent],
) -> Result<(), NotTaken> {
    let mut seen = std::collections::BTreeSet::new();
    for c in submitted {
        if !version.components.iter().any(|k| k.code == c.code) {
            return Err(NotTaken::Held(
                crate::Code::UnknownComponent.as_str().to_owned(),
                format!(
                    "Procedure {} (version {}) has no component {}; its components are {}.",
                    version.code.as_str(),
                    version.version,
                    c.code,
                    version
                        .components
                        .iter()
                        .map(|k| k.code.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if !seen.insert(c.code.as_str()) {
            return Err(NotTaken::Held(
                "malformed_submission".into(),
                format!("Component {} is given twice.", c.code),
            ));
        }
    }
    Ok(())
}

/// What one round of the intake did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntakeRound {
    /// Submissions pulled that were new.
    pub pulled: usize,
    /// Submissions pulled again (recognised by their code; nothing made twice).
    pub duplicates: usize,
    /// Dossiers made.
    pub taken: usize,
    /// Submissions held for an administrator.
    pub held: usize,
    /// Submissions to try again later (the portal did not answer).
    pub failed: usize,
    /// Ratings and feedback kept.
    pub opinions: usize,
    /// Ratings and feedback that could not be read (skipped).
    pub unreadable: usize,
    /// Why the pull itself failed, if it did.
    pub pull_error: Option<String>,
}

/// Citizens' ratings and feedback as pulled.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Opinions {
    /// (score 1–5, how many).
    pub ratings: Vec<(i64, i64)>,
    pub feedback: i64,
    pub handled: i64,
    pub unknown_agency: i64,
}

/// The intake's state for the operator's page.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct IntakeHealth {
    pub enabled: bool,
    /// Submissions waiting to be taken in.
    pub pending: i64,
    /// Submissions that became dossiers.
    pub taken: i64,
    /// Submissions held for an administrator.
    pub held: i64,
    /// Submissions pulled again and recognised.
    pub duplicates: i64,
    /// Held submissions, and pending ones that failed at least once, newest first.
    pub troubles: Vec<HeldSubmission>,
}

/// A submission that needs an administrator's eye.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct HeldSubmission {
    pub id: i64,
    pub national_code: String,
    /// `held`, or `pending` for one that failed and is tried again.
    pub state: String,
    pub problem_code: String,
    pub problem: String,
    pub attempts: i64,
    pub pulled_at: OffsetDateTime,
}

/// Why a submission could not be taken in: held (for an administrator) or to be tried again.
enum NotTaken {
    Held(String, String),
    Later(String),
}

impl From<AppError> for NotTaken {
    fn from(e: AppError) -> Self {
        match e.kind {
            crate::ErrorKind::Internal => NotTaken::Later(e.message),
            _ => NotTaken::Held(e.code.as_str().to_owned(), e.message),
        }
    }
}

impl From<Malformed> for NotTaken {
    fn from(m: Malformed) -> Self {
        NotTaken::Held("malformed_submission".into(), m.to_string())
    }
}

impl App {
    /// The intake's counts and troubles (system administrators).
    pub async fn intake_health(&self, actor: &Actor) -> Result<IntakeHealth, AppError> {
        let mut ex = self.db();
        self.require_system_admin(&mut ex, actor).await?;
        let mut h = IntakeHealth {
            enabled: self.settings.national_portal.intake,
            ..IntakeHealth::default()
        };
        for (state, n, duplicates) in inbox::counts(&mut ex).await? {
            h.duplicates += duplicates;
            match state.as_str() {
                "pending" => h.pending = n,
                "taken" => h.taken = n,
                _ => h.held += n,
            }
        }
        h.troubles = inbox::troubles(&mut ex, 200)
            .await?
            .into_iter()
            .map(|r| HeldSubmission {
                id: r.id,
                national_code: r.national_code,
                state: r.state,
                problem_code: r.problem_code.unwrap_or_default(),
                problem: r.problem.unwrap_or_default(),
                attempts: r.attempts,
                pulled_at: r.pulled_at,
            })
            .collect();
        Ok(h)
    }

    /// Takes a held submission in again (its cause fixed: the agency or procedure added, the
    /// mapping corrected).
    pub async fn retry_submission(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        let mut tx = self.db.begin().await?;
        self.require_system_admin(&mut tx, actor).await?;
        if !inbox::retry(&mut tx, id, self.now()).await? {
            return Err(AppError::conflict(
                crate::Code::NothingRefused,
                "This submission is not held.",
            ));
        }
        crate::audit::event("national.intake_retry", "national_inbox", id)
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One round of the intake: pulls new submissions (page after page while full ones come)
    /// and takes in what is due.
    pub async fn intake_national<P: Portal>(&self, portal: &P) -> Result<IntakeRound, AppError> {
        let mut round = IntakeRound::default();
        if !self.settings.national_portal.intake {
            return Ok(round);
        }
        // The agencies asked about, read once for the round's pulls.
        match self.intake_agencies().await {
            Err(e) => round.pull_error = Some(CallError::NotSent(e.message).to_string()),
            Ok(agencies) => {
                if let Err(e) = self.pull_submissions(portal, &agencies, &mut round).await {
                    round.pull_error = Some(e.to_string());
                } else if let Err(e) = self.pull_opinions(portal, &agencies, &mut round).await {
                    round.pull_error = Some(e.to_string());
                }
            }
        }
        self.take_in_due(portal, &mut round).await?;
        Ok(round)
    }

    async fn pull_submissions<P: Portal>(
        &self,
        portal: &P,
        agencies: &[String],
        round: &mut IntakeRound,
    ) -> Result<(), CallError> {
        let s = &self.settings.national_portal;
        let f = &s.fields;
        for _ in 0..20 {
            let (items, next, full) = self
                .fetch_page(portal, &s.services.submissions, CURSOR, agencies)
                .await?;
            // Every submission of the page is kept, and the cursor moved, in one transaction.
            let kept = async {
                let mut tx = self.db.begin().await?;
                let now = self.now();
                for item in &items {
                    let payload = item.to_string();
                    // A record without its code is kept too, under a code made from its content.
                    // A supplement is kept under its dossier's code and its own id.
                    let code = match (text(item, &f.code), text(item, &f.supplement)) {
                        (Some(c), Some(b)) => Some(format!("{c}#{b}")),
                        (c, _) => c,
                    };
                    let code = code
                        .unwrap_or_else(|| format!("?{}", &sha256_hex(payload.as_bytes())[..20]));
                    if inbox::keep(&mut tx, &code, &payload, now).await? {
                        round.pulled += 1;
                    } else {
                        round.duplicates += 1;
                    }
                }
                inbox::set_cursor(&mut tx, CURSOR, &next, now).await?;
                tx.commit().await?;
                Ok::<_, AppError>(())
            }
            .await;
            kept.map_err(|e| CallError::NotSent(e.message))?;
            if !full {
                break;
            }
        }
        Ok(())
    }

    /// One page of a paged service after the cursor named `cursor_name`: its items, the
    /// cursor after them, and whether the page was full (more may follow).
    async fn fetch_page<P: Portal>(
        &self,
        portal: &P,
        service: &str,
        cursor_name: &str,
        agencies: &[String],
    ) -> Result<(Vec<Value>, String, bool), CallError> {
        let s = &self.settings.national_portal;
        let f = &s.fields;
        let cursor = inbox::cursor(&mut self.db(), cursor_name)
            .await
            .map_err(|e| CallError::NotSent(e.to_string()))?;
        let mut ask = serde_json::Map::new();
        ask.insert(f.request_agencies.clone(), json!(agencies));
        ask.insert(f.request_cursor.clone(), json!(cursor));
        ask.insert(f.request_size.clone(), json!(s.intake_page.to_string()));
        let envelope = Envelope {
            service: service.to_owned(),
            is_updating: false,
            data: vec![Value::Object(ask)],
        };
        let answer = match portal.call(&envelope).await? {
            Answer::Accepted(v) => v,
            Answer::Rejected { code, message, .. } => {
                return Err(CallError::NoAnswer(format!("refused ({code}): {message}")));
            }
        };
        let items = answer
            .get("result")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let next = text(&answer, &f.next_cursor).unwrap_or(cursor);
        let full = items.len() as i64 >= s.intake_page;
        Ok((items, next, full))
    }

    /// Citizens' ratings of dossiers and their feedback about agencies and procedures, kept
    /// (a record that cannot be read is skipped and counted).
    async fn pull_opinions<P: Portal>(
        &self,
        portal: &P,
        agencies: &[String],
        round: &mut IntakeRound,
    ) -> Result<(), CallError> {
        let s = &self.settings.national_portal;
        let f = &s.fields;
        let store = |e: AppError| CallError::NotSent(e.message);
        for (service, cursor_name) in [
            (&s.services.ratings, "ratings"),
            (&s.services.feedback, "feedback"),
        ] {
            for _ in 0..20 {
                let (items, next, full) = self
                    .fetch_page(portal, service, cursor_name, agencies)
                    .await?;
                let kept = async {
                    let mut tx = self.db.begin().await?;
                    let now = self.now();
                    for item in &items {
                        let at =
                            |field: &str| text(item, field).and_then(|d| s.intake_dates.parse(&d));
                        if cursor_name == "ratings" {
                            let score = text(item, &f.rating_score)
                                .and_then(|v| v.parse::<i64>().ok())
                                .filter(|v| (1..=5).contains(v));
                            match (text(item, &f.code), score, at(&f.rated_at)) {
                                (Some(code), Some(score), Some(when)) => {
                                    let comment = text(item, &f.rating_comment).unwrap_or_default();
                                    egov_store::national_feedback::keep_rating(
                                        &mut tx, &code, score, &comment, when, now,
                                    )
                                    .await?;
                                    round.opinions += 1;
                                }
                                _ => round.unreadable += 1,
                            }
                        } else {
                            match (
                                text(item, &f.feedback_id),
                                text(item, &f.feedback_content),
                                at(&f.feedback_sent_at),
                            ) {
                                (Some(national_id), Some(content), Some(sent)) => {
                                    let pulled = egov_store::national_feedback::PulledFeedback {
                                        national_id,
                                        agency_code: text(item, &f.feedback_agency)
                                            .unwrap_or_default(),
                                        procedure_code: text(item, &f.procedure)
                                            .unwrap_or_default(),
                                        content,
                                        category: text(item, &f.feedback_category)
                                            .unwrap_or_default(),
                                        satisfied: text(item, &f.feedback_satisfied).and_then(
                                            |v| match v.as_str() {
                                                "1" | "true" => Some(true),
                                                "0" | "false" => Some(false),
                                                _ => None,
                                            },
                                        ),
                                        handled_at: at(&f.feedback_handled_at),
                                    };
                                    egov_store::national_feedback::keep_feedback(
                                        &mut tx, &pulled, sent, now,
                                    )
                                    .await?;
                                    round.opinions += 1;
                                }
                                _ => round.unreadable += 1,
                            }
                        }
                    }
                    inbox::set_cursor(&mut tx, cursor_name, &next, now).await?;
                    tx.commit().await?;
                    Ok::<_, AppError>(())
                }
                .await;
                kept.map_err(store)?;
                if !full {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Ratings and feedback as pulled (system administrators): ratings by score (1–5), and
    /// feedback received, handled, and about an agency egov does not know.
    pub async fn opinions(&self, actor: &Actor) -> Result<Opinions, AppError> {
        let mut ex = self.db();
        self.require_system_admin(&mut ex, actor).await?;
        let (feedback, handled, unknown_agency) =
            egov_store::national_feedback::feedback_counts(&mut ex).await?;
        Ok(Opinions {
            ratings: egov_store::national_feedback::rating_counts(&mut ex).await?,
            feedback,
            handled,
            unknown_agency,
        })
    }

    /// The identifiers of the agencies whose submissions are pulled: those configured, or all.
    async fn intake_agencies(&self) -> Result<Vec<String>, AppError> {
        let s = &self.settings.national_portal;
        if !s.agencies.is_empty() {
            return Ok(s.agencies.clone());
        }
        Ok(egov_store::agencies::all_codes(&mut self.db()).await?)
    }

    async fn take_in_due<P: Portal>(
        &self,
        portal: &P,
        round: &mut IntakeRound,
    ) -> Result<(), AppError> {
        let s = &self.settings.national_portal;
        let lease = self.now() + time::Duration::seconds(s.download_timeout_seconds as i64 + 60);
        for row in inbox::due(&mut self.db(), self.now(), s.batch).await? {
            if !inbox::claim(&mut self.db(), row.id, self.now(), lease).await? {
                continue;
            }
            match self.take_in(portal, &row).await {
                Ok(dossier_id) => {
                    inbox::taken(&mut self.db(), row.id, dossier_id, self.now()).await?;
                    round.taken += 1;
                }
                Err(NotTaken::Held(code, why)) => {
                    inbox::hold(&mut self.db(), row.id, &code, &why, self.now()).await?;
                    round.held += 1;
                }
                Err(NotTaken::Later(why)) => {
                    let next = self.now() + backoff(row.attempts);
                    inbox::failed(&mut self.db(), row.id, &why, next).await?;
                    round.failed += 1;
                }
            }
        }
        Ok(())
    }

    /// Takes one kept submission in: its files, then the dossier.
    async fn take_in<P: Portal>(&self, portal: &P, row: &inbox::InboxRow) -> Result<i64, NotTaken> {
        let s = &self.settings.national_portal;
        let item: Value = serde_json::from_str(&row.payload)
            .map_err(|e| NotTaken::Held("malformed_submission".into(), e.to_string()))?;
        if text(&item, &s.fields.supplement).is_some() {
            return self
                .take_supplement(portal, read_supplement(&item, &s.fields)?)
                .await;
        }
        let sub = read_submission(&item, &s.fields, s.intake_dates)?;
        let competent = egov_store::agencies::find_by_code(&mut self.db(), &sub.agency)
            .await
            .map_err(AppError::from)?
            .ok_or_else(|| {
                NotTaken::Held(
                    "unknown_agency".into(),
                    format!("No agency has the identifier {}.", sub.agency),
                )
            })?;
        // The national code itself, else a procedure of the province's own reported under it.
        let candidates = std::iter::once(&sub.procedure).chain(
            s.procedure_codes
                .iter()
                .filter(|(_, national)| **national == sub.procedure)
                .map(|(ours, _)| ours),
        );
        let mut procedure_code = None;
        for code in candidates {
            // Nothing is downloaded for a procedure egov cannot take.
            if egov_store::onestop::procedure_in_force(&mut self.db(), code, self.today())
                .await
                .map_err(AppError::from)?
                .is_some()
            {
                procedure_code = Some(code.clone());
                break;
            }
        }
        let procedure_code = procedure_code.ok_or_else(|| {
            NotTaken::Held(
                crate::Code::ProcedureNotInForce.as_str().to_owned(),
                format!("No version of procedure {} is in force.", sub.procedure),
            )
        })?;
        // A department's dossier waits at the province's centre, as at its counters; a
        // commune's (or the province's) at its own one-stop section.
        let receiving = if competent.kind == egov_domain::org::AgencyKind::Department
            && !s.department_centre.is_empty()
        {
            egov_store::agencies::find_by_code(&mut self.db(), &s.department_centre)
                .await
                .map_err(AppError::from)?
                .ok_or_else(|| {
                    NotTaken::Held(
                        crate::Code::BadConfig.as_str().to_owned(),
                        format!(
                            "national_portal.department_centre {} is no agency's identifier.",
                            s.department_centre
                        ),
                    )
                })?
                .id
        } else {
            competent.id
        };
        // The components must be the version's: nothing is downloaded for a form that does not
        // match the procedure it was submitted under.
        let version = super::catalogue::parse_procedure(
            &egov_store::onestop::procedure_in_force(&mut self.db(), &procedure_code, self.today())
                .await
                .map_err(AppError::from)?
                .ok_or_else(|| AppError::not_found("procedure"))?,
        )?;
        check_components(&version, &sub.components)?;
        let components = self.fetch_components(portal, &sub.components).await?;
        let r = Reception {
            procedure_code,
            receiving_agency_id: receiving,
            competent_agency_id: Some(competent.id),
            applicant: ApplicantRef {
                id: None,
                new: Some(sub.applicant.clone()),
            },
            components,
            subject: sub.subject.clone(),
            channel: None,
            submitted_at: Some(sub.submitted_at),
            decision: None,
            reasons: None,
            fee_units: None,
            fee_exempt: false,
            payment: None,
            national: Some(NationalOrigin {
                code: sub.code.clone(),
                eid_verified: sub.eid_verified,
                paid_online: sub.paid_online
                    || (!sub.fees.is_empty() && sub.fees.iter().all(|f| f.paid)),
            }),
        };
        let portal_actor = Actor::integration(Integration::NationalPortal);
        let out = self.submit_dossier(&portal_actor, r).await?;
        Ok(out.dossier.id)
    }

    /// The components as provided, each with its first file streamed into the file store.
    async fn fetch_components<P: Portal>(
        &self,
        portal: &P,
        submitted: &[SubmittedComponent],
    ) -> Result<Vec<ComponentInput>, NotTaken> {
        let mut components = Vec::new();
        for c in submitted {
            let mut scan = None;
            for file in &c.files {
                let sha = self.fetch_submitted_file(portal, file).await?;
                scan.get_or_insert(sha);
            }
            components.push(ComponentInput {
                code: c.code.clone(),
                provided: true,
                scan,
                reused: false,
            });
        }
        Ok(components)
    }

    /// Applies an applicant's supplement: only to a dossier of theirs that waits for one.
    async fn take_supplement<P: Portal>(
        &self,
        portal: &P,
        sup: Supplement,
    ) -> Result<i64, NotTaken> {
        let d = egov_store::onestop::find_dossier_by_national_code(&mut self.db(), &sup.code)
            .await
            .map_err(AppError::from)?
            .ok_or_else(|| {
                NotTaken::Held(
                    "unknown_dossier".into(),
                    format!("No dossier has the national code {}.", sup.code),
                )
            })?;
        if d.state != egov_domain::onestop::dossier::State::AwaitingSupplement {
            return Err(NotTaken::Held(
                "no_supplement_requested".into(),
                format!(
                    "Dossier {} ({}) was not asked for a supplement; it is {}.",
                    d.code,
                    sup.code,
                    d.state.as_str()
                ),
            ));
        }
        let version = super::catalogue::parse_procedure(
            &egov_store::onestop::get_procedure(&mut self.db(), d.procedure_id)
                .await
                .map_err(AppError::from)?,
        )?;
        check_components(&version, &sup.components)?;
        let components = self.fetch_components(portal, &sup.components).await?;
        let portal_actor = Actor::integration(Integration::NationalPortal);
        let action = super::dossiers::DossierAction {
            version: d.version,
            note: format!("Bổ sung {} qua Cổng Dịch vụ công quốc gia", sup.id),
            command: super::dossiers::DossierCommand::SupplementProvided { components },
        };
        self.run_dossier_command(&portal_actor, d.id, action)
            .await?;
        Ok(d.id)
    }

    /// Streams one submitted file into the file store: at most the upload limit, its hash the
    /// announced one, and a PDF or image whose name does not disguise it.
    async fn fetch_submitted_file<P: Portal>(
        &self,
        portal: &P,
        file: &SubmittedFile,
    ) -> Result<String, NotTaken> {
        let s = &self.settings.national_portal;
        let max = self.settings.server.max_upload_bytes as u64;
        let timeout = std::time::Duration::from_secs(s.download_timeout_seconds);
        let written = tokio::time::timeout(timeout, async {
            let Some(body) = portal
                .fetch_file(&file.id)
                .await
                .map_err(|e| NotTaken::Later(e.to_string()))?
            else {
                return Err(NotTaken::Held(
                    "file_missing".into(),
                    format!("The portal has no file {} ({}).", file.id, file.name),
                ));
            };
            self.blobs
                .write(body, Some(&file.sha256), max)
                .await
                .map_err(|e| match e {
                    egov_store::StoreError::Invalid(m) if m.contains("SHA-256") => NotTaken::Held(
                        "file_hash_mismatch".into(),
                        format!("{} ({}): {m}", file.name, file.id),
                    ),
                    egov_store::StoreError::Invalid(m) => NotTaken::Held(
                        "file_too_large".into(),
                        format!("{} ({}): {m}", file.name, file.id),
                    ),
                    e => NotTaken::Later(e.to_string()),
                })
        })
        .await
        .map_err(|_| {
            NotTaken::Later(format!(
                "the file {} did not arrive within {timeout:?}",
                file.id
            ))
        })??;
        // What the file is, from its first bytes; its name must not claim otherwise.
        let head = {
            use tokio::io::AsyncReadExt;
            let mut r = self
                .blobs
                .read(&written.sha256)
                .await
                .map_err(AppError::from)?;
            let mut head = vec![0u8; 1024];
            let n = r
                .read(&mut head)
                .await
                .map_err(|e| NotTaken::Later(e.to_string()))?;
            head.truncate(n);
            head
        };
        let media_type =
            super::scans::check_upload(&file.name, None, &head, usize::MAX).map_err(|e| {
                NotTaken::Held(
                    e.code.as_str().to_owned(),
                    format!("{} ({}): {}", file.name, file.id, e.message),
                )
            })?;
        egov_store::blobs::record(
            &mut self.db(),
            &written.sha256,
            written.size as i64,
            media_type,
            self.now(),
        )
        .await
        .map_err(AppError::from)?;
        Ok(written.sha256)
    }
}

/// A response body read as a stream of bytes, never whole.
pub(crate) struct BodyReader {
    body: hyper::body::Incoming,
    chunk: bytes::Bytes,
}

impl BodyReader {
    pub(crate) fn new(body: hyper::body::Incoming) -> Self {
        BodyReader {
            body,
            chunk: bytes::Bytes::new(),
        }
    }
}

impl tokio::io::AsyncRead for BodyReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        use hyper::body::Body;
        loop {
            if !self.chunk.is_empty() {
                let n = out.remaining().min(self.chunk.len());
                let part = self.chunk.split_to(n);
                out.put_slice(&part);
                return Poll::Ready(Ok(()));
            }
            match std::task::ready!(Pin::new(&mut self.body).poll_frame(cx)) {
                None => return Poll::Ready(Ok(())),
                Some(Err(e)) => return Poll::Ready(Err(std::io::Error::other(e))),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.chunk = data;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/national/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn a_submission_reads_as_the_fixture_writes_it() {
        let answer = fixture("layhosomoi-answer.json");
        let item = &answer["result"][0];
        let s = read_submission(item, &SubmissionFields::default(), DateStyle::Compact).unwrap();
        assert_eq!(s.code, "G22.31-20261207-0000123");
        assert_eq!(s.procedure, "9.000004");
        assert_eq!(
            s.submitted_at,
            time::macros::datetime!(2026-12-07 08:12:00 +07:00)
        );
        assert!(s.eid_verified && s.paid_online);
        assert_eq!(s.applicant.kind, "citizen");
        assert_eq!(s.applicant.identifier, "038190004599");
        assert_eq!(
            s.applicant.birth_date,
            Some(time::macros::date!(1990 - 03 - 15))
        );
        assert_eq!(s.components.len(), 2);
        assert_eq!(s.components[0].code, "TP1");
        assert_eq!(s.components[0].files[0].id, "TT-20261207-000456");
        // The announced hashes are those of the fixture's files.
        for (c, name) in s.components.iter().zip(["to-khai.pdf", "can-cuoc.pdf"]) {
            let path = format!(
                "{}/tests/fixtures/national/files/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            let bytes = std::fs::read(path).unwrap();
            assert_eq!(c.files[0].sha256, sha256_hex(&bytes));
        }
        assert_eq!(
            s.fees,
            vec![SubmittedFee {
                code: "P1".into(),
                amount: 15000,
                paid: true
            }]
        );
        assert!(
            s.form
                .contains(&("MucDichSuDung".to_owned(), "Đăng ký kết hôn".to_owned()))
        );
    }

    #[test]
    fn a_malformed_submission_names_its_field() {
        let answer = fixture("layhosomoi-answer.json");
        let f = SubmissionFields::default();
        let broken = |path: &[&str], v: Value| {
            let mut item = answer["result"][0].clone();
            let mut at = &mut item;
            for p in &path[..path.len() - 1] {
                at = if let Ok(i) = p.parse::<usize>() {
                    &mut at[i]
                } else {
                    &mut at[*p]
                };
            }
            at[path[path.len() - 1]] = v;
            read_submission(&item, &f, DateStyle::Compact)
                .unwrap_err()
                .field
        };
        assert_eq!(broken(&["MaHoSo"], Value::Null), "MaHoSo");
        assert_eq!(broken(&["NgayNop"], json!("07/12/2026")), "NgayNop");
        assert_eq!(
            broken(
                &["ThanhPhanHoSo", "0", "GiayToDinhKem", "0", "HashTepTin"],
                json!("abc")
            ),
            "HashTepTin"
        );
        assert_eq!(
            broken(
                &["ThanhPhanHoSo", "0", "GiayToDinhKem", "0", "IdGiayTo"],
                json!("../../etc/passwd")
            ),
            "IdGiayTo"
        );
        assert_eq!(
            broken(&["DanhSachLePhi", "0", "SoTien"], json!("-5")),
            "SoTien"
        );
        assert_eq!(
            broken(&["ThongTinNguoiNop", "LoaiDoiTuong"], json!("9")),
            "LoaiDoiTuong"
        );
        assert_eq!(broken(&["DuLieuBieuMau"], json!("x")), "DuLieuBieuMau");
        assert_eq!(
            broken(&["DuLieuBieuMau", "NoiCuTru"], json!({"a": 1})),
            "DuLieuBieuMau"
        );
    }
}
