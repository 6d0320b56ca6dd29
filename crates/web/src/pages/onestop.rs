//! The one-stop screens: the officer's queue, the counter, a dossier with its timeline and
//! actions, search, the tracking register, statistics, the catalogue, and the public status
//! look-up.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use egov_app::onestop::catalogue::ProcedureView;
use egov_app::onestop::counter::CounterProcedure;
use egov_app::onestop::dossiers::{
    Action, ApplicantRef, ComponentInput, CounterPayment, DossierDetail, Reception,
};
use egov_app::onestop::forms::FormKind;
use egov_app::onestop::public::{LookupQuery, PublicStatus};
use egov_app::onestop::reports::MonthlyStats;
use egov_app::views::Agency;
use egov_app::views::{Dossier, Procedure};
use egov_app::{AppError, ErrorKind};
use egov_domain::onestop::procedure::{
    CopyKind, Fee, FeeRule, LimitUnit, ProcedureVersion, TimeLimit,
};
use serde::Deserialize;
use time::OffsetDateTime;

use super::{Page, html};
use crate::ctx::{Ctx, redirect_with_flash};
use crate::error::WebResult;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/onestop", get(queue))
        .route("/onestop/search", get(search))
        .route("/onestop/online", get(online))
        .route("/onestop/counter", get(counter))
        .route("/onestop/dossiers/{id}", get(dossier))
        .route("/onestop/dossiers/{id}/act", post(act))
        .route("/onestop/dossiers/{id}/scans/{code}", get(scan))
        .route("/onestop/dossiers/{id}/forms/{form}", get(form_pdf))
        .route("/onestop/dossiers/{id}/result", get(result_file))
        .route("/national/results/{token}", get(national_result_file))
        .route("/onestop/register", get(register))
        .route("/onestop/stats", get(stats))
        .route("/onestop/procedures", get(procedures))
        .route("/onestop/procedures/{id}", get(procedure))
        .route("/tra-cuu", get(lookup_form).post(lookup))
}

/// Routes that take uploads (their own, larger limit).
pub fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/onestop/counter", post(receive))
        .route("/onestop/dossiers/{id}/finish", post(finish))
}

/// Labels for one-stop values, shared by the templates.
impl Page {
    pub fn state_name(&self, s: impl AsRef<str>) -> String {
        self.t(format!("state-{}", s.as_ref().replace('_', "-")))
    }

    pub fn event_name(&self, e: &str) -> String {
        self.t(format!("event-{}", e.replace('_', "-")))
    }

    pub fn timeliness(&self, t: &str) -> String {
        self.t(format!("timeliness-{}", t.replace('_', "-")))
    }

    pub fn copy_kind(&self, k: &str) -> String {
        self.t(format!("copy-kind-{}", k.replace('_', "-")))
    }

    pub fn copy_kind_of(&self, k: &CopyKind) -> String {
        let s = serde_json::to_value(k).unwrap_or_default();
        self.copy_kind(s.as_str().unwrap_or("original"))
    }

    /// A procedure's statutory limit as the law words it: a same-day rule with its cut-off
    /// ("Trong ngày; sau 15:00 trả trong ngày làm việc tiếp theo"), else "3 ngày làm việc".
    pub fn statutory(&self, p: &egov_domain::onestop::procedure::ProcedureVersion) -> String {
        match p.same_day_cutoff {
            Some(c) => self.t1(
                "rule-same-day",
                "time",
                format!("{:02}:{:02}", c / 60, c % 60),
            ),
            None => self.limit(&p.statutory_limit),
        }
    }

    /// "3 ngày làm việc", "4 giờ làm việc" …
    pub fn limit(&self, l: &TimeLimit) -> String {
        let unit = match l.unit {
            LimitUnit::WorkingDays => "unit-working-days",
            LimitUnit::WorkingHours => "unit-working-hours",
            LimitUnit::CalendarDays => "unit-calendar-days",
            LimitUnit::Months => "unit-months",
        };
        let v = if l.value.fract() == 0.0 {
            format!("{}", l.value as i64)
        } else {
            format!("{}", l.value).replace('.', ",")
        };
        format!("{v} {}", self.t(unit))
    }

    pub fn fee_text(&self, f: &Fee) -> String {
        match &f.rule {
            FeeRule::Fixed { amount } => format!("{}: {}", f.name, self.money(amount)),
            FeeRule::PerUnit { amount, unit, cap } => {
                let mut s = format!("{}: {}/{unit}", f.name, self.money(amount));
                if let Some(c) = cap {
                    s.push_str(&format!(" ({} {})", self.t("fee-cap"), self.money(c)));
                }
                s
            }
            FeeRule::Free => format!("{}: {}", f.name, self.t("fee-free")),
        }
    }

    pub fn has_unit_fee(&self, p: &ProcedureVersion) -> bool {
        p.fees
            .iter()
            .any(|f| matches!(f.rule, FeeRule::PerUnit { .. }))
    }

    pub fn channel(&self, c: &egov_domain::onestop::dossier::Channel) -> String {
        self.t(format!("channel-{}", c.as_str()))
    }

    /// An optional instant, or a dash.
    pub fn odt(&self, t: &Option<OffsetDateTime>) -> String {
        t.as_ref().map(|t| self.dt(t)).unwrap_or_else(|| "–".into())
    }

    /// An amount of money: 1.250.000 đ.
    pub fn money(&self, v: &i64) -> String {
        format!("{} đ", egov_domain::text::thousands(*v))
    }
}

/// True when a dossier's step deadline has passed.
fn overdue(d: &Dossier, now: OffsetDateTime) -> bool {
    d.step_due.is_some_and(|t| t < now) || d.appointment.is_some_and(|t| t < now)
}

// ---- queue and search ----

#[derive(Template)]
#[template(path = "onestop/queue.html")]
struct QueuePage {
    page: Page,
    rows: Vec<Dossier>,
    overdue: Vec<bool>,
    q: String,
    searched: bool,
    counters: Vec<Agency>,
}

async fn queue(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let page = Page::official(&ctx, &state, "onestop-queue-title", "onestop").await?;
    let rows: Vec<Dossier> = egov_app::views::all(state.app.my_queue(&actor, 200).await?);
    let now = state.app.now();
    Ok(html(&QueuePage {
        overdue: rows.iter().map(|d| overdue(d, now)).collect(),
        rows,
        page,
        q: String::new(),
        searched: false,
        counters: egov_app::views::all(state.app.counters_of(&actor).await?),
    }))
}

#[derive(Template)]
#[template(path = "onestop/online.html")]
struct OnlinePage {
    page: Page,
    rows: Vec<Dossier>,
    /// How long each has waited, in whole hours.
    waited: Vec<i64>,
}

/// The online dossiers waiting for the officer's check, oldest first.
async fn online(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let page = Page::official(&ctx, &state, "online-queue-title", "onestop").await?;
    let rows: Vec<Dossier> = egov_app::views::all(state.app.online_queue(&actor, 200).await?);
    let now = state.app.now();
    Ok(html(&OnlinePage {
        waited: rows
            .iter()
            .map(|d| (now - d.submitted_at).whole_hours().max(0))
            .collect(),
        rows,
        page,
    }))
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SearchQuery>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let page = Page::official(&ctx, &state, "onestop-search-title", "onestop").await?;
    let rows: Vec<Dossier> =
        egov_app::views::all(state.app.search_dossiers(&actor, &q.q, 100).await?);
    let now = state.app.now();
    Ok(html(&QueuePage {
        overdue: rows.iter().map(|d| overdue(d, now)).collect(),
        rows,
        page,
        q: q.q,
        searched: true,
        counters: egov_app::views::all(state.app.counters_of(&actor).await?),
    }))
}

// ---- the counter ----

#[derive(Template)]
#[template(path = "onestop/counter.html")]
struct CounterPage {
    page: Page,
    counters: Vec<Agency>,
    agency_id: i64,
    procedure_query: String,
    matches: Vec<Procedure>,
    selected: Option<CounterProcedure>,
    form: FormValues,
    error: Option<String>,
}

/// What the officer typed, to show again after an error (nothing typed is lost).
#[derive(Default)]
pub(super) struct FormValues(pub(super) HashMap<String, String>);

impl FormValues {
    pub(super) fn v(&self, k: &str) -> &str {
        self.0.get(k).map(String::as_str).unwrap_or("")
    }

    pub(super) fn on(&self, k: &str) -> bool {
        self.0.contains_key(k)
    }

    pub(super) fn is(&self, k: &str, value: &str) -> bool {
        self.v(k) == value
    }
}

#[derive(Deserialize)]
struct CounterQuery {
    agency: Option<i64>,
    #[serde(default)]
    procedure: String,
}

async fn counter(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CounterQuery>,
) -> WebResult<Response> {
    let form = FormValues(HashMap::from([("kind".to_owned(), "citizen".to_owned())]));
    counter_page(&state, &ctx, q.agency, &q.procedure, form, None).await
}

async fn counter_page(
    state: &AppState,
    ctx: &Ctx,
    agency: Option<i64>,
    procedure: &str,
    form: FormValues,
    error: Option<&AppError>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let page = Page::official(ctx, state, "counter-title", "onestop").await?;
    let counters = state.app.counters_of(&actor).await?;
    let Some(receiving) = agency
        .and_then(|a| counters.iter().find(|c| c.id == a))
        .or(counters.first())
        .cloned()
    else {
        return Err(AppError::forbidden().into());
    };
    let procedure = procedure.trim();
    // A code goes straight to the form; words list the matching procedures.
    let looks_like_code =
        procedure.contains('.') && procedure.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let mut matches = Vec::new();
    let mut selected = None;
    let mut err = error.map(|e| ctx.lang.error(e));
    if looks_like_code {
        match state.app.counter_procedure(&receiving, procedure).await {
            Ok(p) => selected = Some(p),
            Err(e) => err = Some(ctx.lang.error(&e)),
        }
    } else if !procedure.is_empty() {
        matches = state.app.search_procedures(procedure, 30).await?;
        if matches.len() == 1 {
            selected = Some(
                state
                    .app
                    .counter_procedure(&receiving, &matches[0].code)
                    .await?,
            );
        }
    }
    let mut r = html(&CounterPage {
        page,
        agency_id: receiving.id,
        counters: egov_app::views::all(counters),
        procedure_query: procedure.to_owned(),
        matches: egov_app::views::all(matches),
        selected,
        form,
        error: err,
    });
    if let Some(e) = error {
        *r.status_mut() = crate::error::status_of(e.kind);
    }
    Ok(r)
}

/// A file field of the counter form.
pub(crate) struct Upload {
    pub(crate) name: String,
    pub(crate) declared: Option<String>,
    pub(crate) bytes: Vec<u8>,
}

pub(crate) async fn read_form(
    m: Multipart,
) -> Result<(HashMap<String, String>, HashMap<String, Upload>), AppError> {
    let (fields, files) = read_parts(m).await?;
    Ok((fields.into_iter().collect(), files.into_iter().collect()))
}

/// Every part of a multipart form in order, repeated names kept (several recipients, several
/// attachments).
pub(crate) async fn read_parts(
    mut m: Multipart,
) -> Result<(Vec<(String, String)>, Vec<(String, Upload)>), AppError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::new(
                ErrorKind::TooLarge,
                egov_app::Code::FileTooLarge,
                "The file is larger than allowed.",
            )
            .arg("max", "")
        } else {
            AppError::invalid(egov_app::Code::BadUpload, e.body_text())
        }
    };
    let mut fields = Vec::new();
    let mut files = Vec::new();
    while let Some(f) = m.next_field().await.map_err(bad)? {
        let key = f.name().unwrap_or_default().to_owned();
        match f.file_name().map(str::to_owned) {
            Some(name) => {
                let declared = f.content_type().map(str::to_owned);
                let bytes = Vec::from(f.bytes().await.map_err(bad)?);
                // An empty file input still sends a part, without content.
                if !name.is_empty() || !bytes.is_empty() {
                    files.push((
                        key,
                        Upload {
                            name,
                            declared,
                            bytes,
                        },
                    ));
                }
            }
            None => {
                let text = f.text().await.map_err(bad)?;
                fields.push((key, text));
            }
        }
    }
    Ok((fields, files))
}

async fn receive(State(state): State<AppState>, ctx: Ctx, m: Multipart) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let (fields, files) = read_form(m).await?;
    let form = FormValues(fields);
    let agency: Option<i64> = form.v("agency").parse().ok();
    let procedure = form.v("procedure").to_owned();
    let outcome = async {
        let receiving = agency
            .ok_or_else(|| AppError::invalid(egov_app::Code::BadAgency, "Choose the counter."))?;
        let view = state
            .app
            .counter_procedure(&state.app.agency(receiving).await?, &procedure)
            .await?;
        let mut components = Vec::new();
        for c in &view.view.procedure.components {
            let scan = match files.get(&format!("scan_{}", c.code)) {
                Some(u) => Some(
                    state
                        .app
                        .store_scan(&actor, &u.name, u.declared.as_deref(), u.bytes.clone())
                        .await?
                        .sha256,
                ),
                None => None,
            };
            let provided = form.on(&format!("provided_{}", c.code)) || scan.is_some();
            components.push(ComponentInput {
                code: c.code.clone(),
                provided,
                scan,
                reused: form.on(&format!("reused_{}", c.code)),
            });
        }
        let opt = |k: &str| Some(form.v(k).trim().to_owned()).filter(|s| !s.is_empty());
        let refuse = form.is("decision", "refuse");
        let reception = Reception {
            procedure_code: procedure.clone(),
            receiving_agency_id: receiving,
            competent_agency_id: form.v("competent").parse().ok(),
            applicant: ApplicantRef {
                id: None,
                new: Some(egov_app::applicants::NewApplicantCmd {
                    kind: form.v("kind").to_owned(),
                    identifier: form.v("identifier").trim().to_owned(),
                    country: opt("country"),
                    name: form.v("name").trim().to_owned(),
                    birth_date: None,
                    phone: opt("phone"),
                    email: opt("email"),
                    address: opt("address"),
                }),
            },
            components,
            subject: form.v("subject").trim().to_owned(),
            channel: opt("channel"),
            submitted_at: None,
            decision: refuse.then(|| "refuse".to_owned()),
            reasons: opt("reasons"),
            fee_units: form.v("fee_units").trim().parse().ok(),
            fee_exempt: form.on("fee_exempt"),
            payment: form.on("fee_paid").then(|| CounterPayment {
                amount: Some(form.v("fee_amount").replace(['.', ' ', ','], ""))
                    .filter(|v| !v.is_empty())
                    .map(|v| v.parse().unwrap_or(-1)),
                method: form.v("fee_method").to_owned(),
            }),
            national: None,
        };
        state.app.receive_dossier(&actor, reception).await
    }
    .await;
    match outcome {
        Ok(o) => {
            let d = &o.dossier;
            let text = match o.outcome.as_str() {
                "received" => ctx.lang.t_args(
                    "counter-received",
                    &[
                        ("code", d.code.clone()),
                        (
                            "appointment",
                            d.appointment
                                .map(|t| {
                                    let l = t.to_offset(egov_domain::VN_OFFSET);
                                    format!(
                                        "{:02}:{:02} {:02}/{:02}/{}",
                                        l.hour(),
                                        l.minute(),
                                        l.day(),
                                        u8::from(l.month()),
                                        l.year()
                                    )
                                })
                                .unwrap_or_default(),
                        ),
                    ],
                ),
                "supplement_requested" => ctx.lang.t_args(
                    "counter-supplement",
                    &[("code", d.code.clone()), ("missing", o.missing.join("; "))],
                ),
                _ => ctx
                    .lang
                    .t_args("counter-refused", &[("code", d.code.clone())]),
            };
            Ok(redirect_with_flash(
                &ctx,
                &format!("/onestop/dossiers/{}", d.id),
                true,
                &text,
            ))
        }
        Err(e) if e.kind == ErrorKind::Internal => Err(e.into()),
        Err(e) => counter_page(&state, &ctx, agency, &procedure, form, Some(&e)).await,
    }
}

// ---- a dossier ----

#[derive(Template)]
#[template(path = "onestop/dossier.html")]
struct DossierPage {
    page: Page,
    d: DossierDetail,
    /// Officers who may take the current step (for `assign`) and the next (for `transfer`).
    current_people: Vec<(i64, String)>,
    next_people: Vec<(i64, String)>,
    overdue: bool,
    applicant_id_masked: String,
    forms: Vec<FormKind>,
    /// Names of the people in the timeline and the steps.
    names: std::collections::HashMap<i64, String>,
}

impl DossierPage {
    fn can(&self, e: &str) -> bool {
        self.d.actions.iter().any(|a| a == e)
    }

    fn is_assignee(&self, id: &i64) -> bool {
        self.d.dossier.assignee_id == Some(*id)
    }

    /// The recorded result: its number, date (`dd/mm/yyyy`) and whether a file goes with it.
    fn result(&self) -> Option<(Option<String>, Option<String>, bool)> {
        let v: serde_json::Value =
            serde_json::from_str(self.d.dossier.result_json.as_deref()?).ok()?;
        let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
        let date = text("date").and_then(|d| {
            let p: Vec<&str> = d.split('-').collect();
            (p.len() == 3).then(|| format!("{}/{}/{}", p[2], p[1], p[0]))
        });
        let r = (text("number"), date, v.get("file").is_some());
        (r.0.is_some() || r.1.is_some() || r.2).then_some(r)
    }

    /// The rule that set the appointment, in the reader's language.
    fn appointment_rule(&self) -> String {
        let r = &self.d.appointment_rule;
        match (r.kind.as_str(), &r.cutoff, r.limit_value, &r.limit_unit) {
            ("same_day", Some(c), _, _) => self.page.t1("rule-same-day", "time", c),
            (_, _, Some(v), Some(u)) => self.page.t1(
                "rule-published-limit",
                "limit",
                self.page.limit(&TimeLimit {
                    value: v,
                    unit: serde_json::from_value(serde_json::Value::String(u.clone()))
                        .unwrap_or(LimitUnit::WorkingDays),
                }),
            ),
            _ => r.text.clone(),
        }
    }

    /// Who acted: a person's name, never an account name.
    fn who(&self, e: &egov_app::views::DossierEvent) -> String {
        e.actor_id
            .and_then(|id| self.names.get(&id).cloned())
            .unwrap_or_else(|| self.page.t("system-actor"))
    }

    /// Who handed a step over: the officer who received the dossier for the first step, the
    /// one who finished the step before for the others.
    fn given_by(&self, index: &usize) -> Option<String> {
        if *index == 0 {
            self.d
                .events
                .iter()
                .find(|e| e.event == "receive" || e.event == "submit")
                .and_then(|e| e.actor_id)
                .and_then(|id| self.names.get(&id).cloned())
        } else {
            self.d
                .steps
                .get(index - 1)
                .and_then(|s| s.handed_by_name.clone())
        }
    }

    fn missing_components(&self) -> Vec<&egov_app::views::Component> {
        self.d.components.iter().filter(|c| !c.provided).collect()
    }

    fn event_note(&self, e: &egov_app::views::DossierEvent) -> String {
        let v: serde_json::Value = serde_json::from_str(&e.data_json).unwrap_or_default();
        let mut parts = Vec::new();
        if let Some(n) = v
            .get("note")
            .and_then(|n| n.as_str())
            .filter(|n| !n.is_empty())
        {
            parts.push(n.to_owned());
        }
        if let Some(items) = v.get("items").and_then(|i| i.as_array()) {
            let items: Vec<&str> = items.iter().filter_map(|i| i.as_str()).collect();
            parts.push(items.join("; "));
        }
        if let Some(to) = v.get("returned_to").and_then(|n| n.as_str()) {
            parts.push(to.to_owned());
        }
        parts.join(" — ")
    }
}

async fn dossier(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let d = state.app.dossier_detail(&actor, id).await?;
    let page = Page::official(&ctx, &state, "dossier-title", "onestop")
        .await?
        .with_title(d.dossier.code.clone());
    let now = state.app.now();
    let app = &state.app;
    let holders = |agency: Option<i64>, role: Option<String>| async move {
        match (agency, role) {
            (Some(a), Some(r)) => app.holders(a, &r).await,
            _ => Ok(Vec::new()),
        }
    };
    let current_people = holders(d.dossier.current_agency_id, d.dossier.step_role.clone()).await?;
    let next = d.steps.iter().find(|s| s.seq == d.dossier.step + 1);
    let next_people = holders(next.and_then(|s| s.agency_id), next.map(|s| s.role.clone())).await?;
    let names = super::people_names(
        &state,
        d.events
            .iter()
            .filter_map(|e| e.actor_id)
            .collect::<Vec<_>>(),
    )
    .await?;
    Ok(html(&DossierPage {
        names,
        forms: egov_app::onestop::forms::available(&d),
        page,
        overdue: d.dossier.closed_at.is_none() && overdue(&d.dossier, now),
        applicant_id_masked: d.applicant_masked.clone(),
        d,
        current_people,
        next_people,
    }))
}

async fn act(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let get = |k: &str| {
        f.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let back = format!("/onestop/dossiers/{id}");
    let action = (|| -> Result<Action, AppError> {
        let new_date = match get("new_date") {
            Some(s) => Some(parse_local(&s)?),
            None => None,
        };
        Ok(Action {
            event: get("event").unwrap_or_default(),
            version: get("version").and_then(|v| v.parse().ok()).unwrap_or(-1),
            note: get("note").unwrap_or_default(),
            items: get("items")
                .map(|s| s.lines().map(str::to_owned).collect())
                .unwrap_or_default(),
            person_id: get("person_id").and_then(|v| v.parse().ok()),
            new_date,
            components: f
                .iter()
                .filter_map(|(k, _)| k.strip_prefix("provided_"))
                .map(ComponentInput::provided)
                .collect(),
            amount: get("amount").and_then(|v| v.replace(['.', ' '], "").parse().ok()),
            result: get("result_number").map(|n| serde_json::json!({ "number": n })),
            returned_to: get("returned_to"),
            returned_how: get("returned_how"),
        })
    })();
    let outcome = match action {
        Ok(a) => {
            let event = a.event.clone();
            state.app.act_on_dossier(&actor, id, a).await.map(|_| event)
        }
        Err(e) => Err(e),
    };
    Ok(match outcome {
        Ok(event) => {
            let text = ctx.lang.t_args(
                "dossier-acted",
                &[(
                    "event",
                    ctx.lang.t(&format!("event-{}", event.replace('_', "-"))),
                )],
            );
            redirect_with_flash(&ctx, &back, true, &text)
        }
        Err(e) if e.kind == ErrorKind::Internal => return Err(e.into()),
        Err(e) if e.code == "not_found" => return Err(e.into()),
        Err(e) => redirect_with_flash(&ctx, &back, false, &ctx.lang.error(&e)),
    })
}

/// "Hoàn thành": the result's number, date and file (the signed decision, a scan), on one form.
async fn finish(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    m: Multipart,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let back = format!("/onestop/dossiers/{id}");
    let (fields, files) = read_form(m).await?;
    let form = FormValues(fields);
    let outcome = async {
        let mut result = serde_json::Map::new();
        for key in ["number", "date"] {
            let v = form.v(&format!("result_{key}")).trim();
            if !v.is_empty() {
                result.insert(key.into(), serde_json::json!(v));
            }
        }
        if let Some(u) = files.get("result_file") {
            let scan = state
                .app
                .store_scan(&actor, &u.name, u.declared.as_deref(), u.bytes.clone())
                .await?;
            result.insert("file".into(), serde_json::json!(scan.sha256));
            result.insert("file_name".into(), serde_json::json!(u.name));
        }
        state
            .app
            .act_on_dossier(
                &actor,
                id,
                Action {
                    event: "finish".into(),
                    version: form.v("version").parse().unwrap_or(-1),
                    note: form.v("note").trim().to_owned(),
                    items: vec![],
                    person_id: None,
                    new_date: None,
                    components: vec![],
                    amount: None,
                    result: Some(serde_json::Value::Object(result)),
                    returned_to: None,
                    returned_how: None,
                },
            )
            .await
    }
    .await;
    Ok(match outcome {
        Ok(_) => {
            let text = ctx
                .lang
                .t_args("dossier-acted", &[("event", ctx.lang.t("event-finish"))]);
            redirect_with_flash(&ctx, &back, true, &text)
        }
        Err(e) if e.kind == ErrorKind::Internal || e.code == "not_found" => {
            return Err(e.into());
        }
        Err(e) => redirect_with_flash(&ctx, &back, false, &ctx.lang.error(&e)),
    })
}

async fn result_file(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let (bytes, media_type, name) = state.app.dossier_result_file(&ctx.actor()?, id).await?;
    Ok(result_download(&media_type, "inline", &name, bytes))
}

/// A dossier's result file, named with what is safe of its name.
fn result_download(media_type: &str, disposition: &str, name: &str, bytes: Vec<u8>) -> Response {
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || ".-_".contains(*c))
        .collect();
    crate::export::private_file(
        media_type,
        Some((disposition, if safe.is_empty() { "ket-qua" } else { &safe })),
        bytes,
    )
}

/// A result file fetched by the national portal through the link it was sent (the token is
/// the credential; see docs/national-portal.md).
async fn national_result_file(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> WebResult<Response> {
    let (bytes, media_type, name) = state
        .app
        .national_result_file(&token, Some(ctx.ip.clone()))
        .await?;
    Ok(result_download(&media_type, "attachment", &name, bytes))
}

/// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM` in Vietnam time (end of office day for a bare date).
fn parse_local(s: &str) -> Result<OffsetDateTime, AppError> {
    let bad = || {
        AppError::invalid(
            egov_app::Code::BadDate,
            format!("{s:?} is not a date (YYYY-MM-DD)"),
        )
        .arg("value", s)
    };
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let d = super::parse_date(Some(date))?;
    let t = match time {
        Some(t) => {
            let (h, m) = t.split_once(':').ok_or_else(bad)?;
            let h: u8 = h.parse().map_err(|_| bad())?;
            let m: u8 = m.get(..2).unwrap_or(m).parse().map_err(|_| bad())?;
            time::Time::from_hms(h, m, 0).map_err(|_| bad())?
        }
        None => time::Time::from_hms(17, 0, 0).map_err(|_| bad())?,
    };
    Ok(d.with_time(t).assume_offset(egov_domain::VN_OFFSET))
}

async fn scan(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, code)): Path<(i64, String)>,
) -> WebResult<Response> {
    let (bytes, media_type) = state.app.component_scan(&ctx.actor()?, id, &code).await?;
    Ok(crate::export::private_file(&media_type, None, bytes))
}

/// A form of a dossier as PDF (`receipt.pdf`, `process_control.pdf` …).
async fn form_pdf(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, form)): Path<(i64, String)>,
) -> WebResult<Response> {
    let kind = FormKind::parse(form.trim_end_matches(".pdf"))
        .ok_or_else(|| AppError::not_found("form"))?;
    let (file, bytes) = state.app.dossier_form(&ctx.actor()?, id, kind).await?;
    Ok(pdf_response(&file, bytes))
}

/// A PDF shown in the browser, not cached.
pub fn pdf_response(file: &str, bytes: Vec<u8>) -> Response {
    crate::export::private_file("application/pdf", Some(("inline", file)), bytes)
}

// ---- the register and statistics ----

#[derive(Template)]
#[template(path = "onestop/register.html")]
struct RegisterPage {
    page: Page,
    agencies: Vec<Agency>,
    agency_id: i64,
    from: String,
    to: String,
    rows: Vec<Dossier>,
}

#[derive(Deserialize)]
struct RegisterQuery {
    agency: Option<i64>,
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

/// The agencies whose figures the officer may read (their counters and postings' agencies).
async fn staff_agencies(state: &AppState, ctx: &Ctx) -> Result<Vec<Agency>, AppError> {
    let actor = ctx.actor()?;
    let ids = state
        .app
        .agencies_where(&actor, &egov_app::onestop::reports::STAFF)
        .await?
        .unwrap_or_default();
    Ok(egov_app::views::all(state.app.agencies_by_id(&ids).await?))
}

async fn register(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<RegisterQuery>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let agencies = staff_agencies(&state, &ctx).await?;
    let agency = q
        .agency
        .or(agencies.first().map(|a| a.id))
        .ok_or_else(AppError::forbidden)?;
    let (from_d, to_d, from, to) =
        crate::api::onestop::register_period(q.from.as_deref(), q.to.as_deref())?;
    let rows: Vec<Dossier> = egov_app::views::all(
        state
            .app
            .tracking_register(&actor, agency, from, to, 100_000, 0)
            .await?,
    );
    if q.format.as_deref() == Some("pdf") {
        let page = Page::new(&ctx, "register-title", "onestop");
        let period = format!(
            "Từ ngày {} đến ngày {}",
            page.date(&from_d),
            page.date(&to_d)
        );
        let bytes = state
            .app
            .register_pdf(&actor, agency, from, to, &period)
            .await?;
        return Ok(pdf_response(
            &format!("so-theo-doi-{agency}-{from_d}-{to_d}.pdf"),
            bytes,
        ));
    }
    if q.format.as_deref() == Some("xlsx") {
        let name = state.app.agency(agency).await?.name;
        let page = Page::new(&ctx, "register-title", "onestop");
        let period = format!("{} – {}", page.date(&from_d), page.date(&to_d));
        let bytes = crate::export::register_xlsx(ctx.lang, &name, &period, &rows)?;
        return Ok(crate::api::onestop::xlsx_response(
            &format!("so-theo-doi-{agency}-{from_d}-{to_d}.xlsx"),
            bytes,
        ));
    }
    let page = Page::official(&ctx, &state, "register-title", "onestop").await?;
    Ok(html(&RegisterPage {
        page,
        agencies,
        agency_id: agency,
        from: from_d.to_string(),
        to: to_d.to_string(),
        rows,
    }))
}

#[derive(Template)]
#[template(path = "onestop/stats.html")]
struct StatsPage {
    page: Page,
    agencies: Vec<Agency>,
    s: MonthlyStats,
}

#[derive(Deserialize)]
struct StatsQuery {
    agency: Option<i64>,
    month: Option<String>,
}

async fn stats(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatsQuery>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let agencies = staff_agencies(&state, &ctx).await?;
    let agency = q
        .agency
        .or(agencies.first().map(|a| a.id))
        .ok_or_else(AppError::forbidden)?;
    let month = q
        .month
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(crate::api::onestop::this_month);
    let s = state.app.monthly_stats(&actor, agency, &month).await?;
    let page = Page::official(&ctx, &state, "stats-title", "onestop").await?;
    Ok(html(&StatsPage { page, agencies, s }))
}

// ---- the catalogue ----

#[derive(Template)]
#[template(path = "onestop/procedures.html")]
struct ProceduresPage {
    page: Page,
    q: String,
    rows: Vec<Procedure>,
}

async fn procedures(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SearchQuery>,
) -> WebResult<Response> {
    ctx.actor()?;
    let page = Page::official(&ctx, &state, "procedures-title", "onestop").await?;
    let rows = state.app.search_procedures(&q.q, 500).await?;
    Ok(html(&ProceduresPage {
        page,
        q: q.q,
        rows: egov_app::views::all(rows),
    }))
}

#[derive(Template)]
#[template(path = "onestop/procedure.html")]
struct ProcedurePage {
    page: Page,
    p: ProcedureView,
}

async fn procedure(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    ctx.actor()?;
    let p = state.app.procedure_view(id).await?;
    let page = Page::official(&ctx, &state, "procedures-title", "onestop")
        .await?
        .with_title(p.procedure.name.clone());
    Ok(html(&ProcedurePage { page, p }))
}

// ---- the public look-up ----

#[derive(Template)]
#[template(path = "onestop/lookup.html")]
struct LookupPage {
    page: Page,
    q: LookupQuery,
    result: Option<PublicStatus>,
    error: Option<String>,
}

impl LookupPage {
    fn code(&self) -> &str {
        self.q.code.as_deref().unwrap_or("")
    }
}

/// The look-up form; with `?token=` (the receipt's QR code) the status at once.
async fn lookup_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<LookupQuery>,
) -> WebResult<Response> {
    let by_token = q.token.as_deref().is_some_and(|t| !t.trim().is_empty());
    let q = if by_token {
        LookupQuery {
            token: q.token,
            ..LookupQuery::default()
        }
    } else {
        LookupQuery {
            code: q.code,
            ..LookupQuery::default()
        }
    };
    lookup_page(&state, &ctx, q, by_token).await
}

/// The look-up itself: posted, so that phone and personal numbers stay out of addresses,
/// histories and logs.
async fn lookup(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(q): Form<LookupQuery>,
) -> WebResult<Response> {
    lookup_page(&state, &ctx, q, true).await
}

async fn lookup_page(
    state: &AppState,
    ctx: &Ctx,
    q: LookupQuery,
    asked: bool,
) -> WebResult<Response> {
    let page = Page::new(ctx, "lookup-title", "lookup");
    let (result, error, status) = if asked {
        match state.app.public_lookup(&q, &ctx.ip).await {
            Ok(r) => (Some(r), None, StatusCode::OK),
            Err(e) if e.kind == ErrorKind::Internal => return Err(e.into()),
            Err(e) => (
                None,
                Some(ctx.lang.error(&e)),
                crate::error::status_of(e.kind),
            ),
        }
    } else {
        (None, None, StatusCode::OK)
    };
    // The phone and personal number are not echoed back into the page.
    let q = LookupQuery {
        code: q.code,
        ..LookupQuery::default()
    };
    let mut r = html(&LookupPage {
        page,
        q,
        result,
        error,
    });
    *r.status_mut() = status;
    Ok(r)
}
