//! Errors from handlers. A handler returns `Err(WebError)`; the context middleware turns it
//! into an HTML page or a JSON body (for `/api/`), in the request's language.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use egov_app::{AppError, ErrorKind};

#[derive(Debug)]
pub struct WebError(pub AppError);

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        WebError(e)
    }
}

pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::TooMany => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Carried in a response's extensions until the middleware renders it.
#[derive(Debug, Clone)]
pub struct ErrorPayload(pub AppError);

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let mut r = status_of(self.0.kind).into_response();
        r.extensions_mut().insert(ErrorPayload(self.0));
        r
    }
}

/// An error for a response that left a handler (or an extractor) without a payload.
pub fn from_status(status: StatusCode, detail: &str) -> AppError {
    let (kind, code, msg) = match status {
        StatusCode::NOT_FOUND => (
            ErrorKind::NotFound,
            egov_app::Code::PageNotFound,
            "There is no page at this address.",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorKind::Invalid,
            egov_app::Code::MethodNotAllowed,
            "This address does not accept that method.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            ErrorKind::Invalid,
            egov_app::Code::BodyTooLarge,
            "The request is too large.",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ErrorKind::Invalid,
            egov_app::Code::UnsupportedMediaType,
            "The request body is not in a format this address accepts.",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            ErrorKind::Internal,
            egov_app::Code::Timeout,
            "The request took too long.",
        ),
        s if s.is_client_error() => (
            ErrorKind::Invalid,
            egov_app::Code::BadRequest,
            "The request is not valid.",
        ),
        _ => (
            ErrorKind::Internal,
            egov_app::Code::Internal,
            "Something went wrong on our side.",
        ),
    };
    let mut e = AppError::new(kind, code, msg);
    if !detail.is_empty() {
        e.message = format!("{msg} {detail}");
    }
    e
}

pub type WebResult<T> = Result<T, WebError>;
