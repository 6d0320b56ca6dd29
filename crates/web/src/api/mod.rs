//! The JSON API under `/api/v1`, described by the OpenAPI document at
//! `/api/v1/openapi.json`. Errors are `{"error": {"code", "message", "request_id"}}`.
//! Authenticate with `Authorization: Bearer <token>` from `POST /api/v1/sessions`, or with the
//! browser session cookie plus an `x-csrf-token` header for changes.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use egov_app::agencies::{AgencyDetail, NewBody, UnitDetail};
use egov_app::applicants::{ApplicantSummary, NewApplicantCmd};
use egov_app::calendar::{DaySpec, DeadlineRequest, DueView, YearView};
use egov_app::org::{
    GrantRole, NewDelegationCmd, NewOrgUnit, NewPosting, SigningAuthorityView, StaffMove,
};
use egov_app::people::{NewOfficial, PersonDetail};
use egov_app::views::Applicant;
use egov_app::views::AsView;
use egov_app::views::DeadlineReview;
use egov_app::views::Person;
use egov_app::views::VerifyReport;
use egov_app::views::{Agency, SearchHit, TreeNode};
use egov_app::views::{Delegation, OrgUnit, Posting, RoleGrant};
use egov_app::views::{Job, StateCount};
use egov_app::{AppError, ErrorKind};
use egov_domain::admin_unit::Structure;
use egov_domain::calendar::{OfficeHours, RuleSet};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::ctx::Ctx;
use crate::error::WebResult;
use crate::pages::parse_date;
use crate::state::AppState;

pub mod documents;
pub mod onestop;
pub mod signing;

#[derive(OpenApi)]
#[openapi(
    info(title = "egov API", version = "1", description = "The egov e-government platform. Errors: `{\"error\": {\"code\", \"message\", \"request_id\"}}` with a stable code."),
    paths(
        create_session, second_factor, delete_session, me,
        list_agencies, get_agency, create_agency, get_unit, create_org_unit, agency_delegations,
        list_people, create_person, get_person, grant_role, revoke_role, add_posting, move_person, signing_authorities,
        create_delegation, revoke_delegation, list_jobs, retry_job, verify_audit,
        register_applicant, find_applicant, get_applicant, applicant_access_log,
        calendar_year, compute_deadline, set_calendar_day, remove_calendar_day, propose_calendar_year,
        confirm_calendar_year, get_rules, put_rules, get_default_hours, put_default_hours,
        get_agency_hours, put_agency_hours, calendar_reviews,
    ),
    components(schemas(ApiError, ErrorBody)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The error envelope every failing call returns.
#[derive(Serialize, ToSchema)]
pub struct ApiError {
    pub error: ErrorBody,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable: `forbidden`, `not_found`, `delegation_overlap` …
    pub code: String,
    /// A human message in the request's language (`Accept-Language`, `?lang=`).
    pub message: String,
    pub request_id: String,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/sessions", post(create_session).delete(delete_session))
        .route("/sessions/totp", post(second_factor))
        .route("/me", get(me))
        .route("/agencies", get(list_agencies).post(create_agency))
        .route("/agencies/{id}", get(get_agency))
        .route("/agencies/{id}/org-units", post(create_org_unit))
        .route("/agencies/{id}/delegations", get(agency_delegations))
        .route("/units/{id}", get(get_unit))
        .route("/people", get(list_people).post(create_person))
        .route("/people/{id}", get(get_person))
        .route("/people/{id}/roles", post(grant_role))
        .route("/people/{id}/postings", post(add_posting))
        .route("/people/{id}/move", post(move_person))
        .route("/people/{id}/signing-authorities", get(signing_authorities))
        .route("/role-grants/{id}", delete(revoke_role))
        .route("/delegations", post(create_delegation))
        .route("/delegations/{id}", delete(revoke_delegation))
        .route("/applicants", post(register_applicant).get(find_applicant))
        .route("/applicants/{id}", get(get_applicant))
        .route("/applicants/{id}/access-log", get(applicant_access_log))
        .route("/calendar/deadline", post(compute_deadline))
        .route("/calendar/rules", get(get_rules).put(put_rules))
        .route(
            "/calendar/office-hours",
            get(get_default_hours).put(put_default_hours),
        )
        .route("/calendar/reviews", get(calendar_reviews))
        .route("/calendar/{year}", get(calendar_year))
        .route(
            "/calendar/{year}/days/{date}",
            axum::routing::put(set_calendar_day).delete(remove_calendar_day),
        )
        .route("/calendar/{year}/propose", post(propose_calendar_year))
        .route("/calendar/{year}/confirm", post(confirm_calendar_year))
        .route(
            "/agencies/{id}/office-hours",
            get(get_agency_hours).put(put_agency_hours),
        )
        .route("/jobs", get(list_jobs))
        .route("/jobs/{id}/retry", post(retry_job))
        .route("/audit/verify", get(verify_audit))
        .merge(onestop::routes())
        .merge(documents::routes())
        .merge(signing::routes())
        .fallback(|| async {
            crate::error::WebError(AppError::new(
                ErrorKind::NotFound,
                egov_app::Code::PageNotFound,
                "No such API endpoint.",
            ))
        })
}

/// The whole OpenAPI document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(onestop::OnestopDoc::openapi());
    doc.merge(documents::DocumentsDoc::openapi());
    doc.merge(signing::SigningDoc::openapi());
    describe_responses(doc)
}

/// OpenAPI requires a description on every response: one written at the operation is kept,
/// any other gets the meaning of its status code, so that generated clients and validators
/// accept the document.
fn describe_responses(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::RefOr;
    let meaning = |status: &str| match status {
        "200" => "The answer",
        "201" => "Created",
        "202" => "Accepted",
        "204" => "Done; nothing to return",
        "400" => "The request is malformed",
        "401" => "Not signed in",
        "403" => "Not allowed for this person",
        "404" => "No such thing, or not one the caller may see",
        "409" => "It changed meanwhile, or it conflicts with what exists",
        "413" => "Too large",
        "422" => "The input is not valid: the error names the field",
        "429" => "Too many requests: try again later",
        "503" => "Not available now",
        _ => "See the error's code and message",
    };
    for item in doc.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ];
        for op in ops.into_iter().flatten() {
            for (status, r) in op.responses.responses.iter_mut() {
                if let RefOr::T(r) = r
                    && r.description.trim().is_empty()
                {
                    r.description = meaning(status).into();
                }
            }
        }
    }
    doc
}

async fn openapi() -> Response {
    match document().to_pretty_json() {
        Ok(s) => ([(axum::http::header::CONTENT_TYPE, "application/json")], s).into_response(),
        Err(e) => crate::error::WebError(AppError::internal(e.to_string())).into_response(),
    }
}

pub(crate) fn created<T: Serialize>(v: T) -> Response {
    (StatusCode::CREATED, Json(v)).into_response()
}

// ---- sessions ----

#[derive(Deserialize, ToSchema)]
pub struct SignInRequest {
    username: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionCreated {
    /// Send as `Authorization: Bearer <token>`.
    token: String,
    /// `none`, `totp` (send a code to `/sessions/totp`) or `setup_required` (set up TOTP in the
    /// browser first).
    second_factor: String,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", request_body = SignInRequest, security(()),
    responses((status = 201, body = SessionCreated), (status = 401, body = ApiError), (status = 429, body = ApiError)))]
async fn create_session(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(r): Json<SignInRequest>,
) -> WebResult<Response> {
    state.app.sign_in_attempt(&ctx.ip).await?;
    let out = state
        .app
        .sign_in(&r.username, &r.password, &ctx.ip, "api")
        .await?;
    let second_factor = if out.needs_totp_setup {
        "setup_required"
    } else if out.needs_totp {
        "totp"
    } else {
        "none"
    };
    Ok(created(SessionCreated {
        token: out.token,
        second_factor: second_factor.into(),
        expires_at: out.session.expires_at,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct CodeRequest {
    code: String,
}

#[utoipa::path(post, path = "/api/v1/sessions/totp", tag = "sessions", request_body = CodeRequest,
    responses((status = 204), (status = 422, body = ApiError)))]
async fn second_factor(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(r): Json<CodeRequest>,
) -> WebResult<StatusCode> {
    let token = ctx.token.as_deref().ok_or_else(|| {
        AppError::new(
            ErrorKind::Unauthenticated,
            egov_app::Code::NotSignedIn,
            "Please sign in first.",
        )
    })?;
    state.app.verify_totp(token, &r.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/sessions", tag = "sessions", responses((status = 204)))]
async fn delete_session(State(state): State<AppState>, ctx: Ctx) -> WebResult<StatusCode> {
    if let Some(t) = &ctx.token {
        state.app.sign_out(t).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    person: Person,
    postings: Vec<Posting>,
    roles: Vec<RoleGrant>,
    signing_authorities: Vec<SigningAuthorityView>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "sessions", responses((status = 200, body = Me), (status = 401, body = ApiError)))]
async fn me(State(state): State<AppState>, ctx: Ctx) -> WebResult<Json<Me>> {
    let p = ctx.official()?.person.clone();
    Ok(Json(Me {
        postings: state.app.postings_of(p.id).await?,
        roles: state.app.grants_of(p.id).await?,
        signing_authorities: state.app.signing_authorities(p.id, state.app.now()).await?,
        person: p.into(),
    }))
}

// ---- agencies ----

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgencyQuery {
    /// YYYY-MM-DD; default today (Asia/Ho_Chi_Minh). A search without it covers all of history.
    as_of: Option<String>,
    /// Search words (diacritics ignored) or an exact identifier.
    q: Option<String>,
    /// List the children of this agency (ignored with `q`).
    parent: Option<i64>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AgencyList {
    as_of: String,
    /// The administrative structure in force on `as_of`: `three_tier` or `two_tier`.
    structure: String,
    /// With `q`: search hits.
    hits: Vec<SearchHit>,
    /// Without `q`: the children of `parent` (or the top level).
    nodes: Vec<TreeNode>,
    limit: i64,
    offset: i64,
}

#[utoipa::path(get, path = "/api/v1/agencies", tag = "agencies", params(AgencyQuery),
    responses((status = 200, body = AgencyList), (status = 422, body = ApiError)))]
async fn list_agencies(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AgencyQuery>,
) -> WebResult<Json<AgencyList>> {
    ctx.official()?;
    let on = parse_date(q.as_of.as_deref())?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let offset = q.offset.unwrap_or(0).max(0);
    let (hits, nodes) = match q.q.as_deref().filter(|s| !s.trim().is_empty()) {
        // Without as_of a search looks through all of history.
        Some(text) => {
            let on = q
                .as_of
                .as_deref()
                .is_some_and(|s| !s.trim().is_empty())
                .then_some(on);
            (
                state.app.search_agencies(text, on, limit, offset).await?,
                vec![],
            )
        }
        None => {
            let all = state.app.agency_children(q.parent, on).await?;
            (
                vec![],
                all.into_iter()
                    .skip(offset as usize)
                    .take(limit as usize)
                    .collect(),
            )
        }
    };
    Ok(Json(AgencyList {
        as_of: on.to_string(),
        structure: Structure::as_of(on).as_str().into(),
        hits: egov_app::views::all(hits),
        nodes: egov_app::views::all(nodes),
        limit,
        offset,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOf {
    as_of: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/agencies/{id}", tag = "agencies", params(("id" = i64, Path), AsOf),
    responses((status = 200, body = AgencyDetail), (status = 404, body = ApiError)))]
async fn get_agency(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<AsOf>,
) -> WebResult<Json<AgencyDetail>> {
    ctx.official()?;
    Ok(Json(
        state
            .app
            .agency_detail(id, parse_date(q.as_of.as_deref())?)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/agencies", tag = "agencies", request_body = NewBody,
    responses((status = 201, body = Agency), (status = 403, body = ApiError), (status = 409, body = ApiError)))]
async fn create_agency(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<NewBody>,
) -> WebResult<Response> {
    Ok(created(
        state.app.create_body(&ctx.actor()?, b).await?.into_view(),
    ))
}

#[utoipa::path(get, path = "/api/v1/units/{id}", tag = "agencies", params(("id" = i64, Path)),
    responses((status = 200, body = UnitDetail), (status = 404, body = ApiError)))]
async fn get_unit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Json<UnitDetail>> {
    ctx.official()?;
    Ok(Json(state.app.unit_detail(id).await?))
}

#[utoipa::path(post, path = "/api/v1/agencies/{id}/org-units", tag = "organisation", params(("id" = i64, Path)), request_body = NewOrgUnit,
    responses((status = 201, body = OrgUnit), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn create_org_unit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Json(b): Json<NewOrgUnit>,
) -> WebResult<Response> {
    Ok(created(
        state
            .app
            .create_org_unit(&ctx.actor()?, id, b)
            .await?
            .into_view(),
    ))
}

#[utoipa::path(get, path = "/api/v1/agencies/{id}/delegations", tag = "organisation", params(("id" = i64, Path)),
    responses((status = 200, body = [Delegation]), (status = 403, body = ApiError)))]
async fn agency_delegations(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Json<Vec<Delegation>>> {
    Ok(Json(egov_app::views::all(
        state.app.agency_delegations(&ctx.actor()?, id).await?,
    )))
}

// ---- people ----

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeopleQuery {
    q: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct PeopleList {
    items: Vec<Person>,
    limit: i64,
    offset: i64,
}

#[utoipa::path(get, path = "/api/v1/people", tag = "people", params(PeopleQuery),
    responses((status = 200, body = PeopleList), (status = 403, body = ApiError)))]
async fn list_people(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PeopleQuery>,
) -> WebResult<Json<PeopleList>> {
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let offset = q.offset.unwrap_or(0).max(0);
    let items = state
        .app
        .list_people(&ctx.actor()?, q.q.as_deref().unwrap_or(""), limit, offset)
        .await?;
    Ok(Json(PeopleList {
        items: egov_app::views::all(items),
        limit,
        offset,
    }))
}

#[utoipa::path(post, path = "/api/v1/people", tag = "people", request_body = NewOfficial,
    responses((status = 201, body = Person), (status = 403, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
async fn create_person(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<NewOfficial>,
) -> WebResult<Response> {
    Ok(created(
        state.app.create_person(&ctx.actor()?, b).await?.into_view(),
    ))
}

#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "people", params(("id" = i64, Path)),
    responses((status = 200, body = PersonDetail), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn get_person(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Json<PersonDetail>> {
    Ok(Json(state.app.person_detail(&ctx.actor()?, id).await?))
}

#[utoipa::path(post, path = "/api/v1/people/{id}/roles", tag = "people", params(("id" = i64, Path)), request_body = GrantRole,
    responses((status = 201, body = RoleGrant), (status = 403, body = ApiError), (status = 409, body = ApiError)))]
async fn grant_role(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Json(b): Json<GrantRole>,
) -> WebResult<Response> {
    Ok(created(
        state
            .app
            .grant_role(&ctx.actor()?, id, b)
            .await?
            .into_view(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/role-grants/{id}", tag = "people", params(("id" = i64, Path)),
    responses((status = 200, body = RoleGrant), (status = 403, body = ApiError), (status = 409, body = ApiError)))]
async fn revoke_role(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Json<RoleGrant>> {
    Ok(Json(
        (state.app.revoke_role(&ctx.actor()?, id).await?).into(),
    ))
}

#[utoipa::path(post, path = "/api/v1/people/{id}/postings", tag = "people", params(("id" = i64, Path)), request_body = NewPosting,
    responses((status = 201, body = Posting), (status = 403, body = ApiError)))]
async fn add_posting(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Json(b): Json<NewPosting>,
) -> WebResult<Response> {
    Ok(created(
        state
            .app
            .add_posting(&ctx.actor()?, id, b)
            .await?
            .into_view(),
    ))
}

#[utoipa::path(post, path = "/api/v1/people/{id}/move", tag = "people", params(("id" = i64, Path)), request_body = StaffMove,
    responses((status = 200, body = [Posting]), (status = 403, body = ApiError)))]
async fn move_person(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Json(b): Json<StaffMove>,
) -> WebResult<Json<Vec<Posting>>> {
    Ok(Json(egov_app::views::all(
        state.app.move_staff(&ctx.actor()?, id, b).await?,
    )))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtQuery {
    /// An RFC 3339 instant; default now.
    at: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/people/{id}/signing-authorities", tag = "organisation", params(("id" = i64, Path), AtQuery),
    responses((status = 200, body = [SigningAuthorityView]), (status = 422, body = ApiError)))]
async fn signing_authorities(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<AtQuery>,
) -> WebResult<Json<Vec<SigningAuthorityView>>> {
    ctx.official()?;
    let at = match q.at.as_deref() {
        None => state.app.now(),
        Some(s) => time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .ok()
            .ok_or_else(|| {
                AppError::invalid(
                    egov_app::Code::BadDate,
                    format!("{s:?} is not an RFC 3339 instant"),
                )
                .arg("value", s)
            })?,
    };
    Ok(Json(state.app.signing_authorities(id, at).await?))
}

#[utoipa::path(post, path = "/api/v1/delegations", tag = "organisation", request_body = NewDelegationCmd,
    responses((status = 201, body = Delegation), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn create_delegation(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<NewDelegationCmd>,
) -> WebResult<Response> {
    Ok(created(
        state
            .app
            .create_delegation(&ctx.actor()?, b)
            .await?
            .into_view(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/delegations/{id}", tag = "organisation", params(("id" = i64, Path)),
    responses((status = 200, body = Delegation), (status = 403, body = ApiError), (status = 409, body = ApiError)))]
async fn revoke_delegation(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Json<Delegation>> {
    Ok(Json(
        (state.app.revoke_delegation(&ctx.actor()?, id).await?).into(),
    ))
}

// ---- applicants ----

#[utoipa::path(post, path = "/api/v1/applicants", tag = "applicants", request_body = NewApplicantCmd,
    responses((status = 201, body = ApplicantSummary), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
async fn register_applicant(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<NewApplicantCmd>,
) -> WebResult<Response> {
    Ok(created(
        state.app.register_applicant(&ctx.actor()?, b).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicantQuery {
    /// `citizen`, `organisation` or `foreigner`.
    kind: String,
    identifier: String,
    /// For a passport: the ISO 3166 alpha-3 country.
    country: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/applicants", tag = "applicants", params(ApplicantQuery),
    responses((status = 200, body = ApplicantSummary), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
async fn find_applicant(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ApplicantQuery>,
) -> WebResult<Json<ApplicantSummary>> {
    let found = state
        .app
        .find_applicant(&ctx.actor()?, &q.kind, &q.identifier, q.country.as_deref())
        .await?;
    Ok(Json(found.ok_or_else(|| AppError::not_found("applicant"))?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Purpose {
    /// Why the record is read (required; the read is logged with it): `dossier`, with
    /// `dossier_id` of a dossier the person applied with that you may see.
    purpose: Option<String>,
    /// The dossier that justifies the read.
    dossier_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/applicants/{id}", tag = "applicants", params(("id" = i64, Path, description = "The applicant"), Purpose),
    responses((status = 200, description = "The applicant's record", body = Applicant),
        (status = 403, description = "No front-desk role", body = ApiError),
        (status = 404, description = "No such applicant for this purpose", body = ApiError),
        (status = 422, description = "Missing or unknown purpose", body = ApiError)))]
async fn get_applicant(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<Purpose>,
) -> WebResult<Json<Applicant>> {
    let purpose = egov_app::applicants::AccessPurpose::parse(q.purpose.as_deref(), q.dossier_id)?;
    Ok(Json(
        (state.app.applicant(&ctx.actor()?, id, &purpose).await?).into(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// At most this many entries (default 100).
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/applicants/{id}/access-log", tag = "applicants", params(("id" = i64, Path, description = "The applicant"), LogQuery),
    responses((status = 200, description = "Who read or changed the person's record, when and why, newest first", body = [AuditEntryView]),
        (status = 403, description = "Only the system administrator", body = ApiError)))]
async fn applicant_access_log(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<LogQuery>,
) -> WebResult<Json<Vec<AuditEntryView>>> {
    let entries = state
        .app
        .applicant_access_log(&ctx.actor()?, id, q.limit.unwrap_or(100))
        .await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| AuditEntryView::from(e.into_view()))
            .collect(),
    ))
}

/// One entry of the audit log as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditEntryView {
    pub at: String,
    pub actor: String,
    pub action: String,
    /// What the entry recorded (for a read: the purpose and its object).
    pub detail: Option<serde_json::Value>,
    pub ip: Option<String>,
}

impl From<egov_app::views::AuditEntry> for AuditEntryView {
    fn from(e: egov_app::views::AuditEntry) -> Self {
        AuditEntryView {
            at: e
                .at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            actor: e.actor,
            action: e.action,
            detail: e
                .after_json
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok()),
            ip: e.ip,
        }
    }
}

// ---- calendar ----

fn day_in_year(year: i32, date: &str) -> Result<time::Date, AppError> {
    let d = parse_date(Some(date))?;
    if d.year() != year {
        return Err(AppError::invalid(
            egov_app::Code::DayOutsideYear,
            format!("{d} is not in {year}"),
        )
        .arg("value", d));
    }
    Ok(d)
}

#[utoipa::path(get, path = "/api/v1/calendar/{year}", tag = "calendar", params(("year" = i32, Path)), security(()),
    responses((status = 200, body = YearView, description = "status: confirmed, draft (stored, awaiting confirmation) or proposed (from the rules)"), (status = 422, body = ApiError)))]
async fn calendar_year(
    State(state): State<AppState>,
    Path(year): Path<i32>,
) -> WebResult<Json<YearView>> {
    Ok(Json(state.app.calendar_year(year).await?))
}

#[utoipa::path(post, path = "/api/v1/calendar/deadline", tag = "calendar", request_body = DeadlineRequest, security(()),
    responses((status = 200, body = DueView), (status = 422, body = ApiError)))]
async fn compute_deadline(
    State(state): State<AppState>,
    Json(r): Json<DeadlineRequest>,
) -> WebResult<Json<DueView>> {
    Ok(Json(state.app.compute_deadline(&r).await?))
}

#[utoipa::path(put, path = "/api/v1/calendar/{year}/days/{date}", tag = "calendar", params(("year" = i32, Path), ("date" = String, Path)),
    request_body = DaySpec, responses((status = 200, body = YearView), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn set_calendar_day(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((year, date)): Path<(i32, String)>,
    Json(b): Json<DaySpec>,
) -> WebResult<Json<YearView>> {
    let d = day_in_year(year, &date)?;
    Ok(Json(
        state.app.set_calendar_day(&ctx.actor()?, d, &b).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/calendar/{year}/days/{date}", tag = "calendar", params(("year" = i32, Path), ("date" = String, Path)),
    responses((status = 200, body = YearView), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn remove_calendar_day(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((year, date)): Path<(i32, String)>,
) -> WebResult<Json<YearView>> {
    let d = day_in_year(year, &date)?;
    Ok(Json(state.app.remove_calendar_day(&ctx.actor()?, d).await?))
}

#[utoipa::path(post, path = "/api/v1/calendar/{year}/propose", tag = "calendar", params(("year" = i32, Path)),
    responses((status = 200, body = YearView), (status = 403, body = ApiError)))]
async fn propose_calendar_year(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(year): Path<i32>,
) -> WebResult<Json<YearView>> {
    Ok(Json(
        state.app.propose_calendar_year(&ctx.actor()?, year).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct Confirmed {
    year: YearView,
    /// Open step deadlines the change moved (listed in /calendar/reviews).
    step_deadlines_moved: u64,
}

#[utoipa::path(post, path = "/api/v1/calendar/{year}/confirm", tag = "calendar", params(("year" = i32, Path)),
    responses((status = 200, body = Confirmed), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn confirm_calendar_year(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(year): Path<i32>,
) -> WebResult<Json<Confirmed>> {
    let (year, step_deadlines_moved) = state.app.confirm_calendar_year(&ctx.actor()?, year).await?;
    Ok(Json(Confirmed {
        year,
        step_deadlines_moved,
    }))
}

#[utoipa::path(get, path = "/api/v1/calendar/rules", tag = "calendar", security(()),
    responses((status = 200, description = "The holiday rule set (JSON)")))]
async fn get_rules(State(state): State<AppState>) -> WebResult<Json<RuleSet>> {
    Ok(Json(state.app.holiday_rules().await?))
}

#[utoipa::path(put, path = "/api/v1/calendar/rules", tag = "calendar",
    responses((status = 204), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn put_rules(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(r): Json<RuleSet>,
) -> WebResult<StatusCode> {
    state.app.set_holiday_rules(&ctx.actor()?, &r).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/calendar/office-hours", tag = "calendar", security(()),
    responses((status = 200, description = "The deployment's default office hours")))]
async fn get_default_hours(State(state): State<AppState>) -> WebResult<Json<OfficeHours>> {
    Ok(Json(state.app.office_hours(None).await?))
}

#[utoipa::path(put, path = "/api/v1/calendar/office-hours", tag = "calendar",
    responses((status = 204), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn put_default_hours(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(h): Json<OfficeHours>,
) -> WebResult<StatusCode> {
    state
        .app
        .set_office_hours(&ctx.actor()?, None, Some(&h))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/agencies/{id}/office-hours", tag = "calendar", params(("id" = i64, Path)), security(()),
    responses((status = 200, description = "The agency's office hours (its own or the default)")))]
async fn get_agency_hours(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> WebResult<Json<OfficeHours>> {
    Ok(Json(state.app.office_hours(Some(id)).await?))
}

#[utoipa::path(put, path = "/api/v1/agencies/{id}/office-hours", tag = "calendar", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn put_agency_hours(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Json(h): Json<OfficeHours>,
) -> WebResult<StatusCode> {
    state
        .app
        .set_office_hours(&ctx.actor()?, Some(id), Some(&h))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/calendar/reviews", tag = "calendar",
    responses((status = 200, body = [DeadlineReview]), (status = 403, body = ApiError)))]
async fn calendar_reviews(
    State(state): State<AppState>,
    ctx: Ctx,
) -> WebResult<Json<Vec<DeadlineReview>>> {
    Ok(Json(egov_app::views::all(
        state.app.deadline_reviews(&ctx.actor()?).await?,
    )))
}

// ---- operations ----

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// `queued`, `running`, `done` or `dead`.
    state: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct JobList {
    counts: Vec<StateCount>,
    items: Vec<Job>,
}

#[utoipa::path(get, path = "/api/v1/jobs", tag = "operations", params(JobsQuery),
    responses((status = 200, body = JobList), (status = 403, body = ApiError)))]
async fn list_jobs(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<JobsQuery>,
) -> WebResult<Json<JobList>> {
    let (counts, items) = state
        .app
        .list_jobs(
            &ctx.actor()?,
            q.state.as_deref(),
            q.limit.unwrap_or(100).clamp(1, 500),
            q.offset.unwrap_or(0).max(0),
        )
        .await?;
    Ok(Json(JobList {
        counts: egov_app::views::all(counts),
        items: egov_app::views::all(items),
    }))
}

#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "operations", params(("id" = i64, Path)),
    responses((status = 200, body = Job), (status = 403, body = ApiError), (status = 409, body = ApiError)))]
async fn retry_job(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Json<Job>> {
    Ok(Json((state.app.retry_job(&ctx.actor()?, id).await?).into()))
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "operations",
    responses((status = 200, body = VerifyReport), (status = 403, body = ApiError)))]
async fn verify_audit(State(state): State<AppState>, ctx: Ctx) -> WebResult<Json<VerifyReport>> {
    let actor = ctx.actor()?;
    if !state.app.is_system_admin(&actor).await? {
        return Err(AppError::forbidden().into());
    }
    Ok(Json(state.app.verify_audit().await?.into()))
}

/// Reads an action's body as its typed command (an enum tagged by `event`). What the
/// deserialiser refuses is answered with the codes users have always got: an unknown or
/// missing event is `bad_event`; a missing field listed in `required` gets its own code and
/// message; anything else is `bad_request` naming the field.
pub(crate) fn read_command<T: serde::de::DeserializeOwned>(
    body: serde_json::Value,
    required: &[(&str, egov_app::Code, &str)],
) -> Result<T, AppError> {
    let event = body
        .get("event")
        .and_then(|e| e.as_str())
        .unwrap_or_default()
        .to_owned();
    serde_json::from_value::<T>(body).map_err(|e| {
        let text = e.to_string();
        let field = text
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        if text.starts_with("unknown variant") || field == Some("event") {
            return AppError::invalid(egov_app::Code::BadEvent, "Unknown action.")
                .arg("value", &event);
        }
        match required.iter().find(|(f, ..)| Some(*f) == field) {
            Some((_, code, message)) => AppError::invalid(*code, *message),
            None => AppError::invalid(
                egov_app::Code::BadRequest,
                format!("The {event} command: {text}"),
            )
            .arg("field", field.unwrap_or("")),
        }
    })
}

#[cfg(test)]
mod tests {
    use egov_app::documents::incoming::{Direction, InAction, InCommand};
    use egov_app::documents::outgoing::{OutAction, OutCommand};
    use serde_json::json;

    #[test]
    fn an_outgoing_command_names_what_is_wrong_with_it() {
        let read = |v| super::read_command::<OutAction>(v, &[]).map_err(|e| e.code.as_str());
        let a = read(json!({"event": "sign_off", "version": 2, "mark": "KT."})).unwrap();
        assert_eq!(
            (a.version, a.command),
            (
                2,
                OutCommand::SignOff {
                    mark: Some("KT.".into())
                }
            )
        );
        let a = read(json!({"event": "return", "version": 3, "note": "sửa trích yếu"})).unwrap();
        assert_eq!(
            (a.command, a.note.as_str()),
            (OutCommand::Return, "sửa trích yếu")
        );
        assert_eq!(
            read(json!({"event": "fly", "version": 2})).unwrap_err(),
            "bad_event"
        );
        assert_eq!(read(json!({"version": 2})).unwrap_err(), "bad_event");
        assert_eq!(read(json!({"event": "issue"})).unwrap_err(), "bad_request");
        assert_eq!(
            read(json!({"event": "issue", "version": "two"})).unwrap_err(),
            "bad_request"
        );
    }

    #[test]
    fn an_incoming_command_carries_its_direction() {
        let read = |v| super::read_command::<InAction>(v, &[]).map_err(|e| e.code.as_str());
        let a = read(json!({"event": "direct", "version": 4, "note": "Chủ trì",
            "lead_person_id": 7, "coordinator_units": [3], "working_days": 5}))
        .unwrap();
        assert_eq!(
            a.command,
            InCommand::Direct(Direction {
                lead_person_id: Some(7),
                coordinator_units: vec![3],
                working_days: Some(5),
                ..Direction::default()
            })
        );
        assert_eq!(
            read(json!({"event": "complete", "version": 5, "reply_document_id": 9}))
                .unwrap()
                .command,
            InCommand::Complete {
                reply_document_id: Some(9)
            }
        );
        assert_eq!(
            read(json!({"event": "refuse_recall", "version": 1}))
                .unwrap()
                .command
                .name(),
            "refuse_recall"
        );
        assert_eq!(
            read(json!({"event": "fly", "version": 2})).unwrap_err(),
            "bad_event"
        );
        assert_eq!(
            read(json!({"event": "direct", "version": 2, "working_days": -1})).unwrap_err(),
            "bad_request"
        );
    }
}
