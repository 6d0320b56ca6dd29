//! Writing audit entries from use cases.

use crate::Code;
use egov_store::Exec;
/// What the audit log is searched by.
pub use egov_store::audit::Filter;
use egov_store::audit::{self, NewEntry};
use serde::Serialize;

use crate::{Actor, AppError};

/// An audit entry under construction: `event("agency.create", "agency", id).after(&a)`.
#[derive(Debug, Clone)]
pub struct Event {
    action: String,
    object_type: String,
    object_id: String,
    agency_id: Option<i64>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
}

pub fn event(action: &str, object_type: &str, object_id: impl ToString) -> Event {
    Event {
        action: action.to_owned(),
        object_type: object_type.to_owned(),
        object_id: object_id.to_string(),
        agency_id: None,
        before: None,
        after: None,
    }
}

fn json(v: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

impl Event {
    /// The agency whose records these are (entries are listed per agency).
    pub fn agency(mut self, id: Option<i64>) -> Self {
        self.agency_id = id;
        self
    }

    pub fn before(mut self, v: &impl Serialize) -> Self {
        self.before = Some(json(v));
        self
    }

    pub fn after(mut self, v: &impl Serialize) -> Self {
        self.after = Some(json(v));
        self
    }

    /// Appends the entry in the caller's transaction.
    pub async fn write(self, ex: &mut impl Exec, actor: &Actor) -> Result<(), AppError> {
        audit::append(ex, self.entry(actor)).await?;
        Ok(())
    }

    fn entry(self, actor: &Actor) -> NewEntry {
        NewEntry {
            at: None,
            actor_id: actor.person_id,
            actor: actor.username.clone(),
            action: self.action,
            object_type: self.object_type,
            object_id: self.object_id,
            agency_id: self.agency_id,
            before: self.before,
            after: self.after,
            ip: actor.ip.clone(),
            request_id: actor.request_id.clone(),
        }
    }
}

/// An audit entry as the audit page shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditLine {
    pub entry: crate::views::AuditEntry,
    /// The person who acted, by name (the account name for the system).
    pub who: String,
    /// The object's readable name, when it has one.
    pub object: Option<String>,
}

/// Adds entries of one actor to a batch of the caller's transaction.
pub fn add_all(b: &mut egov_store::Batch, actor: &Actor, events: Vec<Event>) {
    audit::add_entries(b, events.into_iter().map(|e| e.entry(actor)).collect());
}

/// Where the checkpoints are in a bucket, under the deployment's prefix.
const CHECKPOINTS: &str = "audit/checkpoints";

/// A checkpoint of the chain's head, kept outside the database: one JSON line of the checkpoint
/// file. Its MAC is made with the audit key; a time-stamp from the configured authority, when
/// there is one, proves the head existed at that time even to someone who holds the key.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    pub at: String,
    pub seq: i64,
    pub hash: String,
    pub mac: String,
    /// An RFC 3161 time-stamp token (base64 DER) over the checkpoint's content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

impl Checkpoint {
    fn content(at: &str, seq: i64, hash: &str) -> String {
        format!("egov audit checkpoint v1\n{at}\n{seq}\n{hash}")
    }
}

/// Reads the audit key from `path`, creating it (32 random bytes, hex, readable by the owner
/// only) when it is missing and `create` allows.
pub fn load_key(path: &std::path::Path, create: bool) -> Result<[u8; 32], AppError> {
    use sha2::{Digest, Sha256};
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let text = text.trim();
            if text.len() < 32 {
                return Err(AppError::invalid(
                    Code::BadConfig,
                    format!("the audit key {} is too short", path.display()),
                ));
            }
            Ok(Sha256::digest(text.as_bytes()).into())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| AppError::internal(format!("creating {}: {e}", dir.display())))?;
            }
            let mut raw = [0u8; 32];
            getrandom::fill(&mut raw).map_err(|e| AppError::internal(e.to_string()))?;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let written = opts.open(path).and_then(|mut f| {
                use std::io::Write;
                f.write_all(hex::encode(raw).as_bytes())?;
                f.sync_all()
            });
            match written {
                Ok(()) => load_key(path, false),
                // Another process created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_key(path, false),
                Err(e) => Err(AppError::internal(format!(
                    "writing the audit key {}: {e}",
                    path.display()
                ))),
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(AppError::invalid(
            Code::BadConfig,
            format!(
                "the audit key {} is missing, and this database's audit chain was written with one: \
                 copy the key file of the original deployment there (or set audit.key_file)",
                path.display()
            ),
        )),
        Err(e) => Err(AppError::internal(format!(
            "reading the audit key {}: {e}",
            path.display()
        ))),
    }
}

impl crate::App {
    fn audit_key(&self, create: bool) -> Result<[u8; 32], AppError> {
        load_key(
            &self.settings.in_data_dir(&self.settings.audit.key_file),
            create,
        )
    }

    fn checkpoint_path(&self) -> std::path::PathBuf {
        self.settings
            .in_data_dir(&self.settings.audit.checkpoint_file)
    }

    /// Seals what is pending and appends a checkpoint of the chain's head to the checkpoint
    /// file, time-stamped when an authority is configured (`signatures.tsa_url`).
    pub async fn write_audit_checkpoint(&self) -> Result<Checkpoint, AppError> {
        audit::seal_all(&self.db).await?;
        let (seq, hash) = audit::head(&mut &self.db).await?;
        let key = self.audit_key(true)?;
        let at = egov_store::ts_text(self.now());
        let content = Checkpoint::content(&at, seq, &hash);
        let mac = audit::hmac_hex(&key, &[content.as_bytes()]);
        let timestamp = match &self.settings.signatures.tsa_url {
            Some(url) => {
                let (req, nonce) =
                    egov_pki::tsp::request(content.as_bytes()).map_err(AppError::internal)?;
                let failed = |e: String| {
                    AppError::invalid(
                        Code::TimestampFailed,
                        "No time-stamp could be had from the time-stamp authority.",
                    )
                    .arg("detail", e)
                };
                let resp = crate::signing::post_timestamp(url, req)
                    .await
                    .map_err(failed)?;
                let token = egov_pki::tsp::token_from_response(&resp, content.as_bytes(), &nonce)
                    .map_err(failed)?;
                use base64::Engine;
                Some(base64::engine::general_purpose::STANDARD.encode(token))
            }
            None => None,
        };
        let cp = Checkpoint {
            at,
            seq,
            hash,
            mac,
            timestamp,
        };
        let line = serde_json::to_string(&cp).map_err(|e| AppError::internal(e.to_string()))?;
        self.keep_checkpoint(&cp, line).await?;
        tracing::info!(seq = cp.seq, "audit checkpoint written");
        Ok(cp)
    }

    /// Keeps a checkpoint where every node's are: one object each in the bucket when files
    /// are in one (objects are not appended to; the name sorts by time), else a line appended
    /// to the checkpoint file.
    async fn keep_checkpoint(&self, cp: &Checkpoint, line: String) -> Result<(), AppError> {
        if let egov_store::blobs::Blobs::S3 { bucket, .. } = &self.blobs {
            let mut rnd = [0u8; 4];
            getrandom::fill(&mut rnd).map_err(|e| AppError::internal(e.to_string()))?;
            let stamp: String = cp.at.chars().filter(char::is_ascii_digit).collect();
            let name = format!("{stamp}-{}-{}.json", cp.seq, hex::encode(rnd));
            return bucket
                .put_record(CHECKPOINTS, &name, line.into_bytes())
                .await
                .map_err(AppError::from);
        }
        let path = self.checkpoint_path();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::io::Write;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?;
            f.write_all(format!("{line}\n").as_bytes())?;
            f.sync_all()
        })
        .await
        .map_err(|e| AppError::internal(e.to_string()))?
        .map_err(|e| AppError::internal(format!("writing the audit checkpoint: {e}")))
    }

    /// Every checkpoint kept, each with where it is (`line 3`, `audit/checkpoints/…`).
    async fn kept_checkpoints(&self) -> Result<Vec<(String, String)>, AppError> {
        if let egov_store::blobs::Blobs::S3 { bucket, .. } = &self.blobs {
            let records = bucket.records(CHECKPOINTS).await?;
            return Ok(records
                .into_iter()
                .map(|(name, bytes)| {
                    (
                        format!("{CHECKPOINTS}/{name}"),
                        String::from_utf8_lossy(&bytes).into_owned(),
                    )
                })
                .collect());
        }
        let path = self.checkpoint_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(AppError::internal(format!(
                    "reading {}: {e}",
                    path.display()
                )));
            }
        };
        Ok(text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(n, l)| (format!("line {}", n + 1), l.to_owned()))
            .collect())
    }

    /// Audit entries matching a filter, newest first, for a system administrator: each with
    /// the name of the person who acted and a readable name of its object when it has one (a
    /// document's number, a dossier's code, a person's or an agency's name). Returns the
    /// entries and whether more follow.
    pub async fn audit_entries(
        &self,
        actor: &Actor,
        filter: &audit::Filter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditLine>, bool), AppError> {
        let mut ex = &self.db;
        if !crate::authz::is_system_admin(&mut ex, actor, self.now()).await? {
            return Err(AppError::forbidden());
        }
        let limit = limit.clamp(1, 10_000);
        let mut entries = audit::search(&mut ex, filter, limit + 1, offset.max(0)).await?;
        let more = entries.len() as i64 > limit;
        entries.truncate(limit as usize);
        let mut names = std::collections::HashMap::<(String, String), Option<String>>::new();
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let who = self
                .name_of(&mut names, "person", e.actor_id.map(|i| i.to_string()))
                .await;
            let object = self
                .name_of(&mut names, &e.object_type, Some(e.object_id.clone()))
                .await;
            out.push(AuditLine {
                who: who.unwrap_or_else(|| e.actor.clone()),
                object,
                entry: e.into(),
            });
        }
        Ok((out, more))
    }

    /// A readable name for an audited object, remembered for the page.
    async fn name_of(
        &self,
        cache: &mut std::collections::HashMap<(String, String), Option<String>>,
        kind: &str,
        id: Option<String>,
    ) -> Option<String> {
        let id = id?;
        let key = (kind.to_owned(), id.clone());
        if let Some(n) = cache.get(&key) {
            return n.clone();
        }
        let n: i64 = id.parse().ok()?;
        let mut ex = &self.db;
        let name = match kind {
            "document" => egov_store::documents::get_document(&mut ex, n)
                .await
                .ok()
                .map(|d| d.notation.unwrap_or(d.subject)),
            "incoming" => egov_store::documents::get_incoming(&mut ex, n)
                .await
                .ok()
                .map(|c| c.notation.unwrap_or(c.subject)),
            "dossier" => egov_store::onestop::get_dossier(&mut ex, n)
                .await
                .ok()
                .map(|d| d.code),
            "person" => egov_store::people::get(&mut ex, n)
                .await
                .ok()
                .map(|p| p.full_name),
            "agency" => egov_store::agencies::get(&mut ex, n)
                .await
                .ok()
                .map(|a| a.name),
            _ => None,
        };
        cache.insert(key, name.clone());
        name
    }

    /// Seals what is pending, checks the whole chain (every entry's MAC, every link, the head)
    /// and holds it against every checkpoint in the checkpoint file: a checkpoint beyond the
    /// chain's end means its tail was cut; one whose hash differs, that the chain was rewritten.
    pub async fn verify_audit(&self) -> Result<audit::VerifyReport, AppError> {
        audit::seal_all(&self.db).await?;
        let mut report = audit::verify(&self.db).await?;
        if report.broken.is_some() {
            return Ok(report);
        }
        let kept = self.kept_checkpoints().await?;
        if kept.is_empty() {
            return Ok(report);
        }
        let key = self.audit_key(false)?;
        let broken = |seq: i64, reason: String| audit::BrokenLink {
            seq,
            entry_id: None,
            reason,
        };
        for (place, line) in kept {
            let cp: Checkpoint = match serde_json::from_str(&line) {
                Ok(cp) => cp,
                Err(e) => {
                    report.broken =
                        Some(broken(0, format!("checkpoint {place} is unreadable: {e}")));
                    break;
                }
            };
            let content = Checkpoint::content(&cp.at, cp.seq, &cp.hash);
            if audit::hmac_hex(&key, &[content.as_bytes()]) != cp.mac {
                report.broken = Some(broken(
                    cp.seq,
                    format!("checkpoint {place} was not written with this audit key"),
                ));
                break;
            }
            if let Some(t) = &cp.timestamp {
                use base64::Engine;
                let ok = base64::engine::general_purpose::STANDARD
                    .decode(t)
                    .ok()
                    .is_some_and(|der| {
                        egov_pki::tsp::check_token(&der, content.as_bytes()).is_ok()
                    });
                if !ok {
                    report.broken = Some(broken(
                        cp.seq,
                        format!("the time-stamp of checkpoint {place} does not hold"),
                    ));
                    break;
                }
            }
            if cp.seq > report.head_seq {
                report.broken = Some(broken(
                    report.head_seq + 1,
                    format!(
                        "the checkpoint of {} saw {} entries, the chain now has {}: its tail was removed",
                        cp.at, cp.seq, report.head_seq
                    ),
                ));
                break;
            }
            if cp.seq > 0
                && audit::link_at(&mut &self.db, cp.seq).await?.as_deref() != Some(cp.hash.as_str())
            {
                report.broken = Some(broken(
                    cp.seq,
                    format!(
                        "entry {} differs from the checkpoint of {}: the chain was rewritten",
                        cp.seq, cp.at
                    ),
                ));
                break;
            }
            report.checkpoints += 1;
        }
        Ok(report)
    }
}
