//! Content-addressed blobs on local disk: `<root>/ab/cd/<sha256>`.
//!
//! A blob is written (to a temporary file, synced, then renamed) before the row that refers to
//! it commits, and blobs are never changed, so a database snapshot taken at any moment finds
//! every blob it names on disk.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::db::Exec;
use crate::{StoreError, args};

#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        BlobStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file of a blob. `sha` must be 64 lower-case hex digits.
    pub fn path(&self, sha: &str) -> Result<PathBuf, StoreError> {
        if !is_sha256(sha) {
            return Err(StoreError::Invalid(format!(
                "{sha:?} is not a SHA-256 digest"
            )));
        }
        Ok(self.root.join(&sha[..2]).join(&sha[2..4]).join(sha))
    }

    /// The SHA-256 (hex) a blob of these bytes is stored under.
    pub fn digest(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    /// Stores bytes and returns their SHA-256 (hex).
    pub fn put(&self, bytes: &[u8]) -> Result<String, StoreError> {
        let sha = Self::digest(bytes);
        self.put_digested(bytes, sha)
    }

    /// Stores bytes whose SHA-256 the caller computed with [`BlobStore::digest`].
    pub fn put_digested(&self, bytes: &[u8], sha: String) -> Result<String, StoreError> {
        let path = self.path(&sha)?;
        if path.exists() {
            // Fresh again: the housekeeping sweep leaves recently written files alone, and
            // this one is about to be referred to.
            let _ = std::fs::File::options()
                .append(true)
                .open(&path)
                .and_then(|f| f.set_modified(std::time::SystemTime::now()));
            return Ok(sha);
        }
        let dir = path.parent().ok_or_else(|| {
            StoreError::file("blob path", std::io::Error::other("it has no parent"))
        })?;
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile_in(dir)?;
        tmp.1.write_all(bytes)?;
        tmp.1.sync_all()?;
        std::fs::rename(&tmp.0, &path)?;
        Ok(sha)
    }

    /// Removes a blob's file (nothing when there is none).
    pub fn remove(&self, sha: &str) -> Result<(), StoreError> {
        match std::fs::remove_file(self.path(sha)?) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The blobs whose files were last written before `before`, and left-over temporary
    /// files of interrupted writes (their paths).
    pub fn files_older_than(
        &self,
        before: std::time::SystemTime,
    ) -> Result<(Vec<String>, Vec<PathBuf>), StoreError> {
        let mut blobs = Vec::new();
        let mut temps = Vec::new();
        let dirs = |p: &Path| -> Vec<PathBuf> {
            std::fs::read_dir(p)
                .map(|rd| {
                    rd.filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|p| p.is_dir())
                        .collect()
                })
                .unwrap_or_default()
        };
        for a in dirs(&self.root) {
            for b in dirs(&a) {
                for e in std::fs::read_dir(&b)?.filter_map(Result::ok) {
                    let old = e
                        .metadata()
                        .and_then(|m| m.modified())
                        .is_ok_and(|t| t < before);
                    if !old {
                        continue;
                    }
                    let name = e.file_name().to_string_lossy().into_owned();
                    if name.starts_with(".tmp-") {
                        temps.push(e.path());
                    } else if self.path(&name).is_ok() {
                        blobs.push(name);
                    }
                }
            }
        }
        Ok((blobs, temps))
    }

    /// Whether files can be written here now: a file is created and removed in the root's
    /// temporary folder (what a readiness probe asks of the store).
    pub fn check(&self) -> Result<(), StoreError> {
        let dir = self.root.join(".incoming").join("tmp");
        std::fs::create_dir_all(&dir)
            .map_err(|e| StoreError::file(format!("creating {}", dir.display()), e))?;
        let (path, file) = tempfile_in(&dir)?;
        drop(file);
        std::fs::remove_file(&path)
            .map_err(|e| StoreError::file(format!("removing {}", path.display()), e))
    }

    pub fn get(&self, sha: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.path(sha)?;
        std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StoreError::NotFound,
            _ => StoreError::from(e),
        })
    }
}

/// A blob written piece by piece from blocking code (a parser that hands on what it decodes):
/// kept in a temporary file under the root, hashed on the way, and renamed into place by
/// [`BlobWriter::finish`] — at most `max` bytes. Dropped unfinished, it leaves nothing.
pub struct BlobWriter {
    root: BlobStore,
    tmp: Option<(PathBuf, std::io::BufWriter<std::fs::File>)>,
    hasher: Sha256,
    size: u64,
    max: u64,
}

impl BlobStore {
    /// Starts a blob written piece by piece.
    pub fn writer(&self, max: u64) -> Result<BlobWriter, StoreError> {
        let dir = self.root.join(".incoming").join("tmp");
        std::fs::create_dir_all(&dir)?;
        let (path, file) = tempfile_in(&dir)?;
        Ok(BlobWriter {
            root: self.clone(),
            tmp: Some((path, std::io::BufWriter::with_capacity(64 * 1024, file))),
            hasher: Sha256::new(),
            size: 0,
            max,
        })
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.size += buf.len() as u64;
        if self.size > self.max {
            return Err(std::io::Error::other(format!(
                "the blob is larger than {} bytes",
                self.max
            )));
        }
        let (_, out) = self
            .tmp
            .as_mut()
            .ok_or_else(|| std::io::Error::other("the blob is finished"))?;
        out.write_all(buf)?;
        self.hasher.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.tmp.as_mut() {
            Some((_, out)) => out.flush(),
            None => Ok(()),
        }
    }
}

impl BlobWriter {
    /// Syncs the bytes and puts them in place under their hash.
    pub fn finish(mut self) -> Result<Written, StoreError> {
        let (tmp, out) = self
            .tmp
            .take()
            .ok_or_else(|| StoreError::Invalid("the blob is finished".into()))?;
        let result = (|| {
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            let sha = hex::encode(std::mem::take(&mut self.hasher).finalize());
            let path = self.root.path(&sha)?;
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::rename(&tmp, &path)?;
            Ok(Written {
                sha256: sha,
                size: self.size,
            })
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if let Some((tmp, _)) = self.tmp.take() {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// A blob written from a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub sha256: String,
    pub size: u64,
}

/// A blob being read.
pub type BlobReader = std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>>;

/// Where blobs are kept, behind one interface: written from a stream (at most `max` bytes,
/// the hash checked against `expected` when the sender announced one) and read as a stream,
/// so that a packet from the document hub or an attachment from the national portal never has
/// to be held whole in memory. Blobs are content-addressed and never change. The local
/// directory ([`BlobStore`]) is the one implementation today; an object store comes later
/// without touching its callers. Who uploaded a blob, and for which object, is recorded in
/// the database beside it ([`record_upload`]), where the owner check reads it.
pub trait BlobStorage: Send + Sync {
    /// Writes what `src` yields. Nothing is kept when it is longer than `max` or its hash is
    /// not `expected`.
    fn write<R: tokio::io::AsyncRead + Unpin + Send>(
        &self,
        src: R,
        expected: Option<&str>,
        max: u64,
    ) -> impl std::future::Future<Output = Result<Written, StoreError>> + Send;

    /// Reads a blob (`NotFound` when there is none).
    fn read(
        &self,
        sha: &str,
    ) -> impl std::future::Future<Output = Result<BlobReader, StoreError>> + Send;
}

impl BlobStorage for BlobStore {
    async fn write<R: tokio::io::AsyncRead + Unpin + Send>(
        &self,
        mut src: R,
        expected: Option<&str>,
        max: u64,
    ) -> Result<Written, StoreError> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        if let Some(e) = expected {
            self.path(e)?;
        }
        // Written under the root's own temporary folder (swept like the others) until the
        // hash is known.
        let dir = self.root.join(".incoming").join("tmp");
        tokio::fs::create_dir_all(&dir).await?;
        let (tmp, file) = tempfile_in(&dir)?;
        let result = async {
            let mut out = tokio::fs::File::from_std(file);
            let mut hasher = Sha256::new();
            let mut size: u64 = 0;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = src.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                size += n as u64;
                if size > max {
                    return Err(StoreError::Invalid(format!(
                        "the blob is larger than {max} bytes"
                    )));
                }
                hasher.update(&buf[..n]);
                out.write_all(&buf[..n]).await?;
            }
            out.sync_all().await?;
            let sha = hex::encode(hasher.finalize());
            if let Some(e) = expected
                && e != sha
            {
                return Err(StoreError::Invalid(format!(
                    "the blob's SHA-256 is {sha}, not the announced {e}"
                )));
            }
            let path = self.path(&sha)?;
            if let Some(parent) = path.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            tokio::fs::rename(&tmp, &path).await?;
            Ok(Written { sha256: sha, size })
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }

    async fn read(&self, sha: &str) -> Result<BlobReader, StoreError> {
        let path = self.path(sha)?;
        match tokio::fs::File::open(&path).await {
            Ok(f) => Ok(Box::pin(f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::NotFound),
            Err(e) => Err(e.into()),
        }
    }
}

/// Whether `s` names a blob: a SHA-256 in 64 lower-case hex digits.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn tempfile_in(dir: &Path) -> Result<(PathBuf, std::fs::File), StoreError> {
    let mut rnd = [0u8; 8];
    getrandom::fill(&mut rnd)
        .map_err(|e| StoreError::file("temporary name", std::io::Error::other(e.to_string())))?;
    let path = dir.join(format!(".tmp-{}", hex::encode(rnd)));
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok((path, f))
}

/// Records a blob's metadata (idempotent).
pub async fn record(
    ex: &mut impl Exec,
    sha: &str,
    size: i64,
    media_type: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO blobs (sha256, size, media_type, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (sha256) DO NOTHING",
        args![sha, size, media_type, now],
    )
    .await?;
    Ok(())
}

/// Every blob the database knows.
pub async fn all(ex: &mut impl Exec) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = ex
        .fetch_all("SELECT sha256 FROM blobs ORDER BY sha256", args![])
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Records that a person uploaded a blob (idempotent): they may now refer to it by its hash.
pub async fn record_upload(
    ex: &mut impl Exec,
    sha: &str,
    person_id: i64,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO blob_uploads (sha256, person_id, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (sha256, person_id) DO NOTHING",
        args![sha, person_id, now],
    )
    .await?;
    Ok(())
}

/// The media type of a blob that `person_id` uploaded (`None` for the system: any recorded
/// blob), or `None` when there is no such blob for them.
pub async fn uploaded_type(
    ex: &mut impl Exec,
    sha: &str,
    person_id: Option<i64>,
) -> Result<Option<String>, StoreError> {
    match person_id {
        Some(p) => {
            ex.scalar_optional(
                "SELECT b.media_type FROM blob_uploads u JOIN blobs b ON b.sha256 = u.sha256 \
                 WHERE u.sha256 = $1 AND u.person_id = $2",
                args![sha, p],
            )
            .await
        }
        None => {
            ex.scalar_optional("SELECT media_type FROM blobs WHERE sha256 = $1", args![sha])
                .await
        }
    }
}

/// Which of `shas` the database records.
pub async fn recorded(ex: &mut impl Exec, shas: &[String]) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    for chunk in shas.chunks(500) {
        let marks = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(",");
        let rows: Vec<(String,)> = ex
            .fetch_all(
                &format!("SELECT sha256 FROM blobs WHERE sha256 IN ({marks})"),
                chunk
                    .iter()
                    .map(|s| crate::db::Arg::from(s.as_str()))
                    .collect(),
            )
            .await?;
        out.extend(rows.into_iter().map(|r| r.0));
    }
    Ok(out)
}

/// A reader that hashes what it passes on and fails at the end when the bytes do not hash to
/// the blob's name (a store that answered with another object than asked).
pub struct Verified<R> {
    inner: R,
    hasher: Option<Sha256>,
    sha: String,
}

impl<R> Verified<R> {
    pub fn new(inner: R, sha: String) -> Self {
        Verified {
            inner,
            hasher: Some(Sha256::new()),
            sha,
        }
    }
}

impl<R: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Verified<R> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        match std::pin::Pin::new(&mut this.inner).poll_read(cx, buf) {
            std::task::Poll::Ready(Ok(())) => {
                let new = &buf.filled()[before..];
                if new.is_empty() {
                    if let Some(h) = this.hasher.take() {
                        let got = hex::encode(h.finalize());
                        if got != this.sha {
                            return std::task::Poll::Ready(Err(std::io::Error::new(
                                std::io::ErrorKind::InvalidData,
                                format!("the blob {} came back as {got}", this.sha),
                            )));
                        }
                    }
                } else if let Some(h) = this.hasher.as_mut() {
                    h.update(new);
                }
                std::task::Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

/// Where the blobs of a deployment live: the local directory (the embedded default, one node
/// or a shared file system) or an S3-compatible bucket (several nodes). Every caller goes
/// through this; the sync piece-by-piece writer ([`BlobWriter`]) writes to the local staging
/// directory and [`Blobs::adopt`] moves what it wrote into the store.
#[derive(Debug, Clone)]
pub enum Blobs {
    Local(BlobStore),
    S3 {
        bucket: crate::objects::S3Blobs,
        /// Local files being written piece by piece before they go to the bucket.
        staging: BlobStore,
    },
}

impl Blobs {
    /// The local directory files are written to before they are complete (the store itself
    /// for a local store).
    pub fn staging(&self) -> &BlobStore {
        match self {
            Blobs::Local(s) => s,
            Blobs::S3 { staging, .. } => staging,
        }
    }

    /// For logs: the directory or the bucket.
    pub fn describe(&self) -> String {
        match self {
            Blobs::Local(s) => s.root().display().to_string(),
            Blobs::S3 { bucket, .. } => bucket.describe(),
        }
    }

    /// A blob whole, checked against its name.
    pub async fn get(&self, sha: &str) -> Result<Vec<u8>, StoreError> {
        use tokio::io::AsyncReadExt;
        let mut r = self.read(sha).await?;
        let mut out = Vec::new();
        r.read_to_end(&mut out).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                StoreError::Invalid(e.to_string())
            } else {
                StoreError::file(format!("reading the blob {sha}"), e)
            }
        })?;
        Ok(out)
    }

    /// Stores bytes and returns their SHA-256.
    pub async fn put(&self, bytes: &[u8]) -> Result<String, StoreError> {
        Ok(self.write(bytes, None, u64::MAX).await?.sha256)
    }

    /// Removes a blob (nothing when there is none).
    pub async fn remove(&self, sha: &str) -> Result<(), StoreError> {
        match self {
            Blobs::Local(s) => s.remove(sha),
            Blobs::S3 { bucket, .. } => bucket.remove(sha).await,
        }
    }

    /// Whether a blob exists.
    pub async fn exists(&self, sha: &str) -> Result<bool, StoreError> {
        match self {
            Blobs::Local(s) => Ok(s.path(sha)?.exists()),
            Blobs::S3 { bucket, .. } => bucket.exists(sha).await,
        }
    }

    /// Moves a blob the staging writer finished into the store (nothing to do locally).
    pub async fn adopt(&self, written: &Written) -> Result<(), StoreError> {
        match self {
            Blobs::Local(_) => Ok(()),
            Blobs::S3 { bucket, staging } => {
                let path = staging.path(&written.sha256)?;
                let file = tokio::fs::File::open(&path).await?;
                bucket.write(file, Some(&written.sha256), u64::MAX).await?;
                let _ = tokio::fs::remove_file(&path).await;
                Ok(())
            }
        }
    }

    /// The blobs last written before `before`, and removes what interrupted writes left
    /// behind (temporary files and uploads) older than that: how many of those.
    pub async fn older_than(
        &self,
        before: std::time::SystemTime,
    ) -> Result<(Vec<String>, usize), StoreError> {
        let staging = self.staging().clone();
        let (files, temps) = tokio::task::spawn_blocking(move || staging.files_older_than(before))
            .await
            .map_err(|e| StoreError::Invalid(e.to_string()))??;
        let removed = temps
            .iter()
            .filter(|t| std::fs::remove_file(t).is_ok())
            .count();
        match self {
            Blobs::Local(_) => Ok((files, removed)),
            Blobs::S3 { bucket, .. } => {
                // Staged files never adopted (a crash between the two) are as good as gone.
                for sha in &files {
                    let _ = self.staging().remove(sha);
                }
                let old = bucket
                    .list()
                    .await?
                    .into_iter()
                    .filter(|(_, t)| *t < before)
                    .map(|(s, _)| s)
                    .collect();
                Ok((old, removed + bucket.sweep_incoming(before).await?))
            }
        }
    }

    /// Every blob in the store (for `egov blobs migrate` and checks).
    pub async fn all(&self) -> Result<Vec<String>, StoreError> {
        match self {
            Blobs::Local(s) => {
                let s = s.clone();
                let far = std::time::SystemTime::now() + std::time::Duration::from_secs(86_400);
                let (files, _) = tokio::task::spawn_blocking(move || s.files_older_than(far))
                    .await
                    .map_err(|e| StoreError::Invalid(e.to_string()))??;
                Ok(files)
            }
            Blobs::S3 { bucket, .. } => {
                Ok(bucket.list().await?.into_iter().map(|(s, _)| s).collect())
            }
        }
    }

    /// Whether blobs can be written (local) or the bucket answers (S3): readiness.
    pub async fn check(&self) -> Result<(), StoreError> {
        match self {
            Blobs::Local(s) => {
                let s = s.clone();
                tokio::task::spawn_blocking(move || s.check())
                    .await
                    .map_err(|e| StoreError::Invalid(e.to_string()))?
            }
            Blobs::S3 { bucket, .. } => bucket.check().await,
        }
    }
}

impl BlobStorage for Blobs {
    async fn write<R: tokio::io::AsyncRead + Unpin + Send>(
        &self,
        src: R,
        expected: Option<&str>,
        max: u64,
    ) -> Result<Written, StoreError> {
        match self {
            Blobs::Local(s) => s.write(src, expected, max).await,
            Blobs::S3 { bucket, .. } => bucket.write(src, expected, max).await,
        }
    }

    async fn read(&self, sha: &str) -> Result<BlobReader, StoreError> {
        match self {
            Blobs::Local(s) => s.read(sha).await,
            Blobs::S3 { bucket, .. } => bucket.read(sha).await,
        }
    }
}
