//! `egov-bench-blobs`: upload and download throughput of 10 MB files on the local store and on
//! an S3-compatible bucket (issue 24) — not part of CI; see `scripts/bench-nodes.sh` and
//! docs/performance.md. Each file is written from a stream (hashed on the way; in parts to the
//! bucket) and read back whole (checked against its hash on the way), one after another and
//! then four at a time.

use std::time::Instant;

use anyhow::Result;
use clap::Parser;
use egov_store::blobs::{BlobStorage, BlobStore, Blobs};
use egov_store::objects::{S3Blobs, S3Config};
use serde_json::json;
use tokio::io::AsyncReadExt;

#[derive(Parser)]
struct Args {
    /// `http://KEY:SECRET@HOST:PORT/BUCKET` of the bucket (default: the test server's).
    #[arg(long)]
    s3: Option<String>,
    #[arg(long, default_value_t = 20)]
    files: usize,
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    bytes: usize,
}

/// Bytes that do not repeat, so that no layer can compress them.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

async fn run(name: &str, blobs: &Blobs, files: &[Vec<u8>]) -> Result<serde_json::Value> {
    let total = files.iter().map(Vec::len).sum::<usize>() as f64 / 1e6;
    let t = Instant::now();
    let mut shas = Vec::new();
    for f in files {
        shas.push(blobs.write(&f[..], None, u64::MAX).await?.sha256);
    }
    let up = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for sha in &shas {
        let mut r = blobs.read(sha).await?;
        let mut out = Vec::new();
        r.read_to_end(&mut out).await?;
    }
    let down = t.elapsed().as_secs_f64();
    // Four at a time, as four counters would.
    let t = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for sha in shas.clone() {
        let b = blobs.clone();
        set.spawn(async move {
            let mut r = b.read(&sha).await?;
            let mut out = Vec::new();
            r.read_to_end(&mut out).await?;
            anyhow::Ok(out.len())
        });
        if set.len() >= 4 {
            set.join_next().await.expect("a task")??;
        }
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    let down4 = t.elapsed().as_secs_f64();
    for sha in &shas {
        blobs.remove(sha).await?;
    }
    Ok(json!({"store": name, "files": files.len(), "mb": total,
        "upload_mb_s": (total / up * 10.0).round() / 10.0,
        "download_mb_s": (total / down * 10.0).round() / 10.0,
        "download_4_at_once_mb_s": (total / down4 * 10.0).round() / 10.0}))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let files: Vec<Vec<u8>> = (0..args.files)
        .map(|i| noise(args.bytes, i as u64 + 1))
        .collect();
    let dir = tempfile::tempdir()?;
    let local = Blobs::Local(BlobStore::new(dir.path().join("blobs")));
    println!("{}", run("local", &local, &files).await?);
    if let Some(url) = &args.s3 {
        let (creds, rest) = url
            .trim_start_matches("http://")
            .split_once('@')
            .unwrap_or(("", url));
        let (host, bucket) = rest.split_once('/').unwrap_or((rest, "egov-test"));
        let (key, secret) = creds.split_once(':').unwrap_or((creds, ""));
        let config = S3Config {
            endpoint: format!("http://{host}"),
            bucket: bucket.trim_end_matches('/').to_owned(),
            region: "us-east-1".into(),
            path_style: true,
            prefix: format!("bench-{}", std::process::id()),
            access_key_id: key.to_owned(),
            secret_access_key: secret.to_owned(),
            credentials_file: None,
            timeout_secs: 60,
        };
        let s3 = Blobs::S3 {
            bucket: S3Blobs::new(&config)?,
            staging: BlobStore::new(dir.path().join("staging")),
        };
        println!("{}", run("s3", &s3, &files).await?);
    }
    Ok(())
}
