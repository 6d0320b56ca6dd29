//! `egov-bench-scorecard`: the Decision 766 scorecard on a seeded province (egov-seed-onestop,
//! a million dossiers by default) — not part of CI; see `scripts/bench-scorecard.sh` and
//! docs/performance.md.
//!
//! 0. The daily summaries built from the seeder's marks (a whole rebuild), and refreshed after
//!    1,000 dossiers of today are finished across the province (a minute's work at a busy hour).
//! 1. The whole scorecard for the province over the seeded year, `--runs` times: p50 / p95.
//! 2. The scorecard of the busiest commune for its busiest month: p50 / p95.
//! 3. The operations dashboard (its figures, as the page computes them) with 8 clients at once
//!    for `--seconds`: requests per second, p50 / p95.
//! 4. The list behind 3.3 for the province's year, 50,000 dossiers, exported to xlsx: the time
//!    to read it, to write the workbook, its size and the growth of the peak resident memory.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use clap::Parser;
use egov_app::scorecard::{ListFilter, Period, Side};
use egov_app::{Actor, App, Settings};
use egov_store::Exec;

#[derive(Parser)]
struct Args {
    /// The data directory of a seeded database.
    #[arg(long)]
    data_dir: String,
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long, default_value_t = 20)]
    runs: usize,
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    #[arg(long, default_value_t = 50_000)]
    rows: i64,
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn err(e: egov_app::AppError) -> anyhow::Error {
    anyhow!("{} ({})", e.message, e.code.as_str())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let mut settings = Settings {
        data_dir: args.data_dir.clone().into(),
        ..Settings::default()
    };
    if let Some(u) = &args.database_url {
        settings.database.url = u.clone();
    }
    let app: Arc<App> = App::open(settings).await.map_err(err)?;
    let system = Actor::system("bench");
    let mut ex = app.db();
    // The seeded year: from the first dossier's day to the last's.
    let (first, last): (time::OffsetDateTime, time::OffsetDateTime) = ex
        .fetch_one(
            "SELECT MIN(submitted_at), MAX(submitted_at) FROM dossiers",
            vec![],
        )
        .await?;
    let year =
        Period::new(egov_domain::vn_date(first), egov_domain::vn_date(last), 366).map_err(err)?;
    let (busiest, month): (i64, String) = ex
        .fetch_one(
            "SELECT competent_agency_id, month FROM dossiers d JOIN agencies a \
             ON a.id = d.competent_agency_id WHERE a.parent_id IS NOT NULL \
             AND a.kind = 'people_committee' GROUP BY competent_agency_id, month \
             ORDER BY COUNT(*) DESC LIMIT 1",
            vec![],
        )
        .await?;
    let month_day = time::Date::parse(
        &format!("{month}-01"),
        time::macros::format_description!("[year]-[month]-[day]"),
    )?;
    let commune_month = Period::month_of(month_day);
    let mut out = serde_json::Map::new();
    // The summaries: the whole build from the seeder's marks, then a refresh after 1,000
    // finishes (open dossiers finished now, on time).
    let t = Instant::now();
    let marks = egov_store::scorecard::refresh_summaries(app.db()).await?;
    let build_ms = t.elapsed().as_secs_f64() * 1000.0;
    let now = egov_store::now();
    let mut tx = app.db().begin().await?;
    let finished = tx
        .execute(
            "UPDATE dossiers SET finished_at = $1, closed_at = $1, state = 'returned', \
             timeliness = 'on_time' WHERE id IN (SELECT id FROM dossiers \
             WHERE finished_at IS NULL AND closed_at IS NULL ORDER BY id DESC LIMIT 1000)",
            egov_store::args![now],
        )
        .await?;
    tx.commit().await?;
    let t = Instant::now();
    let refreshed = egov_store::scorecard::refresh_summaries(app.db()).await?;
    let refresh_ms = t.elapsed().as_secs_f64() * 1000.0;
    out.insert(
        "summaries".into(),
        serde_json::json!({
            "build_marks": marks,
            "build_ms": build_ms,
            "finished": finished,
            "refresh_marks": refreshed,
            "refresh_ms": refresh_ms,
        }),
    );
    eprintln!("summaries: {:?}", out["summaries"]);
    for (scope, period, label) in [
        (vec![], year, "province_year"),
        (vec![busiest], commune_month, "commune_month"),
    ] {
        let mut v = Vec::new();
        let mut card = None;
        for _ in 0..args.runs {
            let t = Instant::now();
            card = Some(app.scorecard(&system, period, &scope).await.map_err(err)?);
            v.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let received = card
            .as_ref()
            .and_then(|c| c.indicator("2.1"))
            .map_or(0.0, |i| i.denominator);
        out.insert(
            label.into(),
            serde_json::json!({
                "dossiers": received,
                "p50_ms": pct(&mut v, 0.5),
                "p95_ms": pct(&mut v, 0.95),
                "period": format!("{} {}", period.from, period.to),
            }),
        );
        eprintln!("{label}: {:?}", out[label]);
    }
    // The dashboard, 8 at once.
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let app = app.clone();
        let system = system.clone();
        tasks.push(tokio::spawn(async move {
            let mut v = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                app.dashboard(&system, &[]).await.map_err(err)?;
                v.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            Ok::<_, anyhow::Error>(v)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let n = all.len();
    out.insert(
        "dashboard_8_clients".into(),
        serde_json::json!({
            "requests": n,
            "per_second": n as f64 / args.seconds as f64,
            "p50_ms": pct(&mut all, 0.5),
            "p95_ms": pct(&mut all, 0.95),
        }),
    );
    eprintln!("dashboard: {:?}", out["dashboard_8_clients"]);
    // The list behind 3.3 (submitted online) for the year, exported.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = peak_mib();
    let t = Instant::now();
    let l = app
        .scorecard_list(
            &system,
            year,
            &[],
            "3.3",
            Side::Counted,
            &ListFilter::default(),
            0,
            args.rows,
        )
        .await
        .map_err(err)?;
    let read_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let bytes = egov_web::export::scorecard_list_xlsx(egov_web::i18n::Lang::Vi, &l).map_err(err)?;
    let write_ms = t.elapsed().as_secs_f64() * 1000.0;
    let rows = match &l.items {
        egov_app::scorecard::Items::Dossiers { rows, .. } => rows.len(),
        _ => 0,
    };
    out.insert(
        "xlsx".into(),
        serde_json::json!({
            "rows": rows,
            "read_ms": read_ms,
            "write_ms": write_ms,
            "bytes": bytes.len(),
            "peak_growth_mib": peak_mib() - before,
        }),
    );
    println!("{}", serde_json::Value::Object(out));
    Ok(())
}
