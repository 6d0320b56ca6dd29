//! Use-case tests, each on SQLite and on PostgreSQL.

use std::sync::Arc;

use egov_app::{Actor, App, Settings};
use egov_store::Db;

macro_rules! both {
    ($($t:tt)*) => { egov_store::backend_tests!($($t)*); };
}

mod applicants;
mod calendar;
mod demo;
mod imports;
mod org;
mod sign_in;

fn app(db: Db) -> Arc<App> {
    let dir = std::env::temp_dir().join(format!("egov-app-test-{}", std::process::id()));
    App::with_db(
        db,
        Settings {
            data_dir: dir,
            ..Settings::default()
        },
    )
}

fn system() -> Actor {
    Actor::system("test")
}
