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
    #[error("file error: {0}")]
    Io(String),
    #[error("invalid data: {0}")]
    Invalid(String),
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
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Io(e.to_string())
    }
}
