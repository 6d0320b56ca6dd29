//! Use-case tests, each on SQLite and on PostgreSQL.

use std::sync::Arc;

use egov_app::{Actor, App, Settings};
use egov_store::Db;

macro_rules! both {
    ($($t:tt)*) => { egov_store::backend_tests!($($t)*); };
}

mod actors;
mod applicants;
mod calendar;
mod demo;
mod documents;
mod events;
mod forms;
mod imports;
mod onestop;
mod org;
mod scorecard;
mod sign_in;
mod signature_images;
mod signatures;

fn app(db: Db) -> Arc<App> {
    app_with_clock(db, Arc::new(egov_app::clock::SystemClock))
}

/// The application reading the time from `clock`.
fn app_with_clock(db: Db, clock: Arc<dyn egov_app::clock::Clock>) -> Arc<App> {
    // Store errors are logged, not returned: show them beside a failing test's output.
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .try_init();
    let dir = std::env::temp_dir().join(format!("egov-app-test-{}", std::process::id()));
    App::with_clock(
        db,
        Settings {
            data_dir: dir,
            ..Settings::default()
        },
        clock,
    )
}

/// Runs the background jobs until none is left (reading files for search, judging signatures,
/// OCR); how many ran.
async fn run_jobs(app: &Arc<App>) -> usize {
    let worker = egov_app::jobs::Worker::new(app.clone());
    let mut n = 0;
    while worker.run_once().await.unwrap() {
        n += 1;
    }
    n
}

fn system() -> Actor {
    Actor::system("test")
}
