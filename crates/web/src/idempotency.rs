//! Requests handled once although sent twice (issue 24): a client that retries a POST after a
//! timeout, a clerk who clicks twice, a proxy that resends. A request carrying an
//! `Idempotency-Key` header — or a form carrying an `idempotency_key` field, as egov's own
//! forms that create things do — is handled once per key and caller; the same request arriving
//! again is answered with the first one's response (marked `Idempotent-Replayed: true`), one
//! arriving while the first is still being handled gets `request_in_progress` (409), and the
//! key reused for a different request gets `idempotency_key_reused` (422) — unless the first
//! was refused (4xx, nothing changed): a corrected form sent again runs. The keys live in the
//! database, so this holds across nodes, for a day.
//!
//! Responses worth retrying — 5xx, a timeout, a rate limit — are not kept: the next arrival
//! runs again, unless the request had committed something (its write transactions mark the
//! key as they commit): then it is not run again, and later arrivals get `request_answer_lost`
//! (409). A node that dies while handling a request leaves its claim; once the claim is older
//! than the request timeout and half a minute, the next arrival runs again if nothing was
//! committed, and gets `request_answer_lost` if something was.

use axum::body::{Body, Bytes, to_bytes};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use egov_app::requests::Claim;
use egov_app::{AppError, Code};
use sha2::{Digest, Sha256};

use crate::ctx::Ctx;
use crate::error::WebError;
use crate::state::AppState;

/// The form field egov's forms carry the key in.
pub const FIELD: &str = "idempotency_key";
/// Responses larger than this are not kept (no POST of egov answers with so much).
const MAX_KEPT: u64 = 4 << 20;

/// A claimed key, to record the response under.
pub struct Guard {
    scope: String,
    key: String,
}

/// What to do with a request.
pub enum Begin {
    /// Handle it (its body given back), recording the response when there is a guard.
    Handle(Body, Option<Guard>),
    /// Answer without handling it: a replay or an error.
    Answer(Response),
}

fn valid(key: &str) -> bool {
    (8..=128).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Claims the request's key, if it has one.
pub async fn begin(state: &AppState, ctx: &Ctx, parts: &Parts, body: Body) -> Begin {
    if !crate::ctx::is_unsafe(&parts.method) {
        return Begin::Handle(body, None);
    }
    let header_key = parts
        .headers
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap_or("\u{0}").trim().to_owned());
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    let is_multipart = content_type.starts_with("multipart/form-data");
    // The API names its retries in the header only (its uploads are not read twice).
    if header_key.is_none() && (ctx.path.starts_with("/api/") || !(is_form || is_multipart)) {
        return Begin::Handle(body, None);
    }
    let settings = &state.app.settings.server;
    let limit = if is_multipart || header_key.is_some() {
        crate::DOCUMENT_UPLOAD.max(settings.max_upload_bytes)
    } else {
        settings.max_body_bytes
    };
    let bytes = match to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            let e = crate::error::from_status(StatusCode::PAYLOAD_TOO_LARGE, "");
            return Begin::Answer(WebError(e).into_response());
        }
    };
    let key = match header_key {
        Some(k) => Some(k),
        None if is_multipart => crate::ctx::multipart_field(&parts.headers, &bytes, FIELD).await,
        None => crate::ctx::query_param(&String::from_utf8_lossy(&bytes), FIELD),
    };
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return Begin::Handle(Body::from(bytes), None);
    };
    if !valid(&key) {
        return Begin::Answer(
            WebError(AppError::invalid(
                Code::BadIdempotencyKey,
                "The Idempotency-Key must be 8 to 128 letters, digits or - _ . : characters.",
            ))
            .into_response(),
        );
    }
    let scope = match &ctx.signed_in {
        Some(s) => format!("person:{}", s.person.id),
        None => "anonymous".to_owned(),
    };
    let mut h = Sha256::new();
    h.update(parts.method.as_str());
    h.update(b" ");
    h.update(parts.uri.to_string());
    h.update(b"\n");
    h.update(&bytes);
    let hash = hex::encode(h.finalize());
    match state.app.claim_request(&scope, &key, &hash).await {
        Ok(Claim::Claimed) => Begin::Handle(Body::from(bytes), Some(Guard { scope, key })),
        Ok(Claim::Seen(r)) if r.request_hash != hash => Begin::Answer(
            WebError(AppError::invalid(
                Code::IdempotencyKeyReused,
                "This Idempotency-Key was already used for a different request.",
            ))
            .into_response(),
        ),
        Ok(Claim::Seen(r)) => match r.status {
            None => {
                let mut resp = WebError(AppError::conflict(
                    Code::RequestInProgress,
                    "The same request is still being handled.",
                ))
                .into_response();
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
                Begin::Answer(resp)
            }
            // Done before its node died, its answer lost: not done twice.
            Some(0) => Begin::Answer(
                WebError(AppError::conflict(
                    Code::RequestAnswerLost,
                    "This request was carried out, but its answer was lost.",
                ))
                .into_response(),
            ),
            Some(status) => Begin::Answer(replay(status, r.content_type, r.location, r.body)),
        },
        Err(e) => Begin::Answer(WebError(e).into_response()),
    }
}

/// Runs the handling of a request; with a claimed key, inside its scope, so that the write
/// transactions it commits mark the key as having had an effect (`egov_app::requests::CURRENT`).
pub async fn handle(
    guard: Option<&Guard>,
    handling: impl std::future::Future<Output = Response>,
) -> Response {
    match guard {
        Some(g) => {
            egov_app::requests::CURRENT
                .scope((g.scope.clone(), g.key.clone()), handling)
                .await
        }
        None => handling.await,
    }
}

fn replay(
    status: i64,
    content_type: Option<String>,
    location: Option<String>,
    body: Option<Vec<u8>>,
) -> Response {
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut resp = (status, Body::from(body.unwrap_or_default())).into_response();
    let headers = resp.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, content_type),
        (header::LOCATION, location),
    ] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(name, v);
        }
    }
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    resp
}

/// Records a handled request's response under its key, or gives the key up when the response
/// is one worth retrying (or too large to keep).
pub async fn finish(state: &AppState, guard: Guard, response: Response) -> Response {
    let status = response.status();
    let retry = status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS;
    let too_large = axum::body::HttpBody::size_hint(response.body())
        .upper()
        .is_none_or(|n| n > MAX_KEPT);
    if retry || too_large {
        if let Err(e) = state.app.release_request(&guard.scope, &guard.key).await {
            tracing::warn!(error = %e, "an idempotency key was not released");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes: Bytes = match to_bytes(body, MAX_KEPT as usize).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "a response could not be kept for replay");
            let _ = state.app.release_request(&guard.scope, &guard.key).await;
            return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
        }
    };
    let text = |h: header::HeaderName| {
        parts
            .headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let kept = state
        .app
        .keep_response(
            &guard.scope,
            &guard.key,
            status.as_u16(),
            text(header::CONTENT_TYPE).as_deref(),
            text(header::LOCATION).as_deref(),
            bytes.to_vec(),
        )
        .await;
    if let Err(e) = kept {
        // The request was handled; a retry would run it again. Say so in the log.
        tracing::warn!(error = %e, "a handled request's response was not kept for replay");
    }
    Response::from_parts(parts, Body::from(bytes))
}
