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
    /// POST /api/v1/dossiers: counter receipts at the benchmark communes (a new applicant each,
    /// two components). Needs `--bench-accounts` from `egov-seed-onestop`.
    Receipts,
    /// An ordinary officer's mix at the benchmark communes: my queue, a dossier page, search by
    /// code, search by the applicant's name, the month's statistics of the officer's agency.
    OfficerMix,
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
    /// The bench-accounts.json written by `egov-seed-onestop` (one-stop scenarios).
    #[arg(long)]
    bench_accounts: Option<String>,
}

/// A prepared request: its kind (for the per-kind figures), method, path and body.
#[derive(Clone)]
struct Plan {
    kind: &'static str,
    post: bool,
    path: String,
    body: Option<String>,
    token: String,
}

/// The one-stop scenarios' requests, per worker.
async fn onestop_plans(
    http: &Http,
    base: &str,
    scenario: Scenario,
    accounts: &serde_json::Value,
    workers: usize,
) -> Result<Vec<Vec<Plan>>> {
    let officers = accounts["officers"].as_array().context("no officers")?;
    let role = match scenario {
        Scenario::Receipts => "one_stop_officer",
        _ => "specialist",
    };
    let chosen: Vec<&serde_json::Value> = officers.iter().filter(|o| o["role"] == role).collect();
    if chosen.is_empty() {
        bail!("no {role} in the bench accounts");
    }
    let mut tokens = Vec::new();
    for o in &chosen {
        let t = token(
            http,
            base,
            o["username"].as_str().unwrap_or_default(),
            o["password"].as_str().unwrap_or_default(),
        )
        .await?;
        tokens.push(t);
    }
    let month = {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs();
        // The month before this one (complete), in UTC: good enough for a benchmark.
        let days = (now / 86_400) as i64 - 20;
        let (y, m) = civil(days);
        format!("{y:04}-{m:02}")
    };
    let mut out = Vec::new();
    for w in 0..workers {
        let i = w % chosen.len();
        let o = chosen[i];
        let agency = o["agency_id"].as_i64().unwrap_or_default();
        let t = tokens[i].clone();
        let mut plans = Vec::new();
        match scenario {
            Scenario::Receipts => plans.push(Plan {
                kind: "receipt",
                post: true,
                path: "/api/v1/dossiers".into(),
                body: Some(agency.to_string()),
                token: t,
            }),
            _ => {
                let samples = o["samples"].as_array().cloned().unwrap_or_default();
                if samples.is_empty() {
                    bail!("no sample dossiers for agency {agency}");
                }
                for (k, s) in samples.iter().enumerate().take(50) {
                    let code = s["code"].as_str().unwrap_or_default();
                    let name: String = s["name"]
                        .as_str()
                        .unwrap_or_default()
                        .split_whitespace()
                        .map(percent_encode)
                        .collect::<Vec<_>>()
                        .join("+");
                    let get = |kind: &'static str, path: String| Plan {
                        kind,
                        post: false,
                        path,
                        body: None,
                        token: t.clone(),
                    };
                    plans.push(get("queue", "/api/v1/dossiers/queue?limit=50".into()));
                    plans.push(get("dossier", format!("/api/v1/dossiers/{}", s["id"])));
                    plans.push(get("search_code", format!("/api/v1/dossiers?q={code}")));
                    plans.push(get(
                        "search_name",
                        format!("/api/v1/dossiers?q={name}&limit=20"),
                    ));
                    if k % 5 == 0 {
                        plans.push(get(
                            "stats",
                            format!("/api/v1/agencies/{agency}/onestop-stats?month={month}"),
                        ));
                    }
                }
            }
        }
        out.push(plans);
    }
    Ok(out)
}

/// A word for a query string: bytes other than letters, digits and `-._~` as `%XX` (a name
/// in Vietnamese is mostly such bytes).
fn percent_encode(word: &str) -> String {
    word.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// (year, month) of a day count since 1970-01-01 (proleptic Gregorian).
fn civil(days: i64) -> (i64, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m)
}

/// A receipt at `agency` for a new applicant (unique per worker and request).
fn receipt_body(agency: &str, worker: usize, n: u64) -> String {
    serde_json::json!({
        "procedure_code": "2.000815",
        "receiving_agency_id": agency.parse::<i64>().unwrap_or_default(),
        "applicant": {"new": {
            "kind": "citizen",
            "identifier": format!("0381{:02}{:06}", worker % 100, n % 1_000_000),
            "name": "Người Nộp Thử",
            "phone": "0900000000"
        }},
        "components": [{"code": "TP1", "provided": true}, {"code": "TP2", "provided": true}],
        "fee_units": 2
    })
    .to_string()
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
    let pw = match args.scenario {
        Scenario::Receipts | Scenario::OfficerMix => String::new(),
        _ => password(&accounts, &args.user)?,
    };

    // The requests of the scenario, prepared once.
    let mut paths: Vec<String> = Vec::new();
    let mut bearer = None;
    let mut per_worker: Vec<Vec<Plan>> = Vec::new();
    match args.scenario {
        Scenario::SignIn => {}
        Scenario::Receipts | Scenario::OfficerMix => {
            let path = args
                .bench_accounts
                .as_deref()
                .context("--bench-accounts is needed (run egov-seed-onestop)")?;
            let bench: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
            per_worker =
                onestop_plans(&http, &base, args.scenario, &bench, args.concurrency).await?;
        }
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
        let plans = per_worker.get(w).cloned().unwrap_or_default();
        let scenario = args.scenario;
        tasks.push(tokio::spawn(async move {
            let mut lat: Vec<(&'static str, Duration)> = Vec::with_capacity(100_000);
            let mut i = w;
            let mut n: u64 = 0;
            while !stop.load(Ordering::Relaxed) {
                let (kind, req) = match scenario {
                    Scenario::SignIn => (
                        "sign_in",
                        Request::post(format!("{base}/api/v1/sessions"))
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from(
                                serde_json::json!({"username": user, "password": pw}).to_string(),
                            ))),
                    ),
                    Scenario::Receipts | Scenario::OfficerMix => {
                        let p = &plans[i % plans.len()];
                        i += 1;
                        n += 1;
                        let mut r = if p.post {
                            Request::post(format!("{base}{}", p.path))
                                .header("content-type", "application/json")
                        } else {
                            Request::get(format!("{base}{}", p.path))
                        };
                        r = r.header("authorization", format!("Bearer {}", p.token));
                        let body = match (&p.body, scenario) {
                            (Some(agency), Scenario::Receipts) => receipt_body(agency, w, n),
                            (Some(b), _) => b.clone(),
                            (None, _) => String::new(),
                        };
                        (p.kind, r.body(Full::new(Bytes::from(body))))
                    }
                    _ => {
                        let p = &paths[i % paths.len()];
                        i += 1;
                        let mut r = Request::get(format!("{base}{p}"));
                        if let Some(t) = &bearer {
                            r = r.header("authorization", format!("Bearer {t}"));
                        }
                        ("page", r.body(Full::new(Bytes::new())))
                    }
                };
                let t0 = Instant::now();
                let ok = match req {
                    Ok(req) => matches!(send(&http, req).await, Ok((s, _)) if s < 400),
                    Err(_) => false,
                };
                lat.push((kind, t0.elapsed()));
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
    let summary = |lat: &mut Vec<Duration>| {
        lat.sort();
        let pct = |p: f64| -> f64 {
            if lat.is_empty() {
                return 0.0;
            }
            let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
            lat[i].as_secs_f64() * 1000.0
        };
        serde_json::json!({
            "requests": lat.len(),
            "rps": lat.len() as f64 / elapsed,
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "max_ms": pct(1.0),
        })
    };
    let mut kinds: std::collections::BTreeMap<&str, Vec<Duration>> = Default::default();
    for (k, d) in &all {
        kinds.entry(k).or_default().push(*d);
    }
    let mut everything: Vec<Duration> = all.iter().map(|x| x.1).collect();
    let mut out = summary(&mut everything);
    out["scenario"] = serde_json::json!(format!("{:?}", args.scenario));
    out["concurrency"] = serde_json::json!(args.concurrency);
    out["seconds"] = serde_json::json!(elapsed);
    out["errors"] = serde_json::json!(errors.load(Ordering::Relaxed));
    if kinds.len() > 1 {
        let mut per = serde_json::Map::new();
        for (k, mut v) in kinds {
            per.insert(k.to_owned(), summary(&mut v));
        }
        out["by_kind"] = serde_json::Value::Object(per);
    }
    println!("{out}");
    Ok(())
}
