//! The worker: claims jobs from the outbox table and runs their handlers, at least once, with
//! retries and back-off; it also seals the audit chain and purges expired sessions.

use crate::Code;
use crate::exchange::transport::Transport as _;
use egov_store::Exec as _;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use bytes::Bytes;
use egov_store::jobs::{self, Job, StateCount};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use time::Duration;

use crate::error::OrNotFound;
use crate::{Actor, App, AppError, audit, authz};

/// The kind of a job that POSTs JSON to a URL, carrying the job's idempotency key.
pub const HTTP_POST: &str = "http.post";

/// Set `EGOV_FAILPOINT=after-job-effect` to make the worker abort between doing a job's effect
/// and recording it (used by the crash test).
pub const FAILPOINT_VAR: &str = "EGOV_FAILPOINT";

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
pub type Handler = Arc<dyn Fn(Arc<App>, Job) -> HandlerFuture + Send + Sync>;

pub struct Worker {
    app: Arc<App>,
    id: String,
    handlers: HashMap<String, Handler>,
    /// The national portal, when the deployment reports to it.
    national: Option<crate::onestop::national_sync::HttpPortal>,
}

/// The wait before attempt `n + 1` after `n` failures: 10 s doubling to at most an hour, with
/// ±20 % jitter so that retries of many jobs spread out.
pub fn backoff(failures: i64) -> Duration {
    let base = 10f64 * 2f64.powi((failures - 1).clamp(0, 20) as i32);
    let capped = base.min(3600.0);
    let mut r = [0u8; 2];
    getrandom::fill(&mut r).ok();
    let jitter = 0.8 + 0.4 * (f64::from(u16::from_le_bytes(r)) / f64::from(u16::MAX));
    Duration::milliseconds((capped * jitter * 1000.0) as i64)
}

fn http_post() -> Handler {
    Arc::new(|_app, job| {
        Box::pin(async move {
            #[derive(serde::Deserialize)]
            struct P {
                url: String,
                body: serde_json::Value,
            }
            let p: P =
                serde_json::from_str(&job.payload).map_err(|e| format!("bad payload: {e}"))?;
            if !p.url.starts_with("http://") {
                return Err("only http:// addresses are supported by this sender".into());
            }
            let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
            let req = hyper::Request::post(p.url.as_str())
                .header("content-type", "application/json")
                .header("idempotency-key", job.idempotency_key.as_str())
                .body(Full::new(Bytes::from(p.body.to_string())))
                .map_err(|e| format!("bad request: {e}"))?;
            let resp = tokio::time::timeout(StdDuration::from_secs(30), client.request(req))
                .await
                .map_err(|_| "timed out".to_string())?
                .map_err(|e| format!("request failed: {e}"))?;
            let status = resp.status();
            let _ = resp.into_body().collect().await;
            if status.is_success() {
                Ok(())
            } else {
                Err(format!("the receiver answered {status}"))
            }
        })
    })
}

impl Worker {
    pub fn new(app: Arc<App>) -> Self {
        let mut r = [0u8; 4];
        getrandom::fill(&mut r).ok();
        let id = format!("{}-{}-{}", hostname(), std::process::id(), hex::encode(r));
        let mut handlers: HashMap<String, Handler> = HashMap::new();
        handlers.insert(HTTP_POST.into(), http_post());
        handlers.insert(
            crate::documents::ocr::OCR_JOB.into(),
            crate::documents::ocr::ocr_handler(),
        );
        handlers.insert(
            crate::documents::ocr::TEXT_JOB.into(),
            crate::documents::ocr::text_handler(),
        );
        handlers.insert(
            crate::signatures::JUDGE_JOB.into(),
            crate::signatures::judge_handler(),
        );
        if app.settings.exchange.enabled {
            let routes = Arc::new(crate::exchange::routes::Routes::from_settings(
                &app.settings.exchange,
            ));
            handlers.insert(
                crate::documents::outgoing::EXCHANGE_SEND.into(),
                crate::exchange::send::send_handler(routes.clone()),
            );
            handlers.insert(
                crate::exchange::status::STATUS_JOB.into(),
                crate::exchange::status::status_handler(routes.clone()),
            );
            handlers.insert(
                crate::exchange::receive::POLL_JOB.into(),
                crate::exchange::receive::poll_handler(routes),
            );
        }
        let national = app.settings.national_portal.enabled.then(|| {
            crate::onestop::national_sync::HttpPortal::new(app.settings.national_portal.clone())
        });
        Worker {
            app,
            id,
            handlers,
            national,
        }
    }

    pub fn register(&mut self, kind: &str, h: Handler) {
        self.handlers.insert(kind.to_owned(), h);
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Claims and runs one job. Returns false when none was due.
    pub async fn run_once(&self) -> Result<bool, AppError> {
        let lease = Duration::seconds(self.app.settings.worker.lease_secs);
        let now = self.app.now();
        let kinds: Vec<&str> = self.handlers.keys().map(String::as_str).collect();
        let Some(job) = jobs::claim(&self.app.db, &self.id, lease, now, Some(&kinds)).await? else {
            return Ok(false);
        };
        let started = std::time::Instant::now();
        let result = if job.attempts > job.max_attempts {
            Err("gave up: the job kept crashing its worker".to_string())
        } else {
            match self.handlers.get(&job.kind) {
                Some(h) => h(self.app.clone(), job.clone()).await,
                None => Err(format!("no handler for job kind {:?}", job.kind)),
            }
        };
        if result.is_ok() && std::env::var(FAILPOINT_VAR).as_deref() == Ok("after-job-effect") {
            tracing::error!(job = job.id, "failpoint after-job-effect: aborting");
            std::process::abort();
        }
        let now = self.app.now();
        metrics::histogram!("egov_job_seconds", "kind" => job.kind.clone())
            .record(started.elapsed().as_secs_f64());
        match result {
            Ok(()) => {
                jobs::complete(&mut &self.app.db, job.id, now).await?;
                metrics::counter!("egov_jobs_total", "kind" => job.kind.clone(), "outcome" => "done").increment(1);
            }
            Err(e) => {
                let retry = (job.attempts < job.max_attempts).then(|| now + backoff(job.attempts));
                tracing::warn!(job = job.id, kind = %job.kind, attempts = job.attempts, error = %e, dead = retry.is_none(), "job failed");
                jobs::fail(&mut &self.app.db, job.id, &e, retry, now).await?;
                let outcome = if retry.is_some() { "retry" } else { "dead" };
                metrics::counter!("egov_jobs_total", "kind" => job.kind.clone(), "outcome" => outcome).increment(1);
            }
        }
        Ok(true)
    }

    /// Queues this interval's receiving round of each exchange route (and, once per
    /// `exchange.directory_hours`, the fetch of its directory) unless a worker already did: the
    /// interval is in the job's key.
    async fn schedule_polls(&self, routes: &[String]) -> Result<(), AppError> {
        let x = &self.app.settings.exchange;
        let now = self.app.now();
        let slot = now.unix_timestamp() / x.poll_seconds.max(1) as i64;
        let day = now.unix_timestamp() / (3600 * x.directory_hours.max(1) as i64);
        for route in routes {
            // The directory's interval, taken by the one worker whose mark goes in.
            let directory = (&self.app.db)
                .execute(
                    "INSERT INTO jobs (kind, payload, idempotency_key, state, attempts, \
                     max_attempts, run_at, created_at, updated_at) VALUES ('exchange.directory', \
                     '{}', $1, 'done', 0, 0, $2, $2, $2) ON CONFLICT (idempotency_key) DO NOTHING",
                    egov_store::args![format!("exchange-directory:{route}:{day}"), now],
                )
                .await?
                == 1;
            let key = if directory {
                format!("exchange-poll:{route}:{slot}:directory")
            } else {
                format!("exchange-poll:{route}:{slot}")
            };
            egov_store::jobs::enqueue(
                &mut &self.app.db,
                crate::exchange::receive::POLL_JOB,
                &serde_json::json!({ "route": route, "directory": directory }),
                &key,
                now,
                1,
            )
            .await?;
        }
        Ok(())
    }

    /// Housekeeping done between jobs: seal the audit chain, purge expired sessions and
    /// status look-up attempts older than the rate-limit window.
    pub async fn housekeeping(&self) -> Result<(), AppError> {
        let now = self.app.now();
        // Seal what is pending, a batch per transaction (a busy five seconds can add more than
        // one batch); a bounded number of batches, so that jobs are not kept waiting.
        for _ in 0..20 {
            if egov_store::audit::seal(&self.app.db, 2000).await? < 2000 {
                break;
            }
        }
        egov_store::people::purge_expired_sessions(&mut &self.app.db, now).await?;
        let window = time::Duration::minutes(self.app.settings.onestop.lookup_window_minutes);
        egov_store::onestop::purge_lookups(&mut &self.app.db, now - window).await?;
        // Requests sent twice are recognised for a day.
        egov_store::replays::purge(&mut &self.app.db, now - time::Duration::days(1)).await?;
        // The exchange's receiving rounds, a day after they ran.
        (&self.app.db)
            .execute(
                "DELETE FROM jobs WHERE kind IN ('exchange.poll', 'exchange.directory') \
                 AND state IN ('done', 'dead') AND updated_at < $1",
                egov_store::args![now - time::Duration::days(1)],
            )
            .await?;
        Ok(())
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let poll = StdDuration::from_millis(self.app.settings.worker.poll_ms.max(10));
        let mut last_housekeeping = std::time::Instant::now() - StdDuration::from_secs(3600);
        let mut last_reminders = last_housekeeping;
        let mut last_national = last_housekeeping;
        let mut last_catalogue: Option<std::time::Instant> = None;
        let mut national_sub: Option<crate::onestop::national_sync::NationalSync> = None;
        let mut last_poll_slot: Option<i64> = None;
        let exchange_routes: Vec<String> = if self.app.settings.exchange.enabled {
            crate::exchange::routes::Routes::from_settings(&self.app.settings.exchange)
                .all()
                .iter()
                .map(|r| r.route().to_string())
                .collect()
        } else {
            Vec::new()
        };
        let mut last_sweep = std::time::Instant::now();
        let mut last_summaries = std::time::Instant::now();
        let mut last_checkpoint = std::time::Instant::now();
        let checkpoint_every =
            StdDuration::from_secs(60 * self.app.settings.audit.checkpoint_minutes.max(1));
        let mut last_clock_check: Option<std::time::Instant> = None;
        let mut clock_off: Option<String> = None;
        tracing::info!(worker = %self.id, "worker started");
        while !*shutdown.borrow() {
            // A node whose clock is off takes no job and runs no periodic work: it would take
            // over leases that have not run out, or keep its own past theirs.
            if last_clock_check.is_none_or(|t| t.elapsed() >= StdDuration::from_secs(5)) {
                let problem = match self.app.clock_skew().await {
                    Ok(skew) => self.app.skew_problem(skew),
                    Err(_) => None,
                };
                match (&clock_off, &problem) {
                    (None, Some(p)) => tracing::error!(problem = %p, "background work paused"),
                    (Some(_), None) => tracing::info!("clock right again: background work resumed"),
                    _ => {}
                }
                clock_off = problem;
                last_clock_check = Some(std::time::Instant::now());
            }
            if clock_off.is_some() {
                tokio::select! {
                    _ = tokio::time::sleep(poll.max(StdDuration::from_secs(1))) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            if last_housekeeping.elapsed() >= StdDuration::from_secs(5) {
                if let Err(e) = self.housekeeping().await {
                    tracing::warn!(error = %e, "housekeeping failed");
                }
                last_housekeeping = std::time::Instant::now();
            }
            // Files of uploads cut off mid-way (no row records them), every hour; an upload
            // takes seconds, so an hour's grace never touches one under way.
            if last_sweep.elapsed() >= StdDuration::from_secs(3600) {
                if let Err(e) = self
                    .app
                    .sweep_orphan_blobs(StdDuration::from_secs(3600))
                    .await
                {
                    tracing::warn!(error = %e, "orphan blob sweep failed");
                }
                last_sweep = std::time::Instant::now();
            }
            // A checkpoint of the audit chain's head, outside the database, every few minutes.
            if last_checkpoint.elapsed() >= checkpoint_every {
                if let Err(e) = self.app.write_audit_checkpoint().await {
                    tracing::warn!(error = %e, "audit checkpoint failed");
                }
                last_checkpoint = std::time::Instant::now();
            }
            // What the national portal is owed, every two seconds.
            if let Some(portal) = &self.national
                && last_national.elapsed() >= StdDuration::from_secs(2)
            {
                // The subscriber (its agencies resolved) is built once; the subscription was
                // made when the application opened.
                if national_sub.is_none() {
                    match self.app.national_subscriber().await {
                        Ok(sub) => national_sub = Some(sub),
                        Err(e) => {
                            tracing::warn!(error = %e, "national portal synchronisation not ready")
                        }
                    }
                }
                let round = match &national_sub {
                    Some(sub) => self.app.sync_national_with(sub, portal).await,
                    None => Ok(Default::default()),
                };
                match round {
                    Ok(r) if r != Default::default() => {
                        tracing::info!(
                            records = r.records,
                            progress = r.progress,
                            rejected = r.rejected,
                            failed = r.failed,
                            found = r.found,
                            "national portal synchronised"
                        )
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "national portal synchronisation failed"),
                }
                // The national catalogue, once a day (and when the worker starts).
                if self.app.settings.national_portal.intake
                    && last_catalogue.is_none_or(|t| t.elapsed() >= StdDuration::from_secs(86_400))
                {
                    match self.app.pull_catalogue(portal).await {
                        Ok(p) => tracing::info!(
                            listed = p.listed,
                            new = p.new,
                            changed = p.changed,
                            bad = p.bad,
                            "national catalogue pulled"
                        ),
                        Err(e) => tracing::warn!(error = %e, "national catalogue pull failed"),
                    }
                    last_catalogue = Some(std::time::Instant::now());
                }
                // The dossiers citizens submitted there, taken in.
                match self.app.intake_national(portal).await {
                    Ok(r) if r != Default::default() => tracing::info!(
                        pulled = r.pulled,
                        duplicates = r.duplicates,
                        taken = r.taken,
                        held = r.held,
                        failed = r.failed,
                        pull_error = r.pull_error.as_deref(),
                        "national portal submissions taken in"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "national portal intake failed"),
                }
                last_national = std::time::Instant::now();
            }
            // What waits at the document exchange hub (and each LGSP) for our agencies: a
            // claimed job per route and poll interval, so that of several workers one polls.
            let slot = self.app.now().unix_timestamp()
                / self.app.settings.exchange.poll_seconds.max(1) as i64;
            if !exchange_routes.is_empty() && last_poll_slot != Some(slot) {
                match self.schedule_polls(&exchange_routes).await {
                    Ok(()) => last_poll_slot = Some(slot),
                    Err(e) => tracing::warn!(error = %e, "exchange: polls not scheduled"),
                }
            }
            // The scorecard's daily summaries, every minute, so that a reader rarely waits for
            // a recomputation (readers refresh too, for exact figures).
            if last_summaries.elapsed() >= StdDuration::from_secs(60) {
                if let Err(e) = egov_store::scorecard::refresh_summaries(&self.app.db).await {
                    tracing::warn!(error = %e, "scorecard summaries not refreshed");
                }
                last_summaries = std::time::Instant::now();
            }
            // Reminders of documents due soon or overdue, every five minutes.
            if last_reminders.elapsed() >= StdDuration::from_secs(300) {
                match self.app.send_reminders(self.app.now()).await {
                    Ok(n) if n > 0 => tracing::info!(reminders = n, "reminders recorded"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "reminders failed"),
                }
                last_reminders = std::time::Instant::now();
            }
            let busy = match self.run_once().await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "worker could not claim a job");
                    false
                }
            };
            if !busy {
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        // And one at shutdown, so that the last entries are covered.
        if let Err(e) = self.app.write_audit_checkpoint().await {
            tracing::warn!(error = %e, "audit checkpoint at shutdown failed");
        }
        tracing::info!(worker = %self.id, "worker stopped");
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "egov".into())
}

impl App {
    /// Queues a JSON POST to `url` (a webhook notification), at least once.
    pub async fn enqueue_http_post(
        &self,
        actor: &Actor,
        url: &str,
        body: serde_json::Value,
        idempotency_key: &str,
    ) -> Result<i64, AppError> {
        if !url.starts_with("http://") {
            return Err(AppError::invalid(
                Code::BadUrl,
                "Only http:// addresses are supported.",
            ));
        }
        let mut tx = self.db.begin().await?;
        self.require_system_admin(&mut tx, actor).await?;
        let id = jobs::enqueue(
            &mut tx,
            HTTP_POST,
            &serde_json::json!({ "url": url, "body": body }),
            idempotency_key,
            self.now(),
            self.settings.worker.max_attempts,
        )
        .await?;
        audit::event("job.enqueue", "job", id)
            .after(&serde_json::json!({"kind": HTTP_POST, "url": url}))
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn list_jobs(
        &self,
        actor: &Actor,
        state: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<StateCount>, Vec<Job>), AppError> {
        let mut ex = &self.db;
        if !authz::is_system_admin(&mut ex, actor, self.now()).await? {
            return Err(AppError::forbidden());
        }
        Ok((
            jobs::counts(&mut ex).await?,
            jobs::list(&mut ex, state, limit, offset).await?,
        ))
    }

    /// Puts a dead job back in the queue.
    pub async fn retry_job(&self, actor: &Actor, id: i64) -> Result<Job, AppError> {
        let mut tx = self.db.begin().await?;
        if !authz::is_system_admin(&mut tx, actor, self.now()).await? {
            return Err(AppError::forbidden());
        }
        let before = jobs::get(&mut tx, id).await.or_not_found("job")?;
        if !jobs::retry(&mut tx, id, self.now()).await? {
            return Err(AppError::conflict(
                Code::JobNotDead,
                "Only a dead job can be retried.",
            ));
        }
        let after = jobs::get(&mut tx, id).await?;
        audit::event("job.retry", "job", id)
            .before(&before.state)
            .after(&after.state)
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(after)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_grows_and_caps() {
        let a = super::backoff(1).whole_seconds();
        assert!((8..=12).contains(&a), "{a}");
        let c = super::backoff(4).whole_seconds();
        assert!((64..=96).contains(&c), "{c}");
        assert!(super::backoff(30).whole_seconds() <= 4320);
    }
}
