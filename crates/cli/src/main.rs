//! `egov`: the one binary of the platform.

mod blobs;
mod config;
mod demo;
mod exchange;
mod pki;
mod scorecard;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use egov_app::{Actor, App};
use egov_domain::admin_unit::Structure;

#[derive(Parser)]
#[command(
    name = "egov",
    version,
    about = "egov – e-government platform for Vietnamese provinces"
)]
struct Cli {
    /// Configuration file (TOML). Also `EGOV_CONFIG`.
    #[arg(long, global = true, env = "EGOV_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (SQLite database, blobs). Overrides `data_dir`.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Database URL (`postgres://…` or a SQLite path). Overrides `database.url`.
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create (or reuse) a demo data directory with Thanh Hóa seeded, and serve it.
    Demo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Seed and print the accounts, then exit without serving.
        #[arg(long)]
        seed_only: bool,
        /// The demo PKI's keys: `rsa` (RSA-2048, as Vietnamese CAs issue) or `p256`.
        #[arg(long, default_value = "rsa", value_parser = pki::parse_key_algorithm)]
        key_algorithm: egov_pki::KeyAlgorithm,
    },
    /// Serve the web application (and a worker loop unless `worker.enabled = false`).
    Serve {
        #[arg(long)]
        listen: Option<String>,
    },
    /// Run background jobs only (for deployments with several processes).
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Import reference data.
    #[command(subcommand)]
    Import(ImportCmd),
    /// Manage officials.
    #[command(subcommand)]
    User(UserCmd),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Jobs on the outbox.
    #[command(subcommand)]
    Jobs(JobsCmd),
    /// Files: move them to an S3-compatible bucket, check them against the database.
    #[command(subcommand)]
    Blobs(blobs::BlobsCmd),
    /// Back up the database and blobs into one archive (safe while the server runs).
    Backup {
        /// The archive to write, e.g. egov-2026-11-24.tar
        file: PathBuf,
    },
    /// Restore an archive made by `egov backup` into the configured database and data dir.
    Restore {
        file: PathBuf,
        /// Replace an existing database.
        #[arg(long)]
        force: bool,
    },
    /// Print the configuration in effect (TOML), with defaults filled in.
    Config,
    /// The working-day calendar and deadlines.
    #[command(subcommand)]
    Calendar(CalendarCmd),
    /// Keys and signed PDFs: a demo PKI, signing a file, verifying one.
    #[command(subcommand)]
    Pki(pki::PkiCmd),
    /// The signer's client: list and sign the documents waiting for your signature.
    #[command(subcommand)]
    Signer(pki::SignerCmd),
    /// Reporting to the National Public Service Portal.
    #[command(subcommand)]
    NationalPortal(NationalCmd),
    /// Document exchange with other systems (edXML packets, QCVN 102:2016).
    #[command(subcommand)]
    Exchange(exchange::ExchangeCmd),
    /// The Decision 766 scorecard of a period: every indicator with its numerator,
    /// denominator, value and points (docs/scorecard.md).
    Scorecard(scorecard::ScorecardArgs),
}

#[derive(Subcommand)]
enum NationalCmd {
    /// Serve a local stand-in of the national portal that validates and keeps what it is sent
    /// (its page at `/` shows it). See docs/national-portal.md.
    Fake {
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: String,
        /// Accept only this user name (and `--password`); anyone otherwise.
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        password: Option<String>,
    },
    /// Run one round of the synchronisation now and print what it did.
    Sync,
    /// Take in the dossiers submitted on the portal now and print what happened.
    Intake,
    /// Pull the national procedure catalogue now and hold it for review (the operator's page).
    Catalogue,
    /// Look up every dossier submitted in a period on the portal and list what is missing,
    /// stale, lacking progress or refused.
    Reconcile {
        /// First day, e.g. 2026-12-01 (Vietnam time).
        #[arg(long)]
        from: String,
        /// Day after the last, e.g. 2027-01-01.
        #[arg(long)]
        to: String,
        /// Queue what is missing or stale to be sent again.
        #[arg(long)]
        requeue: bool,
    },
}

/// A `YYYY-MM-DD` day's start in Vietnam time.
fn vn_day(s: &str) -> Result<time::OffsetDateTime> {
    let d = time::Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .with_context(|| format!("{s:?} is not a date (YYYY-MM-DD)"))?;
    Ok(d.midnight().assume_offset(egov_domain::VN_OFFSET))
}

#[derive(Subcommand)]
enum CalendarCmd {
    /// Print a year's holidays, compensatory, swapped and make-up days, one dated line each.
    Year { year: i32 },
    /// Print a deadline in Asia/Ho_Chi_Minh. Times without an offset are Vietnam time.
    Due {
        /// When the dossier or document was received, e.g. 2026-02-12T09:00.
        #[arg(long)]
        from: String,
        #[arg(long, group = "limit")]
        working_days: Option<f64>,
        #[arg(long, group = "limit")]
        working_hours: Option<f64>,
        #[arg(long, group = "limit")]
        calendar_days: Option<u32>,
        #[arg(long, group = "limit")]
        months: Option<u32>,
        /// Same day, with this cut-off (e.g. 15:00).
        #[arg(long, group = "limit")]
        same_day_cutoff: Option<String>,
        /// A paused interval FROM..TO (repeatable), e.g. 2026-03-04T10:00..2026-03-06T10:00.
        #[arg(long)]
        pause: Vec<String>,
        /// Use this agency's office hours (agency identifier).
        #[arg(long)]
        agency: Option<String>,
    },
    /// Confirm a year's calendar (as the system administrator would on its page).
    Confirm { year: i32 },
}

#[derive(Subcommand)]
enum ImportCmd {
    /// Administrative units: CSV `level,code,name,division_type,parent_code`.
    Units {
        file: PathBuf,
        /// `three_tier` (until 30 June 2025) or `two_tier` (from 1 July 2025).
        #[arg(long)]
        structure: String,
        /// Only this province (statistical code, e.g. 38).
        #[arg(long)]
        province: Option<String>,
    },
    /// The 2025 succession table: CSV `old_commune_code,new_commune_code,kind,default_successor`.
    Succession { file: PathBuf },
    /// Published agency identifiers: CSV `structure,unit_code,identifier[,status]`.
    Identifiers { file: PathBuf },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create an official; the password is read from EGOV_PASSWORD or generated and printed.
    Add {
        username: String,
        #[arg(long)]
        name: String,
        /// Agency identifier, e.g. 000.00.01.H56.
        #[arg(long)]
        agency: Option<String>,
        #[arg(long, default_value = "chuyen_vien")]
        position: String,
    },
    /// Grant a role: administrator, agency_leader, unit_leader, specialist, records_clerk,
    /// one_stop_officer, editor.
    Grant {
        username: String,
        role: String,
        /// Agency identifier; omit with `administrator` for a deployment-wide administrator.
        #[arg(long)]
        agency: Option<String>,
    },
    /// Turn off a person's TOTP (they set it up again at their next sign-in).
    ResetTotp { username: String },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Seal pending entries and check the whole chain — every entry's MAC, every link, the
    /// head — against the checkpoints kept outside the database; exit status 1 if it does not
    /// hold.
    Verify,
    /// Seal pending entries and append a checkpoint of the chain's head to the checkpoint file
    /// (time-stamped when `signatures.tsa_url` is set): for cron, and before a backup.
    Checkpoint,
}

#[derive(Subcommand)]
enum JobsCmd {
    /// Queue a JSON POST to a URL (an outbox test, or a manual notification).
    HttpPost {
        url: String,
        body: String,
        /// Idempotency key (default: random).
        #[arg(long)]
        key: Option<String>,
    },
    /// Show job counts by state.
    Stats,
}

/// glibc raises its mmap threshold each time a large block is freed, after which the 19 MiB
/// blocks argon2 allocates for every password check stay in the heap, and RSS grows to hundreds
/// of MiB. A fixed threshold keeps them mmapped, so they go back to the system when freed.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before any other thread runs.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

fn main() -> Result<()> {
    tune_allocator();
    let cli = Cli::parse();
    let mut settings = config::load(cli.config.as_deref(), cli.data_dir.as_deref())?;
    if let Some(u) = cli.database_url {
        settings.database.url = u;
    }
    config::init_logging(&settings);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(cli.command, settings))
}

async fn open(settings: egov_app::Settings) -> Result<Arc<App>> {
    App::open(settings)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))
}

fn read(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

async fn run(command: Command, settings: egov_app::Settings) -> Result<()> {
    let system = Actor::system("cli");
    match command {
        Command::Demo {
            listen,
            seed_only,
            key_algorithm,
        } => demo::run(settings, &listen, seed_only, key_algorithm).await,
        Command::Pki(cmd) => pki::run(cmd, settings).await,
        Command::Exchange(cmd) => exchange::run(cmd, settings).await,
        Command::Scorecard(args) => {
            let app = open(settings).await?;
            scorecard::run(&app, &system, args).await
        }
        Command::NationalPortal(NationalCmd::Fake {
            listen,
            username,
            password,
        }) => {
            let accounts = match (username, password) {
                (Some(u), Some(p)) => vec![(u, p)],
                _ => Vec::new(),
            };
            let fake = egov_web::national_fake::FakePortal::new(accounts);
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("listening on {listen}"))?;
            println!("National portal stand-in on http://{listen}/ (Ctrl-C stops it).");
            fake.serve(listener, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
            Ok(())
        }
        Command::NationalPortal(NationalCmd::Reconcile { from, to, requeue }) => {
            if !settings.national_portal.enabled {
                anyhow::bail!("national_portal.enabled is false in the configuration");
            }
            let (from, to) = (vn_day(&from)?, vn_day(&to)?);
            let portal =
                egov_app::onestop::national_sync::HttpPortal::new(settings.national_portal.clone());
            let app = open(settings).await?;
            let r = app
                .reconcile_national(&system, &portal, from, to, requeue)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            println!("{} dossiers looked up.", r.checked);
            for c in &r.missing {
                println!("missing   {c}");
            }
            for (c, fields) in &r.stale {
                println!("stale     {c}: {}", fields.join(", "));
            }
            for (c, n) in &r.lost_progress {
                println!("progress  {c}: {n} entries missing");
            }
            for c in &r.rejected {
                println!("refused   {c}");
            }
            for c in &r.unanswered {
                println!("no answer {c}");
            }
            println!(
                "{} missing, {} stale, {} lacking progress, {} refused, {} still owed, {} unanswered{}",
                r.missing.len(),
                r.stale.len(),
                r.lost_progress.len(),
                r.rejected.len(),
                r.waiting.len(),
                r.unanswered.len(),
                if requeue
                    && !(r.missing.is_empty() && r.stale.is_empty() && r.lost_progress.is_empty())
                {
                    "; queued to be sent again"
                } else {
                    ""
                }
            );
            Ok(())
        }
        Command::NationalPortal(NationalCmd::Sync) => {
            if !settings.national_portal.enabled {
                anyhow::bail!("national_portal.enabled is false in the configuration");
            }
            let portal =
                egov_app::onestop::national_sync::HttpPortal::new(settings.national_portal.clone());
            let app = open(settings).await?;
            let r = app
                .sync_national(&portal)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            println!(
                "records sent {}, progress entries sent {}, refused {}, failed {}, found already there {}",
                r.records, r.progress, r.rejected, r.failed, r.found
            );
            Ok(())
        }
        Command::NationalPortal(NationalCmd::Intake) => {
            if !settings.national_portal.intake {
                anyhow::bail!("national_portal.intake is false in the configuration");
            }
            let portal =
                egov_app::onestop::national_sync::HttpPortal::new(settings.national_portal.clone());
            let app = open(settings).await?;
            let r = app
                .intake_national(&portal)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            if let Some(e) = &r.pull_error {
                println!("the pull failed: {e}");
            }
            println!(
                "pulled {}, pulled again (recognised) {}, taken in {}, held {}, to try again {}",
                r.pulled, r.duplicates, r.taken, r.held, r.failed
            );
            Ok(())
        }
        Command::NationalPortal(NationalCmd::Catalogue) => {
            if !settings.national_portal.enabled {
                anyhow::bail!("national_portal.enabled is false in the configuration");
            }
            let portal =
                egov_app::onestop::national_sync::HttpPortal::new(settings.national_portal.clone());
            let app = open(settings).await?;
            let p = app
                .pull_catalogue(&portal)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            println!(
                "{} procedures listed: {} not published here, {} changed, {} the same, {} unreadable; review them on /admin/national-portal",
                p.listed, p.new, p.changed, p.same, p.bad
            );
            Ok(())
        }
        Command::Signer(cmd) => pki::signer(cmd).await,
        Command::Serve { listen } => {
            let mut settings = settings;
            if let Some(l) = listen {
                settings.server.listen = l;
            }
            let listen = settings.server.listen.clone();
            let app = open(settings).await?;
            serve(app, &listen).await
        }
        Command::Worker => {
            let app = open(settings).await?;
            let (tx, rx) = tokio::sync::watch::channel(false);
            let worker = egov_app::jobs::Worker::new(app);
            let handle = tokio::spawn(worker.run(rx));
            shutdown_signal().await;
            let _ = tx.send(true);
            handle.await?;
            Ok(())
        }
        Command::Migrate => {
            let app = open(settings).await?;
            println!("migrations applied: {}", app.db().describe());
            Ok(())
        }
        Command::Import(cmd) => {
            let app = open(settings).await?;
            egov_app::seed::seed_positions(&mut app.db())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let started = std::time::Instant::now();
            let report = match cmd {
                ImportCmd::Units {
                    file,
                    structure,
                    province,
                } => {
                    let s = Structure::parse(&structure)
                        .context("--structure is three_tier or two_tier")?;
                    app.import_units(&system, s, &read(&file)?, province.as_deref())
                        .await
                }
                ImportCmd::Succession { file } => {
                    app.import_succession(&system, &read(&file)?).await
                }
                ImportCmd::Identifiers { file } => {
                    app.import_identifiers(&system, &read(&file)?).await
                }
            }
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            println!(
                "imported: {} units, {} agencies created, {} successions, {} rows skipped ({:.2} s)",
                report.units,
                report.agencies_created,
                report.successions,
                report.skipped,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::User(cmd) => user(open(settings).await?, &system, cmd).await,
        Command::Audit(AuditCmd::Checkpoint) => {
            let app = open(settings).await?;
            let cp = app
                .write_audit_checkpoint()
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            println!(
                "checkpoint at {}: {} entries, head {}{}",
                cp.at,
                cp.seq,
                cp.hash,
                if cp.timestamp.is_some() {
                    " (time-stamped)"
                } else {
                    ""
                }
            );
            Ok(())
        }
        Command::Audit(AuditCmd::Verify) => {
            let app = open(settings).await?;
            let r = app
                .verify_audit()
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            println!(
                "entries in the chain: {}; not yet sealed: {}; head: {} {}; checkpoints held: {}",
                r.sealed, r.unsealed, r.head_seq, r.head_hash, r.checkpoints
            );
            match r.broken {
                None => {
                    println!("audit chain OK");
                    Ok(())
                }
                Some(b) => {
                    eprintln!(
                        "audit chain BROKEN at entry {}{}: {}",
                        b.seq,
                        b.entry_id
                            .map(|i| format!(" (row id {i})"))
                            .unwrap_or_default(),
                        b.reason
                    );
                    std::process::exit(1);
                }
            }
        }
        Command::Jobs(JobsCmd::HttpPost { url, body, key }) => {
            let app = open(settings).await?;
            let body: serde_json::Value =
                serde_json::from_str(&body).context("the body must be JSON")?;
            let key = key.unwrap_or_else(|| egov_app::auth::random_token(16));
            let id = app
                .enqueue_http_post(&system, &url, body, &key)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            println!("queued job {id} with idempotency key {key}");
            Ok(())
        }
        Command::Blobs(cmd) => {
            let app = open(settings.clone()).await?;
            blobs::run(settings, &app, cmd).await
        }
        Command::Jobs(JobsCmd::Stats) => {
            let app = open(settings).await?;
            for c in egov_store::jobs::counts(&mut app.db()).await? {
                println!("{:8} {}", c.state, c.count);
            }
            Ok(())
        }
        Command::Backup { file } => {
            let url = settings.database_url();
            let app = open(settings).await?;
            let started = std::time::Instant::now();
            // A checkpoint first: the backup's log (and the checkpoint file) record the head.
            let cp = app
                .write_audit_checkpoint()
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            println!("audit checkpoint: {} entries, head {}", cp.seq, cp.hash);
            let m = egov_store::backup::backup(app.db(), &url, &app.blobs, &file).await?;
            println!(
                "backup written to {} ({} database, {} blobs, {:.1} s)",
                file.display(),
                m.backend,
                m.blobs,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Restore { file, force } => {
            let url = settings.database_url();
            let m = egov_store::backup::restore(&file, &url, &settings.blob_dir(), force).await?;
            // Open it once: migrations of a newer egov apply, and the audit chain is checked.
            let app = open(settings).await?;
            let r = app
                .verify_audit()
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            println!(
                "restored a {} backup of {} ({} blobs); audit chain: {}",
                m.backend,
                m.created_at,
                m.blobs,
                if r.broken.is_none() { "OK" } else { "BROKEN" }
            );
            Ok(())
        }
        Command::Calendar(cmd) => calendar(open(settings).await?, &system, cmd).await,
        Command::Config => {
            println!("{}", config::to_toml(&settings)?);
            Ok(())
        }
    }
}

async fn user(app: Arc<App>, system: &Actor, cmd: UserCmd) -> Result<()> {
    let agency_id = |code: &Option<String>| {
        let app = app.clone();
        let code = code.clone();
        async move {
            match code {
                None => Ok(None),
                Some(c) => egov_store::agencies::find_by_code(&mut app.db(), &c)
                    .await?
                    .map(|a| Some(a.id))
                    .with_context(|| format!("no agency has the identifier {c}")),
            }
        }
    };
    match cmd {
        UserCmd::Add {
            username,
            name,
            agency,
            position,
        } => {
            let (password, generated) = match std::env::var("EGOV_PASSWORD") {
                Ok(p) => (p, false),
                Err(_) => (egov_app::auth::random_token(12), true),
            };
            let p = app
                .create_person(
                    system,
                    egov_app::people::NewOfficial {
                        username,
                        full_name: name,
                        email: None,
                        phone: None,
                        password: password.clone(),
                        agency_id: agency_id(&agency).await?,
                        org_unit_id: None,
                        position_key: agency.as_ref().map(|_| position),
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            println!("created {} (id {})", p.username, p.id);
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
        UserCmd::Grant {
            username,
            role,
            agency,
        } => {
            let p = egov_store::people::find_by_username(&mut app.db(), &username)
                .await?
                .context("no such user")?;
            let g = app
                .grant_role(
                    system,
                    p.id,
                    egov_app::org::GrantRole {
                        role,
                        agency_id: agency_id(&agency).await?,
                        org_unit_id: None,
                        reason: "egov user grant".into(),
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            println!(
                "granted {} to {} in {}",
                g.role,
                username,
                g.agency_name
                    .unwrap_or_else(|| "the whole deployment".into())
            );
            Ok(())
        }
        UserCmd::ResetTotp { username } => {
            let p = egov_store::people::find_by_username(&mut app.db(), &username)
                .await?
                .context("no such user")?;
            let mut tx = app.db().begin().await?;
            egov_store::people::set_totp(&mut tx, p.id, None, false, egov_store::now()).await?;
            egov_store::people::delete_sessions_of(&mut tx, p.id).await?;
            egov_app::audit::event("person.totp_reset", "person", p.id)
                .write(&mut tx, system)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            tx.commit().await?;
            println!(
                "two-factor authentication turned off for {username}; they set it up at the next sign-in"
            );
            Ok(())
        }
    }
}

/// Parses `2026-02-12T09:00` (Vietnam time), or an RFC 3339 instant with an offset.
fn parse_instant(s: &str) -> Result<time::OffsetDateTime> {
    if let Some(t) = egov_store::parse_ts(s) {
        return Ok(t);
    }
    for fmt in [
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]"),
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]"),
    ] {
        if let Ok(p) = time::PrimitiveDateTime::parse(s.trim(), &fmt) {
            return Ok(p.assume_offset(egov_domain::VN_OFFSET));
        }
    }
    anyhow::bail!("{s:?} is not a date and time such as 2026-02-12T09:00")
}

async fn calendar(app: Arc<App>, system: &Actor, cmd: CalendarCmd) -> Result<()> {
    let fail = |e: egov_app::AppError| anyhow::anyhow!("{}: {}", e.code, e.message);
    match cmd {
        CalendarCmd::Year { year } => {
            let y = app.calendar_year(year).await.map_err(fail)?;
            println!("# {year}: {} (version {})", y.status, y.version);
            for d in &y.days {
                println!(
                    "{} {:<9} {:<20} {}{}",
                    d.date,
                    d.date.weekday(),
                    d.kind.as_str(),
                    d.name,
                    if d.confirmed { "" } else { " [proposed]" }
                );
            }
            Ok(())
        }
        CalendarCmd::Due {
            from,
            working_days,
            working_hours,
            calendar_days,
            months,
            same_day_cutoff,
            pause,
            agency,
        } => {
            let received = parse_instant(&from)?;
            let mut pauses = Vec::new();
            for p in &pause {
                let (a, b) = p.split_once("..").context("a pause is FROM..TO")?;
                pauses.push(egov_domain::calendar::Pause {
                    from: parse_instant(a)?,
                    to: parse_instant(b)?,
                });
            }
            let agency_id = match agency {
                Some(code) => Some(
                    egov_store::agencies::find_by_code(&mut app.db(), &code)
                        .await?
                        .with_context(|| format!("no agency has the identifier {code}"))?
                        .id,
                ),
                None => None,
            };
            let req = egov_app::calendar::DeadlineRequest {
                received,
                limit: egov_app::calendar::LimitSpec {
                    working_days,
                    working_hours,
                    calendar_days,
                    months,
                    same_day_cutoff,
                },
                pauses,
                agency_id,
            };
            let d = app.compute_deadline(&req).await.map_err(fail)?;
            let local = d.due.to_offset(egov_domain::VN_OFFSET);
            println!(
                "{} {} (Asia/Ho_Chi_Minh)",
                local.date().weekday(),
                d.due_local
            );
            for w in &d.warnings {
                eprintln!("warning: {w}");
            }
            Ok(())
        }
        CalendarCmd::Confirm { year } => {
            let (_, moved) = app
                .confirm_calendar_year(system, year)
                .await
                .map_err(fail)?;
            println!(
                "the {year} calendar is confirmed; {moved} step deadlines moved (see /admin/calendar/reviews)"
            );
            Ok(())
        }
    }
}

/// Serves HTTP (and the in-process worker) until Ctrl-C or SIGTERM.
pub async fn serve(app: Arc<App>, listen: &str) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(address = %addr, database = %app.db().describe(), "egov serving");
    println!("egov is serving http://{addr}");
    let (tx, rx) = tokio::sync::watch::channel(false);
    let worker = app
        .settings
        .worker
        .enabled
        .then(|| tokio::spawn(egov_app::jobs::Worker::new(app.clone()).run(rx)));
    // On a signal: report not ready first (the load balancer's probes see it), then stop
    // accepting connections; requests in flight finish.
    let draining = app.clone();
    let shutdown = async move {
        shutdown_signal().await;
        draining.start_draining();
        let secs = draining.settings.server.drain_secs;
        if secs > 0 {
            tracing::info!(seconds = secs, "draining: not ready, still serving");
            tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
        }
        tracing::info!("shutting down: finishing requests in flight");
    };
    egov_web::serve(app.clone(), listener, shutdown).await?;
    let _ = tx.send(true);
    if let Some(w) = worker {
        let _ = w.await;
    }
    app.db().close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
