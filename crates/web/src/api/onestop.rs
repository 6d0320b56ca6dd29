//! The one-stop API: the procedure catalogue, dossiers from the counter to the result, scans,
//! statistics, the tracking register and the public status look-up.

use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use egov_app::onestop::catalogue::{CatalogueEntry, ProcedureView};
use egov_app::onestop::dossiers::{DossierAction, DossierDetail, Reception, ReceptionOutcome};
use egov_app::onestop::public::{LookupQuery, NationalStatus, PublicStatus};
use egov_app::onestop::reports::MonthlyStats;
use egov_app::onestop::scans::ScanInfo;
use egov_app::views::{Dossier, Procedure};
use egov_app::{AppError, ErrorKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::{ApiError, created};
use crate::ctx::Ctx;
use crate::error::WebResult;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(paths(
    list_procedures,
    get_procedure,
    add_procedure,
    import_catalogue,
    export_catalogue,
    import_national,
    receive,
    queue,
    search,
    get_dossier,
    act,
    upload_scan,
    get_scan,
    get_form,
    agency_stats,
    agency_register,
    national_statuses,
    public_status,
))]
pub struct OnestopDoc;

/// Routes with the ordinary body limit.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/procedures", get(list_procedures).post(add_procedure))
        .route("/procedures/{id}", get(get_procedure))
        .route("/catalogue", get(export_catalogue).post(import_catalogue))
        .route("/catalogue/national", post(import_national))
        .route("/dossiers", get(search).post(receive))
        .route("/dossiers/queue", get(queue))
        .route("/dossiers/{id}", get(get_dossier))
        .route("/dossiers/{id}/actions", post(act))
        .route("/dossiers/{id}/components/{code}/scan", get(get_scan))
        .route("/dossiers/{id}/forms/{form}", get(get_form))
        .route("/agencies/{id}/onestop-stats", get(agency_stats))
        .route("/agencies/{id}/register", get(agency_register))
        .route("/national-statuses", get(national_statuses))
        .route("/public/dossier-status", post(public_status))
}

/// Routes that take uploads (their own, larger limit).
pub fn upload_routes() -> Router<AppState> {
    Router::new().route("/api/v1/scans", post(upload_scan))
}

// ---- catalogue ----

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProcedureQuery {
    /// Words of the code or name, diacritics optional.
    #[serde(default)]
    q: String,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/procedures", tag = "one-stop", params(ProcedureQuery),
    responses((status = 200, body = Vec<Procedure>)))]
async fn list_procedures(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ProcedureQuery>,
) -> WebResult<Json<Vec<Procedure>>> {
    ctx.actor()?;
    Ok(Json(egov_app::views::all(
        state
            .app
            .search_procedures(&q.q, q.limit.unwrap_or(50))
            .await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/procedures/{id}", tag = "one-stop", params(("id" = i64, Path)),
    responses((status = 200, body = ProcedureView), (status = 404, body = ApiError)))]
async fn get_procedure(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Json<ProcedureView>> {
    ctx.actor()?;
    Ok(Json(state.app.procedure_view(id).await?))
}

#[utoipa::path(post, path = "/api/v1/procedures", tag = "one-stop", request_body = CatalogueEntry,
    responses((status = 201, body = ProcedureView), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn add_procedure(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(e): Json<CatalogueEntry>,
) -> WebResult<Response> {
    Ok(created(
        state.app.add_catalogue_entry(&ctx.actor()?, &e).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct Imported {
    imported: usize,
}

#[utoipa::path(post, path = "/api/v1/catalogue", tag = "one-stop",
    request_body(content = Vec<CatalogueEntry>, description = "Our catalogue JSON (as exported)."),
    responses((status = 201, body = Imported), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn import_catalogue(
    State(state): State<AppState>,
    ctx: Ctx,
    body: Bytes,
) -> WebResult<Response> {
    let text = utf8(&body)?;
    let imported = state.app.import_catalogue(&ctx.actor()?, text).await?;
    Ok(created(Imported { imported }))
}

#[utoipa::path(get, path = "/api/v1/catalogue", tag = "one-stop",
    responses((status = 200, body = Vec<CatalogueEntry>)))]
async fn export_catalogue(
    State(state): State<AppState>,
    ctx: Ctx,
) -> WebResult<Json<Vec<CatalogueEntry>>> {
    ctx.actor()?;
    Ok(Json(state.app.export_catalogue().await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NationalImportQuery {
    /// YYYY-MM-DD the imported versions take effect (default today).
    effective_from: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/catalogue/national", tag = "one-stop", params(NationalImportQuery),
    request_body(content = Object, description = "Procedures in the national catalogue's `LayThuTuc` shape (an array, or `{\"data\": [...]}`)."),
    responses((status = 201, body = Imported), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn import_national(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NationalImportQuery>,
    body: Bytes,
) -> WebResult<Response> {
    let from = crate::pages::parse_date(q.effective_from.as_deref())?;
    let imported = state
        .app
        .import_national(&ctx.actor()?, utf8(&body)?, from)
        .await?;
    Ok(created(Imported { imported }))
}

fn utf8(b: &[u8]) -> Result<&str, AppError> {
    std::str::from_utf8(b).map_err(|_| {
        AppError::invalid(egov_app::Code::BadCatalogue, "not UTF-8").arg("reason", "UTF-8")
    })
}

// ---- dossiers ----

#[utoipa::path(post, path = "/api/v1/dossiers", tag = "one-stop", request_body = Reception,
    responses((status = 201, body = ReceptionOutcome, description = "A receipt, a supplement request or a refusal"),
        (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn receive(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(r): Json<Reception>,
) -> WebResult<Response> {
    Ok(created(state.app.receive_dossier(&ctx.actor()?, r).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// A dossier code (or its beginning), or words of the applicant's name or the procedure.
    #[serde(default)]
    q: String,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/dossiers/queue", tag = "one-stop", params(ListQuery),
    responses((status = 200, body = Vec<Dossier>, description = "Soonest step deadline first; phone numbers masked")))]
async fn queue(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Json<Vec<Dossier>>> {
    Ok(Json(egov_app::views::all(
        state
            .app
            .my_queue(&ctx.actor()?, q.limit.unwrap_or(100))
            .await?,
    )))
}

#[utoipa::path(get, operation_id = "search_dossiers", path = "/api/v1/dossiers", tag = "one-stop", params(ListQuery),
    responses((status = 200, body = Vec<Dossier>, description = "Only dossiers the caller may see; phone numbers masked")))]
async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Json<Vec<Dossier>>> {
    Ok(Json(egov_app::views::all(
        state
            .app
            .search_dossiers(&ctx.actor()?, &q.q, q.limit.unwrap_or(50))
            .await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/dossiers/{id}", tag = "one-stop", params(("id" = i64, Path)),
    responses((status = 200, body = DossierDetail, description = "The read is audited"), (status = 404, body = ApiError)))]
async fn get_dossier(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Json<DossierDetail>> {
    Ok(Json(state.app.dossier_detail(&ctx.actor()?, id).await?))
}

#[utoipa::path(post, operation_id = "act_on_dossier", path = "/api/v1/dossiers/{id}/actions", tag = "one-stop", params(("id" = i64, Path)),
    request_body = DossierAction,
    responses((status = 200, body = Dossier), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "`dossier_changed`, `illegal_transition`, `second_apology` …"),
        (status = 422, body = ApiError)))]
async fn act(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Json(body): Json<serde_json::Value>,
) -> WebResult<Json<Dossier>> {
    let a = dossier_command(body)?;
    Ok(Json(
        (state.app.run_dossier_command(&ctx.actor()?, id, a).await?).into(),
    ))
}

/// Reads a dossier command. What the typed command refuses is answered with the code users
/// have always got for it: an unknown event is `bad_event`, a missing field names the field
/// (`person_required`, `new_date_required`, …), anything else is `bad_request` naming it.
fn dossier_command(body: serde_json::Value) -> Result<DossierAction, AppError> {
    use egov_app::Code;
    super::read_command(
        body,
        &[
            ("person_id", Code::PersonRequired, "Choose the officer."),
            ("new_date", Code::NewDateRequired, "Propose the new date."),
            ("amount", Code::AmountRequired, "Give the amount to pay."),
            (
                "items",
                Code::ItemsRequired,
                "List everything the applicant must supplement, at once.",
            ),
            (
                "returned_to",
                Code::ReturnedToRequired,
                "Who received the result?",
            ),
        ],
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_command_names_what_is_wrong_with_it() {
        let code = |v| {
            dossier_command(v)
                .map(|a| a.command.event())
                .map_err(|e| e.code.as_str())
        };
        assert_eq!(
            code(json!({"event": "assign", "version": 2, "person_id": 7})),
            Ok(egov_domain::onestop::dossier::Event::Assign)
        );
        assert_eq!(
            code(json!({"event": "assign", "version": 2})),
            Err("person_required")
        );
        assert_eq!(
            code(json!({"event": "teleport", "version": 2})),
            Err("bad_event")
        );
        assert_eq!(code(json!({"version": 2})), Err("bad_event"));
        assert_eq!(
            code(json!({"event": "apologize", "version": 2})),
            Err("new_date_required")
        );
        assert_eq!(
            code(json!({"event": "request_payment", "version": 2})),
            Err("amount_required")
        );
        assert_eq!(
            code(json!({"event": "request_supplement", "version": 2})),
            Err("items_required")
        );
        assert_eq!(
            code(json!({"event": "return_result", "version": 2})),
            Err("returned_to_required")
        );
        assert_eq!(code(json!({"event": "receive"})), Err("bad_request"));
        assert_eq!(
            code(json!({"event": "assign", "version": 2, "person_id": "Lan"})),
            Err("bad_request")
        );
        let finish = dossier_command(json!({"event": "finish", "version": 4, "note": "xong",
            "result": {"number": "15/XN-UBND"}}))
        .unwrap();
        assert_eq!(finish.note, "xong");
        assert!(matches!(
            finish.command,
            egov_app::onestop::dossiers::DossierCommand::Finish { result: Some(_) }
        ));
    }
}

/// Reads the first file of a multipart body: (file name, declared type, bytes).
pub async fn first_file(mut m: Multipart) -> Result<(String, Option<String>, Vec<u8>), AppError> {
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
    while let Some(f) = m.next_field().await.map_err(bad)? {
        if f.file_name().is_none() {
            continue;
        }
        let name = f.file_name().unwrap_or_default().to_owned();
        let declared = f.content_type().map(str::to_owned);
        let bytes = f.bytes().await.map_err(bad)?;
        // `Vec::from` takes the buffer over when it is not shared, instead of copying it.
        return Ok((name, declared, Vec::from(bytes)));
    }
    Err(AppError::invalid(
        egov_app::Code::EmptyFile,
        "No file was sent.",
    ))
}

#[utoipa::path(post, path = "/api/v1/scans", tag = "one-stop",
    request_body(content_type = "multipart/form-data", content = String, description = "One file field: a PDF, JPEG, PNG or TIFF scan"),
    responses((status = 201, body = ScanInfo), (status = 413, body = ApiError), (status = 422, body = ApiError, description = "`unsupported_file_type`, `disguised_file`, `empty_file`")))]
async fn upload_scan(State(state): State<AppState>, ctx: Ctx, m: Multipart) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let (name, declared, bytes) = first_file(m).await?;
    Ok(created(
        state
            .app
            .store_scan(&actor, &name, declared.as_deref(), bytes)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/dossiers/{id}/components/{code}/scan", tag = "one-stop",
    params(("id" = i64, Path), ("code" = String, Path)),
    responses((status = 200, description = "The scan's bytes (the read is audited)"), (status = 404, body = ApiError)))]
async fn get_scan(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, code)): Path<(i64, String)>,
) -> WebResult<Response> {
    let (bytes, media_type) = state.app.component_scan(&ctx.actor()?, id, &code).await?;
    let name = format!("{id}-{}", code.replace('"', ""));
    Ok(crate::export::private_file(
        &media_type,
        Some(("inline", &name)),
        bytes,
    ))
}

#[utoipa::path(get, path = "/api/v1/dossiers/{id}/forms/{form}", tag = "one-stop",
    params(("id" = i64, Path), ("form" = String, Path, description = "`receipt`, `supplement_request`, `refusal`, `apology`, `stop_notice` or `process_control`")),
    responses((status = 200, description = "The form as PDF (Circular 03/2025 set, or the 2018 set for dossiers received before 1 July 2025)", content_type = "application/pdf"),
        (status = 404, body = ApiError), (status = 422, body = ApiError, description = "`form_not_in_set`")))]
async fn get_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, form)): Path<(i64, String)>,
) -> WebResult<Response> {
    let kind = egov_app::onestop::forms::FormKind::parse(form.trim_end_matches(".pdf"))
        .ok_or_else(|| AppError::not_found("form"))?;
    let (file, bytes) = state.app.dossier_form(&ctx.actor()?, id, kind).await?;
    Ok(crate::pages::onestop::pdf_response(&file, bytes))
}

// ---- statistics and the register ----

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    /// YYYY-MM (default: this month).
    month: Option<String>,
}

/// This month in Vietnam, `YYYY-MM`.
pub fn this_month() -> String {
    let d = crate::pages::today();
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

#[utoipa::path(get, path = "/api/v1/agencies/{id}/onestop-stats", tag = "one-stop",
    params(("id" = i64, Path), MonthQuery),
    responses((status = 200, body = MonthlyStats, description = "Computed from the dossiers at `as_of`"),
        (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn agency_stats(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<MonthQuery>,
) -> WebResult<Json<MonthlyStats>> {
    let month = q.month.unwrap_or_else(this_month);
    Ok(Json(
        state.app.monthly_stats(&ctx.actor()?, id, &month).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegisterQuery {
    /// First day, YYYY-MM-DD (default: the first of this month).
    from: Option<String>,
    /// Last day, YYYY-MM-DD, included (default: today).
    to: Option<String>,
    /// `json` (default), `xlsx` or `pdf` (the printed register, form 07).
    format: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// The register's period as instants, `[from 00:00, to+1 00:00)` in Vietnam time.
pub fn register_period(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<
    (
        time::Date,
        time::Date,
        time::OffsetDateTime,
        time::OffsetDateTime,
    ),
    AppError,
> {
    let today = crate::pages::today();
    let from = match from.filter(|s| !s.trim().is_empty()) {
        Some(_) => crate::pages::parse_date(from)?,
        None => today.replace_day(1).unwrap_or(today),
    };
    let to = crate::pages::parse_date(to)?;
    let at = |d: time::Date| d.midnight().assume_offset(egov_domain::VN_OFFSET);
    let end = to.next_day().map(at).ok_or_else(|| {
        AppError::invalid(egov_app::Code::DateOutOfRange, "The date is out of range.")
            .arg("value", to)
    })?;
    Ok((from, to, at(from), end))
}

#[utoipa::path(get, path = "/api/v1/agencies/{id}/register", tag = "one-stop",
    params(("id" = i64, Path), RegisterQuery),
    responses((status = 200, body = Vec<Dossier>, description = "JSON, or an xlsx workbook with `format=xlsx`; phone numbers masked"),
        (status = 403, body = ApiError)))]
async fn agency_register(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<RegisterQuery>,
) -> WebResult<Response> {
    let (from_d, to_d, from, to) = register_period(q.from.as_deref(), q.to.as_deref())?;
    let rows: Vec<Dossier> = egov_app::views::all(
        state
            .app
            .tracking_register(
                &ctx.actor()?,
                id,
                from,
                to,
                q.limit.unwrap_or(100_000),
                q.offset.unwrap_or(0),
            )
            .await?,
    );
    match q.format.as_deref() {
        Some("xlsx") => {
            let agency = state.app.agency(id).await?;
            let period = format!(
                "{:02}/{:02}/{} – {:02}/{:02}/{}",
                from_d.day(),
                u8::from(from_d.month()),
                from_d.year(),
                to_d.day(),
                u8::from(to_d.month()),
                to_d.year()
            );
            let bytes = crate::export::register_xlsx(ctx.lang, &agency.name, &period, &rows)?;
            Ok(xlsx_response(
                &format!("so-theo-doi-{id}-{from_d}-{to_d}.xlsx"),
                bytes,
            ))
        }
        Some("pdf") => {
            let period = format!(
                "Từ ngày {:02}/{:02}/{} đến ngày {:02}/{:02}/{}",
                from_d.day(),
                u8::from(from_d.month()),
                from_d.year(),
                to_d.day(),
                u8::from(to_d.month()),
                to_d.year()
            );
            let bytes = state
                .app
                .register_pdf(&ctx.actor()?, id, from, to, &period)
                .await?;
            Ok(crate::pages::onestop::pdf_response(
                &format!("so-theo-doi-{id}-{from_d}-{to_d}.pdf"),
                bytes,
            ))
        }
        None | Some("json") => Ok(Json(rows).into_response()),
        Some(other) => Err(AppError::invalid(
            egov_app::Code::BadFormat,
            "The format is json or xlsx.",
        )
        .arg("value", other)
        .into()),
    }
}

pub fn xlsx_response(file: &str, bytes: Vec<u8>) -> Response {
    crate::export::private_file(crate::export::XLSX, Some(("attachment", file)), bytes)
}

#[utoipa::path(get, path = "/api/v1/national-statuses", tag = "one-stop", security(()),
    responses((status = 200, body = Vec<NationalStatus>, description = "Every dossier state and the National Public Service Portal status code (TrangThaiHoSo) it is reported as")))]
async fn national_statuses() -> Json<Vec<NationalStatus>> {
    Json(egov_app::onestop::public::national_statuses())
}

#[utoipa::path(post, path = "/api/v1/public/dossier-status", tag = "one-stop", security(()), request_body = LookupQuery,
    responses((status = 200, body = PublicStatus), (status = 404, body = ApiError, description = "`lookup_no_match`: also for a wrong phone number"),
        (status = 422, body = ApiError), (status = 429, body = ApiError)))]
async fn public_status(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(q): Json<LookupQuery>,
) -> WebResult<Json<PublicStatus>> {
    Ok(Json(state.app.public_lookup(&q, &ctx.ip).await?))
}
