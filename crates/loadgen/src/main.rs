//! `egov-loadgen`: drives a running egov with a named scenario from many concurrent clients and
//! prints requests per second and latency percentiles as JSON. Not part of CI; see
//! `scripts/bench.sh` and `docs/performance.md`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use clap::{Parser, ValueEnum};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Scenario {
    /// POST /api/v1/sessions with a demo account's password (argon2 verification).
    SignIn,
    /// GET an agency page (HTML) as a signed-in official: the province, a department, a commune.
    AgencyPage,
    /// GET /api/v1/agencies?q=… searches as a signed-in official.
    AgencySearch,
}

#[derive(Parser)]
struct Args {
    /// Base URL of a running egov (with the demo seeded).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base: String,
    /// The demo-accounts.json written by `egov demo`.
    #[arg(long)]
    accounts: String,
    #[arg(long, value_enum)]
    scenario: Scenario,
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// The official whose session the page scenarios use.
    #[arg(long, default_value = "chuyenvien.snv")]
    user: String,
}

type Http = Client<HttpConnector, Full<Bytes>>;

async fn send(http: &Http, req: Request<Full<Bytes>>) -> Result<(u16, Bytes)> {
    let resp = http.request(req).await?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

fn password(accounts: &serde_json::Value, user: &str) -> Result<String> {
    accounts
        .as_array()
        .and_then(|a| a.iter().find(|x| x["username"] == user))
        .and_then(|x| x["password"].as_str())
        .map(str::to_owned)
        .with_context(|| format!("no demo account {user}"))
}

async fn token(http: &Http, base: &str, user: &str, pw: &str) -> Result<String> {
    let body = serde_json::json!({"username": user, "password": pw}).to_string();
    let req = Request::post(format!("{base}/api/v1/sessions"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))?;
    let (status, body) = send(http, req).await?;
    if status != 201 {
        bail!(
            "sign-in failed with {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    Ok(v["token"].as_str().context("no token")?.to_owned())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let accounts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&args.accounts)?)?;
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let http: Http = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(args.concurrency)
        .build(connector);
    let base = args.base.trim_end_matches('/').to_owned();
    let pw = password(&accounts, &args.user)?;

    // The requests of the scenario, prepared once.
    let mut paths: Vec<String> = Vec::new();
    let mut bearer = None;
    match args.scenario {
        Scenario::SignIn => {}
        Scenario::AgencyPage | Scenario::AgencySearch => {
            let t = token(&http, &base, &args.user, &pw).await?;
            let get = |p: String| {
                Request::get(p)
                    .header("authorization", format!("Bearer {t}"))
                    .body(Full::new(Bytes::new()))
            };
            let (_, body) = send(
                &http,
                get(format!("{base}/api/v1/agencies?q=000.00.00.H56"))?,
            )
            .await?;
            let v: serde_json::Value = serde_json::from_slice(&body)?;
            let province = v["hits"][0]["id"]
                .as_i64()
                .context("the demo province is missing")?;
            let (_, body) = send(
                &http,
                get(format!(
                    "{base}/api/v1/agencies?parent={province}&limit=500"
                ))?,
            )
            .await?;
            let v: serde_json::Value = serde_json::from_slice(&body)?;
            let ids: Vec<i64> = v["nodes"]
                .as_array()
                .context("no children")?
                .iter()
                .filter_map(|n| n["id"].as_i64())
                .collect();
            if matches!(args.scenario, Scenario::AgencyPage) {
                paths.push(format!("/agencies/{province}"));
                paths.extend(ids.iter().take(40).map(|i| format!("/agencies/{i}")));
            } else {
                for q in [
                    "thanh+hoa",
                    "dong+son",
                    "so+noi+vu",
                    "phuong+hac+thanh",
                    "xa+nga",
                    "uy+ban+nhan+dan",
                ] {
                    paths.push(format!("/api/v1/agencies?q={q}&limit=20"));
                }
            }
            bearer = Some(t);
        }
    }

    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..args.concurrency {
        let (http, base, stop, errors, paths, bearer, user, pw) = (
            http.clone(),
            base.clone(),
            stop.clone(),
            errors.clone(),
            paths.clone(),
            bearer.clone(),
            args.user.clone(),
            pw.clone(),
        );
        let scenario = args.scenario;
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(100_000);
            let mut i = w;
            while !stop.load(Ordering::Relaxed) {
                let req = match scenario {
                    Scenario::SignIn => Request::post(format!("{base}/api/v1/sessions"))
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from(
                            serde_json::json!({"username": user, "password": pw}).to_string(),
                        ))),
                    _ => {
                        let p = &paths[i % paths.len()];
                        i += 1;
                        let mut r = Request::get(format!("{base}{p}"));
                        if let Some(t) = &bearer {
                            r = r.header("authorization", format!("Bearer {t}"));
                        }
                        r.body(Full::new(Bytes::new()))
                    }
                };
                let t0 = Instant::now();
                let ok = match req {
                    Ok(req) => matches!(send(&http, req).await, Ok((s, _)) if s < 400),
                    Err(_) => false,
                };
                lat.push(t0.elapsed());
                if !ok {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            lat
        }));
    }
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return 0.0;
        }
        let i = ((all.len() as f64 - 1.0) * p).round() as usize;
        all[i].as_secs_f64() * 1000.0
    };
    println!(
        "{}",
        serde_json::json!({
            "scenario": format!("{:?}", args.scenario),
            "concurrency": args.concurrency,
            "seconds": elapsed,
            "requests": all.len(),
            "errors": errors.load(Ordering::Relaxed),
            "rps": all.len() as f64 / elapsed,
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "max_ms": pct(1.0),
        })
    );
    Ok(())
}
