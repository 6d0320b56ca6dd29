//! A dossier comes in: received at a counter (or recorded after arriving online or by post),
//! or submitted by a citizen or through the National Public Service Portal and received by an
//! officer later.
//!
//! Both run one pipeline: [`check`] the request's own fields (pure) → [`App::load_reception`]
//! what it depends on (reads on one connection, outside the write transaction: SQLite has one
//! writer, and its turn is spent writing only) → [`plan`] the rows (pure: no database handle)
//! → [`App::write_reception`] them (one transaction, one batch).

use crate::Code;
use std::sync::Arc;

use egov_domain::events::{self as domain_events, EventKind};
use egov_domain::onestop::dossier::{Channel, Event, Outcome, Snapshot, State, apply};
use egov_domain::onestop::procedure::{ImplementingLevel, ProcedureVersion};
use egov_domain::org::Role;
use egov_store::agencies::Agency;
use egov_store::onestop::{self as store, DossierUpdate, NewDossier};
use egov_store::{Exec, applicants};
use time::{Date, OffsetDateTime};

use super::cache::InForce;
use super::dossiers::{
    Applicant, ComponentInput, PAYMENT_METHODS, Reception, ReceptionOutcome, appointment_deadline,
    appointment_limit, event_payload, transition_error, who_acts,
};
use crate::applicants::ValidApplicant;
use crate::error::OrNotFound;
use crate::events::Appended;
use crate::{Actor, ActorKind, App, AppError, Integration, audit};

/// Step 1: the request's own fields, checked.
pub(crate) struct Checked {
    pub channel: Channel,
    pub submitted_at: OffsetDateTime,
    pub refuse: bool,
    pub new_applicant: Option<ValidApplicant>,
    pub national: Option<super::dossiers::NationalOrigin>,
}

pub(crate) fn check(r: &Reception, now: OffsetDateTime) -> Result<Checked, AppError> {
    let channel = Channel::parse(r.channel.as_deref().unwrap_or("counter")).ok_or_else(|| {
        AppError::invalid(Code::BadChannel, "A channel is counter, online or post.")
    })?;
    let submitted_at = egov_store::db_time(r.submitted_at.unwrap_or(now));
    if submitted_at > now + time::Duration::minutes(5) {
        return Err(
            AppError::invalid(Code::BadDate, "The dossier cannot arrive in the future.")
                .arg("value", submitted_at),
        );
    }
    let refuse = match r.decision.as_deref() {
        None | Some("" | "auto") => false,
        Some("refuse") => true,
        Some(_) => {
            return Err(AppError::invalid(
                Code::BadDecision,
                "The decision is `refuse` or left out.",
            ));
        }
    };
    if refuse && r.reasons.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return Err(AppError::invalid(
            Code::ReasonsRequired,
            "A refusal states its reasons.",
        ));
    }
    let new_applicant = match (&r.applicant.id, &r.applicant.new) {
        (Some(_), _) => None,
        (None, Some(new)) => Some(ValidApplicant::check(new)?),
        (None, None) => {
            return Err(AppError::invalid(
                Code::ApplicantRequired,
                "Identify the applicant.",
            ));
        }
    };
    Ok(Checked {
        channel,
        submitted_at,
        refuse,
        new_applicant,
        national: r.national.clone(),
    })
}

/// Step 2: what a dossier coming in depends on.
pub(crate) struct Context {
    pub in_force: Arc<InForce>,
    pub receiving: Arc<Agency>,
    pub competent: Arc<Agency>,
    pub applicant: Applicant,
    pub applicant_name: String,
    pub applicant_phone: Option<String>,
    /// The agency of each step of the process, in order.
    pub step_agencies: Vec<Option<i64>>,
    /// The names of the required components missing.
    pub missing: Vec<String>,
    /// Each component's kind, as stored.
    pub component_kinds: Vec<String>,
}

/// Whether the agencies may take this procedure today: both in operation, the receiving one
/// allowed to receive for the competent one, and the competent one at a level that carries
/// the procedure out.
fn check_agencies(
    p: &ProcedureVersion,
    receiving: &Agency,
    competent: &Agency,
    today: Date,
) -> Result<(), AppError> {
    let current = |a: &Agency| {
        egov_domain::validity::Validity {
            from: a.valid_from,
            to: a.valid_to,
        }
        .contains(today)
    };
    if !current(receiving) || !current(competent) {
        return Err(AppError::invalid(
            Code::AgencyNotCurrent,
            "An agency of this dossier is not in operation today.",
        )
        .arg("agency", &competent.name)
        .arg("successor", "–"));
    }
    // Since Decree 118/2025 listed procedures are received anywhere; otherwise the counter of
    // the competent agency, or a province-level centre for a department, receives it.
    let province_centre = ImplementingLevel::centre_receives_for(receiving.kind, competent.kind)
        && receiving.parent_id == competent.parent_id;
    if receiving.id != competent.id && !p.receivable_anywhere && !province_centre {
        return Err(AppError::invalid(
            Code::NotReceivableHere,
            "This procedure is received only at the competent agency's counter.",
        )
        .arg("agency", &competent.name));
    }
    let level_ok = p
        .levels
        .iter()
        .any(|l| l.is_carried_out_by(competent.kind, competent.parent_id.is_some()));
    if !level_ok {
        return Err(AppError::invalid(
            Code::WrongCompetentAgency,
            "That agency does not carry out this procedure.",
        )
        .arg("agency", &competent.name));
    }
    Ok(())
}

/// Where reception leaves a dossier: received (the appointment fixed now and printed: a
/// promise), waiting for everything missing, or refused.
fn decide(refuse: bool, missing: &[String]) -> (Event, &'static str) {
    if refuse {
        (Event::Refuse, "refused")
    } else if missing.is_empty() {
        (Event::Receive, "received")
    } else {
        (Event::RequestSupplement, "supplement_requested")
    }
}

/// Step 3: the rows to write.
pub(crate) struct Plan<'a> {
    /// The reception's event; None when the dossier is only submitted.
    pub event: Option<Event>,
    pub outcome: &'static str,
    pub state: Outcome,
    pub update: DossierUpdate,
    pub steps: Vec<store::NewStep<'a>>,
    pub components: Vec<store::NewComponent<'a>>,
    pub fee_total: i64,
    pub digitised: bool,
    pub reused: bool,
    pub subject: String,
    /// When the dossier counts as received, and the appointment then promised.
    pub received: OffsetDateTime,
    pub appointment: Option<OffsetDateTime>,
    /// What the reception's log entry keeps (missing components, reasons, payment).
    pub data: serde_json::Value,
    pub domain_events: Vec<EventKind>,
}

/// The receipt's times: the appointment and the first step's due time.
pub(crate) type Times = (OffsetDateTime, Option<OffsetDateTime>);

pub(crate) fn plan<'a>(
    r: &'a Reception,
    c: &Checked,
    ctx: &'a Context,
    event: Option<(Event, &'static str)>,
    times: Option<Times>,
    now: OffsetDateTime,
) -> Result<Plan<'a>, AppError> {
    let (p, process) = (&ctx.in_force.procedure, &ctx.in_force.process);
    let mut steps = planned_steps(ctx);
    let submitted = Snapshot {
        state: State::Submitted,
        step: 0,
        steps: process.steps.len(),
        supplement_before_receipt: false,
        supplements: 0,
        apologies: 0,
        appointment: None,
    };
    let o = match event {
        Some((e, _)) => apply(&submitted, e, now).map_err(transition_error)?,
        None => Outcome {
            state: State::Submitted,
            step: 0,
            supplement_before_receipt: false,
            supplements: 0,
            apologies: 0,
            counts_late: false,
        },
    };
    let mut u = DossierUpdate {
        state: o.state,
        national_status: i64::from(o.state.national_code()),
        step: o.step as i64,
        supplement_before_receipt: o.supplement_before_receipt,
        supplements: i64::from(o.supplements),
        apologies: i64::from(o.apologies),
        counts_late: o.counts_late,
        ..DossierUpdate::default()
    };
    let received = c.channel.received_at(c.submitted_at, now);
    let mut appointment = None;
    match (event, times) {
        (Some((Event::Receive, _)), Some((at, due0))) => {
            u.received_at = Some(received);
            u.appointment = Some(at);
            u.original_appointment = Some(at);
            u.step_due = due0;
            if let Some(first) = steps.first_mut() {
                first.started_at = Some(received);
                first.due_at = due0;
            }
            appointment = Some(at);
        }
        (Some((Event::Receive, _)), None) => {
            return Err(AppError::internal("a receipt without its appointment"));
        }
        (Some((Event::Refuse, _)), _) => u.closed_at = Some(now),
        _ => {}
    }
    let first = steps.first().map(|s| (s.agency_id, s.role));
    who_acts(&mut u, o.state, o.supplement_before_receipt, first);

    let fee_total: i64 = p
        .fees
        .iter()
        .map(|f| f.amount(r.fee_units.unwrap_or(1), r.fee_exempt))
        .sum();
    let payment = counter_payment(r, fee_total, o.state)?;
    u.paid = payment.is_some();
    let provided_paper: Vec<&ComponentInput> = r.components.iter().filter(|c| c.provided).collect();
    let components = planned_components(r, ctx);
    let mut kinds = vec![EventKind::DossierSubmitted];
    if let Some((e, _)) = event {
        kinds.extend(domain_events::of_dossier(e, State::Submitted, o.state));
    }
    if u.paid {
        kinds.push(EventKind::Paid);
    }
    Ok(Plan {
        event: event.map(|(e, _)| e),
        outcome: event.map_or("submitted", |(_, o)| o),
        state: o,
        update: u,
        steps,
        components,
        fee_total,
        digitised: !provided_paper.is_empty()
            && provided_paper.iter().all(|c| c.scan.is_some() || c.reused),
        reused: r.components.iter().any(|c| c.reused),
        subject: r.subject.trim().chars().take(500).collect(),
        received,
        appointment,
        data: serde_json::json!({ "missing": ctx.missing, "reasons": r.reasons, "payment": payment }),
        domain_events: kinds,
    })
}

/// The dossier's steps as the process in force lays them out, none started yet.
fn planned_steps(ctx: &Context) -> Vec<store::NewStep<'_>> {
    ctx.in_force
        .process
        .steps
        .iter()
        .zip(&ctx.step_agencies)
        .enumerate()
        .map(|(i, (s, agency))| store::NewStep {
            seq: i as i64,
            name: s.name.as_str(),
            agency_id: *agency,
            role: s.role.as_str(),
            started_at: None,
            due_at: None,
        })
        .collect()
}

/// The procedure's components with what the officer recorded of each (handed in, scanned,
/// reused from digitised data).
fn planned_components<'a>(r: &'a Reception, ctx: &'a Context) -> Vec<store::NewComponent<'a>> {
    ctx.in_force
        .procedure
        .components
        .iter()
        .zip(&ctx.component_kinds)
        .map(|(pc, kind)| {
            let input = r.components.iter().find(|i| i.code == pc.code);
            store::NewComponent {
                code: &pc.code,
                name: &pc.name,
                kind,
                quantity: i64::from(pc.quantity),
                required: pc.required,
                provided: input.is_some_and(|i| i.provided),
                blob_sha: input.and_then(|i| i.scan.as_deref()),
                reused: input.is_some_and(|i| i.reused),
            }
        })
        .collect()
}

/// A fee paid at the counter while receiving: only with the receipt, in a known way, and the
/// whole fee.
fn counter_payment(
    r: &Reception,
    fee_total: i64,
    state: State,
) -> Result<Option<serde_json::Value>, AppError> {
    let Some(pay) = &r.payment else {
        return Ok(None);
    };
    if fee_total == 0 {
        return Err(AppError::invalid(
            Code::NothingToPay,
            "This dossier has no fee to pay.",
        ));
    }
    if state != State::Received {
        return Err(AppError::invalid(
            Code::PaymentWithReceipt,
            "A fee is recorded at the counter with the receipt, when the dossier is received.",
        ));
    }
    if !PAYMENT_METHODS.contains(&pay.method.as_str()) {
        return Err(AppError::invalid(
            Code::BadPaymentMethod,
            "A fee is paid in cash, by transfer or by card.",
        )
        .arg("value", pay.method.clone()));
    }
    let amount = pay.amount.unwrap_or(fee_total);
    if amount != fee_total {
        return Err(AppError::invalid(
            Code::PaymentMismatch,
            format!("The fee is {fee_total} đồng; {amount} was entered."),
        )
        .arg("expected", fee_total)
        .arg("value", amount));
    }
    Ok(Some(
        serde_json::json!({ "amount": amount, "method": pay.method }),
    ))
}

impl App {
    /// Receives a dossier at a counter (or records one that arrived online or by post).
    pub async fn receive_dossier(
        &self,
        actor: &Actor,
        r: Reception,
    ) -> Result<ReceptionOutcome, AppError> {
        let now = self.now();
        let mut c = check(&r, now)?;
        let (mut rd, stamps) = self.reader_with_stamps().await?;
        let officer = [Role::OneStopOfficer, Role::Administrator];
        if !self
            .holds(&mut rd, actor, &officer, Some(r.receiving_agency_id))
            .await?
        {
            return Err(AppError::forbidden());
        }
        let ctx = self
            .load_reception(&mut rd, &stamps.catalogue, actor, &r, &mut c, now)
            .await?;
        let (event, outcome) = decide(c.refuse, &ctx.missing);
        let times = if event == Event::Receive {
            let process = &ctx.in_force.process;
            let limit = appointment_limit(&ctx.in_force.procedure, process)?;
            let allot0 = process.steps.first().and_then(|s| s.allotment.to_limit());
            let received = c.channel.received_at(c.submitted_at, now);
            let at = self
                .receipt_times(
                    &mut rd,
                    Some(&stamps.calendar),
                    ctx.receiving.id,
                    received,
                    limit,
                    allot0,
                )
                .await?;
            Some(at)
        } else {
            None
        };
        // The reads are done; never hold two connections at once (the pool is small).
        drop(rd);
        let plan = plan(&r, &c, &ctx, Some((event, outcome)), times, now)?;
        self.write_reception(actor, &c, &ctx, plan, now).await
    }

    /// Records a dossier submitted online — by the citizen or business it belongs to, or
    /// through the National Public Service Portal — as **submitted** (national status 1). An
    /// officer of the receiving agency receives it later (`receive`, or a supplement request
    /// or a refusal), and only then is the appointment fixed.
    pub async fn submit_dossier(
        &self,
        actor: &Actor,
        mut r: Reception,
    ) -> Result<ReceptionOutcome, AppError> {
        let now = self.now();
        if r.decision.as_deref().is_some_and(|d| !d.is_empty()) || r.payment.is_some() {
            return Err(AppError::invalid(
                Code::NotForSubmission,
                "A submitted dossier is decided on and paid for when an officer receives it.",
            ));
        }
        match actor.kind {
            ActorKind::Citizen { applicant_id, .. } => {
                // Citizens submit for themselves, as the applicant on record they signed in as.
                if r.applicant.id.is_some_and(|id| id != applicant_id) || r.applicant.new.is_some()
                {
                    return Err(AppError::forbidden());
                }
                r.applicant.id = Some(applicant_id);
            }
            ActorKind::Integration(Integration::NationalPortal) | ActorKind::System => {}
            _ => return Err(AppError::forbidden()),
        }
        r.channel = Some(Channel::Online.as_str().into());
        let mut c = check(&r, now)?;
        let (mut rd, stamps) = self.reader_with_stamps().await?;
        let ctx = self
            .load_reception(&mut rd, &stamps.catalogue, actor, &r, &mut c, now)
            .await?;
        drop(rd);
        let plan = plan(&r, &c, &ctx, None, None, now)?;
        self.write_reception(actor, &c, &ctx, plan, now).await
    }

    /// Step 2: reads what the dossier depends on and checks the request against it.
    pub(crate) async fn load_reception(
        &self,
        rd: &mut impl Exec,
        catalogue: &str,
        actor: &Actor,
        r: &Reception,
        c: &mut Checked,
        now: OffsetDateTime,
    ) -> Result<Context, AppError> {
        let today = egov_domain::vn_date(now);
        let in_force = self
            .in_force(rd, catalogue, r.procedure_code.trim(), today)
            .await?;
        let p = &in_force.procedure;
        let receiving = self
            .agency_at(rd, catalogue, today, r.receiving_agency_id)
            .await?;
        let competent = match r.competent_agency_id {
            Some(id) if id != receiving.id => self.agency_at(rd, catalogue, today, id).await?,
            _ => receiving.clone(),
        };
        check_agencies(p, &receiving, &competent, today)?;
        // Components: every code must belong to the procedure; scans must be uploaded blobs.
        for ci in &r.components {
            if !p.components.iter().any(|pc| pc.code == ci.code) {
                return Err(AppError::invalid(
                    Code::UnknownComponent,
                    format!("{} is not a component of this procedure", ci.code),
                )
                .arg("code", &ci.code));
            }
            if let Some(sha) = &ci.scan {
                super::scans::referable_scan(rd, actor, sha)
                    .await
                    .map_err(|e| e.arg("code", &ci.code))?;
            }
        }
        let provided: Vec<&str> = r
            .components
            .iter()
            .filter(|ci| ci.provided)
            .map(|ci| ci.code.as_str())
            .collect();
        let missing = p
            .missing(&provided)
            .iter()
            .map(|pc| pc.name.clone())
            .collect();
        // The applicant: an existing record keeps its stored name and phone.
        let (applicant, applicant_name, applicant_phone) = match c.new_applicant.take() {
            None => {
                let id = r.applicant.id.unwrap_or_default();
                let a = applicants::get(rd, id).await.or_not_found("applicant")?;
                (Applicant::OnRecord(a.id), a.name, a.phone)
            }
            Some(v) => match applicants::find(rd, v.id.kind(), &v.key).await? {
                Some(a) => (Applicant::OnRecord(a.id), a.name, a.phone),
                None => {
                    let (name, phone) = (v.name.clone(), v.phone.clone());
                    (Applicant::ToRegister(v), name, phone)
                }
            },
        };
        let mut step_agencies = Vec::with_capacity(in_force.process.steps.len());
        for s in &in_force.process.steps {
            step_agencies.push(Some(
                self.step_agency(rd, &s.agency, receiving.id, competent.id)
                    .await?,
            ));
        }
        let component_kinds = p
            .components
            .iter()
            .map(|pc| {
                serde_json::to_value(pc.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "copy".into())
            })
            .collect();
        Ok(Context {
            in_force,
            receiving,
            competent,
            applicant,
            applicant_name,
            applicant_phone,
            step_agencies,
            missing,
            component_kinds,
        })
    }

    /// Step 4: writes the plan in one transaction — the applicant if new, the gapless code,
    /// then everything else in one round trip.
    async fn write_reception(
        &self,
        actor: &Actor,
        c: &Checked,
        ctx: &Context,
        plan: Plan<'_>,
        now: OffsetDateTime,
    ) -> Result<ReceptionOutcome, AppError> {
        let (p, receiving) = (&ctx.in_force.procedure, &ctx.receiving);
        let mut tx = self.db.begin().await?;
        let mut audits = Vec::with_capacity(2);
        let applicant_id = match &ctx.applicant {
            Applicant::OnRecord(id) => *id,
            Applicant::ToRegister(v) => match v.insert(&mut tx).await? {
                Some(id) => {
                    audits.push(v.audit(id));
                    id
                }
                // Registered by someone else a moment ago.
                None => {
                    applicants::find(&mut tx, v.id.kind(), &v.key)
                        .await?
                        .ok_or_else(|| AppError::internal("the applicant vanished"))?
                        .id
                }
            },
        };
        let day = egov_domain::vn_date(c.submitted_at);
        let (seq, id) =
            store::next_dossier_number(&mut tx, &format!("{}:{day}", receiving.id)).await?;
        let code = egov_domain::onestop::code::format_code(
            &self.settings.onestop.code_format,
            &receiving.code,
            day,
            seq as u64,
        );
        let mut b = egov_store::Batch::default();
        let search_fold = format!(
            "{} {}",
            egov_domain::text::fold(&format!(
                "{code} {} {} {}",
                ctx.applicant_name, p.name, plan.subject
            )),
            egov_store::fts::agency_words(&[receiving.id, ctx.competent.id])
        );
        let local = c.submitted_at.to_offset(egov_domain::VN_OFFSET);
        let month = format!("{:04}-{:02}", local.year(), u8::from(local.month()));
        let token = crate::auth::random_token(24);
        let new_dossier = NewDossier {
            code: &code,
            procedure_id: ctx.in_force.procedure_id,
            process_id: ctx.in_force.process_id,
            procedure_code: p.code.as_str(),
            field_code: &p.field_code,
            receiving_agency_id: receiving.id,
            competent_agency_id: ctx.competent.id,
            applicant_id,
            applicant_name: &ctx.applicant_name,
            applicant_phone: ctx.applicant_phone.as_deref(),
            channel: c.channel,
            steps: plan.steps.len() as i64,
            subject: &plan.subject,
            submitted_at: c.submitted_at,
            fee_total: plan.fee_total,
            digitised: plan.digitised,
            reused_data: plan.reused,
            national_code: c.national.as_ref().map(|n| n.code.as_str()),
            eid_verified: c.national.as_ref().is_some_and(|n| n.eid_verified),
            paid_online: c.national.as_ref().is_some_and(|n| n.paid_online),
            lookup_token: &token,
            search_fold: &search_fold,
            month: &month,
            state: &plan.update,
        };
        store::add_dossier(&mut b, id, &new_dossier, now);
        store::add_components(&mut b, id, &plan.components);
        store::add_steps(&mut b, id, &plan.steps);
        add_history(&mut b, id, &code, actor, c, ctx, &plan, now)?;
        audits.push(
            audit::event("dossier.create", "dossier", id)
                .agency(Some(receiving.id))
                .after(&serde_json::json!({"code": code, "procedure": p.code.as_str(), "outcome": plan.outcome})),
        );
        audit::add_all(&mut b, actor, audits);
        b.run(&mut tx).await?;
        tx.commit().await?;
        let dossier = new_dossier.row(id, [p.name.as_str(), &receiving.name, &ctx.competent.name]);
        Ok(ReceptionOutcome {
            outcome: plan.outcome.into(),
            dossier: dossier.into(),
            missing: ctx.missing.clone(),
        })
    }
}

/// The dossier's history as it starts: its log (submitted, then the reception's event), the
/// appointment as a kept deadline, and the domain events its subscribers hear.
#[allow(clippy::too_many_arguments)]
fn add_history(
    b: &mut egov_store::Batch,
    id: i64,
    code: &str,
    actor: &Actor,
    c: &Checked,
    ctx: &Context,
    plan: &Plan<'_>,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let submit_data = serde_json::json!({"channel": c.channel.code()});
    let mut log = vec![store::NewEvent {
        at: c.submitted_at,
        actor_id: actor.person_id,
        actor: &actor.username,
        event: "submit",
        from: None,
        to: State::Submitted.as_str(),
        step: 0,
        data: &submit_data,
    }];
    if let Some(e) = plan.event {
        log.push(store::NewEvent {
            at: now,
            actor_id: actor.person_id,
            actor: &actor.username,
            event: e.as_str(),
            from: Some(State::Submitted.as_str()),
            to: plan.state.state.as_str(),
            step: plan.state.step as i64,
            data: &plan.data,
        });
    }
    store::add_events(b, id, &log);
    let receiving = ctx.receiving.id;
    if let Some(at) = plan.appointment {
        let limit = appointment_limit(&ctx.in_force.procedure, &ctx.in_force.process)?;
        appointment_deadline(code, receiving, plan.received, limit).add_to(b, at)?;
    }
    // What the national portal's synchronisation and the other subscribers hear.
    let payload = event_payload(
        code,
        plan.state.state,
        plan.state.step,
        plan.event.map_or("submit", Event::as_str),
    );
    Appended {
        aggregate_id: id,
        agency_id: Some(receiving),
        actor_id: actor.person_id,
        at: now,
        kinds: plan.domain_events.clone(),
        payload: &payload,
    }
    .add_to(b, 0);
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The plan is pure: these tests build its context by hand, with no database.
    use egov_domain::onestop::process::Process;
    use time::macros::datetime;

    use super::*;
    use crate::onestop::dossiers::{ApplicantRef, CounterPayment};

    /// The demo catalogue's certified copy (two components, a fee per page, same day).
    fn context(missing: &[&str]) -> Context {
        let all: serde_json::Value = serde_json::from_str(crate::data::DEMO_CATALOGUE).unwrap();
        let entry = &all[0];
        let procedure: ProcedureVersion =
            serde_json::from_value(entry["procedure"].clone()).unwrap();
        let process: Process = serde_json::from_value(entry["process"].clone()).unwrap();
        let agency = Arc::new(Agency {
            id: 7,
            code: "000.00.00.H56".into(),
            code_source: "official".into(),
            name: "Ủy ban nhân dân phường Hạc Thành".into(),
            short_name: String::new(),
            kind: egov_domain::org::AgencyKind::PeopleCommittee,
            governance: egov_domain::org::Governance::Collective,
            admin_unit_id: None,
            parent_id: Some(1),
            valid_from: None,
            valid_to: None,
        });
        let steps = process.steps.len();
        let component_kinds = vec!["original".into(); procedure.components.len()];
        Context {
            in_force: Arc::new(InForce {
                procedure_id: 1,
                procedure,
                process_id: 2,
                process,
            }),
            receiving: agency.clone(),
            competent: agency,
            applicant: Applicant::OnRecord(3),
            applicant_name: "Lê Thị Hồng".into(),
            applicant_phone: None,
            step_agencies: vec![Some(7); steps],
            missing: missing.iter().map(|m| (*m).to_owned()).collect(),
            component_kinds,
        }
    }

    fn reception(codes: &[&str]) -> Reception {
        Reception {
            procedure_code: "2.000815".into(),
            receiving_agency_id: 7,
            competent_agency_id: None,
            applicant: ApplicantRef {
                id: Some(3),
                new: None,
            },
            components: codes.iter().map(|c| ComponentInput::provided(*c)).collect(),
            subject: "  Chứng thực bản sao  ".into(),
            channel: None,
            submitted_at: None,
            decision: None,
            reasons: None,
            fee_units: Some(3),
            fee_exempt: false,
            payment: None,
            national: None,
        }
    }

    const NOW: OffsetDateTime = datetime!(2026-12-07 09:15 +7);

    #[test]
    fn a_complete_dossier_is_received_with_its_first_step_started() {
        let r = reception(&["TP1", "TP2"]);
        let c = check(&r, NOW).unwrap();
        let ctx = context(&[]);
        let appointment = datetime!(2026-12-07 17:00 +7);
        let due0 = datetime!(2026-12-07 09:45 +7);
        let p = plan(
            &r,
            &c,
            &ctx,
            Some(decide(false, &ctx.missing)),
            Some((appointment, Some(due0))),
            NOW,
        )
        .unwrap();
        assert_eq!((p.event, p.outcome), (Some(Event::Receive), "received"));
        assert_eq!(p.update.state, State::Received);
        assert_eq!(p.update.appointment, Some(appointment));
        assert_eq!(p.steps[0].started_at, Some(NOW));
        assert_eq!(p.steps[0].due_at, Some(due0));
        assert!(p.steps[1..].iter().all(|s| s.started_at.is_none()));
        assert_eq!(p.update.step_role.as_deref(), Some("one_stop_officer"));
        assert_eq!(p.fee_total, 6_000, "three pages at 2,000 đồng");
        assert_eq!(p.subject, "Chứng thực bản sao");
        assert!(!p.update.paid);
        assert_eq!(
            p.domain_events,
            [
                EventKind::DossierSubmitted,
                EventKind::DossierReceived,
                EventKind::StatusChanged
            ]
        );
    }

    #[test]
    fn what_is_missing_is_asked_for_and_nothing_is_promised() {
        let r = reception(&["TP1"]);
        let c = check(&r, NOW).unwrap();
        let ctx = context(&["Bản sao cần chứng thực"]);
        let decision = decide(false, &ctx.missing);
        assert_eq!(decision, (Event::RequestSupplement, "supplement_requested"));
        let p = plan(&r, &c, &ctx, Some(decision), None, NOW).unwrap();
        assert_eq!(p.appointment, None);
        assert!(p.steps.iter().all(|s| s.started_at.is_none()));
        assert_eq!(
            p.data["missing"],
            serde_json::json!(["Bản sao cần chứng thực"])
        );
    }

    #[test]
    fn a_submission_stays_submitted_and_a_fee_is_paid_only_with_a_receipt() {
        let r = reception(&["TP1", "TP2"]);
        let c = check(&r, NOW).unwrap();
        let ctx = context(&[]);
        let p = plan(&r, &c, &ctx, None, None, NOW).unwrap();
        assert_eq!((p.event, p.outcome), (None, "submitted"));
        assert_eq!(p.update.state, State::Submitted);
        assert_eq!(p.domain_events, [EventKind::DossierSubmitted]);

        let mut paid = reception(&["TP1", "TP2"]);
        paid.payment = Some(CounterPayment {
            amount: Some(5_000),
            method: "cash".into(),
        });
        let at = Some((datetime!(2026-12-07 17:00 +7), None));
        let receive = Some((Event::Receive, "received"));
        let e = plan(&paid, &c, &ctx, receive, at, NOW).err().unwrap();
        assert_eq!(e.code, "payment_mismatch");
        paid.payment = Some(CounterPayment {
            amount: None,
            method: "cash".into(),
        });
        let p = plan(&paid, &c, &ctx, receive, at, NOW).unwrap();
        assert!(p.update.paid);
        assert_eq!(p.domain_events.last(), Some(&EventKind::Paid));
        let e = plan(&paid, &c, &ctx, None, None, NOW).err().unwrap();
        assert_eq!(e.code, "payment_with_receipt");
    }

    #[test]
    fn the_request_is_checked_before_anything_is_read() {
        let mut r = reception(&[]);
        r.channel = Some("fax".into());
        assert_eq!(check(&r, NOW).err().unwrap().code, "bad_channel");
        r.channel = Some("post".into());
        r.submitted_at = Some(NOW + time::Duration::hours(1));
        assert_eq!(check(&r, NOW).err().unwrap().code, "bad_date");
        r.submitted_at = None;
        r.decision = Some("refuse".into());
        assert_eq!(check(&r, NOW).err().unwrap().code, "reasons_required");
        r.reasons = Some("Không thuộc thẩm quyền".into());
        let c = check(&r, NOW).unwrap();
        assert_eq!((c.channel, c.refuse), (Channel::Post, true));
    }
}
