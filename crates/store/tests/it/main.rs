//! Store tests. Every test runs twice: on a fresh SQLite file and on a fresh PostgreSQL database.

use egov_store::Db;

/// Defines `mod $name { fn sqlite(); fn postgres(); }` running the same body on both backends.
macro_rules! both {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($db: egov_store::Db) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = egov_store::testing::TestDb::sqlite().await;
                run(t.db.clone()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let t = egov_store::testing::TestDb::postgres().await;
                run(t.db.clone()).await;
            }
        }
    };
}

mod audit;
mod basics;
mod jobs;
mod org;
mod units;

#[allow(dead_code)]
fn dialect_name(db: &Db) -> &'static str {
    match db.dialect() {
        egov_store::Dialect::Sqlite => "sqlite",
        egov_store::Dialect::Postgres => "postgres",
    }
}
