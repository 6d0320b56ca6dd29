//! Store tests. Every test runs twice: on a fresh SQLite file and on a fresh PostgreSQL database.

use egov_store::Db;

macro_rules! both {
    ($($t:tt)*) => { egov_store::backend_tests!($($t)*); };
}

mod audit;
mod basics;
mod blob_streams;
mod events;
mod jobs;
mod objects;
mod org;
mod schema;
mod units;
mod writer;

#[allow(dead_code)]
fn dialect_name(db: &Db) -> &'static str {
    match db.dialect() {
        egov_store::Dialect::Sqlite => "sqlite",
        egov_store::Dialect::Postgres => "postgres",
    }
}
