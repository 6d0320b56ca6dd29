//! Two-phase signing for the signer's client (`egov signer`): the signatures waiting for the
//! signed-in person, the final file prepared for their certificate, and the signature value
//! sent back. The private key never reaches the server.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use egov_app::signing::ToSign;
use egov_store::signatures::WaitingRow;
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

use super::ApiError;
use super::documents::SignatureVerdict;
use crate::ctx::Ctx;
use crate::error::WebResult;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(paths(waiting, prepare, complete, statistics))]
pub struct SigningDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/signatures", get(waiting))
        .route("/signatures/{id}/prepare", post(prepare))
        .route("/signatures/{id}/complete", post(complete))
        .route("/agencies/{id}/signature-statistics", get(statistics))
}

#[utoipa::path(get, path = "/api/v1/me/signatures", tag = "signing",
    responses((status = 200, body = Vec<Object>, description = "Signatures waiting for the signed-in person: request id, document, subject, notation, state (`waiting` or `prepared`)")))]
async fn waiting(State(state): State<AppState>, ctx: Ctx) -> WebResult<Json<Vec<WaitingRow>>> {
    Ok(Json(state.app.signatures_waiting(&ctx.actor()?).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct PrepareBody {
    /// The signer's certificate, then its issuers, as PEM.
    certificate_chain: String,
}

#[utoipa::path(post, path = "/api/v1/signatures/{id}/prepare", tag = "signing", params(("id" = i64, Path)),
    request_body = PrepareBody,
    responses((status = 200, body = ToSign, description = "The data to be signed for the final file"),
        (status = 403, body = ApiError, description = "Someone else's signature"),
        (status = 409, body = ApiError, description = "`signature_closed`, `signature_busy`, `document_changed`"),
        (status = 422, body = ApiError, description = "`bad_certificate`, `certificate_not_signer`")))]
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
            .prepare_signature(&actor, id, &body.certificate_chain)
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
            egov_app::AppError::invalid("bad_signature_value", "The signature is not base64.")
        })?;
    let row = state.app.complete_signature(&actor, id, &signature).await?;
    Ok(Json(SignatureVerdict::from_row(row)))
}

#[derive(Deserialize, utoipa::IntoParams)]
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
