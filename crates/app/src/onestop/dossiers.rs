//! Dossiers from the counter to the result: reception (receipt, supplement request or
//! refusal), the steps of the internal process with a process-control log, pauses for
//! supplements and payments, apology and extension, stop, withdrawal, result and return.

use crate::Code;
use egov_domain::calendar::{Limit, Pause, Timeliness, classify};
use egov_domain::events as domain_events;
use egov_domain::onestop::dossier::{Event, Outcome, Snapshot, State, TransitionError, apply};
use egov_domain::onestop::procedure::ProcedureVersion;
use egov_domain::onestop::process::{Process, StepAgency};
use egov_domain::org::Role;
use egov_store::onestop::{self as store, DossierRow, DossierUpdate, StepRow};
use egov_store::{Exec, Tx, agencies};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::catalogue::parse_procedure;
use crate::applicants::{NewApplicantCmd, ValidApplicant};
use crate::calendar::Deadline;
use crate::error::OrNotFound;
use crate::events::Appended;
use crate::{Actor, ActorKind, App, AppError, audit, authz, views};

/// A component as the counter officer records it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ComponentInput {
    pub code: String,
    pub provided: bool,
    /// The SHA-256 of the uploaded scan (see the upload endpoint).
    #[serde(default)]
    pub scan: Option<String>,
    /// The data was reused from a digitised record (national data warehouse, earlier dossier).
    #[serde(default)]
    pub reused: bool,
}

impl ComponentInput {
    /// A component handed in on paper, without a scan.
    pub fn provided(code: impl Into<String>) -> Self {
        ComponentInput {
            code: code.into(),
            provided: true,
            scan: None,
            reused: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ApplicantRef {
    /// An applicant already registered.
    pub id: Option<i64>,
    /// Or a new one.
    pub new: Option<NewApplicantCmd>,
}

/// What the counter officer enters.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Reception {
    pub procedure_code: String,
    /// The counter's agency.
    pub receiving_agency_id: i64,
    /// The agency that decides (default: the receiving agency).
    pub competent_agency_id: Option<i64>,
    pub applicant: ApplicantRef,
    pub components: Vec<ComponentInput>,
    #[serde(default)]
    pub subject: String,
    /// `counter` (default), `online` or `post`.
    #[serde(default)]
    pub channel: Option<String>,
    /// When an online or postal dossier arrived (default: now).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<OffsetDateTime>,
    /// `refuse` to refuse it (with `reasons`); otherwise a complete dossier is received and an
    /// incomplete one gets a supplement request listing everything missing.
    #[serde(default)]
    pub decision: Option<String>,
    #[serde(default)]
    pub reasons: Option<String>,
    /// Units for per-unit fees (pages, copies).
    #[serde(default)]
    pub fee_units: Option<u32>,
    #[serde(default)]
    pub fee_exempt: bool,
    /// The fee paid at the counter while receiving (the receipt then says "đã nộp").
    #[serde(default)]
    pub payment: Option<CounterPayment>,
    /// Set only by the intake of dossiers submitted on the National Public Service Portal.
    #[serde(skip)]
    pub national: Option<NationalOrigin>,
}

/// Where a dossier submitted on the National Public Service Portal came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NationalOrigin {
    /// The portal's dossier code, kept beside egov's own.
    pub code: String,
    /// The applicant's account was verified with the national e-ID.
    pub eid_verified: bool,
    /// The fees were paid on the national payment platform.
    pub paid_online: bool,
}

/// A fee paid at the counter: how, and the amount in đồng (checked against the fee; absent:
/// the whole fee).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct CounterPayment {
    #[serde(default)]
    pub amount: Option<i64>,
    /// `cash`, `transfer` (bank transfer or QR) or `card`.
    pub method: String,
}

/// How a fee may be paid at the counter.
pub const PAYMENT_METHODS: [&str; 3] = ["cash", "transfer", "card"];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReceptionOutcome {
    /// `received`, `supplement_requested` or `refused`.
    pub outcome: String,
    pub dossier: crate::views::Dossier,
    /// Names of the required components missing (for the supplement request).
    pub missing: Vec<String>,
}

/// An action on a dossier after its creation.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Action {
    /// `receive`, `request_supplement`, `supplement_provided`, `refuse`, `transfer`, `assign`,
    /// `request_payment`, `payment_received`, `apologize`, `stop`, `withdraw`, `finish`,
    /// `return_result`.
    pub event: String,
    /// The dossier version the officer saw (two officers acting at once: one gets a conflict).
    pub version: i64,
    #[serde(default)]
    pub note: String,
    /// For `request_supplement`: everything missing, at once.
    #[serde(default)]
    pub items: Vec<String>,
    /// For `assign` and optionally `transfer`: the officer.
    #[serde(default)]
    pub person_id: Option<i64>,
    /// For `apologize`: the proposed new date.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub new_date: Option<OffsetDateTime>,
    /// For `supplement_provided`: the components now provided.
    #[serde(default)]
    pub components: Vec<ComponentInput>,
    /// For `request_payment`: the amount in đồng.
    #[serde(default)]
    pub amount: Option<i64>,
    /// For `finish`: the result (a number and date of the decision, a blob of the signed file …).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// For `return_result`: who received it and how (`counter`, `post`, `online`).
    #[serde(default)]
    pub returned_to: Option<String>,
    #[serde(default)]
    pub returned_how: Option<String>,
}

/// What an officer does to a dossier: one variant per event, with exactly the fields that
/// event needs (`{"event": "assign", "version": 3, "person_id": 12}`). Adding an event is one
/// variant here, one function in the state machine's step (`on_…`), one translation key.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DossierCommand {
    /// The counter receives a submitted dossier: the appointment is fixed now.
    Receive,
    /// Everything the applicant must supplement, at once.
    RequestSupplement {
        items: Vec<String>,
    },
    /// The components now provided.
    SupplementProvided {
        #[serde(default)]
        components: Vec<ComponentInput>,
    },
    /// Refused, with the reasons in `note`.
    Refuse,
    /// To the next step, optionally to one officer there.
    Transfer {
        #[serde(default)]
        person_id: Option<i64>,
    },
    /// The current step to one officer.
    Assign {
        person_id: i64,
    },
    /// A fee to pay, in đồng.
    RequestPayment {
        amount: i64,
    },
    PaymentReceived,
    /// A new date proposed, with the reason in `note`.
    Apologize {
        #[serde(with = "time::serde::rfc3339")]
        new_date: OffsetDateTime,
    },
    /// Stopped, with the reasons in `note`.
    Stop,
    /// Withdrawn at the applicant's request, with the reasons in `note`.
    Withdraw,
    /// The result: a number and date of the decision, the signed file's hash …
    Finish {
        #[serde(default)]
        #[schema(value_type = Option<Object>)]
        result: Option<serde_json::Value>,
    },
    /// Who received the result, and how (`counter`, `post`, `online`).
    ReturnResult {
        returned_to: String,
        #[serde(default)]
        returned_how: Option<String>,
    },
}

impl DossierCommand {
    pub fn event(&self) -> Event {
        match self {
            DossierCommand::Receive => Event::Receive,
            DossierCommand::RequestSupplement { .. } => Event::RequestSupplement,
            DossierCommand::SupplementProvided { .. } => Event::SupplementProvided,
            DossierCommand::Refuse => Event::Refuse,
            DossierCommand::Transfer { .. } => Event::Transfer,
            DossierCommand::Assign { .. } => Event::Assign,
            DossierCommand::RequestPayment { .. } => Event::RequestPayment,
            DossierCommand::PaymentReceived => Event::PaymentReceived,
            DossierCommand::Apologize { .. } => Event::Apologize,
            DossierCommand::Stop => Event::Stop,
            DossierCommand::Withdraw => Event::Withdraw,
            DossierCommand::Finish { .. } => Event::Finish,
            DossierCommand::ReturnResult { .. } => Event::ReturnResult,
        }
    }

    /// The officer a transfer or an assignment names.
    fn person(&self) -> Option<i64> {
        match self {
            DossierCommand::Transfer { person_id } => *person_id,
            DossierCommand::Assign { person_id } => Some(*person_id),
            _ => None,
        }
    }
}

/// A command with what every command carries: the version the officer saw and a note.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct DossierAction {
    /// The dossier version the officer saw (two officers acting at once: one gets a conflict).
    pub version: i64,
    #[serde(default)]
    pub note: String,
    #[serde(flatten)]
    pub command: DossierCommand,
}

impl TryFrom<Action> for DossierAction {
    type Error = AppError;

    /// A form's flat fields as the command of its event: a field the event needs and the form
    /// left out is refused with the code users have always got for it.
    fn try_from(a: Action) -> Result<Self, AppError> {
        let event = Event::parse(&a.event).ok_or_else(|| {
            AppError::invalid(Code::BadEvent, "Unknown action.").arg("value", &a.event)
        })?;
        let command = match event {
            Event::Receive => DossierCommand::Receive,
            Event::RequestSupplement => DossierCommand::RequestSupplement { items: a.items },
            Event::SupplementProvided => DossierCommand::SupplementProvided {
                components: a.components,
            },
            Event::Refuse => DossierCommand::Refuse,
            Event::Transfer => DossierCommand::Transfer {
                person_id: a.person_id,
            },
            Event::Assign => DossierCommand::Assign {
                person_id: a.person_id.ok_or_else(|| {
                    AppError::invalid(Code::PersonRequired, "Choose the officer.")
                })?,
            },
            Event::RequestPayment => DossierCommand::RequestPayment {
                amount: a.amount.unwrap_or(0),
            },
            Event::PaymentReceived => DossierCommand::PaymentReceived,
            Event::Apologize => DossierCommand::Apologize {
                new_date: a.new_date.ok_or_else(|| {
                    AppError::invalid(Code::NewDateRequired, "Propose the new date.")
                })?,
            },
            Event::Stop => DossierCommand::Stop,
            Event::Withdraw => DossierCommand::Withdraw,
            Event::Finish => DossierCommand::Finish { result: a.result },
            Event::ReturnResult => DossierCommand::ReturnResult {
                returned_to: a.returned_to.unwrap_or_default(),
                returned_how: a.returned_how,
            },
        };
        Ok(DossierAction {
            version: a.version,
            note: a.note,
            command,
        })
    }
}

/// Everything about a dossier an officer sees.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DossierDetail {
    pub dossier: views::Dossier,
    /// The applicant's identifier with all but its last characters hidden.
    pub applicant_masked: String,
    pub components: Vec<views::Component>,
    pub steps: Vec<views::Step>,
    pub pauses: Vec<views::Pause>,
    pub events: Vec<views::DossierEvent>,
    /// The events this officer may apply now.
    pub actions: Vec<String>,
    /// The national status code and its meaning.
    pub national_status: u8,
    /// The rule that set the appointment.
    pub appointment_rule: AppointmentRule,
    /// The applicant's rating of the dossier on the national portal, if they gave one.
    pub rating: Option<Rating>,
    /// For a dossier submitted on the national portal: the form the applicant filled in there
    /// (field, value), as it came.
    pub online_form: Vec<(String, String)>,
}

/// A citizen's satisfaction rating of a dossier, from the national portal.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rating {
    /// 1 (very dissatisfied) to 5 (very satisfied).
    pub score: i64,
    pub comment: String,
    #[serde(with = "time::serde::rfc3339")]
    pub rated_at: OffsetDateTime,
}

/// Which rule set a dossier's appointment, so that nobody has to guess why it is what it is.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppointmentRule {
    /// `same_day` (done the day it is received; after the cut-off, the next working day) or
    /// `published_limit` (the process's published limit in working time from receipt).
    pub kind: String,
    /// For `same_day`: the cut-off, `HH:MM`.
    pub cutoff: Option<String>,
    /// For `published_limit`: the limit's value and unit (`working_days`, `working_hours`,
    /// `calendar_days`, `months`).
    pub limit_value: Option<f64>,
    pub limit_unit: Option<String>,
    /// As the law and the receipt say it ("Trong ngày; sau 15 giờ 00 trả trong ngày làm việc
    /// tiếp theo", "3 ngày làm việc kể từ khi tiếp nhận").
    pub text: String,
}

impl AppointmentRule {
    pub fn of(p: &ProcedureVersion, process: &Process) -> AppointmentRule {
        match p.same_day_cutoff {
            Some(c) => AppointmentRule {
                kind: "same_day".into(),
                cutoff: Some(format!("{:02}:{:02}", c / 60, c % 60)),
                limit_value: None,
                limit_unit: None,
                text: super::forms::same_day_text(c),
            },
            None => {
                let l = process.published_limit;
                AppointmentRule {
                    kind: "published_limit".into(),
                    cutoff: None,
                    limit_value: Some(l.value),
                    limit_unit: serde_json::to_value(l.unit)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned)),
                    text: format!("{} kể từ khi tiếp nhận", super::forms::limit_text(&l)),
                }
            }
        }
    }
}

/// What a dossier's domain events carry: the dossier as the action left it.
pub(crate) fn event_payload(
    code: &str,
    state: State,
    step: usize,
    event: &str,
) -> serde_json::Value {
    serde_json::json!({
        "code": code,
        "event": event,
        "state": state.as_str(),
        "national_status": state.national_code(),
        "step": step,
    })
}

pub(crate) fn transition_error(e: TransitionError) -> AppError {
    let code = match e {
        TransitionError::Illegal { .. } => Code::IllegalTransition,
        TransitionError::ApologyTooLate => Code::ApologyTooLate,
        TransitionError::SecondApology => Code::SecondApology,
        TransitionError::NoNextStep => Code::NoNextStep,
        TransitionError::StepsLeft => Code::StepsLeft,
    };
    let err = AppError::conflict(code, e.to_string());
    match e {
        TransitionError::Illegal { state, event } => err
            .arg("state", state.as_str())
            .arg("event", event.as_str()),
        _ => err,
    }
}

fn changed() -> AppError {
    AppError::conflict(
        Code::DossierChanged,
        "Someone else acted on this dossier first: reload it and try again.",
    )
}

fn out_of_range(e: impl std::fmt::Display, from: OffsetDateTime) -> AppError {
    AppError::invalid(Code::DateOutOfRange, e.to_string()).arg("value", from)
}

/// The applicant of a receipt: on record already, or to register in the receipt's transaction.
pub(crate) enum Applicant {
    OnRecord(i64),
    ToRegister(ValidApplicant),
}

/// The appointment of a dossier as a kept deadline (calendar changes find it).
pub(crate) fn appointment_deadline(
    code: &str,
    receiving_agency: i64,
    received: OffsetDateTime,
    limit: Limit,
) -> Deadline<'_> {
    Deadline {
        owner_type: "dossier",
        owner_id: code,
        label: "appointment",
        kind: "appointment",
        agency_id: Some(receiving_agency),
        received,
        limit,
        pauses: &[],
    }
}

/// Who acts on a dossier now: the current step's agency and role (the counter's officer until
/// the dossier is received), and nobody once it is closed.
pub(crate) fn who_acts(
    u: &mut DossierUpdate,
    state: State,
    supplement_before_receipt: bool,
    step: Option<(Option<i64>, &str)>,
) {
    if state.is_terminal() {
        u.current_agency_id = None;
        u.step_role = None;
        u.assignee_id = None;
        u.step_due = None;
    } else if let Some((agency, role)) = step {
        u.current_agency_id = agency;
        u.step_role = Some(if state == State::Submitted || supplement_before_receipt {
            Role::OneStopOfficer.as_str().into()
        } else {
            role.into()
        });
    }
}

/// What the function of one event works with: the dossier as read, the state machine's
/// outcome, the process's steps and the appointment's rule.
struct Change<'a> {
    actor: &'a Actor,
    d: &'a DossierRow,
    p: &'a ProcedureVersion,
    process: &'a Process,
    event: Event,
    snap: Snapshot,
    o: Outcome,
    steps: Vec<StepRow>,
    limit: Limit,
    data: &'a serde_json::Value,
    person: Option<i64>,
    now: OffsetDateTime,
}

impl Change<'_> {
    fn step(&self, i: usize) -> Option<&StepRow> {
        self.steps.iter().find(|s| s.seq == i as i64)
    }

    /// The working time allotted to step `i`, if the process sets one.
    fn allot(&self, i: usize) -> Option<Limit> {
        self.process
            .steps
            .get(i)
            .and_then(|s| s.allotment.to_limit())
    }
}

pub(crate) fn parse_process(row: &store::ProcessRow) -> Result<Process, AppError> {
    serde_json::from_str(&row.data_json)
        .map_err(|e| AppError::internal(format!("stored process: {e}")))
}

/// The limit that sets the appointment: the same-day rule, or the published limit.
pub(crate) fn appointment_limit(
    p: &ProcedureVersion,
    process: &Process,
) -> Result<Limit, AppError> {
    if let Some(c) = p.same_day_cutoff {
        return Ok(Limit::SameDay { cutoff: c });
    }
    process
        .published_limit
        .to_limit()
        .ok_or_else(|| AppError::internal("the published limit is not valid"))
}

impl App {
    /// A deadline, with the calendar read through the caller's transaction.
    pub(crate) async fn due(
        &self,
        ex: &mut impl Exec,
        agency: Option<i64>,
        from: OffsetDateTime,
        limit: Limit,
        pauses: &[Pause],
    ) -> Result<OffsetDateTime, AppError> {
        let (cal, hours) = self.deadline_clock_in(ex, agency).await?;
        cal.due_with(&hours, from, limit, pauses)
            .map(|d| d.at)
            .map_err(|e| out_of_range(e, from))
    }

    /// Resolves the agency of a process step.
    pub(crate) async fn step_agency(
        &self,
        ex: &mut impl Exec,
        s: &StepAgency,
        receiving: i64,
        competent: i64,
    ) -> Result<i64, AppError> {
        Ok(match s {
            StepAgency::Receiving => receiving,
            StepAgency::Competent => competent,
            StepAgency::Agency(key) => {
                if let Some(a) = agencies::find_by_code(ex, key).await? {
                    a.id
                } else {
                    let today = egov_domain::vn_date(self.now());
                    let id: Option<i64> = ex
                        .scalar_optional(
                            "SELECT id FROM agencies WHERE short_name = $1 AND (valid_from IS NULL OR valid_from <= $2) \
                             AND (valid_to IS NULL OR valid_to >= $2) ORDER BY id LIMIT 1",
                            egov_store::args![key.as_str(), today],
                        )
                        .await?;
                    id.ok_or_else(|| {
                        AppError::invalid(
                            Code::BadProcess,
                            format!("no agency {key} for a process step"),
                        )
                        .arg("reason", key)
                    })?
                }
            }
        })
    }

    /// The appointment of a receipt and the due time of its first step, with the calendar of
    /// `stamp` when the caller has just read it.
    pub(crate) async fn receipt_times(
        &self,
        ex: &mut impl Exec,
        stamp: Option<&str>,
        agency: i64,
        received: OffsetDateTime,
        limit: Limit,
        first_step: Option<Limit>,
    ) -> Result<(OffsetDateTime, Option<OffsetDateTime>), AppError> {
        let (cal, hours) = match stamp {
            Some(s) => self.deadline_clock_at(ex, s, Some(agency)).await?,
            None => self.deadline_clock_in(ex, Some(agency)).await?,
        };
        let due = |l| {
            cal.due_with(&hours, received, l, &[])
                .map(|d| d.at)
                .map_err(|e| out_of_range(e, received))
        };
        Ok((due(limit)?, first_step.map(due).transpose()?))
    }

    /// Applies an officer's action given as a form's flat fields (the pages' and the CLI's
    /// shape): the fields become the event's command first.
    pub async fn act_on_dossier(
        &self,
        actor: &Actor,
        id: i64,
        a: Action,
    ) -> Result<DossierRow, AppError> {
        self.run_dossier_command(actor, id, DossierAction::try_from(a)?)
            .await
    }

    /// Applies an officer's command to a dossier: checks that they may, checks the command
    /// against the dossier, runs the state machine and records it all in one transaction.
    pub async fn run_dossier_command(
        &self,
        actor: &Actor,
        id: i64,
        a: DossierAction,
    ) -> Result<DossierRow, AppError> {
        let event = a.command.event();
        self.ensure_calendar_seeded().await?;
        let mut tx = self.db.begin().await?;
        let d = self.visible_dossier(&mut tx, actor, id).await?;
        if d.version != a.version {
            return Err(changed());
        }
        if !self.may(&mut tx, actor, &d, event).await? {
            return Err(AppError::forbidden());
        }
        let p = parse_procedure(&store::get_procedure(&mut tx, d.procedure_id).await?)?;
        let process = parse_process(&store::get_process(&mut tx, d.process_id).await?)?;
        let data = self.command_data(&mut tx, actor, &d, &p, &a).await?;
        let person = a.command.person();
        let d = self
            .apply_event(&mut tx, actor, d, &p, &process, event, data, person)
            .await?;
        audit::event(&format!("dossier.{}", event.as_str()), "dossier", id)
            .agency(Some(d.competent_agency_id))
            .after(&serde_json::json!({"state": d.state, "step": d.step}))
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(d)
    }

    /// Checks a command against the dossier and returns what its log entry keeps; the
    /// components a supplement provides are marked on the way.
    async fn command_data(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        d: &DossierRow,
        p: &ProcedureVersion,
        a: &DossierAction,
    ) -> Result<serde_json::Value, AppError> {
        let note = a.note.trim();
        let mut data = serde_json::json!({ "note": note });
        match &a.command {
            DossierCommand::RequestSupplement { items } => {
                let items: Vec<&str> = items
                    .iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .collect();
                if items.is_empty() {
                    return Err(AppError::invalid(
                        Code::ItemsRequired,
                        "List everything the applicant must supplement, at once.",
                    ));
                }
                data["items"] = serde_json::json!(items);
            }
            DossierCommand::Refuse | DossierCommand::Stop | DossierCommand::Withdraw
                if note.is_empty() =>
            {
                return Err(AppError::invalid(
                    Code::ReasonsRequired,
                    "State the reasons.",
                ));
            }
            DossierCommand::Apologize { new_date } => {
                if d.appointment.is_some_and(|ap| *new_date <= ap) {
                    return Err(AppError::invalid(
                        Code::NewDateTooEarly,
                        "The new date must be after the appointment.",
                    ));
                }
                if note.is_empty() {
                    return Err(AppError::invalid(
                        Code::ReasonsRequired,
                        "State the reason for the delay.",
                    ));
                }
                data["new_date"] = serde_json::json!(egov_store::ts_text(*new_date));
            }
            DossierCommand::Assign { person_id }
            | DossierCommand::Transfer {
                person_id: Some(person_id),
            } => {
                data["person_id"] = serde_json::json!(person_id);
            }
            DossierCommand::RequestPayment { amount } => {
                if *amount <= 0 {
                    return Err(AppError::invalid(
                        Code::AmountRequired,
                        "Give the amount to pay.",
                    ));
                }
                data["amount"] = serde_json::json!(amount);
            }
            DossierCommand::Finish { result } => {
                data["result"] = self.checked_result(tx, actor, result.as_ref()).await?
            }
            DossierCommand::ReturnResult {
                returned_to,
                returned_how,
            } => {
                let to = Some(returned_to.trim())
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| {
                        AppError::invalid(Code::ReturnedToRequired, "Who received the result?")
                    })?;
                let how = returned_how.as_deref().unwrap_or("counter");
                if !["counter", "post", "online"].contains(&how) {
                    return Err(AppError::invalid(
                        Code::BadChannel,
                        "The result is returned at the counter, by post or online.",
                    ));
                }
                data["returned_to"] = serde_json::json!(to);
                data["returned_how"] = serde_json::json!(how);
            }
            DossierCommand::SupplementProvided { components } => {
                self.mark_provided(tx, actor, d, p, components).await?;
            }
            _ => {}
        }
        Ok(data)
    }

    /// Marks the components a supplement provides. A scan already on this dossier may be
    /// named again; any other must be the actor's own upload.
    async fn mark_provided(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        d: &DossierRow,
        p: &ProcedureVersion,
        components: &[ComponentInput],
    ) -> Result<(), AppError> {
        let on_dossier: Vec<String> = store::components(tx, d.id)
            .await?
            .into_iter()
            .filter_map(|c| c.blob_sha)
            .collect();
        for c in components {
            if !p.components.iter().any(|pc| pc.code == c.code) {
                return Err(AppError::invalid(
                    Code::UnknownComponent,
                    format!("{} is not a component", c.code),
                )
                .arg("code", &c.code));
            }
            if let Some(sha) = c.scan.as_deref()
                && !on_dossier.iter().any(|s| s == sha)
            {
                super::scans::referable_scan(tx, actor, sha)
                    .await
                    .map_err(|e| e.arg("code", &c.code))?;
            }
            if c.provided {
                store::mark_component(tx, d.id, &c.code, c.scan.as_deref(), c.reused).await?;
            }
        }
        Ok(())
    }

    /// Runs the state machine and writes everything an event changes, in the caller's
    /// transaction. Refuses when the dossier changed since it was read.
    #[allow(clippy::too_many_arguments)]
    async fn apply_event(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        d: DossierRow,
        p: &ProcedureVersion,
        process: &Process,
        event: Event,
        data: serde_json::Value,
        person: Option<i64>,
    ) -> Result<DossierRow, AppError> {
        let now = self.now();
        let state = d.state;
        let snap = Snapshot {
            state,
            step: d.step as usize,
            steps: d.steps as usize,
            supplement_before_receipt: d.supplement_before_receipt,
            supplements: d.supplements as u32,
            apologies: d.apologies as u32,
            appointment: d.appointment,
        };
        let o = apply(&snap, event, now).map_err(transition_error)?;
        let mut u = DossierUpdate::from_row(&d);
        u.state = o.state;
        u.national_status = i64::from(o.state.national_code());
        u.step = o.step as i64;
        u.supplement_before_receipt = o.supplement_before_receipt;
        u.supplements = i64::from(o.supplements);
        u.apologies = i64::from(o.apologies);
        u.counts_late = d.counts_late || o.counts_late;
        let c = Change {
            actor,
            d: &d,
            p,
            process,
            event,
            snap,
            o,
            steps: store::steps(tx, d.id).await?,
            limit: appointment_limit(p, process)?,
            data: &data,
            person,
            now,
        };
        match event {
            Event::Receive => self.on_receive(tx, &c, &mut u).await?,
            Event::Transfer => self.on_transfer(tx, &c, &mut u).await?,
            Event::Assign => self.on_assign(tx, &c, &mut u).await?,
            Event::RequestSupplement | Event::RequestPayment => self.on_pause(tx, &c).await?,
            Event::SupplementProvided | Event::PaymentReceived => {
                self.on_resume(tx, &c, &mut u).await?
            }
            Event::Apologize => {
                u.extended_to = c
                    .data
                    .get("new_date")
                    .and_then(|v| v.as_str())
                    .and_then(egov_store::parse_ts);
            }
            Event::Finish => self.on_finish(tx, &c, &mut u).await?,
            Event::ReturnResult => {
                let step = c.snap.step as i64;
                store::finish_step(tx, c.d.id, step, now, actor.person_id, "on_time").await?;
                u.returned_at = Some(now);
                u.closed_at = Some(now);
            }
            Event::Refuse | Event::Stop | Event::Withdraw => {
                store::close_pause(tx, c.d.id, now).await?;
                u.closed_at = Some(now);
                u.step_due = None;
                u.assignee_id = None;
            }
        }
        who_acts(
            &mut u,
            o.state,
            o.supplement_before_receipt,
            c.step(o.step).map(|s| (s.agency_id, s.role.as_str())),
        );
        if !store::update_dossier(tx, d.id, d.version, &u, now).await? {
            return Err(changed());
        }
        store::insert_event(
            tx,
            d.id,
            now,
            actor.person_id,
            &actor.username,
            event.as_str(),
            Some(d.state.as_str()),
            o.state.as_str(),
            o.step as i64,
            &data,
        )
        .await?;
        let payload = event_payload(&d.code, o.state, o.step, event.as_str());
        Appended {
            aggregate_id: d.id,
            agency_id: Some(d.receiving_agency_id),
            actor_id: actor.person_id,
            at: now,
            kinds: domain_events::of_dossier(event, state, o.state),
            payload: &payload,
        }
        .append(tx)
        .await?;
        Ok(store::get_dossier(tx, d.id).await?)
    }

    /// The receipt: the appointment is fixed now and printed; it is a promise.
    async fn on_receive(
        &self,
        tx: &mut Tx,
        c: &Change<'_>,
        u: &mut DossierUpdate,
    ) -> Result<(), AppError> {
        // A dossier taken in from the national portal is received when the officer accepts it
        // after the check: its clock runs from that instant, not from the submission.
        let received = if c.d.national_code.is_some() {
            c.now
        } else {
            c.d.channel.received_at(c.d.submitted_at, c.now)
        };
        let (appointment, due0) = self
            .receipt_times(
                tx,
                None,
                c.d.receiving_agency_id,
                received,
                c.limit,
                c.allot(0),
            )
            .await?;
        u.received_at = Some(received);
        u.appointment = Some(appointment);
        u.original_appointment = Some(appointment);
        store::start_step(tx, c.d.id, 0, received, due0, c.person).await?;
        u.step_due = due0;
        self.keep_deadline(
            tx,
            &appointment_deadline(&c.d.code, c.d.receiving_agency_id, received, c.limit),
            Some(appointment),
        )
        .await?;
        Ok(())
    }

    /// The step is finished (on time or late) and the next one starts, with its due time kept.
    async fn on_transfer(
        &self,
        tx: &mut Tx,
        c: &Change<'_>,
        u: &mut DossierUpdate,
    ) -> Result<(), AppError> {
        let from = c.snap.step;
        let cur = c.step(from);
        let t = cur
            .and_then(|s| s.due_at)
            .map(|due| classify(c.now, due))
            .unwrap_or(Timeliness::OnTime);
        store::finish_step(
            tx,
            c.d.id,
            from as i64,
            c.now,
            c.actor.person_id,
            timeliness_str(t),
        )
        .await?;
        let next = c
            .step(c.o.step)
            .ok_or_else(|| AppError::internal("missing step"))?;
        if let Some(pid) = c.person {
            self.check_assignee(tx, pid, next.agency_id, &next.role)
                .await?;
        }
        let due = match c.allot(c.o.step) {
            Some(l) => Some(self.due(tx, next.agency_id, c.now, l, &[]).await?),
            None => None,
        };
        store::start_step(tx, c.d.id, c.o.step as i64, c.now, due, c.person).await?;
        u.step_due = due;
        u.assignee_id = c.person;
        if let (Some(due), Some(l)) = (due, c.allot(c.o.step)) {
            self.keep_deadline(
                tx,
                &Deadline {
                    owner_type: "dossier",
                    owner_id: &c.d.code,
                    label: &next.name,
                    kind: "step",
                    agency_id: next.agency_id,
                    received: c.now,
                    limit: l,
                    pauses: &[],
                },
                Some(due),
            )
            .await?;
        }
        Ok(())
    }

    /// The current step goes to one officer who holds its role.
    async fn on_assign(
        &self,
        tx: &mut Tx,
        c: &Change<'_>,
        u: &mut DossierUpdate,
    ) -> Result<(), AppError> {
        let pid = c
            .person
            .ok_or_else(|| AppError::invalid(Code::PersonRequired, "Choose the officer."))?;
        let cur = c
            .step(c.snap.step)
            .ok_or_else(|| AppError::internal("missing step"))?;
        self.check_assignee(tx, pid, cur.agency_id, &cur.role)
            .await?;
        store::assign_step(tx, c.d.id, c.snap.step as i64, pid).await?;
        u.assignee_id = Some(pid);
        Ok(())
    }

    /// A supplement or a payment is asked for: the clock stops (before receipt, nothing to stop).
    async fn on_pause(&self, tx: &mut Tx, c: &Change<'_>) -> Result<(), AppError> {
        if !c.o.supplement_before_receipt {
            let kind = if c.event == Event::RequestPayment {
                "payment"
            } else {
                "supplement"
            };
            store::open_pause(tx, c.d.id, kind, c.now).await?;
        }
        Ok(())
    }

    /// The supplement or payment came: the clock runs again, and the appointment is moved — re-issued as its own event, never silently.
    async fn on_resume(
        &self,
        tx: &mut Tx,
        c: &Change<'_>,
        u: &mut DossierUpdate,
    ) -> Result<(), AppError> {
        if c.snap.supplement_before_receipt {
            // Back to the counter's check: the receipt comes with the next `receive`.
        } else {
            store::close_pause(tx, c.d.id, c.now).await?;
            let pauses: Vec<Pause> = store::pauses(tx, c.d.id)
                .await?
                .iter()
                .filter_map(|p| {
                    Some(Pause {
                        from: p.started_at,
                        to: p.ended_at?,
                    })
                })
                .collect();
            let restart = c.event == Event::SupplementProvided
                && c.p.supplement_rule == egov_domain::onestop::procedure::SupplementRule::Restart;
            let new_appointment = if restart {
                self.due(tx, Some(c.d.receiving_agency_id), c.now, c.limit, &[])
                    .await?
            } else {
                let received = c.d.received_at.unwrap_or(c.d.submitted_at);
                self.due(
                    tx,
                    Some(c.d.receiving_agency_id),
                    received,
                    c.limit,
                    &pauses,
                )
                .await?
            };
            // Re-issued explicitly (recorded as its own event), never silently.
            if Some(new_appointment) != c.d.appointment {
                store::insert_event(
                        tx,
                        c.d.id,
                        c.now,
                        c.actor.person_id,
                        &c.actor.username,
                        "appointment_reissued",
                        Some(c.d.state.as_str()),
                        c.o.state.as_str(),
                        c.o.step as i64,
                        &serde_json::json!({"old": c.d.appointment.map(egov_store::ts_text), "new": egov_store::ts_text(new_appointment), "rule": if restart {"restart"} else {"resume"}}),
                    )
                    .await?;
            }
            u.appointment = Some(new_appointment);
            if let (Some(cur), Some(l)) = (c.step(c.snap.step), c.allot(c.snap.step))
                && let Some(started) = cur.started_at
            {
                let due = self.due(tx, cur.agency_id, started, l, &pauses).await?;
                store::shift_step_due(tx, c.d.id, c.snap.step as i64, due).await?;
                u.step_due = Some(due);
            }
            if c.event == Event::PaymentReceived {
                u.paid = true;
            }
        }
        Ok(())
    }

    /// The last step is done: the dossier's timeliness is settled and the result recorded.
    async fn on_finish(
        &self,
        tx: &mut Tx,
        c: &Change<'_>,
        u: &mut DossierUpdate,
    ) -> Result<(), AppError> {
        let cur = c.step(c.snap.step);
        let t = cur
            .and_then(|s| s.due_at)
            .map(|due| classify(c.now, due))
            .unwrap_or(Timeliness::OnTime);
        store::finish_step(
            tx,
            c.d.id,
            c.snap.step as i64,
            c.now,
            c.actor.person_id,
            timeliness_str(t),
        )
        .await?;
        store::start_step(tx, c.d.id, c.o.step as i64, c.now, None, None).await?;
        u.finished_at = Some(c.now);
        let overall = match c.d.appointment {
            _ if u.counts_late => Timeliness::Late,
            Some(ap) => classify(c.now, ap),
            None => Timeliness::OnTime,
        };
        u.timeliness = Some(timeliness_str(overall).into());
        u.result_json = c.data.get("result").map(|r| r.to_string());
        u.step_due = None;
        u.assignee_id = None;
        Ok(())
    }

    async fn check_assignee(
        &self,
        ex: &mut impl Exec,
        person: i64,
        agency: Option<i64>,
        role: &str,
    ) -> Result<(), AppError> {
        let role = Role::parse(role).ok_or_else(|| AppError::internal("unknown role"))?;
        let ok = egov_store::org::has_role(ex, person, &[role.as_str()], agency, None, self.now())
            .await?;
        if ok {
            Ok(())
        } else {
            Err(AppError::invalid(
                Code::AssigneeCannotAct,
                "That officer does not hold the role this step needs in its agency.",
            ))
        }
    }

    /// The dossier, when the actor may see it; otherwise "not found" (whether a dossier exists
    /// is itself not for everyone).
    pub(crate) async fn visible_dossier(
        &self,
        ex: &mut impl Exec,
        actor: &Actor,
        id: i64,
    ) -> Result<DossierRow, AppError> {
        let d = store::get_dossier(ex, id).await.or_not_found("dossier")?;
        if self.can_see(ex, actor, &d).await? {
            Ok(d)
        } else {
            Err(AppError::not_found("dossier"))
        }
    }

    /// Whether the actor may see the dossier: a role in one of its agencies (receiving,
    /// competent, or an agency of its steps), a leader's role above its competent agency, or
    /// the system administrator.
    pub(crate) async fn can_see(
        &self,
        ex: &mut impl Exec,
        actor: &Actor,
        d: &DossierRow,
    ) -> Result<bool, AppError> {
        match actor.kind {
            // A citizen or business sees their own dossiers only; an integration follows
            // dossiers through the event log, not through this door.
            ActorKind::Citizen { applicant_id, .. } => return Ok(d.applicant_id == applicant_id),
            // The national portal brings the supplements of the dossiers submitted there.
            ActorKind::Integration(crate::Integration::NationalPortal) => {
                return Ok(d.national_code.is_some());
            }
            ActorKind::Integration(_) => return Ok(false),
            ActorKind::System | ActorKind::Official => {}
        }
        let Some(person) = actor.official()? else {
            return Ok(true);
        };
        let n: i64 = ex
            .scalar(
                "SELECT COUNT(*) FROM role_grants g WHERE g.person_id = $1 AND g.valid_from <= $2 \
                 AND (g.valid_to IS NULL OR g.valid_to > $2) AND ((g.agency_id IS NULL AND g.role = 'administrator') \
                 OR g.agency_id = $3 OR g.agency_id = $4 OR g.agency_id IN (SELECT agency_id FROM dossier_steps WHERE dossier_id = $5))",
                egov_store::args![person, self.now(), d.receiving_agency_id, d.competent_agency_id, d.id],
            )
            .await?;
        if n > 0 {
            return Ok(true);
        }
        // A leader of an agency above the competent one (the province's chair over a commune)
        // reads it — the dossiers behind their scorecard — without acting on it.
        let above: Vec<i64> = egov_store::agencies::ancestors(ex, d.competent_agency_id)
            .await?
            .into_iter()
            .map(|a| a.id)
            .filter(|id| *id != d.competent_agency_id)
            .collect();
        for agency in above {
            if self
                .holds_in(
                    ex,
                    actor,
                    &[Role::AgencyLeader, Role::UnitLeader, Role::Administrator],
                    agency,
                )
                .await?
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether the actor may apply `event` to the dossier now.
    async fn may(
        &self,
        ex: &mut impl Exec,
        actor: &Actor,
        d: &DossierRow,
        event: Event,
    ) -> Result<bool, AppError> {
        // The applicant's supplement to a dossier submitted on the national portal comes
        // through the portal.
        if matches!(
            actor.kind,
            ActorKind::Integration(crate::Integration::NationalPortal)
        ) {
            return Ok(d.national_code.is_some() && event == Event::SupplementProvided);
        }
        // Only officials act on dossiers (a citizen's supplement comes through the counter).
        if actor.official().is_err() {
            return Ok(false);
        }
        if authz::is_system_admin(ex, actor, self.now()).await? {
            return Ok(true);
        }
        let counter = [Role::OneStopOfficer];
        let leaders = [Role::AgencyLeader, Role::UnitLeader];
        let step_role = d.step_role.as_deref().and_then(Role::parse);
        let at_step = match step_role {
            Some(r) => {
                self.holds(ex, actor, &[r], d.current_agency_id).await?
                    && (d.assignee_id.is_none() || d.assignee_id == actor.person_id)
            }
            None => false,
        };
        let leads_current = self.holds(ex, actor, &leaders, d.current_agency_id).await?;
        let at_counter = self
            .holds(ex, actor, &counter, Some(d.receiving_agency_id))
            .await?;
        let leads_competent = self
            .holds(
                ex,
                actor,
                &[Role::AgencyLeader],
                Some(d.competent_agency_id),
            )
            .await?;
        Ok(match event {
            Event::Receive | Event::Refuse | Event::ReturnResult => at_counter,
            Event::RequestSupplement if d.state == State::Submitted => at_counter,
            Event::RequestSupplement | Event::Transfer | Event::Finish | Event::RequestPayment => {
                at_step || leads_current
            }
            Event::SupplementProvided | Event::PaymentReceived => at_counter || at_step,
            Event::Assign => leads_current || at_step,
            Event::Apologize => leads_competent || at_step || leads_current,
            Event::Stop => leads_competent,
            Event::Withdraw => at_counter || leads_competent,
        })
    }

    /// A dossier with its components, steps, pauses and timeline. The read is logged: the
    /// dossier holds the applicant's personal data.
    pub async fn dossier_detail(&self, actor: &Actor, id: i64) -> Result<DossierDetail, AppError> {
        // Read in a snapshot; only the audit entry needs the (single, on SQLite) writer.
        let mut tx = self.db.begin_snapshot().await?;
        let d = self.visible_dossier(&mut tx, actor, id).await?;
        let mut actions = Vec::new();
        let state = d.state;
        let snap = Snapshot {
            state,
            step: d.step as usize,
            steps: d.steps as usize,
            supplement_before_receipt: d.supplement_before_receipt,
            supplements: d.supplements as u32,
            apologies: d.apologies as u32,
            appointment: d.appointment,
        };
        for e in Event::ALL {
            if apply(&snap, e, self.now()).is_ok() && self.may(&mut tx, actor, &d, e).await? {
                actions.push(e.as_str().to_owned());
            }
        }
        let procedure = super::catalogue::parse_procedure(
            &store::get_procedure(&mut tx, d.procedure_id).await?,
        )?;
        let process = parse_process(&store::get_process(&mut tx, d.process_id).await?)?;
        let detail = DossierDetail {
            appointment_rule: AppointmentRule::of(&procedure, &process),
            applicant_masked: crate::applicants::mask(
                &egov_store::applicants::get(&mut tx, d.applicant_id)
                    .await?
                    .identifier,
            ),
            components: views::all(store::components(&mut tx, id).await?),
            steps: views::all(store::steps(&mut tx, id).await?),
            pauses: views::all(store::pauses(&mut tx, id).await?),
            events: views::all(store::events(&mut tx, id).await?),
            actions,
            national_status: state.national_code(),
            rating: egov_store::national_feedback::rating_of(
                &mut tx,
                id,
                &[
                    d.code.as_str(),
                    d.national_code.as_deref().unwrap_or_default(),
                ],
            )
            .await?
            .map(|(score, comment, rated_at)| Rating {
                score,
                comment,
                rated_at,
            }),
            online_form: match &d.national_code {
                Some(code) => {
                    match egov_store::national_inbox::payload_of(&mut tx, code, id).await? {
                        Some(payload) => serde_json::from_str::<serde_json::Value>(&payload)
                            .ok()
                            .and_then(|item| {
                                super::national_intake::read_form(
                                    &item,
                                    &self.settings.national_portal.fields.form,
                                )
                                .ok()
                            })
                            .unwrap_or_default(),
                        None => Vec::new(),
                    }
                }
                None => Vec::new(),
            },
            dossier: d.into(),
        };
        tx.commit().await?;
        let mut tx = self.db.begin().await?;
        audit::event("dossier.read", "dossier", id)
            .agency(Some(detail.dossier.competent_agency_id))
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(detail)
    }

    /// A finished dossier's result as given: its number (at most 100 characters), its date
    /// (`yyyy-mm-dd`, not in the future) and its file — a scan the officer uploaded, by its
    /// SHA-256 — all optional; anything else is kept as given.
    async fn checked_result(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        result: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, AppError> {
        let mut r = match result {
            None | Some(serde_json::Value::Null) => return Ok(serde_json::json!({})),
            Some(serde_json::Value::Object(m)) => m.clone(),
            Some(_) => {
                return Err(AppError::invalid(
                    Code::BadResult,
                    "The result is an object: number, date, file.",
                ));
            }
        };
        if let Some(n) = r.get("number") {
            let n = n.as_str().map(str::trim).unwrap_or_default();
            if n.chars().count() > 100 {
                return Err(AppError::invalid(
                    Code::BadResult,
                    "The result's number is at most 100 characters.",
                ));
            }
            r.insert("number".into(), serde_json::json!(n));
        }
        if let Some(v) = r.get("date") {
            let text = v.as_str().unwrap_or_default();
            let date = time::Date::parse(
                text,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| {
                AppError::invalid(Code::BadDate, "A date is written yyyy-mm-dd.")
                    .arg("value", text.to_owned())
            })?;
            if date > egov_domain::vn_date(self.now()) {
                return Err(AppError::invalid(
                    Code::BadDate,
                    "The result's date cannot be in the future.",
                )
                .arg("value", text.to_owned()));
            }
        }
        if let Some(f) = r.get("file") {
            let sha = f.as_str().unwrap_or_default().to_owned();
            let media_type = super::scans::referable_scan(tx, actor, &sha).await?;
            r.insert("media_type".into(), serde_json::json!(media_type));
        }
        Ok(serde_json::Value::Object(r))
    }

    /// The file of a dossier's result, for someone who may see the dossier (the read audited):
    /// (bytes, media type, name).
    pub async fn dossier_result_file(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<(Vec<u8>, String, String), AppError> {
        let mut tx = self.db.begin().await?;
        let d = self.visible_dossier(&mut tx, actor, id).await?;
        let result: serde_json::Value = d
            .result_json
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or_default();
        let sha = result
            .get("file")
            .and_then(|f| f.as_str())
            .ok_or_else(|| AppError::not_found("file"))?
            .to_owned();
        let name = result
            .get("file_name")
            .and_then(|f| f.as_str())
            .unwrap_or("ket-qua.pdf")
            .to_owned();
        let media_type = result
            .get("media_type")
            .and_then(|f| f.as_str())
            .unwrap_or("application/octet-stream")
            .to_owned();
        audit::event("dossier.result_read", "dossier", id)
            .agency(Some(d.competent_agency_id))
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        let bytes = self.read_blob(&sha).await?;
        Ok((bytes, media_type, name))
    }

    /// The officer's queue: open dossiers at a step they can act on, soonest deadline first.
    pub async fn my_queue(&self, actor: &Actor, limit: i64) -> Result<Vec<DossierRow>, AppError> {
        let person = actor.person_id.ok_or_else(AppError::forbidden)?;
        let rows = store::queue(&mut &self.db, person, self.now(), limit.clamp(1, 500)).await?;
        Ok(super::reports::mask_list(rows))
    }

    /// The online dossiers waiting for the actor's check before acceptance — submitted, or
    /// back from a supplement asked before acceptance — oldest first.
    pub async fn online_queue(
        &self,
        actor: &Actor,
        limit: i64,
    ) -> Result<Vec<DossierRow>, AppError> {
        let person = actor.person_id.ok_or_else(AppError::forbidden)?;
        let rows =
            store::online_queue(&mut &self.db, person, self.now(), limit.clamp(1, 500)).await?;
        Ok(super::reports::mask_list(rows))
    }

    /// Search by code, applicant or procedure (diacritics ignored), within what the actor may see.
    pub async fn search_dossiers(
        &self,
        actor: &Actor,
        q: &str,
        limit: i64,
    ) -> Result<Vec<DossierRow>, AppError> {
        let rows = store::search_dossiers(
            &mut &self.db,
            actor.person_id,
            q,
            self.now(),
            limit.clamp(1, 200),
        )
        .await?;
        Ok(super::reports::mask_list(rows))
    }
}

fn timeliness_str(t: Timeliness) -> &'static str {
    match t {
        Timeliness::Early => "early",
        Timeliness::OnTime => "on_time",
        Timeliness::Late => "late",
    }
}
