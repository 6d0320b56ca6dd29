//! `egov-failover`: the failure scenario's client and judge (issue 24) — not part of CI; see
//! `scripts/failure-scenario.sh` and docs/operations.md ("Failure scenario").
//!
//! `drive` runs counter receipts (each with its own scan) and paper documents issued with a
//! number, from several clients at once through a load balancer, for a while. Every operation
//! carries an `Idempotency-Key` and is retried with it — after a refused connection, a 5xx, a
//! timeout, "in progress" — until it is acknowledged or two minutes have passed, as a careful
//! client would while nodes die, the database restarts and the bucket goes away. What was
//! acknowledged is written to a file, one JSON line each.
//!
//! `check` then holds the deployment to it: every acknowledged receipt and document exists,
//! once (no retry made a second); every scan is served, byte for byte; dossier codes and
//! document numbers have no gap and no duplicate; the national portal (the stand-in) holds every
//! dossier; no job died. The script adds `egov audit verify` and `egov blobs verify`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use clap::{Parser, Subcommand};
use egov_store::{Db, DbOptions, Exec, args};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Runs receipts and document issues through `--base` and writes what was acknowledged.
    Drive {
        #[arg(long)]
        base: String,
        /// The demo-accounts.json written by `egov demo --seed-only`.
        #[arg(long)]
        accounts: String,
        #[arg(long, default_value_t = 6)]
        clients: usize,
        #[arg(long, default_value_t = 120)]
        seconds: u64,
        /// Where the acknowledged operations go (JSON lines).
        #[arg(long)]
        out: String,
    },
    /// Checks the deployment against what `drive` wrote.
    Check {
        #[arg(long)]
        base: String,
        #[arg(long)]
        accounts: String,
        #[arg(long)]
        acks: String,
        /// The deployment's database (`sqlite://…/egov.db` or `postgres://…`).
        #[arg(long)]
        database_url: String,
        /// The national portal stand-in (`egov national-portal fake`).
        #[arg(long)]
        portal: String,
        /// How long the national portal may take to have every dossier.
        #[arg(long, default_value_t = 120)]
        wait: u64,
    },
}

type Http = Client<HttpConnector, Full<Bytes>>;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";
/// How long an operation is retried before the client gives up on it.
const GIVE_UP: Duration = Duration::from_secs(120);

/// An answer, or why there was none.
enum Answer {
    /// Status, body, and whether it is the replay of an earlier answer.
    Got(u16, Bytes, bool),
    /// No answer: refused connection, reset, timeout.
    Lost(String),
}

async fn call(http: &Http, req: Request<Full<Bytes>>) -> Answer {
    let sent = tokio::time::timeout(Duration::from_secs(30), async {
        let resp = http.request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let replayed = resp.headers().contains_key("idempotent-replayed");
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok::<_, String>((status, body, replayed))
    })
    .await;
    match sent {
        Ok(Ok((s, b, r))) => Answer::Got(s, b, r),
        Ok(Err(e)) => Answer::Lost(e),
        Err(_) => Answer::Lost("no answer within 30 s".into()),
    }
}

fn password(accounts: &Value, user: &str) -> Result<String> {
    accounts
        .as_array()
        .and_then(|a| a.iter().find(|x| x["username"] == user))
        .and_then(|x| x["password"].as_str())
        .map(str::to_owned)
        .with_context(|| format!("no demo account {user}"))
}

async fn sign_in(http: &Http, base: &str, accounts: &Value, user: &str) -> Result<String> {
    let pw = password(accounts, user)?;
    let started = Instant::now();
    loop {
        let req = Request::post(format!("{base}/api/v1/sessions"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(
                json!({"username": user, "password": pw}).to_string(),
            )))?;
        match call(http, req).await {
            Answer::Got(201, body, _) => {
                let v: Value = serde_json::from_slice(&body)?;
                return Ok(v["token"].as_str().context("no token")?.to_owned());
            }
            Answer::Got(s, body, _) if s < 500 => {
                bail!("sign-in of {user}: {s} {}", String::from_utf8_lossy(&body))
            }
            _ if started.elapsed() > GIVE_UP => bail!("sign-in of {user}: no answer"),
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

async fn get_json(http: &Http, url: &str, token: Option<&str>) -> Result<(u16, Bytes)> {
    let mut req = Request::get(url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    match call(http, req.body(Full::new(Bytes::new()))?).await {
        Answer::Got(s, b, _) => Ok((s, b)),
        Answer::Lost(e) => bail!("GET {url}: {e}"),
    }
}

/// What the clients counted.
#[derive(Default)]
struct Tally {
    attempts: AtomicU64,
    lost: AtomicU64,
    server_errors: AtomicU64,
    in_progress: AtomicU64,
    replayed: AtomicU64,
    answer_lost: AtomicU64,
    acknowledged: AtomicU64,
    gave_up: AtomicU64,
    refused: AtomicU64,
}

/// Sends one operation until it is acknowledged (`Some(body)`) or given up (`None`); a refusal
/// (4xx other than "in progress" or a rate limit) is an error of the scenario.
async fn until_acknowledged(
    http: &Http,
    tally: &Tally,
    make: impl Fn() -> Result<Request<Full<Bytes>>>,
) -> Result<Option<Value>> {
    let started = Instant::now();
    loop {
        tally.attempts.fetch_add(1, Ordering::Relaxed);
        match call(http, make()?).await {
            Answer::Got(200 | 201, body, replayed) => {
                tally.acknowledged.fetch_add(1, Ordering::Relaxed);
                if replayed {
                    tally.replayed.fetch_add(1, Ordering::Relaxed);
                }
                return Ok(Some(serde_json::from_slice(&body).unwrap_or(Value::Null)));
            }
            // Done before its node died; the answer is lost, the deed is not.
            Answer::Got(409, body, _)
                if String::from_utf8_lossy(&body).contains("request_answer_lost") =>
            {
                tally.acknowledged.fetch_add(1, Ordering::Relaxed);
                tally.answer_lost.fetch_add(1, Ordering::Relaxed);
                return Ok(Some(Value::Null));
            }
            Answer::Got(409, body, _)
                if String::from_utf8_lossy(&body).contains("request_in_progress") =>
            {
                tally.in_progress.fetch_add(1, Ordering::Relaxed);
            }
            Answer::Got(429, _, _) => {}
            Answer::Got(s, _, _) if s >= 500 || s == 408 => {
                tally.server_errors.fetch_add(1, Ordering::Relaxed);
            }
            Answer::Got(s, body, _) => {
                tally.refused.fetch_add(1, Ordering::Relaxed);
                bail!("refused with {s}: {}", String::from_utf8_lossy(&body));
            }
            Answer::Lost(_) => {
                tally.lost.fetch_add(1, Ordering::Relaxed);
            }
        }
        if started.elapsed() > GIVE_UP {
            tally.gave_up.fetch_add(1, Ordering::Relaxed);
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn multipart(file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "egovfailoverboundary7d1c";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"don.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

struct Drive {
    http: Http,
    base: String,
    officer: String,
    clerk: String,
    ward: i64,
    department: i64,
    run: String,
    tally: Tally,
    next: AtomicU64,
    out: Mutex<std::fs::File>,
}

impl Drive {
    fn record(&self, line: Value) -> Result<()> {
        let mut f = self.out.lock().unwrap_or_else(|e| e.into_inner());
        writeln!(f, "{line}")?;
        f.flush()?;
        Ok(())
    }

    fn post(
        &self,
        path: &str,
        token: &str,
        key: &str,
        ct: &str,
        body: Vec<u8>,
    ) -> Result<Request<Full<Bytes>>> {
        Ok(Request::post(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", ct)
            .header("idempotency-key", key)
            .body(Full::new(Bytes::from(body)))?)
    }

    /// A counter receipt with its scan.
    async fn receipt(&self, n: u64) -> Result<()> {
        let key = format!("{}-receipt-{n}", self.run);
        let mut scan = PDF.to_vec();
        scan.extend_from_slice(format!("% {key}\n").as_bytes());
        let sha = hex::encode(Sha256::digest(&scan));
        let (ct, body) = multipart(&scan);
        let up = until_acknowledged(&self.http, &self.tally, || {
            self.post(
                "/api/v1/scans",
                &self.officer,
                &format!("{key}-scan"),
                &ct,
                body.clone(),
            )
        })
        .await?;
        if up.is_none() {
            return Ok(());
        }
        let identifier = format!("038197{:06}", n);
        let dossier = json!({
            "procedure_code": "2.000815",
            "receiving_agency_id": self.ward,
            "applicant": {"new": {"kind": "citizen", "identifier": identifier,
                                  "name": "Người Nộp Thử", "phone": "0900000000"}},
            "components": [{"code": "TP1", "provided": true, "scan": sha},
                           {"code": "TP2", "provided": true}],
            "fee_units": 2
        })
        .to_string()
        .into_bytes();
        let got = until_acknowledged(&self.http, &self.tally, || {
            self.post(
                "/api/v1/dossiers",
                &self.officer,
                &key,
                "application/json",
                dossier.clone(),
            )
        })
        .await?;
        if let Some(v) = got {
            self.record(
                json!({"kind": "dossier", "key": key, "id": v["dossier"]["id"],
                "code": v["dossier"]["code"], "identifier": identifier, "sha256": sha}),
            )?;
        }
        Ok(())
    }

    /// A paper document registered and numbered in the department's series.
    async fn document(&self, n: u64) -> Result<()> {
        let key = format!("{}-document-{n}", self.run);
        let subject = format!("Thông báo thử nghiệm sự cố {key}");
        let body = json!({"agency_id": self.department, "kind": "notice", "subject": subject,
                          "signer_name": "Phạm Minh Tuấn", "signer_position": "Giám đốc"})
        .to_string()
        .into_bytes();
        let got = until_acknowledged(&self.http, &self.tally, || {
            self.post(
                "/api/v1/documents/paper",
                &self.clerk,
                &key,
                "application/json",
                body.clone(),
            )
        })
        .await?;
        if let Some(v) = got {
            let doc = if v["document"].is_object() {
                &v["document"]
            } else {
                &v
            };
            self.record(json!({"kind": "document", "key": key, "id": doc["id"],
                "number": doc["number"], "subject": subject}))?;
        }
        Ok(())
    }
}

fn http() -> Http {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(3)));
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(5))
        .build(connector)
}

async fn posting(http: &Http, base: &str, token: &str) -> Result<i64> {
    let (s, body) = get_json(http, &format!("{base}/api/v1/me"), Some(token)).await?;
    if s != 200 {
        bail!("/api/v1/me: {s}");
    }
    let me: Value = serde_json::from_slice(&body)?;
    me["postings"][0]["agency_id"]
        .as_i64()
        .context("the account has no posting")
}

async fn drive(
    base: String,
    accounts: String,
    clients: usize,
    seconds: u64,
    out: String,
) -> Result<()> {
    let accounts: Value = serde_json::from_str(&std::fs::read_to_string(&accounts)?)?;
    let http = http();
    let base = base.trim_end_matches('/').to_owned();
    let officer = sign_in(&http, &base, &accounts, "motcua.hacthanh").await?;
    let clerk = sign_in(&http, &base, &accounts, "vanthu.snv").await?;
    let ward = posting(&http, &base, &officer).await?;
    let department = posting(&http, &base, &clerk).await?;
    let d = Arc::new(Drive {
        http,
        base,
        officer,
        clerk,
        ward,
        department,
        run: egov_app::auth::random_token(6),
        tally: Tally::default(),
        next: AtomicU64::new(1),
        out: Mutex::new(std::fs::File::create(&out)?),
    });
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let d = d.clone();
        tasks.spawn(async move {
            while Instant::now() < until {
                let n = d.next.fetch_add(1, Ordering::Relaxed);
                // One client in three issues documents; the others receive dossiers.
                if c % 3 == 2 {
                    d.document(n).await?;
                } else {
                    d.receipt(n).await?;
                }
            }
            anyhow::Ok(())
        });
    }
    let mut failed = Vec::new();
    while let Some(r) = tasks.join_next().await {
        if let Err(e) = r? {
            failed.push(e.to_string());
        }
    }
    let t = &d.tally;
    println!(
        "{}",
        json!({"seconds": started.elapsed().as_secs(), "clients": clients,
            "attempts": t.attempts.load(Ordering::Relaxed),
            "acknowledged": t.acknowledged.load(Ordering::Relaxed),
            "no_answer": t.lost.load(Ordering::Relaxed),
            "server_errors": t.server_errors.load(Ordering::Relaxed),
            "in_progress": t.in_progress.load(Ordering::Relaxed),
            "replayed": t.replayed.load(Ordering::Relaxed),
            "answer_lost": t.answer_lost.load(Ordering::Relaxed),
            "gave_up": t.gave_up.load(Ordering::Relaxed),
            "refused": t.refused.load(Ordering::Relaxed),
            "client_errors": failed})
    );
    Ok(())
}

async fn check(
    base: String,
    accounts: String,
    acks: String,
    database_url: String,
    portal: String,
    wait: u64,
) -> Result<()> {
    let accounts: Value = serde_json::from_str(&std::fs::read_to_string(&accounts)?)?;
    let base = base.trim_end_matches('/').to_owned();
    let lines: Vec<Value> = std::fs::read_to_string(&acks)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let db = Db::open(&DbOptions::new(database_url)).await?;
    let mut problems: Vec<String> = Vec::new();
    let http = http();
    let officer = sign_in(&http, &base, &accounts, "motcua.hacthanh").await?;
    let dossiers: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "dossier").collect();
    let documents: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "document").collect();

    // Every acknowledged dossier: there, once, with its scan served byte for byte.
    let mut codes = HashSet::new();
    for d in &dossiers {
        let id = d["id"].as_i64().unwrap_or_default();
        let rows: Vec<(i64, String)> = (&db)
            .fetch_all(
                "SELECT d.id, d.code FROM dossiers d JOIN applicants a ON a.id = d.applicant_id \
                 WHERE a.identifier = $1",
                args![d["identifier"].as_str().unwrap_or_default()],
            )
            .await?;
        // An acknowledgement whose answer was lost carries no id: the row is found by its
        // applicant.
        let same = |row: &(i64, String)| {
            d["id"].is_null() || (row.0 == id && Some(row.1.as_str()) == d["code"].as_str())
        };
        if rows.len() != 1 || !same(&rows[0]) {
            problems.push(format!(
                "dossier {}: {} rows for its applicant {rows:?}",
                d["key"],
                rows.len()
            ));
            continue;
        }
        let id = rows[0].0;
        codes.insert(rows[0].1.clone());
        let (s, body) = get_json(
            &http,
            &format!("{base}/api/v1/dossiers/{id}/components/TP1/scan"),
            Some(&officer),
        )
        .await?;
        if s != 200
            || hex::encode(Sha256::digest(&body)) != d["sha256"].as_str().unwrap_or_default()
        {
            problems.push(format!(
                "dossier {}: its scan is not served ({s})",
                d["code"]
            ));
        }
    }
    // Every acknowledged document: there, once, with the number it was acknowledged with.
    for d in &documents {
        let rows: Vec<(i64, Option<i64>)> = (&db)
            .fetch_all(
                "SELECT id, number FROM documents WHERE subject = $1",
                args![d["subject"].as_str().unwrap_or_default()],
            )
            .await?;
        if rows.len() != 1
            || (!d["id"].is_null()
                && (Some(rows[0].0) != d["id"].as_i64() || rows[0].1 != d["number"].as_i64()))
        {
            problems.push(format!("document {}: rows {rows:?}", d["key"]));
        }
    }
    // Numbers: the dossier codes of each counter (agency and day), and the document series.
    let counters: Vec<(String, i64)> = (&db)
        .fetch_all(
            "SELECT key, value FROM counters WHERE scope = 'dossier'",
            args![],
        )
        .await?;
    let codes_checked: i64 = counters.iter().map(|(_, v)| v).sum();
    let per_agency: Vec<(i64, i64, i64)> = (&db)
        .fetch_all(
            "SELECT receiving_agency_id, COUNT(*), COUNT(DISTINCT code) FROM dossiers \
             GROUP BY receiving_agency_id",
            args![],
        )
        .await?;
    let mut by_agency: HashMap<i64, i64> = HashMap::new();
    for (key, value) in &counters {
        if let Some((a, _)) = key.split_once(':') {
            *by_agency.entry(a.parse().unwrap_or_default()).or_default() += value;
        }
    }
    for (agency, count, distinct) in &per_agency {
        let numbered = by_agency.get(agency).copied().unwrap_or_default();
        if count != distinct || *count != numbered {
            problems.push(format!(
                "agency {agency}: {count} dossiers, {distinct} codes, {numbered} numbers taken"
            ));
        }
    }
    let series: Vec<(i64, String, i64, i64, i64, i64)> = (&db)
        .fetch_all(
            "SELECT agency_id, COALESCE(series, ''), COUNT(*), COUNT(DISTINCT number), \
             MIN(number), MAX(number) FROM documents WHERE number IS NOT NULL \
             GROUP BY agency_id, COALESCE(series, ''), year",
            args![],
        )
        .await?;
    for (agency, series, count, distinct, min, max) in &series {
        if count != distinct || *min != 1 || max != count {
            problems.push(format!(
                "series {series} of agency {agency}: {count} numbers, {distinct} distinct, {min}..{max}"
            ));
        }
    }
    // The national portal holds every dossier (the outbox delivered it; it keeps one record per
    // code, so a second delivery would show only as an update).
    let want = codes;
    let deadline = Instant::now() + Duration::from_secs(wait);
    let (missing, state) = loop {
        let (_, body) = get_json(
            &http,
            &format!("{}/_state", portal.trim_end_matches('/')),
            None,
        )
        .await?;
        let state: Value = serde_json::from_slice(&body)?;
        let held: HashSet<&str> = state["dossiers"]
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let missing: Vec<String> = want
            .iter()
            .filter(|c| !held.contains(c.as_str()))
            .cloned()
            .collect();
        if missing.is_empty() || Instant::now() > deadline {
            break (missing, state);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    if !missing.is_empty() {
        problems.push(format!(
            "{} dossiers never reached the national portal: {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        ));
    }
    let jobs: Vec<(String, i64)> = (&db)
        .fetch_all("SELECT state, COUNT(*) FROM jobs GROUP BY state", args![])
        .await?;
    let jobs: BTreeMap<String, i64> = jobs.into_iter().collect();
    if jobs.get("dead").copied().unwrap_or_default() > 0 {
        problems.push(format!("dead jobs: {jobs:?}"));
    }
    println!(
        "{}",
        json!({"dossiers_acknowledged": dossiers.len(), "documents_acknowledged": documents.len(),
            "dossier_numbers_taken": codes_checked, "document_series": series.len(),
            "portal_records": state["dossiers"].as_object().map(|m| m.len()),
            "portal_creates": state["creates"], "portal_updates": state["updates"],
            "jobs": jobs, "problems": problems})
    );
    if !problems.is_empty() {
        bail!("{} problems", problems.len());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    match Args::parse().command {
        Cmd::Drive {
            base,
            accounts,
            clients,
            seconds,
            out,
        } => drive(base, accounts, clients, seconds, out).await,
        Cmd::Check {
            base,
            accounts,
            acks,
            database_url,
            portal,
            wait,
        } => check(base, accounts, acks, database_url, portal, wait).await,
    }
}
