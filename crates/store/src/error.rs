use thiserror::Error;

/// What can go wrong in the store.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("could not encode a query argument: {0}")]
    Encode(String),
    /// A file could not be read or written; the operating system's error is kept as the source.
    #[error("file error: {context} ({source})")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid data: {0}")]
    Invalid(String),
    /// The object store refused, timed out or could not be reached.
    #[error("object store: {0}")]
    ObjectStore(String),
    /// A text argument held a NUL character, which no text column takes.
    #[error("a text holds a NUL character")]
    NulInText,
    /// A write that did not land: no turn to write in time, or its group's transaction was
    /// lost (see the SQLite writer). Retrying may succeed.
    #[error("not committed: {0}")]
    NotCommitted(String),
}

impl StoreError {
    /// True when a unique constraint refused the write (a duplicate key).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Db(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    /// True when the database refused the write because of a lock or a serialization
    /// conflict that a retry can resolve.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => {
                matches!(
                    e.code().as_deref(),
                    Some("40001" | "40P01" | "5" | "6" | "517")
                )
            }
            StoreError::NotCommitted(_) => true,
            _ => false,
        }
    }

    /// True when the database could not be reached or is shutting down or starting (a
    /// restart, a fail-over): nothing was done, and the same request may succeed shortly.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Db(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_),
            ) => true,
            // PostgreSQL: connection exceptions (08…), shutting down or not yet accepting
            // connections (57P01–57P03).
            StoreError::Db(sqlx::Error::Database(e)) => e
                .code()
                .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
            _ => false,
        }
    }
}

impl From<std::io::Error> for StoreError {
    fn from(source: std::io::Error) -> Self {
        StoreError::Io {
            context: "input/output".into(),
            source,
        }
    }
}

impl StoreError {
    /// A file error with what was being done.
    pub fn file(context: impl Into<String>, source: std::io::Error) -> StoreError {
        StoreError::Io {
            context: context.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_error_keeps_its_source() {
        let e = StoreError::file(
            "writing a blob",
            std::io::Error::new(std::io::ErrorKind::StorageFull, "no space left"),
        );
        let source = std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .expect("the operating system's error");
        assert_eq!(source.kind(), std::io::ErrorKind::StorageFull);
        assert_eq!(e.to_string(), "file error: writing a blob (no space left)");
        let from: StoreError = std::io::Error::from(std::io::ErrorKind::NotFound).into();
        assert!(std::error::Error::source(&from).is_some());
    }
}
