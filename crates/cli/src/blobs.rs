//! `egov blobs`: moving a deployment's files to an S3-compatible bucket, and checking that
//! every file the database names is in the store and reads back as its hash.

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use egov_app::{App, Settings};
use egov_store::blobs::{BlobStorage, BlobStore, Blobs};

#[derive(Subcommand)]
pub enum BlobsCmd {
    /// Copy the files under <data_dir>/blobs into the bucket of [blobs.s3], each checked
    /// against its hash on the way. Resumable: files already in the bucket are skipped. Then
    /// set blobs.store = "s3" and restart the nodes.
    Migrate {
        /// The store to move to (only `s3`).
        #[arg(long)]
        to: String,
    },
    /// Check that every file the database names is in the configured store and reads back
    /// as its hash (exit status 1 when one is missing or changed).
    Verify,
}

pub async fn run(settings: Settings, app: &App, cmd: BlobsCmd) -> Result<()> {
    match cmd {
        BlobsCmd::Migrate { to } => {
            if to != "s3" {
                bail!("--to {to}: only s3 (an S3-compatible bucket) can be migrated to");
            }
            let mut target = settings.clone();
            target.blobs.store = "s3".into();
            let bucket = target
                .blob_store()
                .map_err(|e| anyhow::anyhow!("{e}"))
                .context("the [blobs.s3] settings")?;
            bucket.check().await.context("the bucket does not answer")?;
            migrate(&BlobStore::new(settings.blob_dir()), &bucket).await
        }
        BlobsCmd::Verify => verify(app).await,
    }
}

async fn migrate(local: &BlobStore, bucket: &Blobs) -> Result<()> {
    let started = std::time::Instant::now();
    let source = Blobs::Local(local.clone());
    let all = source.all().await?;
    let (mut copied, mut skipped, mut bytes) = (0usize, 0usize, 0u64);
    for (i, sha) in all.iter().enumerate() {
        if bucket.exists(sha).await? {
            skipped += 1;
            continue;
        }
        let file = tokio::fs::File::open(local.path(sha)?)
            .await
            .with_context(|| format!("reading {sha}"))?;
        // The bytes sent are hashed on the way: a file whose bytes no longer match its name
        // is refused, not copied.
        let w = bucket
            .write(file, Some(sha), u64::MAX)
            .await
            .with_context(|| format!("copying {sha}"))?;
        copied += 1;
        bytes += w.size;
        if (i + 1) % 1000 == 0 {
            eprintln!("{} of {} files…", i + 1, all.len());
        }
    }
    println!(
        "{copied} files copied ({:.1} MB), {skipped} already in the bucket, {:.1} s; \
         now set blobs.store = \"s3\" and restart the nodes, then run `egov blobs verify`",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn verify(app: &App) -> Result<()> {
    let started = std::time::Instant::now();
    let named = egov_store::blobs::all(&mut app.db()).await?;
    let mut bad = Vec::new();
    for sha in &named {
        match app.blobs.get(sha).await {
            Ok(bytes) if BlobStore::digest(&bytes) == *sha => {}
            Ok(_) => bad.push(format!("{sha}: the bytes do not match the name")),
            Err(egov_store::StoreError::NotFound) => bad.push(format!("{sha}: missing")),
            Err(e) => bad.push(format!("{sha}: {e}")),
        }
    }
    for b in &bad {
        println!("{b}");
    }
    println!(
        "{} files named by the database, {} in order, {} not, in {} ({:.1} s)",
        named.len(),
        named.len() - bad.len(),
        bad.len(),
        app.blobs.describe(),
        started.elapsed().as_secs_f64()
    );
    if !bad.is_empty() {
        bail!("{} files are missing or changed", bad.len());
    }
    Ok(())
}
