//! The documents screens: the work list of the records clerk, the leader and the specialist
//! (arrivals to register, documents to direct — in two clicks — what I handle, drafts waiting),
//! registering a paper document with its scan on one page, a document with its files,
//! recipients, timeline and actions, search, and the registers.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Multipart, Path, Query, State};

use axum::response::Response;
use axum::routing::{get, post};
use egov_app::documents::incoming::{ANY_OFFICE_ROLE, InAction, PaperInCmd};
use egov_app::documents::incoming::{Direction, InCommand};
use egov_app::documents::outgoing::{DocumentDetail, OutAction};
use egov_app::views::Agency;
use egov_app::views::{Document, Incoming};
use egov_app::{AppError, ErrorKind};
use egov_domain::org::Role;
use serde::Deserialize;

use super::onestop::{FormValues, Upload, read_form, read_parts};
use super::{Page, html};
use crate::ctx::{Ctx, redirect_with_flash};
use crate::error::WebResult;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/documents", get(home))
        .route("/documents/search", get(search))
        .route("/documents/incoming/new", get(new_incoming))
        .route("/documents/drafts/new", get(new_draft))
        .route("/documents/registers", get(registers))
        .route("/documents/{id}", get(document))
        .route("/documents/{id}/act", post(act))
        .route("/documents/{id}/exchange-update", post(exchange_update))
        .route("/documents/{id}/files/{file}", get(file))
}

/// Routes that take uploads (their own, larger limit).
pub fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/documents/incoming/new", post(register_incoming))
        .route("/documents/drafts/new", post(create_draft))
        .route("/documents/{id}/files", post(add_file))
}

/// Labels for document values, shared by the templates.
impl Page {
    pub fn doc_state(&self, s: impl std::fmt::Display) -> String {
        self.t(format!("doc-state-{}", s.to_string().replace('_', "-")))
    }

    pub fn urgency(&self, u: &str) -> String {
        self.t(format!("urgency-{}", u.replace('_', "-")))
    }

    pub fn doc_kind(&self, k: &str) -> String {
        match egov_domain::documents::kind::DocKind::by_key(k) {
            Some(kind) if self.lang == crate::i18n::Lang::En => kind.name_en.to_owned(),
            Some(kind) => kind.name_vi.to_owned(),
            None => k.to_owned(),
        }
    }

    pub fn doc_event(&self, e: &str) -> String {
        self.t(format!("doc-event-{}", e.replace('_', "-")))
    }

    pub fn is_urgent(&self, u: &str) -> bool {
        u != "normal"
    }
}

/// The agencies where the person works, and the one shown.
async fn my_agencies(
    state: &AppState,
    ctx: &Ctx,
    wanted: Option<i64>,
) -> Result<(Vec<Agency>, Agency), AppError> {
    let actor = ctx.actor()?;
    let ids = state
        .app
        .agencies_where(&actor, &ANY_OFFICE_ROLE[..4])
        .await?
        .unwrap_or_default();
    let list = state.app.agencies_by_id(&ids).await?;
    let chosen = wanted
        .and_then(|w| list.iter().find(|a| a.id == w))
        .or(list.first())
        .cloned()
        .ok_or_else(|| {
            AppError::new(
                ErrorKind::Forbidden,
                egov_app::Code::Forbidden,
                "You do not have permission to do this.",
            )
        })?;
    Ok((egov_app::views::all(list), chosen.into()))
}

/// The people working in an agency now, as "Name – position", once each.
async fn staff_of(state: &AppState, agency: i64) -> Result<Vec<(i64, String)>, AppError> {
    let mut staff: Vec<(i64, String)> = state
        .app
        .postings_in(agency)
        .await?
        .into_iter()
        .map(|p| {
            (
                p.person_id,
                format!("{} – {}", p.person_name, p.position_name),
            )
        })
        .collect();
    staff.dedup_by_key(|s| s.0);
    Ok(staff)
}

async fn holds(state: &AppState, ctx: &Ctx, role: Role, agency: i64) -> Result<bool, AppError> {
    state.app.has_role_in(&ctx.actor()?, &[role], agency).await
}

#[derive(Deserialize)]
struct AgencyQuery {
    agency: Option<i64>,
}

#[derive(Template)]
#[template(path = "documents/home.html")]
struct HomePage {
    page: Page,
    agencies: Vec<Agency>,
    agency: Agency,
    is_clerk: bool,
    is_leader: bool,
    is_drafter: bool,
    to_register: Vec<Incoming>,
    to_direct: Vec<Incoming>,
    handling: Vec<Incoming>,
    outgoing: Vec<Document>,
    staff: Vec<(i64, String)>,
    reminders: Vec<egov_app::views::Reminder>,
    now: time::OffsetDateTime,
}

impl HomePage {
    fn overdue(&self, r: &Incoming) -> bool {
        r.deadline.is_some_and(|d| d < self.now)
    }
}

async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AgencyQuery>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let page = Page::official(&ctx, &state, "documents-title", "documents").await?;
    let (agencies, agency) = my_agencies(&state, &ctx, q.agency).await?;
    let is_clerk = holds(&state, &ctx, Role::RecordsClerk, agency.id).await?;
    let is_leader = holds(&state, &ctx, Role::AgencyLeader, agency.id).await?;
    let is_drafter = state
        .app
        .has_role_in(
            &actor,
            &[Role::Specialist, Role::UnitLeader, Role::AgencyLeader],
            agency.id,
        )
        .await?;
    let to_register = if is_clerk {
        state
            .app
            .incoming_list(&actor, agency.id, &["arrived"])
            .await?
    } else {
        Vec::new()
    };
    let to_direct = if is_leader {
        state
            .app
            .incoming_list(&actor, agency.id, &["registered"])
            .await?
    } else {
        Vec::new()
    };
    let staff = staff_of(&state, agency.id).await?;
    let states: &[&str] = if is_leader {
        &["awaiting_sign_off"]
    } else if is_clerk {
        &["signed_off"]
    } else {
        &["draft", "in_review"]
    };
    Ok(html(&HomePage {
        handling: egov_app::views::all(state.app.my_handling(&actor).await?),
        reminders: egov_app::views::all(state.app.my_reminders(&actor).await?),
        outgoing: egov_app::views::all(state.app.outgoing_list(&actor, agency.id, states).await?),
        page,
        agencies,
        agency,
        is_clerk,
        is_leader,
        is_drafter,
        to_register: egov_app::views::all(to_register),
        to_direct: egov_app::views::all(to_direct),
        staff,
        now: state.app.now(),
    }))
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "documents/search.html")]
struct SearchPage {
    page: Page,
    q: String,
    rows: Vec<Document>,
}

async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SearchQuery>,
) -> WebResult<Response> {
    let page = Page::official(&ctx, &state, "documents-search-title", "documents").await?;
    let rows = if q.q.trim().is_empty() {
        Vec::new()
    } else {
        state.app.search_documents(&ctx.actor()?, &q.q).await?
    };
    Ok(html(&SearchPage {
        page,
        q: q.q,
        rows: egov_app::views::all(rows),
    }))
}

#[derive(Template)]
#[template(path = "documents/incoming_new.html")]
struct NewIncomingPage {
    page: Page,
    agencies: Vec<Agency>,
    agency_id: i64,
    form: FormValues,
    error: Option<String>,
    kinds: &'static [egov_domain::documents::kind::DocKind],
}

async fn new_incoming(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AgencyQuery>,
) -> WebResult<Response> {
    let page = Page::official(&ctx, &state, "incoming-new-title", "documents").await?;
    let (agencies, agency) = my_agencies(&state, &ctx, q.agency).await?;
    Ok(html(&NewIncomingPage {
        page,
        agencies,
        agency_id: agency.id,
        form: FormValues(Default::default()),
        error: None,
        kinds: &egov_domain::documents::kind::KINDS,
    }))
}

async fn register_incoming(
    State(state): State<AppState>,
    ctx: Ctx,
    m: Multipart,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let (fields, files) = read_form(m).await?;
    let form = FormValues(fields);
    let agency_id: i64 = form.v("agency").parse().unwrap_or(0);
    let outcome = async {
        let secret = !form.v("secrecy").is_empty();
        let scan = match files.get("scan") {
            Some(u) if !secret => Some(
                state
                    .app
                    .store_scan(&actor, &u.name, u.declared.as_deref(), u.bytes.clone())
                    .await?
                    .sha256,
            ),
            Some(_) => {
                return Err(egov_app::documents::secret_no_content());
            }
            None => None,
        };
        let opt = |k: &str| Some(form.v(k).trim().to_owned()).filter(|s| !s.is_empty());
        let issued_on = match opt("issued_on") {
            Some(s) => Some(super::parse_date(Some(&s))?),
            None => None,
        };
        state
            .app
            .register_paper_incoming(
                &actor,
                PaperInCmd {
                    agency_id,
                    issuer_name: form.v("issuer_name").to_owned(),
                    issuer_code: opt("issuer_code"),
                    notation: form.v("notation").to_owned(),
                    issued_on,
                    kind: opt("kind"),
                    subject: form.v("subject").to_owned(),
                    urgency: opt("urgency"),
                    secrecy: opt("secrecy"),
                    scan,
                    arrived_at: None,
                },
            )
            .await
    }
    .await;
    match outcome {
        Ok(r) => {
            let mut text = ctx.lang.t_args(
                "incoming-registered",
                &[(
                    "number",
                    r.copy
                        .arrival_number
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                )],
            );
            if r.duplicate_of.is_some() {
                text.push(' ');
                text.push_str(&ctx.lang.t("incoming-duplicate"));
            }
            // Straight back to an empty form: the clerk registers the next one.
            Ok(redirect_with_flash(
                &ctx,
                &format!("/documents/incoming/new?agency={agency_id}"),
                true,
                &text,
            ))
        }
        Err(e) if e.kind == ErrorKind::Internal => Err(e.into()),
        Err(e) => {
            let page = Page::official(&ctx, &state, "incoming-new-title", "documents").await?;
            let (agencies, _) = my_agencies(&state, &ctx, Some(agency_id)).await?;
            let mut r = html(&NewIncomingPage {
                page,
                agencies,
                agency_id,
                error: Some(ctx.lang.error(&e)),
                form,
                kinds: &egov_domain::documents::kind::KINDS,
            });
            *r.status_mut() = crate::error::status_of(e.kind);
            Ok(r)
        }
    }
}

#[derive(Template)]
#[template(path = "documents/draft_new.html")]
struct NewDraftPage {
    page: Page,
    agencies: Vec<Agency>,
    agency_id: i64,
    form: FormValues,
    chosen: Vec<i64>,
    recipients: Vec<(i64, String)>,
    /// Agencies outside egov from the hub's directory (identifier, name), and those chosen.
    outside: Vec<(String, String)>,
    chosen_outside: Vec<String>,
    error: Option<String>,
    kinds: &'static [egov_domain::documents::kind::DocKind],
}

/// The agencies a document may be sent to today, in Vietnamese dictionary order, without the
/// sender.
async fn recipient_choices(state: &AppState, sender: i64) -> Result<Vec<(i64, String)>, AppError> {
    let today = state.app.today();
    let mut list = state.app.agencies_in_force(today).await?;
    list.retain(|a| a.0 != sender);
    list.sort_by_cached_key(|a| egov_domain::text::vi_sort_key(&a.1));
    Ok(list)
}

async fn draft_page(
    state: &AppState,
    ctx: &Ctx,
    agency: Option<i64>,
    form: FormValues,
    (chosen, chosen_outside): (Vec<i64>, Vec<String>),
    error: Option<String>,
) -> WebResult<Response> {
    let page = Page::official(ctx, state, "draft-new-title", "documents").await?;
    let (agencies, agency) = my_agencies(state, ctx, agency).await?;
    Ok(html(&NewDraftPage {
        page,
        recipients: recipient_choices(state, agency.id).await?,
        outside: state.app.outside_recipients().await?,
        chosen_outside,
        agencies,
        agency_id: agency.id,
        form,
        chosen,
        error,
        kinds: &egov_domain::documents::kind::KINDS,
    }))
}

async fn new_draft(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AgencyQuery>,
) -> WebResult<Response> {
    draft_page(
        &state,
        &ctx,
        q.agency,
        FormValues(Default::default()),
        (Vec::new(), Vec::new()),
        None,
    )
    .await
}

fn new_file(u: Upload) -> egov_app::documents::outgoing::NewFile {
    egov_app::documents::outgoing::NewFile {
        name: u.name,
        declared: u.declared,
        bytes: u.bytes,
    }
}

async fn create_draft(
    State(state): State<AppState>,
    ctx: Ctx,
    m: Multipart,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let (fields, files) = read_parts(m).await?;
    let chosen: Vec<i64> = fields
        .iter()
        .filter(|(k, _)| k == "recipient")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let chosen_outside: Vec<String> = fields
        .iter()
        .filter(|(k, v)| k == "outside" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .collect();
    let form = FormValues(fields.into_iter().collect());
    let agency_id: i64 = form.v("agency").parse().unwrap_or(0);
    let mut main = None;
    let mut attachments = Vec::new();
    for (k, u) in files {
        match k.as_str() {
            "main" => main = Some(new_file(u)),
            "attachment" => attachments.push(new_file(u)),
            _ => {}
        }
    }
    let cmd = egov_app::documents::outgoing::DraftCmd {
        agency_id,
        kind: form.v("kind").to_owned(),
        legal: false,
        subject: form.v("subject").to_owned(),
        urgency: Some(form.v("urgency").to_owned()),
        unit_abbr: None,
        recipients: chosen
            .iter()
            .map(|id| egov_app::documents::RecipientInput::agency(*id))
            .collect(),
        recipients_text: form.v("recipients_text").to_owned(),
        replaces_id: None,
        secrecy: None,
    };
    let created = match state
        .app
        .with_outside_recipients(cmd, &chosen_outside)
        .await
    {
        Ok(cmd) => {
            state
                .app
                .create_draft_with_files(&actor, cmd, main, attachments)
                .await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(d) => Ok(redirect_with_flash(
            &ctx,
            &format!("/documents/{}", d.id),
            true,
            &ctx.lang.t("draft-created"),
        )),
        Err(e) if e.kind == ErrorKind::Internal => Err(e.into()),
        Err(e) => {
            let status = crate::error::status_of(e.kind);
            let mut r = draft_page(
                &state,
                &ctx,
                Some(agency_id),
                form,
                (chosen, chosen_outside),
                Some(ctx.lang.error(&e)),
            )
            .await?;
            *r.status_mut() = status;
            Ok(r)
        }
    }
}

/// A file added on a draft's page: the document itself, its editable source (turned into
/// the PDF) or an attachment.
async fn add_file(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    m: Multipart,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let (fields, files) = read_form(m).await?;
    let back = format!("/documents/{id}");
    let Some(u) = files.into_values().next() else {
        let e = AppError::invalid(egov_app::Code::FileRequired, "Choose the file to add.");
        return Ok(redirect_with_flash(&ctx, &back, false, &ctx.lang.error(&e)));
    };
    let role = fields
        .get("role")
        .map(String::as_str)
        .unwrap_or("attachment");
    let name = u.name.clone();
    match state
        .app
        .add_document_file(&actor, id, role, &u.name, u.declared.as_deref(), u.bytes)
        .await
    {
        Ok(_) => Ok(redirect_with_flash(
            &ctx,
            &back,
            true,
            &ctx.lang.t_args("file-added", &[("name", name)]),
        )),
        Err(e) if e.kind == ErrorKind::Internal || e.code == "not_found" => Err(e.into()),
        Err(e) => Ok(redirect_with_flash(&ctx, &back, false, &ctx.lang.error(&e))),
    }
}

#[derive(Template)]
#[template(path = "documents/document.html")]
struct DocumentPage {
    page: Page,
    d: DocumentDetail,
    staff: Vec<(i64, String)>,
    /// The receiving agency's units, for direction.
    units: Vec<(i64, String)>,
    /// The agency's documents a completion may link as its reply.
    replies: Vec<(i64, String)>,
    /// Names of the people in the timeline.
    names: std::collections::HashMap<i64, String>,
    /// Verdicts on the files' signatures: (attachment id, status, number of signatures).
    verdicts: Vec<(i64, String, i64)>,
}

impl DocumentPage {
    fn can(&self, action: &str) -> bool {
        self.d.actions.iter().any(|a| a == action)
    }

    /// The verdict on a file's signatures, if it is a PDF that was judged.
    fn verdict(&self, attachment: &i64) -> Option<&(i64, String, i64)> {
        self.verdicts.iter().find(|v| v.0 == *attachment)
    }

    /// Who acted: a person's name, never an account name.
    fn who(&self, e: &egov_app::views::DocumentEvent) -> String {
        e.actor_id
            .and_then(|id| self.names.get(&id).cloned())
            .unwrap_or_else(|| self.page.t("system-actor"))
    }

    /// The comment, direction, reason or outcome given with a step.
    fn note(&self, e: &egov_app::views::DocumentEvent) -> Option<String> {
        let v: serde_json::Value = serde_json::from_str(&e.data_json).ok()?;
        ["note", "reason"]
            .iter()
            .filter_map(|k| v.get(*k).and_then(|n| n.as_str()))
            .map(str::trim)
            .find(|n| !n.is_empty())
            .map(str::to_owned)
    }
}

async fn document(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let d = state.app.document_detail(&actor, id).await?;
    let page = Page::official(&ctx, &state, "document-title", "documents")
        .await?
        .with_title(
            d.document
                .notation
                .clone()
                .unwrap_or_else(|| d.document.subject.clone()),
        );
    let (mut staff, mut units, mut replies) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(c) = &d.copy {
        if d.actions.iter().any(|a| a == "direct") {
            staff = staff_of(&state, c.agency_id).await?;
            units = state
                .app
                .org_units_of(c.agency_id)
                .await?
                .into_iter()
                .map(|u| (u.id, u.name))
                .collect();
        }
        if d.actions.iter().any(|a| a == "complete") {
            let mut issued = state
                .app
                .outgoing_list(&actor, c.agency_id, &["issued"])
                .await?;
            issued.sort_by_key(|x| std::cmp::Reverse(x.id));
            replies = issued
                .into_iter()
                .take(100)
                .map(|x| {
                    (
                        x.id,
                        format!("{} – {}", x.notation.unwrap_or_default(), x.subject),
                    )
                })
                .collect();
        }
    }
    let names = super::people_names(
        &state,
        d.events
            .iter()
            .filter_map(|e| e.actor_id)
            .collect::<Vec<_>>(),
    )
    .await?;
    let verdicts = state.app.document_signatures(&actor, id).await?;
    Ok(html(&DocumentPage {
        page,
        d,
        staff,
        units,
        replies,
        names,
        verdicts,
    }))
}

#[derive(Deserialize)]
struct UpdateForm {
    #[serde(default)]
    note: String,
}

/// Sends the outside recipients an update of an issued document.
async fn exchange_update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<UpdateForm>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let back = format!("/documents/{id}");
    Ok(match state.app.send_update(&actor, id, &f.note).await {
        Ok(_) => redirect_with_flash(&ctx, &back, true, &ctx.lang.t("exchange-update-queued")),
        Err(e) if e.kind == ErrorKind::Internal => return Err(e.into()),
        Err(e) => redirect_with_flash(&ctx, &back, false, &ctx.lang.error(&e)),
    })
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
    let back = get("back")
        .filter(|b| b.starts_with("/documents"))
        .unwrap_or_else(|| format!("/documents/{id}"));
    let event = get("event").unwrap_or_default();
    let version = get("version").and_then(|v| v.parse().ok()).unwrap_or(-1);
    let note = get("note").unwrap_or_default();
    let outcome = match get("copy").and_then(|c| c.parse::<i64>().ok()) {
        Some(copy) => {
            let deadline = match get("deadline") {
                Some(s) => match super::parse_date(Some(&s)) {
                    Ok(d) => Some(d),
                    Err(e) => {
                        return Ok(redirect_with_flash(&ctx, &back, false, &ctx.lang.error(&e)));
                    }
                },
                None => None,
            };
            let direction = Direction {
                lead_unit_id: get("lead_unit_id").and_then(|v| v.parse().ok()),
                lead_person_id: get("lead_person_id").and_then(|v| v.parse().ok()),
                coordinator_units: f
                    .iter()
                    .filter(|(k, _)| k == "coordinator_unit")
                    .filter_map(|(_, v)| v.parse().ok())
                    .collect(),
                coordinator_people: f
                    .iter()
                    .filter(|(k, _)| k == "coordinator")
                    .filter_map(|(_, v)| v.parse().ok())
                    .collect(),
                deadline,
                working_days: if deadline.is_none() {
                    get("working_days").and_then(|v| v.parse().ok())
                } else {
                    None
                },
            };
            let reply = get("reply_document_id").and_then(|v| v.parse().ok());
            let a = InCommand::parse(&event, direction, reply).map(|command| InAction {
                version,
                note,
                command,
            });
            match a {
                Ok(a) => state.app.act_on_incoming(&actor, copy, a).await.map(|_| ()),
                Err(e) => Err(e),
            }
        }
        None => match OutAction::parse(&event, version, note, get("mark")) {
            Ok(a) => state.app.act_on_document(&actor, id, a).await.map(|_| ()),
            Err(e) => Err(e),
        },
    };
    Ok(match outcome {
        Ok(()) => {
            let text = ctx.lang.t_args(
                "document-acted",
                &[(
                    "event",
                    ctx.lang
                        .t(&format!("doc-event-{}", event.replace('_', "-"))),
                )],
            );
            redirect_with_flash(&ctx, &back, true, &text)
        }
        Err(e) if e.kind == ErrorKind::Internal => return Err(e.into()),
        Err(e) if e.code == "not_found" => return Err(e.into()),
        Err(e) => redirect_with_flash(&ctx, &back, false, &ctx.lang.error(&e)),
    })
}

async fn file(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, file)): Path<(i64, i64)>,
) -> WebResult<Response> {
    let (bytes, media_type, _) = state.app.document_file(&ctx.actor()?, id, file).await?;
    Ok(crate::export::private_file(&media_type, None, bytes))
}

#[derive(Deserialize)]
struct RegisterQuery {
    agency: Option<i64>,
    year: Option<i32>,
    #[serde(default)]
    outgoing: bool,
    /// `xlsx` or `pdf` to download the register instead of seeing it.
    #[serde(default)]
    format: Option<String>,
}

/// A register as a download: `xlsx` or `pdf`.
pub(crate) fn register_download(
    t: &egov_app::documents::registers::RegisterTable,
    format: &str,
    outgoing: bool,
) -> WebResult<Response> {
    let name = format!(
        "so-van-ban-{}-{}.{format}",
        if outgoing { "di" } else { "den" },
        t.year
    );
    let (bytes, media_type) = if format == "pdf" {
        (
            egov_app::documents::registers::register_pdf(t),
            "application/pdf",
        )
    } else {
        (
            crate::export::document_register_xlsx(t)?,
            crate::export::XLSX,
        )
    };
    Ok(crate::export::private_file(
        media_type,
        Some(("attachment", &name)),
        bytes,
    ))
}

#[derive(Template)]
#[template(path = "documents/registers.html")]
struct RegistersPage {
    page: Page,
    agencies: Vec<Agency>,
    agency: Agency,
    year: i32,
    outgoing: bool,
    table: egov_app::documents::registers::RegisterTable,
}

async fn registers(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<RegisterQuery>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let page = Page::official(&ctx, &state, "registers-title", "documents").await?;
    let (agencies, agency) = my_agencies(&state, &ctx, q.agency).await?;
    let year = q.year.unwrap_or_else(|| state.app.today().year());
    let table = state
        .app
        .register_table(&actor, agency.id, year, q.outgoing, false)
        .await?;
    if let Some(f) = q.format.as_deref().filter(|f| ["xlsx", "pdf"].contains(f)) {
        return register_download(&table, f, q.outgoing);
    }
    Ok(html(&RegistersPage {
        page,
        agencies,
        agency,
        year,
        outgoing: q.outgoing,
        table,
    }))
}
