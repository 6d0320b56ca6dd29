//! egov's use cases. Each takes an actor and a command, checks permission, runs one
//! transaction through the store, and writes its audit entry (and outbox jobs) in it.

mod actor;
pub mod agencies;
pub mod applicants;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod calendar;
pub mod clock;
pub mod data;
pub mod documents;
mod error;
mod error_code;
pub mod events;
pub mod exchange;
pub mod import;
pub mod jobs;
pub mod onestop;
pub mod open_data;
pub mod org;
pub mod people;
pub mod requests;
pub mod scorecard;
pub mod seed;
pub mod settings;
pub mod signature_images;
pub mod signatures;
pub mod signing;
pub mod views;
pub mod whatif;

use std::sync::Arc;

pub use actor::{Actor, ActorKind, Integration, Verification};
use egov_store::blobs::Blobs;
use egov_store::{Db, DbOptions};
pub use error::{AppError, ErrorKind};
pub use error_code::Code;
pub use settings::Settings;

/// The application: its database, blob store and settings.
pub struct App {
    db: Db,
    pub blobs: Blobs,
    pub settings: Settings,
    /// The working-day calendar, rebuilt when the stored calendar data changes.
    calendar_cache: std::sync::RwLock<Option<(String, Arc<egov_domain::calendar::WorkCalendar>)>>,
    /// Office hours by agency (`None`: the deployment's default), valid for one calendar stamp
    /// (changing any office hours bumps it).
    hours_cache: calendar::HoursCache,
    /// The procedures and processes in force and the agencies a receipt reads, valid for one
    /// catalogue stamp (bumped by triggers on every change to them).
    catalogue_cache: onestop::cache::CatalogueCache,
    /// What signature verification trusts, read from the settings' files on first use.
    trust: std::sync::OnceLock<Arc<egov_pki::TrustStore>>,
    /// Turns to parse a PDF (verification, text extraction): a burst of large files waits
    /// instead of taking every core and the memory with it.
    pdf_turns: tokio::sync::Semaphore,
    /// Blobs being uploaded in this process (by hash, how many uploads): a failed upload
    /// removes its file only when no other is under way and no row records it.
    blobs_in_flight: std::sync::Mutex<std::collections::HashMap<String, usize>>,
    /// The national portal stopped answering in this process's last round: the next rounds
    /// only probe it with one call until it answers.
    national_down: std::sync::atomic::AtomicBool,
    /// Where the use cases read the time.
    clock: Arc<dyn clock::Clock>,
    /// The public statistics of the years computed lately.
    open_cache: open_data::OpenCache,
    /// Shutting down: readiness reports false while requests in flight finish.
    draining: std::sync::atomic::AtomicBool,
}

/// What `/readyz` reports (see [`App::readiness`]).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Readiness {
    pub backend: &'static str,
    /// Why the database is not ready, if it is not.
    pub database: Option<String>,
    /// Why the file store is not ready, if it is not.
    pub blobs: Option<String>,
    /// Why this node's clock is not to be trusted (off from the database server's by more
    /// than `server.max_clock_skew_secs`), if it is not.
    pub clock: Option<String>,
    pub draining: bool,
}

impl Readiness {
    pub fn ready(&self) -> bool {
        self.database.is_none() && self.blobs.is_none() && self.clock.is_none() && !self.draining
    }
}

impl App {
    /// Opens the database named by the settings (running migrations) and the blob store.
    pub async fn open(settings: Settings) -> Result<Arc<App>, AppError> {
        settings
            .validate()
            .map_err(|e| AppError::invalid(Code::BadConfig, e))?;
        let db = Db::open(&DbOptions {
            max_connections: settings.pool_size(),
            ..DbOptions::new(settings.database_url())
        })
        .await
        .map_err(|e| AppError::internal(format!("could not open the database: {e}")))?;
        // The audit key: created with a new database (or one whose chain was never keyed), and
        // required once the chain is keyed.
        let keyed: i64 = egov_store::Exec::scalar(
            &mut &db,
            "SELECT keyed FROM audit_chain WHERE id = 1",
            egov_store::args![],
        )
        .await?;
        let key = audit::load_key(&settings.in_data_dir(&settings.audit.key_file), keyed == 0)?;
        egov_store::audit::set_key(key);
        let blobs = settings
            .blob_store()
            .map_err(|e| AppError::invalid(Code::BadConfig, e))?;
        tracing::info!(blobs = %blobs.describe(), "blob store");
        let app = Self::assemble(db, settings, blobs);
        // Reporting to the national portal follows every dossier event from now on.
        if app.settings.national_portal.enabled {
            app.subscribe(onestop::national_sync::SUBSCRIBER).await?;
        }
        Ok(app)
    }

    /// The application on an open database. The audit key is read (or created) from the
    /// settings' key file; `open` also refuses a keyed chain without its key.
    pub fn with_db(db: Db, settings: Settings) -> Arc<App> {
        // Only in a data directory that exists: a command that needs none (`egov pki verify`
        // in any folder) must not make one.
        let key_file = settings.in_data_dir(&settings.audit.key_file);
        if key_file.parent().is_some_and(std::path::Path::is_dir) {
            match audit::load_key(&key_file, true) {
                Ok(key) => egov_store::audit::set_key(key),
                Err(e) => tracing::warn!(error = %e.message, "no audit key: entries carry no MAC"),
            }
        }
        // Tests and tools: settings that name no usable store are a programming error here
        // (`open` refuses them with `bad_config`).
        let blobs = match settings.blob_store() {
            Ok(b) => b,
            Err(e) => panic!("the blob store settings do not hold: {e}"),
        };
        Self::assemble(db, settings, blobs)
    }

    /// The application's parts, the audit key already set.
    fn assemble(db: Db, settings: Settings, blobs: Blobs) -> Arc<App> {
        let settings_permits = settings.limits.pdf_permits();
        Arc::new(App {
            db,
            blobs,
            settings,
            calendar_cache: std::sync::RwLock::new(None),
            hours_cache: Default::default(),
            catalogue_cache: Default::default(),
            trust: std::sync::OnceLock::new(),
            pdf_turns: tokio::sync::Semaphore::new(settings_permits),
            blobs_in_flight: Default::default(),
            national_down: Default::default(),
            clock: Arc::new(clock::SystemClock),
            open_cache: Default::default(),
            draining: Default::default(),
        })
    }

    /// The database, for operations (migrate, backup, the CLI's reports), benchmarks and
    /// tests. The pages and the API never reach it: they call the use cases.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Whether this node should be sent requests: the database answers and blobs can be
    /// written, each within two seconds, and the node is not shutting down. A load balancer's
    /// readiness probe (`/readyz`); liveness (`/healthz`) asks nothing of them.
    pub async fn readiness(&self) -> Readiness {
        let limit = std::time::Duration::from_secs(2);
        let database = match tokio::time::timeout(limit, self.health()).await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e.message),
            Err(_) => Some("the database did not answer within 2 seconds".to_owned()),
        };
        let blobs = match tokio::time::timeout(limit, self.blobs.check()).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some("the file store did not answer within 2 seconds".to_owned()),
        };
        let clock = match tokio::time::timeout(limit, self.clock_skew()).await {
            Ok(Ok(skew)) => self.skew_problem(skew),
            // The database's own trouble is reported above.
            Ok(Err(_)) | Err(_) => None,
        };
        Readiness {
            backend: self.db.dialect_name(),
            database,
            blobs,
            clock,
            draining: self.draining.load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// From now on this node reports itself not ready, so that a load balancer stops sending
    /// it requests before it stops (graceful shutdown).
    pub fn start_draining(&self) {
        self.draining
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// How far this node's clock is ahead of the database server's (behind: negative), on
    /// PostgreSQL with a machine's clock; `None` on SQLite (one machine) and under a test's
    /// clock. Halves the round trip: what is left is the skew.
    pub async fn clock_skew(&self) -> Result<Option<time::Duration>, AppError> {
        if self.db.dialect() != egov_store::Dialect::Postgres || !self.clock.is_machine_clock() {
            return Ok(None);
        }
        let before = self.now();
        let micros: i64 = egov_store::Exec::scalar(
            &mut &self.db,
            "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)",
            egov_store::args![],
        )
        .await?;
        let after = self.now();
        let ours = before + (after - before) / 2;
        let theirs = time::OffsetDateTime::UNIX_EPOCH + time::Duration::microseconds(micros);
        Ok(Some(ours - theirs))
    }

    /// What is wrong with a measured skew, if it is beyond `server.max_clock_skew_secs`.
    pub fn skew_problem(&self, skew: Option<time::Duration>) -> Option<String> {
        let skew = skew?;
        let limit = self.settings.server.max_clock_skew_secs.max(1) as f64;
        let secs = skew.as_seconds_f64();
        (secs.abs() > limit).then(|| {
            format!(
                "this node's clock is {:.0} s {} the database server's (at most {limit:.0} s allowed): set it right (NTP)",
                secs.abs(),
                if secs > 0.0 { "ahead of" } else { "behind" }
            )
        })
    }

    /// Whether the database answers: the name of its backend, or the error.
    pub async fn health(&self) -> Result<&'static str, AppError> {
        let _: i64 = egov_store::Exec::scalar(
            &mut &self.db,
            "SELECT CAST(1 AS BIGINT)",
            egov_store::args![],
        )
        .await?;
        Ok(self.db.dialect_name())
    }

    /// The application reading the time from `clock` (a test's).
    pub fn with_clock(db: Db, settings: Settings, clock: Arc<dyn clock::Clock>) -> Arc<App> {
        let mut app = Self::with_db(db, settings);
        Arc::get_mut(&mut app)
            .expect("a new application has one owner")
            .clock = clock;
        app
    }

    /// The time now, by the application's clock.
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// Today in Vietnam, by the application's clock.
    pub fn today(&self) -> time::Date {
        egov_domain::vn_date(self.now())
    }

    /// A file's SHA-256, computed off the request threads (a large scan takes a while); the
    /// bytes come back with it.
    pub(crate) async fn digest(bytes: Vec<u8>) -> Result<(String, Vec<u8>), AppError> {
        tokio::task::spawn_blocking(move || (egov_store::blobs::BlobStore::digest(&bytes), bytes))
            .await
            .map_err(|e| AppError::internal(e.to_string()))
    }

    /// Stores an upload's bytes as a blob, then runs `write` (which records it); when `write`
    /// fails, the file is removed again unless a row records it or another upload of the same
    /// bytes is under way here, so that a refused or failed upload leaves nothing behind. (An
    /// upload cut off mid-way, or one on another process, is left to the housekeeping sweep.)
    pub(crate) async fn with_new_blob<T, F, Fut>(
        &self,
        sha: String,
        bytes: Vec<u8>,
        write: F,
    ) -> Result<T, AppError>
    where
        F: FnOnce(String, Vec<u8>) -> Fut,
        Fut: std::future::Future<Output = Result<T, AppError>>,
    {
        self.in_flight(&sha, 1);
        // Written through the blob storage, which checks the bytes against the hash computed
        // when they arrived.
        let stored = {
            use egov_store::blobs::BlobStorage;
            self.blobs
                .write(&bytes[..], Some(&sha), u64::MAX)
                .await
                .map(|_| bytes)
                .map_err(AppError::from)
        };
        let result = match stored {
            Ok(bytes) => write(sha.clone(), bytes).await,
            Err(e) => Err(e),
        };
        let last = self.in_flight(&sha, -1) == 0;
        if result.is_err() && last {
            let recorded = egov_store::blobs::recorded(&mut &self.db, std::slice::from_ref(&sha))
                .await
                .map(|r| !r.is_empty())
                .unwrap_or(true);
            if !recorded && let Err(e) = self.blobs.remove(&sha).await {
                tracing::warn!(error = %e, sha, "could not remove the file of a failed upload");
            }
        }
        result
    }

    fn in_flight(&self, sha: &str, delta: isize) -> usize {
        let mut map = self
            .blobs_in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = map.entry(sha.to_owned()).or_insert(0);
        *n = n.saturating_add_signed(delta);
        let left = *n;
        if left == 0 {
            map.remove(sha);
        }
        left
    }

    /// Removes blob files that no row records and that were written more than `grace` ago:
    /// what uploads cut off mid-way left behind (and temporary files of interrupted writes).
    pub async fn sweep_orphan_blobs(&self, grace: std::time::Duration) -> Result<usize, AppError> {
        let before = std::time::SystemTime::now() - grace;
        let (files, temps) = self.blobs.older_than(before).await?;
        let recorded: std::collections::HashSet<String> =
            egov_store::blobs::recorded(&mut &self.db, &files)
                .await?
                .into_iter()
                .collect();
        let mut removed = temps;
        for sha in files.iter().filter(|s| !recorded.contains(*s)) {
            if self.in_flight(sha, 0) == 0 {
                self.blobs.remove(sha).await?;
                removed += 1;
            }
        }
        if removed > 0 {
            tracing::info!(removed, "orphan blob files removed");
        }
        Ok(removed)
    }

    /// Waits for a turn to parse a PDF.
    pub(crate) async fn pdf_turn(&self) -> Result<tokio::sync::SemaphorePermit<'_>, AppError> {
        self.pdf_turns
            .acquire()
            .await
            .map_err(|e| AppError::internal(e.to_string()))
    }

    /// Refuses a PDF that declares more than the configured limits, before anything is stored
    /// or parsed.
    pub(crate) fn check_pdf_size(&self, media_type: &str, bytes: &[u8]) -> Result<(), AppError> {
        if media_type != documents::files::PDF {
            return Ok(());
        }
        egov_pki::limits::check(bytes, &self.settings.limits.pdf())
            .map(|_| ())
            .map_err(signatures::pki_error)
    }
}
