//! Black-box HTTP tests: the app on port 0 with a fresh database (SQLite and PostgreSQL), driven
//! by a plain HTTP client with a cookie jar.

mod api;
mod client;
mod documents;
mod exchange;
mod national;
mod nodes;
mod onestop;
mod pages;
mod retries;
mod scorecard;

use std::sync::Arc;

use egov_app::App;
use egov_app::seed::DemoAccount;

pub use client::Client;

macro_rules! both {
    ($($t:tt)*) => { egov_store::backend_tests!($($t)*); };
}
pub(crate) use both;

pub struct Running {
    pub base: String,
    pub app: Arc<App>,
    pub accounts: Vec<DemoAccount>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Running {
    pub fn password(&self, user: &str) -> String {
        self.accounts
            .iter()
            .find(|a| a.username == user)
            .map(|a| a.password.clone())
            .expect("demo account")
    }

    pub fn totp_secret(&self, user: &str) -> String {
        self.accounts
            .iter()
            .find(|a| a.username == user)
            .and_then(|a| a.totp_secret.clone())
            .expect("totp secret")
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }
}

/// Another node beside `first`: its own process state and data directory, the same database
/// (and whatever `tweak` shares, such as a bucket); the demo's accounts are `first`'s.
pub async fn second_node(
    first: &Running,
    db: egov_store::Db,
    tweak: impl FnOnce(&mut egov_app::Settings),
) -> Running {
    second_node_with_clock(
        first,
        db,
        tweak,
        std::sync::Arc::new(egov_app::clock::SystemClock),
    )
    .await
}

/// A second node reading the time from `clock` (a node whose clock is off).
pub async fn second_node_with_clock(
    first: &Running,
    db: egov_store::Db,
    tweak: impl FnOnce(&mut egov_app::Settings),
    clock: std::sync::Arc<dyn egov_app::clock::Clock>,
) -> Running {
    let dir = std::env::temp_dir().join(format!("egov-web-test-{}-b", std::process::id()));
    let mut settings = egov_app::Settings {
        data_dir: dir,
        ..Default::default()
    };
    tweak(&mut settings);
    // Every node holds the same audit key (docs/operations.md, "Several nodes").
    let theirs = first
        .app
        .settings
        .in_data_dir(&first.app.settings.audit.key_file);
    egov_app::audit::load_key(&theirs, true).unwrap();
    let key = settings.in_data_dir(&settings.audit.key_file);
    std::fs::create_dir_all(key.parent().unwrap()).unwrap();
    std::fs::copy(&theirs, &key).unwrap();
    serve(App::with_clock(db, settings, clock), first.accounts.clone()).await
}

async fn serve(app: std::sync::Arc<App>, accounts: Vec<DemoAccount>) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let a = app.clone();
    tokio::spawn(async move {
        egov_web::serve(a, listener, async move {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Running {
        base,
        app,
        accounts,
        _stop: tx,
    }
}

/// Seeds the demo into `db` and serves it on a free port.
pub async fn start(db: egov_store::Db, tweak: impl FnOnce(&mut egov_app::Settings)) -> Running {
    let dir = std::env::temp_dir().join(format!("egov-web-test-{}", std::process::id()));
    let mut settings = egov_app::Settings {
        data_dir: dir,
        ..Default::default()
    };
    tweak(&mut settings);
    let app = App::with_db(db, settings);
    let accounts = app.seed_demo().await.expect("seed demo");
    serve(app, accounts).await
}
