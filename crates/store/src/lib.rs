//! egov's persistence: one interface over SQLite (the embedded default) and PostgreSQL (the
//! scale-out store), with embedded migrations, the audit chain, the job table and blob storage.

pub mod agencies;
pub mod applicants;
pub mod audit;
pub mod backup;
pub mod blobs;
pub mod calendar;
mod db;
pub mod documents;
mod error;
pub mod events;
pub mod exchange;
pub mod fts;
pub mod jobs;
pub mod national;
pub mod national_catalogue;
pub mod national_feedback;
pub mod national_inbox;
pub mod objects;
pub mod onestop;
pub mod org;
pub mod people;
pub mod reminders;
pub mod replays;
pub mod scorecard;
pub mod signature_images;
pub mod signatures;
pub mod units;
mod writer;

#[cfg(any(test, feature = "test-support"))]
pub mod testing;

pub use db::{
    Arg, Batch, Conn, Db, DbOptions, Dialect, Exec, Held, Record, Scalar, Tx, bind, db_time, now,
    parse_ts, push_list, push_row, ts_text, vn_today,
};
pub use error::StoreError;
pub use sqlx::AssertSqlSafe;
