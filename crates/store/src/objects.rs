//! Blobs in an S3-compatible bucket, for deployments of several nodes (issue 24): the same
//! content addressing as the local store (`<prefix>blobs/<sha256>`), written from a stream and
//! read back as one, every read checked against the hash it is named by.
//!
//! A blob of at most [`SMALL`] bytes is hashed in memory and put under its name in one request;
//! a larger one is uploaded in parts to `<prefix>incoming/<random>` while it is hashed, then
//! copied under its name and the upload removed. Writing a blob that exists writes it again
//! (the same bytes under the same name): its modification time is renewed, so the housekeeping
//! sweep — which removes blobs no row records, older than an hour — never takes a blob an
//! upload under way is about to record.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder, AwsCredential};
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use crate::StoreError;
use crate::blobs::{BlobReader, Written, is_sha256};

/// Blobs up to this size are put in one request; larger ones go in parts.
pub const SMALL: usize = 8 * 1024 * 1024;
/// The size of a part of a larger upload (S3's minimum is 5 MiB).
const PART: usize = 8 * 1024 * 1024;

/// Where the bucket is and how to reach it.
#[derive(Debug, Clone, Default)]
pub struct S3Config {
    /// `https://s3.example.vn` or `http://127.0.0.1:8333`; empty: AWS's own for the region.
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    /// Path-style addressing (`endpoint/bucket/key`), what most S3-compatible servers expect;
    /// false: virtual-host style (`bucket.endpoint/key`).
    pub path_style: bool,
    /// Keys are put under this prefix (`egov/`), so that one bucket can serve several uses.
    pub prefix: String,
    /// Credentials; empty: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` from the environment.
    pub access_key_id: String,
    pub secret_access_key: String,
    /// A shared-credentials file (`aws_access_key_id = …`, `aws_secret_access_key = …`,
    /// optionally `aws_session_token = …`), read again when it changes: short-lived
    /// credentials that an agent rewrites are picked up without a restart. Before the keys
    /// above.
    pub credentials_file: Option<std::path::PathBuf>,
    /// Seconds a request may take before it fails (a part of a large upload included).
    pub timeout_secs: u64,
}

/// The blobs of a bucket.
#[derive(Clone)]
pub struct S3Blobs {
    store: Arc<AmazonS3>,
    prefix: String,
    bucket: String,
}

impl std::fmt::Debug for S3Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "S3Blobs({}/{})", self.bucket, self.prefix)
    }
}

fn os_error(context: &str, e: object_store::Error) -> StoreError {
    match e {
        object_store::Error::NotFound { .. } => StoreError::NotFound,
        e => StoreError::ObjectStore(format!("{context}: {e}")),
    }
}

impl S3Blobs {
    /// Connects (lazily: nothing is asked of the server until the first request).
    pub fn new(config: &S3Config) -> Result<S3Blobs, StoreError> {
        if config.bucket.trim().is_empty() {
            return Err(StoreError::Invalid(
                "the object store needs a bucket (blobs.s3.bucket)".into(),
            ));
        }
        let timeout = Duration::from_secs(config.timeout_secs.max(1));
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(config.bucket.trim())
            .with_virtual_hosted_style_request(!config.path_style)
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(timeout)
                    .with_allow_http(config.endpoint.trim().starts_with("http://")),
            )
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(15),
                ..RetryConfig::default()
            });
        if !config.region.trim().is_empty() {
            b = b.with_region(config.region.trim());
        }
        if !config.endpoint.trim().is_empty() {
            b = b.with_endpoint(config.endpoint.trim());
        }
        if let Some(path) = &config.credentials_file {
            b = b.with_credentials(Arc::new(FileCredentials::open(path)?));
        } else if !config.access_key_id.is_empty() {
            b = b
                .with_access_key_id(&config.access_key_id)
                .with_secret_access_key(&config.secret_access_key);
        }
        let store = b
            .build()
            .map_err(|e| StoreError::ObjectStore(format!("configuring the object store: {e}")))?;
        let prefix = config.prefix.trim().trim_matches('/').to_owned();
        Ok(S3Blobs {
            store: Arc::new(store),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
            bucket: config.bucket.trim().to_owned(),
        })
    }

    /// The bucket and prefix, for logs (no credentials).
    pub fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    fn key(&self, sha: &str) -> Result<ObjectPath, StoreError> {
        if !is_sha256(sha) {
            return Err(StoreError::Invalid(format!(
                "{sha:?} is not a SHA-256 digest"
            )));
        }
        Ok(ObjectPath::from(format!("{}blobs/{sha}", self.prefix)))
    }

    fn incoming(&self) -> Result<ObjectPath, StoreError> {
        let mut rnd = [0u8; 12];
        getrandom::fill(&mut rnd)
            .map_err(|e| StoreError::ObjectStore(format!("a temporary name: {e}")))?;
        Ok(ObjectPath::from(format!(
            "{}incoming/{}",
            self.prefix,
            hex::encode(rnd)
        )))
    }

    /// Writes what `src` yields (at most `max` bytes; its hash must be `expected` when given).
    pub async fn write<R: tokio::io::AsyncRead + Unpin + Send>(
        &self,
        mut src: R,
        expected: Option<&str>,
        max: u64,
    ) -> Result<Written, StoreError> {
        if let Some(e) = expected {
            self.key(e)?;
        }
        let too_large = || StoreError::Invalid(format!("the blob is larger than {max} bytes"));
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        // The first part, in memory: most blobs end within it.
        let mut first = Vec::with_capacity(64 * 1024);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = src.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            size += n as u64;
            if size > max {
                return Err(too_large());
            }
            hasher.update(&buf[..n]);
            first.extend_from_slice(&buf[..n]);
            if first.len() >= SMALL {
                break;
            }
        }
        if first.len() < SMALL {
            let sha = hex::encode(hasher.finalize());
            check_expected(expected, &sha)?;
            self.store
                .put(&self.key(&sha)?, PutPayload::from(first))
                .await
                .map_err(|e| os_error("writing a blob", e))?;
            return Ok(Written { sha256: sha, size });
        }
        // Larger: in parts, to a temporary key, then under its name.
        let tmp = self.incoming()?;
        let upload = self
            .store
            .put_multipart(&tmp)
            .await
            .map_err(|e| os_error("starting an upload", e))?;
        let mut writer = object_store::WriteMultipart::new_with_chunk_size(upload, PART);
        let streamed: Result<(), StoreError> = async {
            writer.write(&first);
            drop(std::mem::take(&mut first));
            loop {
                let n = src.read(&mut buf).await?;
                if n == 0 {
                    return Ok(());
                }
                size += n as u64;
                if size > max {
                    return Err(too_large());
                }
                hasher.update(&buf[..n]);
                writer
                    .wait_for_capacity(2)
                    .await
                    .map_err(|e| os_error("uploading a part", e))?;
                writer.write(&buf[..n]);
            }
        }
        .await;
        if let Err(e) = streamed {
            let _ = writer.abort().await;
            return Err(e);
        }
        writer
            .finish()
            .await
            .map_err(|e| os_error("finishing an upload", e))?;
        let sha = hex::encode(hasher.finalize());
        let placed = match check_expected(expected, &sha) {
            Ok(()) => match self.key(&sha) {
                Ok(key) => self
                    .store
                    .copy(&tmp, &key)
                    .await
                    .map_err(|e| os_error("placing a blob", e)),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        let _ = self.store.delete(&tmp).await;
        placed?;
        Ok(Written { sha256: sha, size })
    }

    /// Reads a blob as a stream; the stream fails at its end if the bytes do not hash to the
    /// name (an object store that answered with another object than asked).
    pub async fn read(&self, sha: &str) -> Result<BlobReader, StoreError> {
        let got = self
            .store
            .get(&self.key(sha)?)
            .await
            .map_err(|e| os_error("reading a blob", e))?;
        let stream = got
            .into_stream()
            .map(|r| r.map_err(|e| std::io::Error::other(e.to_string())));
        let reader = tokio_util::io::StreamReader::new(stream);
        Ok(Box::pin(crate::blobs::Verified::new(
            reader,
            sha.to_owned(),
        )))
    }

    /// Whether a blob exists.
    pub async fn exists(&self, sha: &str) -> Result<bool, StoreError> {
        match self.store.head(&self.key(sha)?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(os_error("looking for a blob", e)),
        }
    }

    /// Removes a blob (nothing when there is none).
    pub async fn remove(&self, sha: &str) -> Result<(), StoreError> {
        match self.store.delete(&self.key(sha)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(os_error("removing a blob", e)),
        }
    }

    /// Every blob, with when it was last written.
    pub async fn list(&self) -> Result<Vec<(String, SystemTime)>, StoreError> {
        let prefix = ObjectPath::from(format!("{}blobs", self.prefix));
        let mut out = Vec::new();
        let mut s = self.store.list(Some(&prefix));
        while let Some(meta) = s.next().await {
            let meta = meta.map_err(|e| os_error("listing blobs", e))?;
            if let Some(name) = meta.location.filename()
                && is_sha256(name)
            {
                out.push((name.to_owned(), system_time(meta.last_modified.timestamp())));
            }
        }
        Ok(out)
    }

    /// Removes temporary uploads (of interrupted writes) older than `before`; how many.
    pub async fn sweep_incoming(&self, before: SystemTime) -> Result<usize, StoreError> {
        let prefix = ObjectPath::from(format!("{}incoming", self.prefix));
        let mut old = Vec::new();
        let mut s = self.store.list(Some(&prefix));
        while let Some(meta) = s.next().await {
            let meta = meta.map_err(|e| os_error("listing uploads", e))?;
            if system_time(meta.last_modified.timestamp()) < before {
                old.push(meta.location);
            }
        }
        for p in &old {
            let _ = self.store.delete(p).await;
        }
        Ok(old.len())
    }

    /// Puts a small record that is not a blob under `<prefix><dir>/<name>` (the audit
    /// checkpoints: run-time records every node writes and any node reads).
    pub async fn put_record(
        &self,
        dir: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        let key = ObjectPath::parse(format!("{}{dir}/{name}", self.prefix))
            .map_err(|e| StoreError::Invalid(format!("a record's name: {e}")))?;
        self.store
            .put(&key, PutPayload::from(bytes))
            .await
            .map_err(|e| os_error("writing a record", e))?;
        Ok(())
    }

    /// Every record under `<prefix><dir>/`, name and bytes, in the order of their names;
    /// read eight at a time.
    pub async fn records(&self, dir: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let prefix = ObjectPath::from(format!("{}{dir}", self.prefix));
        let mut keys = Vec::new();
        let mut s = self.store.list(Some(&prefix));
        while let Some(meta) = s.next().await {
            keys.push(meta.map_err(|e| os_error("listing records", e))?.location);
        }
        keys.sort();
        let reads = keys.into_iter().map(|key| async move {
            let bytes = self
                .store
                .get(&key)
                .await
                .map_err(|e| os_error("reading a record", e))?
                .bytes()
                .await
                .map_err(|e| os_error("reading a record", e))?;
            Ok::<_, StoreError>((
                key.filename().unwrap_or_default().to_owned(),
                bytes.to_vec(),
            ))
        });
        futures_util::stream::iter(reads)
            .buffered(8)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect()
    }

    /// Whether the bucket answers with these credentials: a listing of the prefix (empty or
    /// not). A bucket that does not exist answers "not found" to a listing, which no existing
    /// bucket does.
    pub async fn check(&self) -> Result<(), StoreError> {
        let prefix = ObjectPath::from(format!("{}readiness", self.prefix));
        match self.store.list_with_delimiter(Some(&prefix)).await {
            Ok(_) => Ok(()),
            Err(object_store::Error::NotFound { .. }) => Err(StoreError::ObjectStore(format!(
                "the bucket {} does not exist",
                self.bucket
            ))),
            Err(e) => Err(os_error("the object store", e)),
        }
    }
}

/// Credentials from a shared-credentials file, read again (at most once a second) when a
/// request needs them and the file has changed; a file that cannot be read then leaves the
/// last good credentials in use (and says so in the log).
#[derive(Debug)]
pub struct FileCredentials {
    path: std::path::PathBuf,
    current: std::sync::Mutex<(std::time::Instant, Arc<AwsCredential>)>,
}

impl FileCredentials {
    /// Reads the file now: a file that is missing or names no key is a configuration error.
    pub fn open(path: &std::path::Path) -> Result<FileCredentials, StoreError> {
        let first = read_credentials(path).map_err(StoreError::Invalid)?;
        Ok(FileCredentials {
            path: path.to_owned(),
            current: std::sync::Mutex::new((std::time::Instant::now(), Arc::new(first))),
        })
    }

    fn get(&self) -> Arc<AwsCredential> {
        let mut cur = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if cur.0.elapsed() >= Duration::from_secs(1) {
            match read_credentials(&self.path) {
                Ok(c) if c != *cur.1 => {
                    tracing::info!(file = %self.path.display(), "object store credentials renewed");
                    cur.1 = Arc::new(c);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "object store credentials not re-read"),
            }
            cur.0 = std::time::Instant::now();
        }
        cur.1.clone()
    }
}

impl object_store::CredentialProvider for FileCredentials {
    type Credential = AwsCredential;

    fn get_credential<'a, 'b>(
        &'a self,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = object_store::Result<Arc<AwsCredential>>> + Send + 'b>,
    >
    where
        'a: 'b,
        Self: 'b,
    {
        let c = self.get();
        Box::pin(async move { Ok(c) })
    }
}

/// The keys of a shared-credentials file (the first of each; sections are not told apart).
fn read_credentials(path: &std::path::Path) -> Result<AwsCredential, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("the credentials file {}: {e}", path.display()))?;
    let (mut key, mut secret, mut token) = (None, None, None);
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=') {
            let v = Some(v.trim().to_owned()).filter(|v| !v.is_empty());
            match k.trim() {
                "aws_access_key_id" => key = key.or(v),
                "aws_secret_access_key" => secret = secret.or(v),
                "aws_session_token" => token = token.or(v),
                _ => {}
            }
        }
    }
    match (key, secret) {
        (Some(key_id), Some(secret_key)) => Ok(AwsCredential {
            key_id,
            secret_key,
            token,
        }),
        _ => Err(format!(
            "the credentials file {} names no aws_access_key_id and aws_secret_access_key",
            path.display()
        )),
    }
}

fn system_time(secs: i64) -> SystemTime {
    if secs >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        SystemTime::UNIX_EPOCH
    }
}

fn check_expected(expected: Option<&str>, sha: &str) -> Result<(), StoreError> {
    match expected {
        Some(e) if e != sha => Err(StoreError::Invalid(format!(
            "the blob's SHA-256 is {sha}, not the announced {e}"
        ))),
        _ => Ok(()),
    }
}
