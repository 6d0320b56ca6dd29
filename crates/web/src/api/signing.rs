//! Two-phase signing for the signer's client (`egov signer`): the signatures waiting for the
//! signed-in person, the final file prepared for their certificate, and the signature value
//! sent back. The private key never reaches the server.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use egov_app::signature_images::{ImageKind, UploadImage};
use egov_app::signing::{SignaturePosition, ToSign};
use egov_app::views::AsView;
use egov_app::views::SignatureImage;
use egov_app::views::WaitingSignature;
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

use super::ApiError;
use super::documents::SignatureVerdict;
use crate::ctx::Ctx;
use crate::error::WebResult;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(
        waiting,
        prepare,
        complete,
        statistics,
        list_images,
        upload_image,
        image_png,
        approve_image,
        reject_image,
        withdraw_image
    ),
    components(schemas(SignatureImage, SignaturePosition, ImageKind))
)]
pub struct SigningDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/signatures", get(waiting))
        .route("/signatures/{id}/prepare", post(prepare))
        .route("/signatures/{id}/complete", post(complete))
        .route("/agencies/{id}/signature-statistics", get(statistics))
        .route("/signature-images", get(list_images))
        .route("/signature-images/{id}", get(image_png))
        .route("/signature-images/{id}/approve", post(approve_image))
        .route("/signature-images/{id}/reject", post(reject_image))
        .route("/signature-images/{id}/withdraw", post(withdraw_image))
}

/// Routes that take uploads (the upload limit).
pub fn upload_routes() -> Router<AppState> {
    Router::new().route("/api/v1/signature-images", post(upload_image))
}

#[utoipa::path(get, path = "/api/v1/me/signatures", tag = "signing",
    responses((status = 200, body = Vec<Object>, description = "Signatures waiting for the signed-in person: request id, document, subject, notation, state (`waiting` or `prepared`)")))]
async fn waiting(
    State(state): State<AppState>,
    ctx: Ctx,
) -> WebResult<Json<Vec<WaitingSignature>>> {
    Ok(Json(egov_app::views::all(
        state.app.signatures_waiting(&ctx.actor()?).await?,
    )))
}

#[derive(Deserialize, ToSchema)]
pub struct PrepareBody {
    /// The signer's certificate, then its issuers, as PEM.
    certificate_chain: String,
    /// Where the signature image goes, chosen on screen; above the signer's name when absent.
    #[serde(default)]
    position: Option<SignaturePosition>,
}

#[utoipa::path(post, path = "/api/v1/signatures/{id}/prepare", tag = "signing", params(("id" = i64, Path)),
    request_body = PrepareBody,
    responses((status = 200, body = ToSign, description = "The data to be signed for the final file"),
        (status = 403, body = ApiError, description = "Someone else's signature"),
        (status = 409, body = ApiError, description = "`signature_closed`, `signature_busy`, `document_changed`"),
        (status = 422, body = ApiError, description = "`bad_certificate`, `certificate_not_signer`, `signature_position_invalid`")))]
async fn prepare(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Json(body): Json<PrepareBody>,
) -> WebResult<Json<ToSign>> {
    let actor = ctx.actor()?;
    Ok(Json(
        state
            .app
            .prepare_signature(&actor, id, &body.certificate_chain, body.position)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct CompleteBody {
    /// Base64 of the signature value over the data to be signed (PKCS#1 v1.5, or ECDSA as DER
    /// or raw r‖s).
    signature: String,
}

#[utoipa::path(post, path = "/api/v1/signatures/{id}/complete", tag = "signing", params(("id" = i64, Path)),
    request_body = CompleteBody,
    responses((status = 200, body = SignatureVerdict, description = "The signed file's verdict (valid)"),
        (status = 409, body = ApiError, description = "`signature_not_prepared`, `signature_busy`, `document_changed`"),
        (status = 422, body = ApiError, description = "`signature_mismatch`, `signature_not_valid` (with the findings)")))]
async fn complete(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Json(body): Json<CompleteBody>,
) -> WebResult<Json<SignatureVerdict>> {
    let actor = ctx.actor()?;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(body.signature.trim())
        .map_err(|_| {
            egov_app::AppError::invalid(
                egov_app::Code::BadSignatureValue,
                "The signature is not base64.",
            )
        })?;
    let row = state.app.complete_signature(&actor, id, &signature).await?;
    Ok(Json(SignatureVerdict::from_row(row.into())))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    year: i32,
}

#[utoipa::path(get, path = "/api/v1/agencies/{id}/signature-statistics", tag = "signing",
    params(("id" = i64, Path), YearQuery),
    responses((status = 200, body = egov_app::signatures::SignatureStatistics,
        description = "Documents sent and received per month and how many carried valid signatures"),
        (status = 403, body = ApiError)))]
async fn statistics(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<YearQuery>,
) -> WebResult<Json<egov_app::signatures::SignatureStatistics>> {
    Ok(Json(
        state
            .app
            .signature_statistics(&ctx.actor()?, id, q.year)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/signature-images", tag = "signing",
    responses((status = 200, body = Vec<SignatureImage>, description = "The signed-in person's signature images, their records office's seals and what they decide on as an administrator, newest first")))]
async fn list_images(
    State(state): State<AppState>,
    ctx: Ctx,
) -> WebResult<Json<Vec<SignatureImage>>> {
    Ok(Json(egov_app::views::all(
        state.app.signature_images(&ctx.actor()?).await?,
    )))
}

/// Reads an image upload: the fields `kind` (`signature` or `seal`), `agency_id`, optional
/// `width_mm`, `valid_from`, `valid_to` (dates), and one PNG file.
pub(crate) async fn read_image_upload(
    m: axum::extract::Multipart,
) -> Result<UploadImage, egov_app::AppError> {
    use egov_app::AppError;
    let (fields, files) = crate::pages::onestop::read_form(m).await?;
    let field = |k: &str| fields.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let kind = field("kind").and_then(ImageKind::parse).ok_or_else(|| {
        AppError::invalid(
            egov_app::Code::BadImageKind,
            "Say whether this is a `signature` or a `seal`.",
        )
    })?;
    let agency_id = field("agency_id")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| AppError::invalid(egov_app::Code::BadAgency, "Choose the agency."))?;
    let width_mm = match field("width_mm") {
        Some(v) => Some(v.replace(',', ".").parse::<f64>().map_err(|_| {
            AppError::invalid(
                egov_app::Code::ImageSizeInvalid,
                "The printed width is a number of millimetres.",
            )
        })?),
        None => None,
    };
    let date = |k: &str| -> Result<Option<time::Date>, AppError> {
        field(k)
            .map(|v| crate::pages::parse_date(Some(v)))
            .transpose()
    };
    let png = files
        .into_values()
        .next()
        .map(|u| u.bytes)
        .filter(|b| !b.is_empty())
        .ok_or_else(|| AppError::invalid(egov_app::Code::EmptyFile, "No file was sent."))?;
    Ok(UploadImage {
        kind,
        agency_id,
        width_mm,
        valid_from: date("valid_from")?,
        valid_to: date("valid_to")?,
        png,
    })
}

#[utoipa::path(post, path = "/api/v1/signature-images", tag = "signing",
    request_body(content_type = "multipart/form-data", content = String,
        description = "Fields `kind` (`signature` or `seal`), `agency_id`, optional `width_mm`, `valid_from`, `valid_to`; one PNG file (transparent; blue ink for a signature, red for a seal; at most 2 MiB)"),
    responses((status = 201, body = SignatureImage, description = "Stored, waiting for an administrator's approval"),
        (status = 403, body = ApiError, description = "Not the owner (a seal: not the agency's records office)"),
        (status = 422, body = ApiError, description = "`image_not_png`, `image_not_transparent`, `image_not_blue`, `image_not_red`, `image_too_large`, `image_size_invalid`, `validity_invalid`")))]
async fn upload_image(
    State(state): State<AppState>,
    ctx: Ctx,
    m: axum::extract::Multipart,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let cmd = read_image_upload(m).await?;
    let row = state.app.upload_signature_image(&actor, cmd).await?;
    Ok(super::created(row.into_view()))
}

#[utoipa::path(get, path = "/api/v1/signature-images/{id}", tag = "signing", params(("id" = i64, Path)),
    responses((status = 200, content_type = "image/png", description = "The image"), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn image_png(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let (_, bytes) = state.app.signature_image_png(&ctx.actor()?, id).await?;
    Ok(crate::export::private_file("image/png", None, bytes))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct DecisionBody {
    /// Why (required to reject).
    #[serde(default)]
    note: String,
}

#[utoipa::path(post, path = "/api/v1/signature-images/{id}/approve", tag = "signing", params(("id" = i64, Path)),
    request_body = DecisionBody,
    responses((status = 200, body = SignatureImage), (status = 403, body = ApiError, description = "Not an administrator of the agency, or `image_own_upload`"),
        (status = 409, body = ApiError, description = "`image_decided`")))]
async fn approve_image(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Json(body): Json<DecisionBody>,
) -> WebResult<Json<SignatureImage>> {
    decide_image(&state, &ctx, id, true, &body.note).await
}

async fn decide_image(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    approve: bool,
    note: &str,
) -> WebResult<Json<SignatureImage>> {
    let actor = ctx.actor()?;
    Ok(Json(
        (state
            .app
            .decide_signature_image(&actor, id, approve, note)
            .await?)
            .into(),
    ))
}

#[utoipa::path(post, path = "/api/v1/signature-images/{id}/reject", tag = "signing", params(("id" = i64, Path)),
    request_body = DecisionBody,
    responses((status = 200, body = SignatureImage), (status = 403, body = ApiError),
        (status = 409, body = ApiError, description = "`image_decided`"), (status = 422, body = ApiError, description = "`reason_required`")))]
async fn reject_image(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Json(body): Json<DecisionBody>,
) -> WebResult<Json<SignatureImage>> {
    decide_image(&state, &ctx, id, false, &body.note).await
}

#[utoipa::path(post, path = "/api/v1/signature-images/{id}/withdraw", tag = "signing", params(("id" = i64, Path)),
    responses((status = 200, body = SignatureImage, description = "No longer used"), (status = 403, body = ApiError), (status = 409, body = ApiError, description = "`image_decided`")))]
async fn withdraw_image(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Json<SignatureImage>> {
    Ok(Json(
        (state
            .app
            .withdraw_signature_image(&ctx.actor()?, id)
            .await?)
            .into(),
    ))
}
