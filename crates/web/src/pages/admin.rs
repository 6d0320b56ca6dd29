//! Administration: people, roles, postings, staff moves, internal units, delegations, jobs and
//! the audit log. Every action here is a use case that checks permission and writes audit.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use egov_app::AppError;
use egov_app::org::{GrantRole, NewDelegationCmd, NewOrgUnit, NewPosting, StaffMove};
use egov_app::people::{NewOfficial, PersonDetail};
use egov_app::views::Agency;
use egov_app::views::Person;
use egov_app::views::{AuditEntry, VerifyReport};
use egov_app::views::{Job, StateCount};
use egov_app::views::{OrgUnit, Position};
use egov_domain::org::Role;
use serde::Deserialize;
use time::{OffsetDateTime, Time};

use super::{Page, html, parse_date};
use crate::ctx::{Ctx, redirect_with_flash};
use crate::error::WebResult;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "admin/index.html")]
struct Index {
    page: Page,
    system_admin: bool,
    agencies: Vec<Agency>,
}

#[derive(Template)]
#[template(path = "admin/people.html")]
struct People {
    page: Page,
    q: String,
    people: Vec<Person>,
    offset: i64,
    prev_offset: i64,
    next_offset: i64,
    has_more: bool,
}

#[derive(Template)]
#[template(path = "admin/person_new.html")]
struct PersonNew {
    page: Page,
    agencies: Vec<Agency>,
    positions: Vec<Position>,
}

#[derive(Template)]
#[template(path = "admin/person.html")]
struct PersonPage {
    page: Page,
    d: PersonDetail,
    agencies: Vec<Agency>,
    units: Vec<OrgUnit>,
    positions: Vec<Position>,
    roles: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "admin/national.html")]
struct National {
    page: Page,
    h: egov_app::onestop::national_sync::NationalHealth,
    intake: egov_app::onestop::national_intake::IntakeHealth,
    catalogue: egov_app::onestop::national_catalogue::CatalogueReview,
    opinions: egov_app::onestop::national_intake::Opinions,
    /// The reconciliation just run, with its period.
    r: Option<(
        String,
        String,
        egov_app::onestop::national_sync::Reconciliation,
    )>,
}

#[derive(Template)]
#[template(path = "admin/jobs.html")]
struct Jobs {
    page: Page,
    counts: Vec<StateCount>,
    jobs: Vec<Job>,
    /// The exchange's messages that failed to go, and those refused.
    exchange_failed: i64,
    exchange_refused: i64,
}

#[derive(Template)]
#[template(path = "admin/exchange.html")]
struct ExchangeLog {
    page: Page,
    messages: Vec<egov_app::exchange::MessageView>,
}

#[derive(Template)]
#[template(path = "admin/exchange_directory.html")]
struct ExchangeDirectory {
    page: Page,
    entries: Vec<egov_app::exchange::DirectoryRow>,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct Audit {
    page: Page,
    report: VerifyReport,
    lines: Vec<egov_app::audit::AuditLine>,
    q: AuditQuery,
    more: bool,
    /// The query string without the page number, for the paging links.
    base: String,
}

impl Audit {
    /// The kind of an audited object, in words.
    fn object_kind(&self, kind: &str) -> String {
        self.page
            .lang
            .try_t(&format!("audit-object-{}", kind.replace('_', "-")))
            .unwrap_or_else(|| self.page.t("audit-object-other"))
    }

    /// Where an audited object is shown, for the kinds that have a page.
    fn object_link(&self, e: &AuditEntry) -> Option<String> {
        let id: i64 = e.object_id.parse().ok()?;
        Some(match e.object_type.as_str() {
            "document" => format!("/documents/{id}"),
            "dossier" => format!("/onestop/dossiers/{id}"),
            "person" => format!("/admin/people/{id}"),
            "agency" => format!("/agencies/{id}"),
            _ => return None,
        })
    }
}

/// The audit page's filter: person, agency, action (or its start), object, dates; a page
/// number; `format=xlsx` to download what matches.
#[derive(Debug, Clone, Default, Deserialize)]
struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    object_type: String,
    #[serde(default)]
    object_id: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    format: Option<String>,
}

impl AuditQuery {
    fn filter(&self) -> Result<egov_app::audit::Filter, AppError> {
        let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let day = |s: &str, next: bool| -> Result<Option<time::OffsetDateTime>, AppError> {
            match opt(s) {
                None => Ok(None),
                Some(s) => {
                    let d = super::parse_date(Some(&s))?;
                    let d = if next { d.next_day().unwrap_or(d) } else { d };
                    Ok(Some(
                        d.midnight()
                            .assume_offset(egov_domain::VN_OFFSET)
                            .to_offset(time::UtcOffset::UTC),
                    ))
                }
            }
        };
        let agency = match opt(&self.agency) {
            None => None,
            Some(a) => Some(a.parse().map_err(|_| {
                AppError::invalid(egov_app::Code::BadId, "That is not an identifier.")
                    .arg("value", a)
            })?),
        };
        Ok(egov_app::audit::Filter {
            actor: opt(&self.actor),
            agency_id: agency,
            action: opt(&self.action),
            object_type: opt(&self.object_type),
            object_id: opt(&self.object_id),
            from: day(&self.from, false)?,
            to: day(&self.to, true)?,
        })
    }

    /// The query without the page number and the format.
    fn base(&self) -> String {
        [
            ("actor", &self.actor),
            ("agency", &self.agency),
            ("action", &self.action),
            ("object_type", &self.object_type),
            ("object_id", &self.object_id),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", crate::ctx::percent_encode(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
    }
}

const AUDIT_PAGE: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(index))
        .route("/admin/people", get(people).post(create_person))
        .route("/admin/people/new", get(new_person))
        .route("/admin/people/{id}", get(person))
        .route("/admin/people/{id}/roles", post(grant_role))
        .route("/admin/people/{id}/move", post(move_staff))
        .route("/admin/role-grants/{id}/revoke", post(revoke_role))
        .route("/admin/agencies/{id}/org-units", post(create_org_unit))
        .route("/admin/agencies/{id}/delegations", post(create_delegation))
        .route("/admin/delegations/{id}/revoke", post(revoke_delegation))
        .route("/admin/jobs", get(jobs))
        .route("/admin/exchange", get(exchange_log))
        .route("/admin/exchange/directory", get(exchange_directory))
        .route("/admin/exchange/directory/fetch", post(fetch_directory))
        .route("/admin/exchange/{id}/packet", get(exchange_packet))
        .route("/admin/exchange/{id}/retry", post(retry_exchange))
        .route("/admin/exchange/{id}/handled", post(exchange_handled))
        .route("/admin/jobs/{id}/retry", post(retry_job))
        .route("/admin/national-portal", get(national))
        .route("/admin/national-portal/{id}/retry", post(retry_national))
        .route(
            "/admin/national-portal/{id}/set-aside",
            post(set_aside_national),
        )
        .route(
            "/admin/national-portal/submissions/{id}/retry",
            post(retry_submission),
        )
        .route(
            "/admin/national-portal/catalogue/pull",
            post(pull_catalogue),
        )
        .route(
            "/admin/national-portal/catalogue/{code}/publish",
            post(publish_national_procedure),
        )
        .route("/admin/national-portal/reconcile", post(reconcile_national))
        .route("/admin/audit", get(audit))
}

async fn admin_page(ctx: &Ctx, state: &AppState, title: &str) -> Result<Page, AppError> {
    let p = Page::official(ctx, state, title, "admin").await?;
    if !p.show_admin {
        return Err(AppError::forbidden());
    }
    Ok(p)
}

async fn index(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let page = admin_page(&ctx, &state, "admin-title").await?;
    let actor = ctx.actor()?;
    let system_admin = state.app.is_system_admin(&actor).await?;
    let agencies = if system_admin {
        vec![]
    } else {
        state.app.administered(&actor).await?
    };
    Ok(html(&Index {
        page,
        system_admin,
        agencies,
    }))
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    offset: Option<i64>,
}

const PAGE_SIZE: i64 = 50;

async fn people(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let page = admin_page(&ctx, &state, "admin-people").await?;
    let actor = ctx.actor()?;
    let text = q.q.unwrap_or_default();
    let offset = q.offset.unwrap_or(0).max(0);
    let mut people = state
        .app
        .list_people(&actor, &text, PAGE_SIZE + 1, offset)
        .await?;
    let has_more = people.len() as i64 > PAGE_SIZE;
    people.truncate(PAGE_SIZE as usize);
    Ok(html(&People {
        page,
        q: text,
        people: egov_app::views::all(people),
        offset,
        prev_offset: (offset - PAGE_SIZE).max(0),
        next_offset: offset + PAGE_SIZE,
        has_more,
    }))
}

async fn new_person(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let page = admin_page(&ctx, &state, "add-person").await?;
    let actor = ctx.actor()?;
    Ok(html(&PersonNew {
        page,
        agencies: state.app.administered(&actor).await?,
        positions: state.app.positions().await?,
    }))
}

#[derive(Deserialize)]
struct PersonForm {
    full_name: String,
    username: String,
    email: Option<String>,
    phone: Option<String>,
    password: String,
    agency_id: Option<i64>,
    position_key: Option<String>,
}

async fn create_person(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<PersonForm>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let r = state
        .app
        .create_person(
            &actor,
            NewOfficial {
                username: f.username,
                full_name: f.full_name,
                email: f.email,
                phone: f.phone,
                password: f.password,
                agency_id: f.agency_id,
                org_unit_id: None,
                position_key: f.position_key,
            },
        )
        .await;
    Ok(match r {
        Ok(p) => redirect_with_flash(
            &ctx,
            &format!("/admin/people/{}", p.id),
            true,
            &ctx.lang.t("saved"),
        ),
        Err(e) => redirect_with_flash(&ctx, "/admin/people/new", false, &ctx.lang.error(&e)),
    })
}

async fn person(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let d = state.app.person_detail(&actor, id).await?;
    let page = admin_page(&ctx, &state, "admin-people")
        .await?
        .with_title(d.person.full_name.clone());
    let agencies = state.app.administered(&actor).await?;
    let mut units = Vec::new();
    for p in d.postings.iter().filter(|p| p.valid_to.is_none()) {
        units.extend(state.app.org_units_of(p.agency_id).await?);
    }
    Ok(html(&PersonPage {
        page,
        d,
        agencies,
        units,
        positions: state.app.positions().await?,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
    }))
}

/// Runs a use case and comes back to `back` with a message saying how it went.
fn done<T>(ctx: &Ctx, back: &str, r: Result<T, AppError>) -> Response {
    done_saying(ctx, back, r, "saved")
}

/// As [`done`], with the message `key` on success.
fn done_saying<T>(ctx: &Ctx, back: &str, r: Result<T, AppError>, key: &str) -> Response {
    match r {
        Ok(_) => redirect_with_flash(ctx, back, true, &ctx.lang.t(key)),
        Err(e) => redirect_with_flash(ctx, back, false, &ctx.lang.error(&e)),
    }
}

/// An optional id from a form select where "" means none.
fn opt_id(s: &Option<String>) -> Result<Option<i64>, AppError> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            AppError::invalid(egov_app::Code::BadRequest, "A selection is not valid.")
        }),
    }
}

#[derive(Deserialize)]
struct GrantForm {
    role: String,
    agency_id: Option<i64>,
    org_unit_id: Option<String>,
    #[serde(default)]
    reason: String,
}

async fn grant_role(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<GrantForm>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let back = format!("/admin/people/{id}");
    let r = async {
        let org_unit_id = opt_id(&f.org_unit_id)?;
        let agency_id = if f.role == "administrator" && f.agency_id.is_none() {
            None
        } else {
            f.agency_id
        };
        state
            .app
            .grant_role(
                &actor,
                id,
                GrantRole {
                    role: f.role,
                    agency_id,
                    org_unit_id,
                    reason: f.reason,
                },
            )
            .await
    }
    .await;
    Ok(done(&ctx, &back, r))
}

async fn revoke_role(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let r = state.app.revoke_role(&actor, id).await;
    let back = match &r {
        Ok(g) => format!("/admin/people/{}", g.person_id),
        Err(_) => "/admin/people".to_owned(),
    };
    Ok(done(&ctx, &back, r))
}

#[derive(Deserialize)]
struct MoveForm {
    agency_id: i64,
    position_key: String,
    acting: Option<String>,
    role: Option<String>,
}

async fn move_staff(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<MoveForm>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let roles: Vec<String> = f.role.into_iter().filter(|r| !r.is_empty()).collect();
    let r = state
        .app
        .move_staff(
            &actor,
            id,
            StaffMove {
                posting: NewPosting {
                    agency_id: f.agency_id,
                    org_unit_id: None,
                    position_key: f.position_key,
                    acting: f.acting.is_some(),
                },
                roles,
            },
        )
        .await;
    Ok(done(&ctx, &format!("/admin/people/{id}"), r))
}

#[derive(Deserialize)]
struct UnitForm {
    name: String,
    kind: String,
}

async fn create_org_unit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<UnitForm>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let r = state
        .app
        .create_org_unit(
            &actor,
            id,
            NewOrgUnit {
                name: f.name,
                kind: f.kind,
                parent_id: None,
            },
        )
        .await;
    Ok(done(&ctx, &format!("/agencies/{id}"), r))
}

#[derive(Deserialize)]
struct DelegationForm {
    kind: String,
    delegator_id: i64,
    delegate_id: i64,
    valid_from: String,
    valid_to: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    reference: String,
}

async fn create_delegation(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<DelegationForm>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let r = async {
        // Dates on the form are Vietnam days: from the start of the first to the end of the last.
        let from = parse_date(Some(&f.valid_from))?;
        let to = parse_date(Some(&f.valid_to))?;
        let start = OffsetDateTime::new_in_offset(from, Time::MIDNIGHT, egov_domain::VN_OFFSET);
        let end = OffsetDateTime::new_in_offset(
            to.next_day().unwrap_or(to),
            Time::MIDNIGHT,
            egov_domain::VN_OFFSET,
        );
        let start = start.max(state.app.now());
        state
            .app
            .create_delegation(
                &actor,
                NewDelegationCmd {
                    agency_id: id,
                    kind: f.kind,
                    delegator_id: f.delegator_id,
                    delegate_id: f.delegate_id,
                    valid_from: start,
                    valid_to: end,
                    scope: f.scope,
                    reference: f.reference,
                },
            )
            .await
    }
    .await;
    Ok(done(&ctx, &format!("/agencies/{id}"), r))
}

async fn revoke_delegation(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let r = state.app.revoke_delegation(&actor, id).await;
    let back = match &r {
        Ok(d) => format!("/agencies/{}", d.agency_id),
        Err(_) => "/admin".to_owned(),
    };
    Ok(done(&ctx, &back, r))
}

#[derive(Deserialize)]
struct JobsQuery {
    state: Option<String>,
}

async fn jobs(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<JobsQuery>,
) -> WebResult<Response> {
    let page = admin_page(&ctx, &state, "admin-jobs").await?;
    let actor = ctx.actor()?;
    let filter = q
        .state
        .filter(|s| ["queued", "running", "done", "dead"].contains(&s.as_str()));
    let (counts, jobs) = state
        .app
        .list_jobs(&actor, filter.as_deref(), 100, 0)
        .await?;
    let (exchange_failed, exchange_refused) = state.app.exchange_dead_letters(&actor).await?;
    Ok(html(&Jobs {
        page,
        counts: egov_app::views::all(counts),
        jobs: egov_app::views::all(jobs),
        exchange_failed,
        exchange_refused,
    }))
}

#[derive(Deserialize)]
struct ExchangeQuery {
    state: Option<String>,
    agency: Option<String>,
}

/// The exchange's message log: every packet sent and received, filterable, each with its raw
/// packet to download as evidence.
async fn exchange_log(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ExchangeQuery>,
) -> WebResult<Response> {
    let page = admin_page(&ctx, &state, "admin-exchange").await?;
    let actor = ctx.actor()?;
    let filter = q
        .state
        .filter(|s| ["sending", "sent", "failed", "refused", "received"].contains(&s.as_str()));
    let agency = q.agency.filter(|a| !a.trim().is_empty());
    let messages = state
        .app
        .exchange_log(&actor, filter.as_deref(), agency.as_deref())
        .await?;
    Ok(html(&ExchangeLog { page, messages }))
}

/// The hub's directory: connected agencies, matched with ours, and their route.
async fn exchange_directory(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let page = admin_page(&ctx, &state, "exchange-directory").await?;
    let entries = state.app.exchange_directory(&ctx.actor()?).await?;
    Ok(html(&ExchangeDirectory { page, entries }))
}

async fn fetch_directory(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let back = "/admin/exchange/directory";
    Ok(match state.app.refresh_directory(&actor).await {
        Ok((listed, matched)) => redirect_with_flash(
            &ctx,
            back,
            true,
            &ctx.lang.t_args(
                "exchange-directory-fetched",
                &[
                    ("listed", listed.to_string()),
                    ("matched", matched.to_string()),
                ],
            ),
        ),
        Err(e) => redirect_with_flash(&ctx, back, false, &ctx.lang.error(&e)),
    })
}

async fn exchange_packet(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let bytes = state.app.exchange_packet(&actor, id).await?;
    let headers = [
        (
            axum::http::header::CONTENT_TYPE,
            "application/xml".to_string(),
        ),
        (
            axum::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"packet-{id}.edxml\""),
        ),
    ];
    Ok(axum::response::IntoResponse::into_response((
        headers, bytes,
    )))
}

async fn retry_exchange(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let r = state.app.retry_exchange(&actor, id).await;
    Ok(done(&ctx, "/admin/exchange", r))
}

async fn exchange_handled(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let r = state.app.mark_exchange_handled(&actor, id).await;
    Ok(done(&ctx, "/admin/exchange", r))
}

async fn retry_job(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let r = state.app.retry_job(&actor, id).await;
    Ok(done(&ctx, "/admin/jobs?state=dead", r))
}

async fn national(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let page = admin_page(&ctx, &state, "admin-national").await?;
    let h = state.app.national_health(&ctx.actor()?).await?;
    let intake = state.app.intake_health(&ctx.actor()?).await?;
    let catalogue = state.app.catalogue_review(&ctx.actor()?).await?;
    let opinions = state.app.opinions(&ctx.actor()?).await?;
    Ok(html(&National {
        page,
        h,
        intake,
        catalogue,
        opinions,
        r: None,
    }))
}

#[derive(Deserialize)]
struct ReconcileForm {
    from: String,
    to: String,
    #[serde(default)]
    requeue: Option<String>,
}

/// Looks a period's dossiers up on the portal and shows what it lacks or holds stale (and,
/// when asked, sends it again).
async fn reconcile_national(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<ReconcileForm>,
) -> WebResult<Response> {
    let page = admin_page(&ctx, &state, "admin-national").await?;
    let actor = ctx.actor()?;
    let settings = &state.app.settings.national_portal;
    if !settings.enabled {
        return Err(AppError::conflict(
            egov_app::Code::NationalDisabled,
            "Reporting to the national portal is not enabled.",
        )
        .into());
    }
    if f.from.trim().is_empty() || f.to.trim().is_empty() {
        return Err(
            AppError::invalid(egov_app::Code::BadPeriod, "Give both days of the period.").into(),
        );
    }
    let from = parse_date(Some(&f.from))?;
    let to = parse_date(Some(&f.to))?;
    if to <= from {
        return Err(AppError::invalid(
            egov_app::Code::BadPeriod,
            "The period ends before it starts.",
        )
        .into());
    }
    let at = |d: time::Date| d.midnight().assume_offset(egov_domain::VN_OFFSET);
    let portal = egov_app::onestop::national_sync::HttpPortal::new(settings.clone());
    let r = state
        .app
        .reconcile_national(&actor, &portal, at(from), at(to), f.requeue.is_some())
        .await?;
    let h = state.app.national_health(&actor).await?;
    let intake = state.app.intake_health(&actor).await?;
    let catalogue = state.app.catalogue_review(&actor).await?;
    let opinions = state.app.opinions(&actor).await?;
    Ok(html(&National {
        page,
        h,
        intake,
        catalogue,
        opinions,
        r: Some((f.from, f.to, r)),
    }))
}

async fn retry_national(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let r = state.app.retry_national(&ctx.actor()?, id).await;
    Ok(done_saying(
        &ctx,
        "/admin/national-portal",
        r,
        "national-retried",
    ))
}

async fn retry_submission(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let r = state.app.retry_submission(&ctx.actor()?, id).await;
    Ok(done_saying(
        &ctx,
        "/admin/national-portal",
        r,
        "national-retried",
    ))
}

/// Pulls the national catalogue now (the worker also does every day).
async fn pull_catalogue(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let portal = egov_app::onestop::national_sync::HttpPortal::new(
        state.app.settings.national_portal.clone(),
    );
    let r = state
        .app
        .pull_catalogue_now(&ctx.actor()?, &portal)
        .await
        .map(|_| ());
    Ok(done_saying(
        &ctx,
        "/admin/national-portal",
        r,
        "national-catalogue-pulled",
    ))
}

#[derive(Deserialize)]
struct PublishForm {
    #[serde(default)]
    from: String,
}

async fn publish_national_procedure(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(f): Form<PublishForm>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let r = match parse_date(Some(&f.from)) {
        Ok(from) => state
            .app
            .publish_national_procedure(&actor, &code, from)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    Ok(done_saying(
        &ctx,
        "/admin/national-portal",
        r,
        "national-catalogue-publish-done",
    ))
}

#[derive(Deserialize)]
struct SetAsideForm {
    #[serde(default)]
    reason: String,
}

async fn set_aside_national(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<SetAsideForm>,
) -> WebResult<Response> {
    let r = state
        .app
        .set_aside_national(&ctx.actor()?, id, &f.reason)
        .await;
    Ok(done_saying(
        &ctx,
        "/admin/national-portal",
        r,
        "national-set-aside-done",
    ))
}

async fn audit(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AuditQuery>,
) -> WebResult<Response> {
    let page = admin_page(&ctx, &state, "admin-audit").await?;
    let actor = ctx.actor()?;
    let filter = q.filter()?;
    if q.format.as_deref() == Some("xlsx") {
        let (lines, _) = state.app.audit_entries(&actor, &filter, 10_000, 0).await?;
        let bytes = crate::export::audit_xlsx(ctx.lang, &lines)?;
        return Ok(crate::export::private_file(
            crate::export::XLSX,
            Some(("attachment", "nhat-ky-he-thong.xlsx")),
            bytes,
        ));
    }
    let n = q.page.unwrap_or(1).max(1);
    let (lines, more) = state
        .app
        .audit_entries(&actor, &filter, AUDIT_PAGE, (n - 1) * AUDIT_PAGE)
        .await?;
    let report = state.app.verify_audit().await?;
    Ok(html(&Audit {
        page,
        report: report.into(),
        lines,
        more,
        base: q.base(),
        q: AuditQuery { page: Some(n), ..q },
    }))
}
