//! What a receipt reads of the catalogue — the procedure and process in force, the agencies —
//! kept in memory for one catalogue stamp. Triggers bump the stamp on every change to
//! procedures, processes and agencies (migration 0012), so a receipt reads the stamp (together
//! with the calendar's, one query) and uses the cache only while the stamp is unchanged.

use crate::Code;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use egov_domain::onestop::procedure::ProcedureVersion;
use egov_domain::onestop::process::Process;
use egov_store::agencies::{self, Agency};
use egov_store::onestop as store;
use egov_store::{Exec, StoreError};
use time::Date;

use super::catalogue::parse_procedure;
use super::dossiers::parse_process;
use crate::{App, AppError};

/// A procedure's version in force on a day, with its internal process in force.
#[derive(Debug)]
pub(crate) struct InForce {
    pub procedure_id: i64,
    pub procedure: ProcedureVersion,
    pub process_id: i64,
    pub process: Process,
}

#[derive(Default)]
pub(crate) struct CatalogueCache(Mutex<Entries>);

#[derive(Default)]
struct Entries {
    stamp: String,
    /// "In force" depends on the day; entries of an earlier day are dropped.
    day: Option<Date>,
    in_force: HashMap<String, Arc<InForce>>,
    agencies: HashMap<i64, Arc<Agency>>,
}

impl CatalogueCache {
    /// The entries valid for `stamp` on `day`; emptied first when either changed.
    fn at(&self, stamp: &str, day: Date) -> MutexGuard<'_, Entries> {
        let mut g = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if g.stamp != stamp || g.day != Some(day) {
            *g = Entries {
                stamp: stamp.to_owned(),
                day: Some(day),
                ..Entries::default()
            };
        }
        g
    }
}

impl App {
    /// The version of procedure `code` in force on `day` and its process in force, from the
    /// cache when the catalogue's stamp is `stamp` (read by the caller before this call, so an
    /// entry is never older than its stamp).
    pub(crate) async fn in_force(
        &self,
        ex: &mut impl Exec,
        stamp: &str,
        code: &str,
        day: Date,
    ) -> Result<Arc<InForce>, AppError> {
        if let Some(f) = self.catalogue_cache.at(stamp, day).in_force.get(code) {
            return Ok(f.clone());
        }
        let proc_row = store::procedure_in_force(ex, code, day)
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    Code::ProcedureNotInForce,
                    "No version of this procedure is in force today.",
                )
                .arg("code", code)
            })?;
        let procedure = parse_procedure(&proc_row)?;
        let pr_row = store::process_in_force(ex, procedure.code.as_str(), day)
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    Code::NoProcess,
                    "The procedure has no internal process in force.",
                )
                .arg("code", procedure.code.as_str())
            })?;
        let f = Arc::new(InForce {
            procedure_id: proc_row.id,
            process: parse_process(&pr_row)?,
            process_id: pr_row.id,
            procedure,
        });
        self.catalogue_cache
            .at(stamp, day)
            .in_force
            .insert(code.to_owned(), f.clone());
        Ok(f)
    }

    /// An agency by id, from the cache when the catalogue's stamp is `stamp`.
    pub(crate) async fn agency_at(
        &self,
        ex: &mut impl Exec,
        stamp: &str,
        day: Date,
        id: i64,
    ) -> Result<Arc<Agency>, AppError> {
        if let Some(a) = self.catalogue_cache.at(stamp, day).agencies.get(&id) {
            return Ok(a.clone());
        }
        let a = Arc::new(agencies::get(ex, id).await.map_err(|e| match e {
            StoreError::NotFound => AppError::not_found("agency"),
            e => e.into(),
        })?);
        self.catalogue_cache
            .at(stamp, day)
            .agencies
            .insert(id, a.clone());
        Ok(a)
    }
}
