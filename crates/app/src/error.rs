//! Errors of use cases: a stable code, a kind that maps to an HTTP status, and a message.

use crate::Code;
use std::fmt;

use egov_store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is malformed or breaks a rule (400/422).
    Invalid,
    /// Not signed in (401).
    Unauthenticated,
    /// Signed in, but not allowed (403).
    Forbidden,
    NotFound,
    /// The state of the data does not allow it (409).
    Conflict,
    /// Too many attempts (429).
    TooMany,
    /// The upload is larger than allowed (413).
    TooLarge,
    /// A service it depends on does not answer now; retrying later may succeed (503).
    Unavailable,
    Internal,
}

/// What a use case refuses, and why. `code` is stable (clients and translations key on it);
/// `args` fill the translated message; `message` is the English fallback.
#[derive(Debug, Clone)]
pub struct AppError {
    pub kind: ErrorKind,
    pub code: Code,
    pub message: String,
    pub args: Vec<(&'static str, String)>,
}

impl AppError {
    pub fn new(kind: ErrorKind, code: Code, message: impl Into<String>) -> Self {
        AppError {
            kind,
            code,
            message: message.into(),
            args: Vec::new(),
        }
    }

    pub fn invalid(code: Code, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, code, message)
    }

    pub fn forbidden() -> Self {
        Self::new(
            ErrorKind::Forbidden,
            Code::Forbidden,
            "You do not have permission to do this.",
        )
    }

    pub fn not_found(what: &'static str) -> Self {
        Self::new(
            ErrorKind::NotFound,
            Code::NotFound,
            format!("No such {what}."),
        )
        .arg("what", what)
    }

    pub fn conflict(code: Code, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, code, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, Code::Internal, message)
    }

    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AppError {}

/// Reading a row that may be absent: only a missing row is "not found" (as `what`); anything
/// else — a pool timeout, a lost connection — stays the error it is, never a 404.
pub trait OrNotFound<T> {
    fn or_not_found(self, what: &'static str) -> Result<T, AppError>;
}

impl<T> OrNotFound<T> for Result<T, StoreError> {
    fn or_not_found(self, what: &'static str) -> Result<T, AppError> {
        self.map_err(|e| match e {
            StoreError::NotFound => AppError::not_found(what),
            e => e.into(),
        })
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::not_found("record"),
            StoreError::NulInText => AppError::invalid(
                Code::NulCharacter,
                "A text field holds a NUL character (\\0), which no field may contain.",
            ),
            StoreError::ObjectStore(detail) => {
                tracing::error!(error = %detail, "object store error");
                AppError::new(
                    ErrorKind::Unavailable,
                    Code::StorageUnavailable,
                    "The file store does not answer now; nothing was saved. Try again shortly.",
                )
            }
            e if e.is_unavailable() => {
                tracing::error!(error = %e, "the database does not answer");
                AppError::new(
                    ErrorKind::Unavailable,
                    Code::DatabaseUnavailable,
                    "The database does not answer now; nothing was saved. Try again shortly.",
                )
            }
            e if e.is_unique_violation() => AppError::conflict(
                Code::Duplicate,
                "A record with the same key already exists.",
            ),
            e => {
                tracing::error!(error = %e, "store error");
                AppError::internal("The database could not complete the request.")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_missing_row_is_not_found() {
        let missing: Result<(), StoreError> = Err(StoreError::NotFound);
        let e = missing.or_not_found("dossier").unwrap_err();
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::NotFound, "not_found")
        );
        assert!(e.message.contains("dossier"));
        // A disk or a pool that failed is the server's trouble, not a 404.
        let broken: Result<(), StoreError> = Err(StoreError::file(
            "writing a blob",
            std::io::Error::other("disk full"),
        ));
        let e = broken.or_not_found("dossier").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Internal);
        let lost: Result<(), StoreError> = Err(StoreError::NotCommitted("lost".into()));
        assert_ne!(
            lost.or_not_found("dossier").unwrap_err().kind,
            ErrorKind::NotFound
        );
    }
}
