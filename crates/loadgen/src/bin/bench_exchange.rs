//! `egov-bench-exchange`: measures the document exchange between two deployments through the
//! local hub — not part of CI; see `scripts/bench-exchange.sh` and docs/performance.md.
//!
//! Two deployments run in this process, each with its own database and file store and its own
//! worker (sending, and receiving every second), and the local hub serves both over HTTP on
//! loopback: Thanh Hóa's Department of Home Affairs writes to Nghệ An's.
//!
//! 1. Latency: `--documents` letters, each a PDF of `--pdf-mb` MB, issued one after another
//!    through the use cases (draft, file, submit, approve, sign off, issue — which seals it with
//!    the department's seal, a PAdES signature, as the demo's PKI configures); for each, the
//!    time from its issue to its arrival in the recipient's incoming queue (where its seal is
//!    judged: indeterminate, the sender's demo CA being unknown to the recipient).
//! 2. One poller: `--poller` packets waiting at the hub for one agency, taken by one receiving
//!    round after another (read, files streamed to the file store, signatures judged, filed,
//!    status 01 sent back, marked at the hub): packets per second.
//! 3. Backlog after an hour's outage: `--backlog` letters issued while the hub was down, their
//!    sends failed and backing off as an hour of failures leaves them (attempts and next run
//!    set as after an hour); the hub comes back: the time until every one is in the
//!    recipient's queue.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use egov_app::documents::RecipientInput;
use egov_app::documents::outgoing::{DraftCmd, OutAction};
use egov_app::exchange::transport::{Connected, HubConfig};
use egov_app::{Actor, App, Settings};
use egov_store::Exec;
use egov_web::exchange_hub::{HubMode, LocalHub};
use serde_json::json;

#[derive(Parser)]
struct Args {
    /// The sender's PostgreSQL URL; default: SQLite in a temporary directory.
    #[arg(long)]
    sender_url: Option<String>,
    /// The recipient's PostgreSQL URL; default: SQLite in a temporary directory.
    #[arg(long)]
    receiver_url: Option<String>,
    #[arg(long, default_value_t = 1000)]
    documents: usize,
    #[arg(long, default_value_t = 2)]
    pdf_mb: usize,
    /// Letters issued per second in the latency run (0: one after another, as fast as the use
    /// cases go).
    #[arg(long, default_value_t = 4.0)]
    rate: f64,
    #[arg(long, default_value_t = 500)]
    poller: usize,
    #[arg(long, default_value_t = 1500)]
    backlog: usize,
}

/// One deployment.
struct Side {
    app: Arc<App>,
    snv: i64,
    code: String,
    stop: tokio::sync::watch::Sender<bool>,
    worker: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Side {
    async fn open(url: Option<&str>, hub: &str, system: &str, province: &str) -> Result<Side> {
        let dir = tempfile::tempdir()?;
        let mut settings = Settings {
            data_dir: dir.path().to_path_buf(),
            ..Settings::default()
        };
        settings.exchange.enabled = true;
        settings.exchange.poll_seconds = 1;
        settings.exchange.invalid_signature = "register".into();
        settings.exchange.hub = HubConfig {
            url: hub.into(),
            system_id: system.into(),
            secret: format!("secret-{system}"),
            timeout_seconds: 30,
            ..HubConfig::default()
        };
        settings.server.max_upload_bytes = 64 << 20;
        settings.worker.poll_ms = 20;
        if let Some(u) = url {
            settings.database.url = u.into();
        }
        let app = App::open(settings.clone()).await?;
        app.seed_demo()
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        if province != "H56" {
            (app.db())
                .execute(
                    "UPDATE agencies SET code = REPLACE(code, '.H56', $1)",
                    egov_store::args![format!(".{province}")],
                )
                .await?;
        }
        let (snv, code): (i64, String) = (app.db())
            .fetch_one(
                "SELECT id, code FROM agencies WHERE short_name = 'SNV' ORDER BY id LIMIT 1",
                egov_store::args![],
            )
            .await?;
        (app.db())
            .execute(
                "UPDATE agencies SET code_source = 'official' WHERE id = $1",
                egov_store::args![snv],
            )
            .await?;
        // The demo's PKI: every records office seals what it issues.
        let pki = app
            .demo_pki(&dir.path().join("pki"), egov_pki::KeyAlgorithm::EcdsaP256)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        drop(app);
        settings.signatures = egov_app::settings::Signatures {
            leader_signature: settings.signatures.leader_signature,
            ..pki.settings
        };
        let app = App::open(settings).await?;
        let (stop, _) = tokio::sync::watch::channel(false);
        Ok(Side {
            app,
            snv,
            code,
            stop,
            worker: None,
            _dir: dir,
        })
    }

    fn start(&mut self) {
        let (stop, rx) = tokio::sync::watch::channel(false);
        self.stop = stop;
        let w = egov_app::jobs::Worker::new(self.app.clone());
        self.worker = Some(tokio::spawn(w.run(rx)));
    }

    async fn halt(&mut self) {
        let _ = self.stop.send(true);
        if let Some(w) = self.worker.take() {
            let _ = w.await;
        }
    }

    /// Incoming copies that came through the exchange.
    async fn arrived(&self) -> Result<i64> {
        Ok((self.app.db())
            .scalar(
                "SELECT COUNT(*) FROM incoming WHERE channel = 'exchange' AND agency_id = $1",
                egov_store::args![self.snv],
            )
            .await?)
    }
}

async fn actor(app: &App, user: &str) -> Result<Actor> {
    let p = egov_store::people::find_by_username(&mut app.db(), user)
        .await?
        .with_context(|| format!("no demo account {user}"))?;
    Ok(Actor::person(p.id, user))
}

/// A PDF of about `mb` MB (a letter with an incompressible embedded stream, as a scan's image
/// is), distinct for each `n`.
fn letter_pdf(mb: usize, n: u64) -> Result<Vec<u8>> {
    use lopdf::{Dictionary, Object, Stream};
    let mut doc = lopdf::Document::load_mem(include_bytes!("../../../web/tests/it/draft.pdf"))?;
    let mut x = n
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        | 1;
    let mut data = Vec::with_capacity(mb << 20);
    while data.len() < mb << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.extend_from_slice(&x.to_le_bytes());
    }
    data.truncate(mb << 20);
    let mut dict = Dictionary::new();
    dict.set("Type", Object::Name(b"EmbeddedFile".to_vec()));
    doc.add_object(Object::Stream(
        Stream::new(dict, data).with_compression(false),
    ));
    let mut out = Vec::new();
    doc.save_to(&mut out)?;
    Ok(out)
}

/// Drafts, approves, signs off and issues a letter to the other department; answers its
/// notation and the moment it was issued.
async fn issue(
    app: &App,
    from: i64,
    to: &str,
    n: usize,
    pdf: Vec<u8>,
    people: &HashMap<&str, Actor>,
) -> Result<(String, time::OffsetDateTime)> {
    let d = app
        .create_draft(
            &people["chuyenvien.snv"],
            DraftCmd {
                recipients: vec![RecipientInput {
                    agency_id: None,
                    external_code: Some(to.into()),
                    name: Some("Sở Nội vụ tỉnh Nghệ An".into()),
                    addressed: true,
                }],
                recipients_text: "- Sở Nội vụ tỉnh Nghệ An;\n- Lưu: VT.".into(),
                ..DraftCmd::new(from, "official_letter", &format!("V/v trao đổi số {n}"))
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    app.add_document_file(
        &people["chuyenvien.snv"],
        d.id,
        "main",
        "cong-van.pdf",
        Some("application/pdf"),
        pdf,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let mut version = egov_store::documents::get_document(&mut app.db(), d.id)
        .await?
        .version;
    for (user, event) in [
        ("chuyenvien.snv", "submit"),
        ("truongphong.snv", "approve"),
        ("giamdoc.snv", "sign_off"),
        ("vanthu.snv", "issue"),
    ] {
        let done = app
            .act_on_document(
                &people[user],
                d.id,
                OutAction::parse(event, version, String::new(), None)
                    .map_err(|e| anyhow::anyhow!("{}", e.message))?,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{event}: {}", e.message))?;
        version = done.version;
    }
    let issued = egov_store::now();
    let d = egov_store::documents::get_document(&mut app.db(), d.id).await?;
    Ok((d.notation.unwrap_or_default(), issued))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn wait_for(side: &Side, count: i64, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    while side.arrived().await? < count {
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {} of {count} arrived",
            side.arrived().await?
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let hub = LocalHub::new(
        [("thanhhoa", "secret-thanhhoa"), ("nghean", "secret-nghean")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        Vec::new(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let served = hub.clone();
    tokio::spawn(async move { served.serve(listener, std::future::pending()).await });
    let mut th = Side::open(args.sender_url.as_deref(), &url, "thanhhoa", "H56").await?;
    let mut na = Side::open(args.receiver_url.as_deref(), &url, "nghean", "H41").await?;
    for (code, name) in [
        (&th.code, "Sở Nội vụ tỉnh Thanh Hóa"),
        (&na.code, "Sở Nội vụ tỉnh Nghệ An"),
    ] {
        hub.register(Connected {
            code: code.clone(),
            name: name.into(),
            parent: None,
        });
    }
    let backends = json!({
        "sender": if args.sender_url.is_some() { "postgres" } else { "sqlite" },
        "receiver": if args.receiver_url.is_some() { "postgres" } else { "sqlite" },
    });
    let mut people = HashMap::new();
    for user in [
        "chuyenvien.snv",
        "truongphong.snv",
        "giamdoc.snv",
        "vanthu.snv",
    ] {
        people.insert(user, actor(&th.app, user).await?);
    }
    let mut counter = 0u64;
    let mut next_pdf = || {
        counter += 1;
        letter_pdf(args.pdf_mb, counter)
    };

    // 1. Latency from issue to the recipient's queue, both workers running.
    th.start();
    na.start();
    let mut issued = HashMap::new();
    let started = Instant::now();
    for n in 0..args.documents {
        if args.rate > 0.0 {
            let due = started + Duration::from_secs_f64(n as f64 / args.rate);
            tokio::time::sleep_until(due.into()).await;
        }
        let pdf = next_pdf()?;
        let (notation, at) = issue(&th.app, th.snv, &na.code, n, pdf, &people).await?;
        issued.insert(notation, at);
    }
    let issuing = started.elapsed().as_secs_f64();
    wait_for(&na, args.documents as i64, Duration::from_secs(600)).await?;
    let total = started.elapsed().as_secs_f64();
    let rows: Vec<(Option<String>, time::OffsetDateTime)> = (na.app.db())
        .fetch_all(
            "SELECT d.notation, i.arrived_at FROM incoming i JOIN documents d ON d.id = i.document_id \
             WHERE i.channel = 'exchange' AND i.agency_id = $1",
            egov_store::args![na.snv],
        )
        .await?;
    let mut latencies: Vec<f64> = rows
        .iter()
        .filter_map(|(n, at)| {
            let sent = issued.get(n.as_deref()?)?;
            Some((*at - *sent).as_seconds_f64() * 1000.0)
        })
        .collect();
    latencies.sort_by(|a, b| a.total_cmp(b));
    let verdicts: Vec<(Option<String>, i64)> = (na.app.db())
        .fetch_all(
            "SELECT r.status, COUNT(*) FROM incoming i JOIN documents d ON d.id = i.document_id \
             LEFT JOIN signature_reports r ON r.sha256 = d.main_sha \
             WHERE i.channel = 'exchange' GROUP BY r.status",
            egov_store::args![],
        )
        .await?;
    println!(
        "{}",
        json!({"backends": backends, "latency": {
            "documents": latencies.len(), "pdf_mb": args.pdf_mb, "rate_per_s": args.rate,
            "issuing_s": (issuing * 10.0).round() / 10.0, "all_arrived_s": (total * 10.0).round() / 10.0,
            "p50_ms": percentile(&latencies, 0.5).round(), "p95_ms": percentile(&latencies, 0.95).round(),
            "max_ms": latencies.last().copied().unwrap_or(0.0).round(),
            "verdicts": verdicts.iter().map(|(s, n)| json!({"status": s, "count": n})).collect::<Vec<_>>(),
        }})
    );

    // 2. One poller: packets waiting at the hub for one agency, taken round after round.
    na.halt().await;
    let before = na.arrived().await?;
    for n in 0..args.poller {
        let pdf = next_pdf()?;
        issue(&th.app, th.snv, &na.code, 100_000 + n, pdf, &people).await?;
    }
    // Every send done before the poller starts.
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let pending: i64 = (th.app.db())
            .scalar(
                "SELECT COUNT(*) FROM jobs WHERE kind = 'exchange.send' AND state <> 'done'",
                egov_store::args![],
            )
            .await?;
        if pending == 0 {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "{pending} sends not done");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let client =
        egov_app::exchange::transport::HubClient::new(na.app.settings.exchange.hub.clone());
    let t0 = Instant::now();
    let mut received = 0;
    while received < args.poller {
        let r = na
            .app
            .receive_round(&client)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        anyhow::ensure!(r.documents > 0, "the round made no progress: {r:?}");
        received += r.documents;
    }
    let secs = t0.elapsed().as_secs_f64();
    anyhow::ensure!(na.arrived().await? == before + args.poller as i64);
    println!(
        "{}",
        json!({"backends": backends, "one_poller": {"packets": received, "pdf_mb": args.pdf_mb,
            "seconds": (secs * 10.0).round() / 10.0,
            "packets_per_s": (received as f64 / secs * 10.0).round() / 10.0}})
    );

    // 3. An hour's outage: the letters issued meanwhile wait, backing off; the hub comes back.
    na.start();
    hub.set_mode(HubMode {
        down: true,
        ..HubMode::default()
    });
    let before = na.arrived().await?;
    for n in 0..args.backlog {
        let pdf = next_pdf()?;
        issue(&th.app, th.snv, &na.code, 200_000 + n, pdf, &people).await?;
    }
    // As an hour of failures leaves them: nine attempts made, the next in up to an hour.
    th.halt().await;
    (th.app.db())
        .execute(
            "UPDATE jobs SET attempts = 9, run_at = $1, last_error = '[hub] no answer: HTTP 503: 503 Service Unavailable' \
             WHERE kind = 'exchange.send' AND state = 'queued'",
            egov_store::args![egov_store::now() + time::Duration::minutes(40)],
        )
        .await?;
    th.start();
    let t0 = Instant::now();
    hub.set_mode(HubMode::default());
    wait_for(&na, before + args.backlog as i64, Duration::from_secs(1800)).await?;
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"backends": backends, "backlog": {"documents": args.backlog, "pdf_mb": args.pdf_mb,
            "drained_s": (secs * 10.0).round() / 10.0,
            "documents_per_s": (args.backlog as f64 / secs * 10.0).round() / 10.0}})
    );
    th.halt().await;
    na.halt().await;
    Ok(())
}
