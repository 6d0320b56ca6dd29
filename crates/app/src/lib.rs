//! egov's use cases. Each takes an actor and a command, checks permission, runs one
//! transaction through the store, and writes its audit entry (and outbox jobs) in it.

mod actor;
pub mod agencies;
pub mod applicants;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod calendar;
pub mod data;
pub mod documents;
mod error;
pub mod import;
pub mod jobs;
pub mod onestop;
pub mod org;
pub mod people;
pub mod seed;
pub mod settings;
pub mod signature_images;
pub mod signatures;
pub mod signing;

use std::sync::Arc;

pub use actor::Actor;
use egov_store::blobs::BlobStore;
use egov_store::{Db, DbOptions};
pub use error::{AppError, ErrorKind};
pub use settings::Settings;

/// The application: its database, blob store and settings.
pub struct App {
    pub db: Db,
    pub blobs: BlobStore,
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
}

impl App {
    /// Opens the database named by the settings (running migrations) and the blob store.
    pub async fn open(settings: Settings) -> Result<Arc<App>, AppError> {
        settings
            .validate()
            .map_err(|e| AppError::invalid("bad_config", e))?;
        let db = Db::open(&DbOptions {
            max_connections: settings.pool_size(),
            ..DbOptions::new(settings.database_url())
        })
        .await
        .map_err(|e| AppError::internal(format!("could not open the database: {e}")))?;
        Ok(Self::with_db(db, settings))
    }

    pub fn with_db(db: Db, settings: Settings) -> Arc<App> {
        let blobs = BlobStore::new(settings.blob_dir());
        Arc::new(App {
            db,
            blobs,
            settings,
            calendar_cache: std::sync::RwLock::new(None),
            hours_cache: Default::default(),
            catalogue_cache: Default::default(),
            trust: std::sync::OnceLock::new(),
        })
    }
}
