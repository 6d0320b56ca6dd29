//! The documents API: kinds, drafts and their files, the outgoing flow, paper registrations,
//! reserved numbers, incoming copies and their handling, registers, work files and search.

use axum::extract::{Multipart, Path, Query, State};

use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use egov_app::documents::incoming::{InAction, PaperInCmd, Registered};
use egov_app::documents::outgoing::{DocumentDetail, DraftCmd, OutAction, PaperOutCmd, ReserveCmd};
use egov_app::documents::work_files::NewFileCmd;
use egov_app::views::AsView;
use egov_app::views::{Attachment, Document, Incoming, Reservation, WorkFile};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::onestop::first_file;
use super::{ApiError, created};
use crate::ctx::Ctx;
use crate::error::WebResult;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(paths(
    kinds,
    create_draft,
    get_document,
    search,
    act,
    upload_file,
    get_file,
    file_signatures,
    verify_signatures,
    register_paper_outgoing,
    reserve_number,
    set_series,
    outgoing_list,
    incoming_list,
    register_paper_incoming,
    act_incoming,
    my_handling,
    my_reminders,
    incoming_register,
    outgoing_register,
    plan_file,
    list_files,
    get_file_documents,
    act_file,
    add_to_file,
))]
pub struct DocumentsDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/document-kinds", get(kinds))
        .route("/documents", get(search).post(create_draft))
        .route("/documents/paper", post(register_paper_outgoing))
        .route("/documents/{id}", get(get_document))
        .route("/documents/{id}/actions", post(act))
        .route("/documents/{id}/files/{file}", get(get_file))
        .route(
            "/documents/{id}/files/{file}/signatures",
            get(file_signatures),
        )
        .route("/number-reservations", post(reserve_number))
        .route("/agencies/{id}/document-series", put(set_series))
        .route("/agencies/{id}/outgoing", get(outgoing_list))
        .route("/agencies/{id}/incoming", get(incoming_list))
        .route("/agencies/{id}/registers/incoming", get(incoming_register))
        .route("/agencies/{id}/registers/outgoing", get(outgoing_register))
        .route("/agencies/{id}/work-files", get(list_files))
        .route("/incoming", post(register_paper_incoming))
        .route("/incoming/{id}/actions", post(act_incoming))
        .route("/me/handling", get(my_handling))
        .route("/me/reminders", get(my_reminders))
        .route("/work-files", post(plan_file))
        .route("/work-files/{id}", get(get_file_documents))
        .route("/work-files/{id}/actions", post(act_file))
        .route("/work-files/{id}/documents", post(add_to_file))
}

/// Routes that take document files (their own limit: PDFs up to 50 MiB).
pub fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/documents/{id}/files", post(upload_file))
        .route("/api/v1/signatures/verify", post(verify_signatures))
}

#[derive(Serialize, ToSchema)]
pub struct KindView {
    key: &'static str,
    name_vi: &'static str,
    name_en: &'static str,
    abbr: Option<&'static str>,
    may_be_legal: bool,
}

#[utoipa::path(get, path = "/api/v1/document-kinds", tag = "documents", security(()),
    responses((status = 200, body = Vec<KindView>, description = "The 29 kinds of Decree 30/2020 with their abbreviations")))]
async fn kinds() -> Json<Vec<KindView>> {
    Json(
        egov_domain::documents::kind::KINDS
            .iter()
            .map(|k| KindView {
                key: k.key,
                name_vi: k.name_vi,
                name_en: k.name_en,
                abbr: k.abbr,
                may_be_legal: k.may_be_legal,
            })
            .collect(),
    )
}

#[utoipa::path(post, path = "/api/v1/documents", tag = "documents", request_body = DraftCmd,
    responses((status = 201, body = Document), (status = 403, body = ApiError), (status = 422, body = ApiError, description = "`secret_not_allowed`, `recipient_ended` (with the successor), `unknown_document_kind` …")))]
async fn create_draft(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(cmd): Json<DraftCmd>,
) -> WebResult<Response> {
    Ok(created(
        state
            .app
            .create_draft(&ctx.actor()?, cmd)
            .await?
            .into_view(),
    ))
}

#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "documents", params(("id" = i64, Path)),
    responses((status = 200, body = DocumentDetail), (status = 404, body = ApiError, description = "Unknown, or not the reader's to see")))]
async fn get_document(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Json<DocumentDetail>> {
    Ok(Json(state.app.document_detail(&ctx.actor()?, id).await?))
}

#[utoipa::path(get, path = "/api/v1/me/reminders", tag = "documents",
    responses((status = 200, body = Vec<egov_app::views::Reminder>, description = "Reminders of documents the reader handles or directed that are due soon or overdue, most urgent first")))]
async fn my_reminders(
    State(state): State<AppState>,
    ctx: Ctx,
) -> WebResult<Json<Vec<egov_app::views::Reminder>>> {
    Ok(Json(egov_app::views::all(
        state.app.my_reminders(&ctx.actor()?).await?,
    )))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words of the subject, number and notation or sender; diacritics optional
    /// (`quyet dinh`, `123 qd ubnd`).
    q: String,
}

#[utoipa::path(get, operation_id = "search_documents", path = "/api/v1/documents", tag = "documents", params(SearchQuery),
    responses((status = 200, body = Vec<Document>, description = "At most 50, newest first, only what the reader may see; never secret entries")))]
async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SearchQuery>,
) -> WebResult<Json<Vec<Document>>> {
    Ok(Json(egov_app::views::all(
        state.app.search_documents(&ctx.actor()?, &q.q).await?,
    )))
}

#[utoipa::path(post, operation_id = "act_on_document", path = "/api/v1/documents/{id}/actions", tag = "documents", params(("id" = i64, Path)), request_body = OutAction,
    responses((status = 200, body = Document), (status = 403, body = ApiError), (status = 409, body = ApiError, description = "`illegal_transition`, `document_changed`"), (status = 422, body = ApiError)))]
async fn act(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Json(body): Json<serde_json::Value>,
) -> WebResult<Json<Document>> {
    let a: OutAction = super::read_command(body, &[])?;
    Ok(Json(
        (state.app.act_on_document(&ctx.actor()?, id, a).await?).into(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// `main` (the PDF that is signed and issued), `draft` (.docx/.odt/PDF) or `attachment`.
    role: String,
}

#[utoipa::path(post, path = "/api/v1/documents/{id}/files", tag = "documents", params(("id" = i64, Path), FileQuery),
    request_body(content_type = "multipart/form-data", content = String, description = "One file field"),
    responses((status = 201, body = Attachment), (status = 413, body = ApiError),
        (status = 422, body = ApiError, description = "`unsupported_file_type`, `disguised_file`, `wrong_file_type`, `secret_no_content`")))]
async fn upload_file(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<FileQuery>,
    m: Multipart,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let (name, declared, bytes) = first_file(m).await?;
    Ok(created(
        state
            .app
            .add_document_file(&actor, id, &q.role, &name, declared.as_deref(), bytes)
            .await?
            .into_view(),
    ))
}

#[utoipa::path(get, path = "/api/v1/documents/{id}/files/{file}", tag = "documents", params(("id" = i64, Path), ("file" = i64, Path)),
    responses((status = 200, description = "The file (the read is audited)"), (status = 404, body = ApiError)))]
async fn get_file(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, file)): Path<(i64, i64)>,
) -> WebResult<Response> {
    let (bytes, media_type, name) = state.app.document_file(&ctx.actor()?, id, file).await?;
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(crate::export::private_file(
        &media_type,
        Some(("inline", &safe)),
        bytes,
    ))
}

/// The verdict on a PDF's signatures.
#[derive(Serialize, ToSchema)]
pub struct SignatureVerdict {
    /// `valid`, `invalid`, `indeterminate` or `unsigned`.
    status: String,
    signatures: i64,
    #[serde(with = "time::serde::rfc3339")]
    checked_at: time::OffsetDateTime,
    /// Per signature: signer, trust list, signing time, changes after it, and the findings
    /// (code, message, effect) behind the verdict.
    #[schema(value_type = Object)]
    report: serde_json::Value,
}

impl SignatureVerdict {
    pub(crate) fn from_row(row: egov_app::views::SignatureReport) -> Self {
        SignatureVerdict {
            status: row.status,
            signatures: row.signatures,
            checked_at: row.checked_at,
            report: serde_json::from_str(&row.report).unwrap_or(serde_json::Value::Null),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/documents/{id}/files/{file}/signatures", tag = "documents", params(("id" = i64, Path), ("file" = i64, Path)),
    responses((status = 200, body = SignatureVerdict, description = "The stored verdict, made when the file arrived"),
        (status = 404, body = ApiError), (status = 422, body = ApiError, description = "`not_a_pdf_file`")))]
async fn file_signatures(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, file)): Path<(i64, i64)>,
) -> WebResult<Json<SignatureVerdict>> {
    let row = state.app.file_signatures(&ctx.actor()?, id, file).await?;
    Ok(Json(SignatureVerdict::from_row(row.into())))
}

#[utoipa::path(post, path = "/api/v1/signatures/verify", tag = "documents",
    request_body(content_type = "multipart/form-data", content = String, description = "One PDF file field"),
    responses((status = 200, body = SignatureVerdict, description = "The verdict (not stored)"),
        (status = 422, body = ApiError, description = "`pdf_not_pdf`, `pdf_encrypted`, `pdf_malformed`, `pdf_too_complex`")))]
async fn verify_signatures(
    State(state): State<AppState>,
    ctx: Ctx,
    m: Multipart,
) -> WebResult<Json<SignatureVerdict>> {
    ctx.actor()?;
    let (_, _, bytes) = first_file(m).await?;
    let report = state.app.verify_pdf(bytes).await?;
    let row = egov_app::App::verdict_row("", &report)?;
    Ok(Json(SignatureVerdict::from_row(row.into())))
}

#[utoipa::path(post, path = "/api/v1/documents/paper", tag = "documents", request_body = PaperOutCmd,
    responses((status = 201, body = Document, description = "Numbered in the agency's series and delivered"), (status = 403, body = ApiError), (status = 409, body = ApiError, description = "`number_taken`"), (status = 422, body = ApiError)))]
async fn register_paper_outgoing(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(cmd): Json<PaperOutCmd>,
) -> WebResult<Response> {
    Ok(created(
        state
            .app
            .register_paper_outgoing(&ctx.actor()?, cmd)
            .await?
            .into_view(),
    ))
}

#[utoipa::path(post, path = "/api/v1/number-reservations", tag = "documents", request_body = ReserveCmd,
    responses((status = 201, body = Reservation), (status = 403, body = ApiError)))]
async fn reserve_number(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(cmd): Json<ReserveCmd>,
) -> WebResult<Response> {
    Ok(created(
        state
            .app
            .reserve_number(&ctx.actor()?, cmd)
            .await?
            .into_view(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct SeriesMode {
    /// `single` (one series for all administrative documents) or `per_kind`.
    mode: String,
}

#[utoipa::path(put, path = "/api/v1/agencies/{id}/document-series", tag = "documents", params(("id" = i64, Path)), request_body = SeriesMode,
    responses((status = 204), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn set_series(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Json(m): Json<SeriesMode>,
) -> WebResult<Response> {
    state
        .app
        .set_series_mode(&ctx.actor()?, id, &m.mode)
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatesQuery {
    /// Comma-separated states; default: those waiting for someone.
    #[serde(default)]
    state: Option<String>,
}

fn states(q: &StatesQuery, default: &'static [&'static str]) -> Vec<String> {
    match q.state.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => s.split(',').map(|x| x.trim().to_owned()).collect(),
        None => default.iter().map(|s| (*s).to_owned()).collect(),
    }
}

#[utoipa::path(get, path = "/api/v1/agencies/{id}/outgoing", tag = "documents", params(("id" = i64, Path), StatesQuery),
    responses((status = 200, body = Vec<Document>), (status = 403, body = ApiError)))]
async fn outgoing_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<StatesQuery>,
) -> WebResult<Json<Vec<Document>>> {
    let s = states(
        &q,
        &["draft", "in_review", "awaiting_sign_off", "signed_off"],
    );
    let refs: Vec<&str> = s.iter().map(String::as_str).collect();
    Ok(Json(egov_app::views::all(
        state.app.outgoing_list(&ctx.actor()?, id, &refs).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/agencies/{id}/incoming", tag = "documents", params(("id" = i64, Path), StatesQuery),
    responses((status = 200, body = Vec<Incoming>, description = "Urgent first, then oldest first"), (status = 403, body = ApiError)))]
async fn incoming_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<StatesQuery>,
) -> WebResult<Json<Vec<Incoming>>> {
    let s = states(&q, &["arrived", "registered", "directed", "processing"]);
    let refs: Vec<&str> = s.iter().map(String::as_str).collect();
    Ok(Json(egov_app::views::all(
        state.app.incoming_list(&ctx.actor()?, id, &refs).await?,
    )))
}

#[utoipa::path(post, path = "/api/v1/incoming", tag = "documents", request_body = PaperInCmd,
    responses((status = 201, body = Registered, description = "Registered with its arrival number; `duplicate_of` names a likely duplicate"), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn register_paper_incoming(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(cmd): Json<PaperInCmd>,
) -> WebResult<Response> {
    Ok(created(
        state
            .app
            .register_paper_incoming(&ctx.actor()?, cmd)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/incoming/{id}/actions", tag = "documents", params(("id" = i64, Path)), request_body = InAction,
    responses((status = 200, body = Incoming), (status = 403, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
async fn act_incoming(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Json(body): Json<serde_json::Value>,
) -> WebResult<Json<Incoming>> {
    let a: InAction = super::read_command(body, &[])?;
    Ok(Json(
        (state.app.act_on_incoming(&ctx.actor()?, id, a).await?).into(),
    ))
}

#[utoipa::path(get, path = "/api/v1/me/handling", tag = "documents",
    responses((status = 200, body = Vec<Incoming>, description = "What the reader leads or coordinates, soonest deadline first")))]
async fn my_handling(State(state): State<AppState>, ctx: Ctx) -> WebResult<Json<Vec<Incoming>>> {
    Ok(Json(egov_app::views::all(
        state.app.my_handling(&ctx.actor()?).await?,
    )))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegisterQuery {
    year: i32,
    /// The secret register (records office only).
    #[serde(default)]
    secret: bool,
    /// `xlsx` or `pdf`: the register as a spreadsheet or a printable landscape PDF.
    #[serde(default)]
    format: Option<String>,
}

/// The register as a download when a format is asked for.
async fn register_file(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    q: &RegisterQuery,
    outgoing: bool,
) -> WebResult<Option<Response>> {
    match q.format.as_deref() {
        Some(f @ ("xlsx" | "pdf")) => {
            let t = state
                .app
                .register_table(&ctx.actor()?, id, q.year, outgoing, q.secret)
                .await?;
            Ok(Some(crate::pages::documents::register_download(
                &t, f, outgoing,
            )?))
        }
        _ => Ok(None),
    }
}

#[utoipa::path(get, path = "/api/v1/agencies/{id}/registers/incoming", tag = "documents", params(("id" = i64, Path), RegisterQuery),
    responses((status = 200, body = Vec<Incoming>, description = "Or the xlsx/PDF file when `format` is given"), (status = 403, body = ApiError)))]
async fn incoming_register(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<RegisterQuery>,
) -> WebResult<Response> {
    if let Some(r) = register_file(&state, &ctx, id, &q, false).await? {
        return Ok(r);
    }
    Ok(Json(
        state
            .app
            .incoming_register(&ctx.actor()?, id, q.year, q.secret)
            .await?
            .into_iter()
            .map(AsView::into_view)
            .collect::<Vec<_>>(),
    )
    .into_response())
}

#[utoipa::path(get, path = "/api/v1/agencies/{id}/registers/outgoing", tag = "documents", params(("id" = i64, Path), RegisterQuery),
    responses((status = 200, body = Vec<Document>, description = "Or the xlsx/PDF file when `format` is given"), (status = 403, body = ApiError)))]
async fn outgoing_register(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<RegisterQuery>,
) -> WebResult<Response> {
    if let Some(r) = register_file(&state, &ctx, id, &q, true).await? {
        return Ok(r);
    }
    Ok(Json(
        state
            .app
            .outgoing_register(&ctx.actor()?, id, q.year, q.secret)
            .await?
            .into_iter()
            .map(AsView::into_view)
            .collect::<Vec<_>>(),
    )
    .into_response())
}

#[utoipa::path(post, path = "/api/v1/work-files", tag = "documents", request_body = NewFileCmd,
    responses((status = 201, body = WorkFile), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
async fn plan_file(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(cmd): Json<NewFileCmd>,
) -> WebResult<Response> {
    Ok(created(
        state
            .app
            .plan_work_file(&ctx.actor()?, cmd)
            .await?
            .into_view(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    year: i32,
}

#[utoipa::path(get, path = "/api/v1/agencies/{id}/work-files", tag = "documents", params(("id" = i64, Path), YearQuery),
    responses((status = 200, body = Vec<WorkFile>, description = "The year's file list")))]
async fn list_files(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<YearQuery>,
) -> WebResult<Json<Vec<WorkFile>>> {
    Ok(Json(egov_app::views::all(
        state.app.work_file_list(&ctx.actor()?, id, q.year).await?,
    )))
}

#[derive(Serialize, ToSchema)]
pub struct FileWithDocuments {
    file: WorkFile,
    documents: Vec<Document>,
}

#[utoipa::path(get, path = "/api/v1/work-files/{id}", tag = "documents", params(("id" = i64, Path)),
    responses((status = 200, body = FileWithDocuments), (status = 404, body = ApiError)))]
async fn get_file_documents(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Json<FileWithDocuments>> {
    let (file, documents) = state.app.work_file_documents(&ctx.actor()?, id).await?;
    Ok(Json(FileWithDocuments {
        file: file.into(),
        documents: egov_app::views::all(documents),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct FileAction {
    /// `open`, `close`, `reopen` or `archive`.
    action: String,
}

#[utoipa::path(post, path = "/api/v1/work-files/{id}/actions", tag = "documents", params(("id" = i64, Path)), request_body = FileAction,
    responses((status = 200, body = WorkFile), (status = 409, body = ApiError)))]
async fn act_file(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Json(a): Json<FileAction>,
) -> WebResult<Json<WorkFile>> {
    let action = egov_domain::documents::file::FileAction::parse(&a.action).ok_or_else(|| {
        egov_app::AppError::invalid(egov_app::Code::BadEvent, "Unknown action.")
            .arg("value", &a.action)
    })?;
    Ok(Json(
        (state
            .app
            .act_on_work_file(&ctx.actor()?, id, action)
            .await?)
            .into(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct FileDocument {
    document_id: i64,
}

#[utoipa::path(post, path = "/api/v1/work-files/{id}/documents", tag = "documents", params(("id" = i64, Path)), request_body = FileDocument,
    responses((status = 200, body = WorkFile), (status = 409, body = ApiError, description = "`file_not_open`, `already_in_file`")))]
async fn add_to_file(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Json(f): Json<FileDocument>,
) -> WebResult<Json<WorkFile>> {
    Ok(Json(
        (state
            .app
            .file_document(&ctx.actor()?, id, f.document_id)
            .await?)
            .into(),
    ))
}
