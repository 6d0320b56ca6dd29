//! `egov exchange …`: the document exchange's operator commands. `inspect` prints a packet as
//! egov's reader understands it; `build` writes one from a JSON description (for tests, and for
//! an operator who must answer a hub by hand).

use std::fs::File;
use std::io::{BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use egov_app::exchange::transport::Transport as _;
use egov_edxml::unzip::{EntrySink, ZipLimits, unzip};
use egov_edxml::{AttachmentSink, Limits, Packet, Summary, TraceHeader};
use egov_store::Exec as _;
use serde::Serialize;

#[derive(Subcommand)]
pub enum ExchangeCmd {
    /// Print PACKET (an .edxml file) as egov reads it, as JSON: kind, DocumentId, From, To,
    /// code, business action or status code, attachments with names, types and sizes (and the
    /// files inside ZIP attachments). Exits 1, naming what is wrong, when it cannot be read.
    Inspect {
        packet: PathBuf,
        /// The largest packet to read, in MiB.
        #[arg(long, default_value_t = 512)]
        max_mib: u64,
    },
    /// Write a packet from a JSON description (a document or a status packet, as
    /// `docs/edxml.md` shows); attachments' `file`s are read relative to the description and
    /// must stay in its folder unless `--any-path` is given.
    Build {
        description: PathBuf,
        output: PathBuf,
        /// Allow attachments named by an absolute path or one that climbs out (`..`).
        #[arg(long)]
        any_path: bool,
    },
    /// Receive once: what waits at the hub for our agencies, filed as the worker would.
    Poll,
    /// Send now the packets issuing queued for outside recipients (each once: one already
    /// sent is found in the message log and not sent again).
    Send,
    /// Fetch the hub's directory of connected agencies and match it with ours.
    Directory,
    /// Search the message log (newest first), as JSON lines.
    Log {
        /// `sending`, `sent`, `failed`, `refused` or `received`.
        #[arg(long)]
        state: Option<String>,
        /// egov's document id.
        #[arg(long)]
        document: Option<i64>,
        /// Part of the other side's identifier.
        #[arg(long)]
        agency: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Check the message log's tamper evidence: the audit chain that records every change of a
    /// message (keyed MACs, links, checkpoints), each message against its last audit entry,
    /// and each kept packet against its hash. Exits 1 naming what does not hold.
    Verify,
    /// Serve a local document exchange hub that behaves like the national one (queues per
    /// agency, transport status, the directory, signed calls, packets re-serialised): for
    /// tests, demonstrations and two deployments exchanging on one machine.
    Hub {
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: String,
        /// A system allowed to call, as `ID=SECRET` (repeat it); none: any caller is taken on
        /// its word.
        #[arg(long = "system")]
        systems: Vec<String>,
        /// The bearer token a system presents in the LGSP dialect, as `ID=TOKEN` (repeat it);
        /// a system without one may present any token.
        #[arg(long = "token")]
        tokens: Vec<String>,
        /// The connected agencies: a JSON list of `{"code", "name", "parent"}`.
        #[arg(long)]
        agencies: Option<PathBuf>,
    },
}

pub async fn run(cmd: ExchangeCmd, settings: egov_app::Settings) -> Result<()> {
    match cmd {
        ExchangeCmd::Poll => {
            let routes = routes(&settings)?;
            let app = crate::open(settings).await?;
            for route in routes.all() {
                let r = app.receive_round(route).await.map_err(|e| {
                    anyhow::anyhow!("receiving through {} failed: {e}", route.route())
                })?;
                println!(
                    "{}: documents filed: {}, statuses applied: {}, duplicates: {}, refused: {}",
                    route.route(),
                    r.documents,
                    r.statuses,
                    r.duplicates,
                    r.refused
                );
            }
            Ok(())
        }
        ExchangeCmd::Verify => {
            let app = crate::open(settings).await?;
            let r = app
                .verify_exchange_log()
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            println!(
                "audit chain: {} entries sealed, {} checkpoints held; messages compared: {}; packets hashed: {}",
                r.audit.sealed, r.audit.checkpoints, r.messages, r.packets
            );
            if let Some(b) = &r.audit.broken {
                eprintln!("audit chain BROKEN at entry {}: {}", b.seq, b.reason);
            }
            for d in &r.discrepancies {
                eprintln!("message {} {}: {}", d.message_id, d.kind, d.detail);
            }
            for (id, why) in &r.bad_packets {
                eprintln!("message {id}: {why}");
            }
            if !r.holds() {
                std::process::exit(1);
            }
            println!("message log OK");
            Ok(())
        }
        ExchangeCmd::Directory => {
            let routes = routes(&settings)?;
            let app = crate::open(settings).await?;
            for route in routes.all() {
                let (listed, matched) = app.import_directory(route).await.map_err(|e| {
                    anyhow::anyhow!(
                        "the directory of {} could not be fetched: {e}",
                        route.route()
                    )
                })?;
                println!(
                    "{}: {listed} agencies connected, {matched} of them ours",
                    route.route()
                );
            }
            Ok(())
        }
        ExchangeCmd::Send => {
            let routes = routes(&settings)?;
            let app = crate::open(settings).await?;
            let jobs: Vec<(String,)> = (app.db())
                .fetch_all(
                "SELECT payload FROM jobs WHERE kind = 'exchange.send' AND state = 'queued' ORDER BY id",
                egov_store::args![],
            )
            .await?;
            for (payload,) in jobs {
                let job: egov_app::exchange::send::SendJob = serde_json::from_str(&payload)?;
                let Some(route) = routes.for_recipient(&app, &job.to).await else {
                    bail!("no exchange route is configured");
                };
                match app.send_outside(route, &job).await {
                    Ok(sent) => println!("document {} → {}: {sent:?}", job.document_id, job.to),
                    Err(e) => println!("document {} → {}: not sent: {e}", job.document_id, job.to),
                }
            }
            Ok(())
        }
        ExchangeCmd::Log {
            state,
            document,
            agency,
            limit,
        } => {
            let app = crate::open(settings).await?;
            let rows = egov_store::exchange::search(
                &mut app.db(),
                state.as_deref(),
                document,
                agency.as_deref(),
                limit.clamp(1, 10_000),
            )
            .await?;
            for r in rows {
                println!(
                    "{}",
                    serde_json::json!({
                        "id": r.id, "direction": r.direction, "route": r.route,
                        "messagetype": r.message_type, "document": r.document_id,
                        "document_id": r.packet_document_id, "counterpart": r.counterpart,
                        "action": r.action, "sequence": r.sequence, "state": r.state,
                        "attempts": r.attempts, "error": r.last_error, "packet": r.packet_sha,
                        "remote_id": r.remote_id,
                        "updated_at": r.updated_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                    })
                );
            }
            Ok(())
        }
        ExchangeCmd::Hub {
            listen,
            systems,
            tokens,
            agencies,
        } => hub(&listen, &systems, &tokens, agencies.as_deref()).await,
        ExchangeCmd::Inspect { packet, max_mib } => inspect(&packet, max_mib),
        ExchangeCmd::Build {
            description,
            output,
            any_path,
        } => build(&description, &output, any_path),
    }
}

/// Attachments kept in temporary files while the packet is inspected (ZIPs are opened after).
struct TempFiles {
    dir: tempfile::TempDir,
    files: Vec<PathBuf>,
    current: Option<File>,
}

impl AttachmentSink for TempFiles {
    fn begin(&mut self, index: usize) -> std::io::Result<()> {
        let path = self.dir.path().join(format!("attachment-{index}"));
        self.current = Some(File::create(&path)?);
        self.files.push(path);
        Ok(())
    }
    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match self.current.as_mut() {
            Some(f) => f.write_all(chunk),
            None => Err(std::io::Error::other("write before begin")),
        }
    }
    fn finish(&mut self) -> std::io::Result<String> {
        self.current.take();
        Ok(self
            .files
            .last()
            .map(|p| p.display().to_string())
            .unwrap_or_default())
    }
    fn abort(&mut self) {
        self.current.take();
        for f in self.files.drain(..) {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// Counts the files inside an archive.
#[derive(Default)]
struct Sizes {
    size: u64,
}

impl EntrySink for Sizes {
    fn begin(&mut self, _name: &str) -> std::io::Result<()> {
        self.size = 0;
        Ok(())
    }
    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.size += chunk.len() as u64;
        Ok(())
    }
    fn finish(&mut self) -> std::io::Result<String> {
        Ok(String::new())
    }
}

#[derive(Serialize)]
struct Inspected {
    #[serde(flatten)]
    summary: Summary,
    size: u64,
    sha256: String,
    /// For ZIP attachments: the files inside (or why they could not be listed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    archives: Vec<Archive>,
}

#[derive(Serialize)]
struct Archive {
    attachment: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    files: Vec<ArchiveFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct ArchiveFile {
    name: String,
    size: u64,
}

fn inspect(path: &Path, max_mib: u64) -> Result<()> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let limits = Limits {
        max_packet: max_mib.saturating_mul(1024 * 1024),
        ..Limits::default()
    };
    let mut sink = TempFiles {
        dir: tempfile::tempdir()?,
        files: Vec::new(),
        current: None,
    };
    let reading = match egov_edxml::read(BufReader::new(file), &limits, &mut sink) {
        Ok(r) => r,
        Err(e) => {
            let answer = serde_json::json!({
                "error": { "code": e.code(), "message": e.to_string() }
            });
            println!("{}", serde_json::to_string_pretty(&answer)?);
            // A verdict, not a failure of the command: one line for the operator, exit 1.
            eprintln!("{} cannot be read: {e} ({})", path.display(), e.code());
            drop(sink); // its temporary folder goes before the process does
            std::process::exit(1);
        }
    };
    let mut archives = Vec::new();
    if let Packet::Document(d) = &reading.packet {
        for a in &d.attachments {
            // `stored` is the temporary file the sink answered for this attachment.
            if !a.zip || a.stored.is_empty() {
                continue;
            }
            let file = Path::new(&a.stored);
            let mut files = Vec::new();
            let mut sizes = Sizes::default();
            let error = match File::open(file) {
                Ok(f) => list(f, &mut sizes, &mut files).err(),
                Err(e) => Some(e.to_string()),
            };
            archives.push(Archive {
                attachment: a.name.clone(),
                files,
                error,
            });
        }
    }
    let out = Inspected {
        summary: Summary::of(&reading),
        size: reading.size,
        sha256: reading.sha256.clone(),
        archives,
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

fn list<R: Read + Seek>(
    archive: R,
    sizes: &mut Sizes,
    files: &mut Vec<ArchiveFile>,
) -> Result<(), String> {
    let entries =
        unzip(archive, &ZipLimits::default(), sizes).map_err(|e| format!("{e} ({})", e.code()))?;
    files.extend(entries.into_iter().map(|e| ArchiveFile {
        name: e.path,
        size: e.size,
    }));
    Ok(())
}

fn build(description: &Path, output: &Path, any_path: bool) -> Result<()> {
    let text = std::fs::read_to_string(description)
        .with_context(|| format!("reading {}", description.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).context("the description is not JSON")?;
    let base = description.parent().unwrap_or(Path::new("."));
    let files: Vec<PathBuf> = value
        .get("attachments")
        .and_then(|a| a.as_array())
        .map(|list| {
            list.iter()
                .map(|a| {
                    let f = a
                        .get("file")
                        .and_then(|f| f.as_str())
                        .ok_or_else(|| anyhow::anyhow!("every attachment needs a \"file\""))?;
                    let path = Path::new(f);
                    let outside = path.is_absolute()
                        || path
                            .components()
                            .any(|c| matches!(c, std::path::Component::ParentDir));
                    if outside && !any_path {
                        bail!(
                            "the attachment {f} is outside the description's folder \
                             (give --any-path to allow it)"
                        );
                    }
                    Ok(base.join(path))
                })
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?
        .unwrap_or_default();
    let mut packet: Packet = serde_json::from_value(value)
        .context("the description is not a packet (see docs/edxml.md)")?;
    if let Packet::Document(d) = &mut packet {
        let h = &mut d.header;
        if h.document_id.is_empty()
            && let Some(date) = h.promulgation_date
        {
            h.document_id = egov_edxml::document_id(&h.from.organ_id, date, &h.code);
        }
        if d.trace.is_empty() {
            let now = time::OffsetDateTime::now_utc().to_offset(egov_domain::VN_OFFSET);
            d.trace.push(TraceHeader {
                organ_id: Some(h.from.organ_id.clone()),
                timestamp: Some(time::PrimitiveDateTime::new(now.date(), now.time())),
            });
        }
        for (i, a) in d.attachments.iter_mut().enumerate() {
            if a.content_id.is_empty() {
                a.content_id = format!("attachment-{}", i + 1);
            }
        }
    }
    let mut opened: Vec<BufReader<File>> = files
        .iter()
        .map(|f| {
            File::open(f)
                .map(BufReader::new)
                .with_context(|| format!("opening {}", f.display()))
        })
        .collect::<Result<_>>()?;
    let mut contents: Vec<&mut dyn Read> = opened.iter_mut().map(|f| f as &mut dyn Read).collect();
    // Written beside the output and moved into place: a refused packet leaves no file.
    let dir = output.parent().filter(|p| !p.as_os_str().is_empty());
    let mut tmp = tempfile::NamedTempFile::new_in(dir.unwrap_or(Path::new(".")))?;
    egov_edxml::writer::write_packet(
        &packet,
        &mut contents,
        std::io::BufWriter::new(tmp.as_file_mut()),
    )
    .map_err(|e| anyhow::anyhow!("the packet cannot be written: {e} ({})", e.code()))?;
    tmp.persist(output)
        .with_context(|| format!("writing {}", output.display()))?;
    println!("{}: {}", output.display(), packet.document_id());
    Ok(())
}

/// `ID=VALUE` pairs of a repeated option.
fn pairs(option: &str, given: &[String]) -> Result<std::collections::BTreeMap<String, String>> {
    let mut map = std::collections::BTreeMap::new();
    for s in given {
        match s.split_once('=') {
            Some((id, value)) if !id.is_empty() && !value.is_empty() => {
                map.insert(id.to_string(), value.to_string());
            }
            _ => bail!("{option} takes ID=VALUE with both given, not {s:?}"),
        }
    }
    Ok(map)
}

async fn hub(
    listen: &str,
    systems: &[String],
    tokens: &[String],
    agencies: Option<&Path>,
) -> Result<()> {
    let secrets = pairs("--system", systems)?;
    let tokens = pairs("--token", tokens)?;
    let directory: Vec<egov_app::exchange::transport::Connected> = match agencies {
        Some(p) => serde_json::from_slice(
            &std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
        )
        .with_context(|| format!("{} is not a JSON list of agencies", p.display()))?,
        None => Vec::new(),
    };
    let count = directory.len();
    let hub = egov_web::exchange_hub::LocalHub::new(secrets.clone(), directory).with_tokens(tokens);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    println!(
        "Local document exchange hub on http://{listen}/ (and an LGSP's calls under /v1/) — {count} agencies, {} — Ctrl-C stops it.",
        if secrets.is_empty() {
            "calls NOT checked (no --system given)".to_string()
        } else {
            format!("{} systems allowed", secrets.len())
        }
    );
    hub.serve(listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

fn routes(settings: &egov_app::Settings) -> Result<egov_app::exchange::routes::Routes> {
    if !settings.exchange.enabled {
        bail!("the exchange is not enabled: set [exchange] enabled = true and its [exchange.hub]");
    }
    let routes = egov_app::exchange::routes::Routes::from_settings(&settings.exchange);
    if routes.all().is_empty() {
        bail!(
            "no exchange route is configured: set [exchange.hub] url, or an [exchange.lgsp.NAME]"
        );
    }
    Ok(routes)
}
