//! `egov-bench-national`: measures the national portal's synchronisation against the stand-in
//! over HTTP, on SQLite or PostgreSQL — not part of CI; see `scripts/bench-national.sh` and
//! docs/performance.md.
//!
//! 1. Backlog: N dossiers received at the counter and handed to the specialist while the portal
//!    is unreachable, then the time to drain them (records and progress entries per second).
//! 2. Lag: receipts at a steady rate (default 50 a second) for a while, each handed on at once,
//!    with the synchronisation running every two seconds as the worker runs it: p50/p95 from
//!    receipt to the record accepted, and from the step to its progress entry accepted.
//! 3. Outage (with `--outage S`): the portal down for S seconds while the counter goes on at the
//!    same rate and the worker keeps trying, then back: the time until everything owed from
//!    before its return is accepted, with the counter still receiving.
//! 4. Reconciliation: every dossier of the run looked up on the portal and compared.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Parser;
use egov_app::onestop::dossiers::{Action, Reception};
use egov_app::onestop::national_sync::HttpPortal;
use egov_app::settings::NationalPortal;
use egov_app::{Actor, App, Settings};
use egov_store::Exec;
use egov_web::national_fake::FakePortal;
use serde_json::json;

#[derive(Parser)]
struct Args {
    /// PostgreSQL URL; default: SQLite in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    /// Dossiers in the backlog.
    #[arg(long, default_value_t = 5000)]
    dossiers: usize,
    /// Receipts a second during the lag measurement.
    #[arg(long, default_value_t = 50)]
    rate: u64,
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Seconds the portal is down in the outage measurement (0: skipped).
    #[arg(long, default_value_t = 0)]
    outage: u64,
}

/// The worker's loop: a round every two seconds until `stop`.
fn worker(
    app: Arc<App>,
    settings: &NationalPortal,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    let portal = HttpPortal::new(settings.clone());
    tokio::spawn(async move {
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            app.sync_national(&portal).await.ok();
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    })
}

/// Receipts at `rate` a second, numbered from `from`, until `stop`; how many were made.
fn counter(
    app: Arc<App>,
    officer: Actor,
    agency: i64,
    rate: u64,
    from: usize,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<Result<usize>> {
    tokio::spawn(async move {
        let gap = Duration::from_secs_f64(1.0 / rate as f64);
        let start = Instant::now();
        let mut pending = Vec::new();
        let mut i = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            tokio::time::sleep_until((start + gap * i as u32).into()).await;
            let (app, officer) = (app.clone(), officer.clone());
            pending.push(tokio::spawn(async move {
                one(&app, &officer, agency, from + i).await
            }));
            i += 1;
        }
        for p in pending {
            p.await??;
        }
        Ok(i)
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Receives one dossier and hands it to the specialist (one progress entry).
async fn one(app: &App, officer: &Actor, agency: i64, n: usize) -> Result<()> {
    let r: Reception = serde_json::from_value(json!({
        "procedure_code": "9.000004",
        "receiving_agency_id": agency,
        "applicant": {"new": {"kind": "citizen", "identifier": format!("0381{n:08}"), "name": "Nguyễn Văn Bình"}},
        "components": [{"code": "TP1", "provided": true}, {"code": "GTTT", "provided": true}],
    }))?;
    let d = app
        .receive_dossier(officer, r)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?
        .dossier;
    let a: Action = serde_json::from_value(json!({"event": "transfer", "version": d.version}))?;
    app.act_on_dossier(officer, d.id, a)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    Ok(())
}

/// Seconds between two columns of the synchronisation's tables, for the rows of this run.
async fn lags(app: &App, sql: &str) -> Result<Vec<f64>> {
    let rows: Vec<(time::OffsetDateTime, time::OffsetDateTime)> =
        app.db().fetch_all(sql, egov_store::args![]).await?;
    let mut v: Vec<f64> = rows
        .into_iter()
        .map(|(a, b)| (b - a).as_seconds_f64())
        .collect();
    v.sort_by(|a, b| a.total_cmp(b));
    Ok(v)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let fake = FakePortal::new(Vec::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let served = fake.clone();
    tokio::spawn(async move { served.serve(listener, std::future::pending()).await });
    let dir = tempfile::tempdir()?;
    let mut settings = Settings {
        data_dir: dir.path().to_path_buf(),
        national_portal: NationalPortal {
            enabled: true,
            url,
            username: "bench".into(),
            password: "bench".into(),
            batch: 1000,
            ..NationalPortal::default()
        },
        ..Settings::default()
    };
    if let Some(u) = &args.database_url {
        settings.database.url = u.clone();
    }
    let app = App::open(settings.clone()).await?;
    app.seed_demo()
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let officer = app
        .actor_by_username("motcua.hacthanh")
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let agency = app
        .committee_by_unit(egov_domain::admin_unit::Structure::TwoTier, "14797")
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let portal = HttpPortal::new(settings.national_portal.clone());
    let backend = if args.database_url.is_some() {
        "postgres"
    } else {
        "sqlite"
    };

    // 1. The backlog, received while nothing is sent, then drained.
    let t = Instant::now();
    let workers = 8;
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (app, officer) = (app.clone(), officer.clone());
        let n = args.dossiers;
        tasks.push(tokio::spawn(async move {
            for i in (w..n).step_by(workers) {
                one(&app, &officer, agency, i).await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let received = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (mut records, mut progress) = (0, 0);
    loop {
        let r = app
            .sync_national(&portal)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        if r == Default::default() {
            break;
        }
        anyhow::ensure!(
            r.failed == 0 && r.rejected == 0,
            "the stand-in refused: {r:?}"
        );
        records += r.records;
        progress += r.progress;
    }
    let drained = t.elapsed().as_secs_f64();
    // Every dossier created once on the portal (a dossier whose events fell into two rounds is
    // also updated once), every step reported once.
    let held = fake.state();
    anyhow::ensure!(
        held["creates"] == args.dossiers && progress == args.dossiers,
        "{} creates and {progress} progress entries for {} dossiers",
        held["creates"],
        args.dossiers
    );
    println!(
        "{}",
        json!({"backend": backend, "backlog": {"dossiers": args.dossiers, "received_per_s": (args.dossiers as f64 / received).round(),
            "records": records, "progress": progress, "drain_s": (drained * 10.0).round() / 10.0,
            "calls_per_s": ((records + progress) as f64 / drained).round()}})
    );

    // 2. Lag while the counter receives at a steady rate and the worker syncs every 2 s.
    let mark: i64 = app
        .db()
        .scalar(
            "SELECT COALESCE(MAX(id), 0) FROM dossiers",
            egov_store::args![],
        )
        .await?;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let syncer = worker(app.clone(), &settings.national_portal, stop.clone());
    let total = (args.rate * args.seconds) as usize;
    let gap = Duration::from_secs_f64(1.0 / args.rate as f64);
    let start = Instant::now();
    let mut pending = Vec::new();
    for i in 0..total {
        let due = start + gap * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let (app, officer) = (app.clone(), officer.clone());
        pending.push(tokio::spawn(async move {
            one(&app, &officer, agency, 1_000_000 + i).await
        }));
    }
    for p in pending {
        p.await??;
    }
    let achieved = total as f64 / start.elapsed().as_secs_f64();
    // Let the last round go through.
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    syncer.await?;
    let record_lag = lags(
        &app,
        &format!(
            "SELECT d.received_at, n.synced_at FROM dossiers d JOIN national_dossiers n ON n.dossier_id = d.id \
             WHERE d.id > {mark} AND n.synced_at IS NOT NULL"
        ),
    )
    .await?;
    let progress_lag = lags(
        &app,
        &format!(
            "SELECT p.created_at, p.sent_at FROM national_progress p WHERE p.dossier_id > {mark} \
             AND p.sent_at IS NOT NULL"
        ),
    )
    .await?;
    println!(
        "{}",
        json!({"backend": backend, "lag": {"receipts": total, "rate_achieved": (achieved * 10.0).round() / 10.0,
            "records_synced": record_lag.len(), "record_p50_s": percentile(&record_lag, 0.5), "record_p95_s": percentile(&record_lag, 0.95),
            "progress_sent": progress_lag.len(), "progress_p50_s": percentile(&progress_lag, 0.5), "progress_p95_s": percentile(&progress_lag, 0.95)}})
    );

    // 3. An outage: the portal down while the counter goes on, then back.
    if args.outage > 0 {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop_worker = Arc::new(AtomicBool::new(false));
        let stop_counter = Arc::new(AtomicBool::new(false));
        fake.set_mode(egov_web::national_fake::Mode {
            down: true,
            ..Default::default()
        });
        let syncer = worker(app.clone(), &settings.national_portal, stop_worker.clone());
        let receipts = counter(
            app.clone(),
            officer.clone(),
            agency,
            args.rate,
            2_000_000,
            stop_counter.clone(),
        );
        tokio::time::sleep(Duration::from_secs(args.outage)).await;
        let back = egov_store::now();
        let t = Instant::now();
        fake.set_mode(Default::default());
        let owed_before = |at: time::OffsetDateTime| {
            let app = app.clone();
            async move {
                let n: i64 = app
                    .db()
                    .scalar(
                        "SELECT (SELECT COUNT(*) FROM national_dossiers WHERE state IN ('pending', 'uncertain') \
                         AND first_due_at <= $1) + (SELECT COUNT(*) FROM national_progress \
                         WHERE state IN ('pending', 'uncertain') AND created_at <= $1)",
                        egov_store::args![at],
                    )
                    .await?;
                anyhow::Ok(n)
            }
        };
        let backlog = owed_before(back).await?;
        while owed_before(back).await? > 0 {
            anyhow::ensure!(
                t.elapsed().as_secs() < 30 * args.outage + 60,
                "the backlog of the outage is not drained after {:?}",
                t.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let drained = t.elapsed().as_secs_f64();
        stop_counter.store(true, Ordering::Relaxed);
        let made = receipts.await??;
        stop_worker.store(true, Ordering::Relaxed);
        syncer.await?;
        // The last receipts' records and entries sent before anything is reconciled.
        while app
            .sync_national(&portal)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))?
            != Default::default()
        {}
        // The drain's net speed (calls a second beyond the counter's own load), for an hour.
        let net = backlog as f64 / drained;
        let hour_backlog = backlog as f64 * 3600.0 / args.outage as f64;
        println!(
            "{}",
            json!({"backend": backend, "outage": {"seconds": args.outage, "rate": args.rate, "receipts": made,
                "owed_when_back": backlog, "drain_s": (drained * 10.0).round() / 10.0,
                "net_calls_per_s": net.round(), "hour_outage_owed": hour_backlog.round(),
                "hour_outage_drain_min": (hour_backlog / net / 60.0 * 10.0).round() / 10.0}})
        );
    }

    // 4. Reconciliation of everything this run received.
    let sys = Actor::system("bench");
    let t = Instant::now();
    let r = app
        .reconcile_national(
            &sys,
            &portal,
            time::OffsetDateTime::UNIX_EPOCH,
            egov_store::now() + time::Duration::days(1),
            false,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"backend": backend, "reconcile": {"dossiers": r.checked, "seconds": (secs * 10.0).round() / 10.0,
            "per_s": (r.checked as f64 / secs).round(), "missing": r.missing.len(), "stale": r.stale.len(),
            "month_at_1m_a_year_s": (83_333.0 / (r.checked as f64 / secs)).round()}})
    );
    Ok(())
}
