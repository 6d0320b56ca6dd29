//! Backups: the database and the blobs it names, in one tar archive, taken while the server
//! runs; and their restore.
//!
//! The database is copied first — SQLite with `VACUUM INTO`, PostgreSQL with `pg_dump` (each a
//! consistent snapshot) — and the blobs after it. Blobs are written before the rows that name
//! them commit and are never changed, so every blob the snapshot names is on disk by then.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::blobs::{BlobStore, Blobs};
use crate::db::{Db, Dialect};
use crate::{StoreError, args};

pub const FORMAT: u32 = 1;
const MANIFEST: &str = "egov-backup.json";
const SQLITE_FILE: &str = "database.sqlite";
const PG_FILE: &str = "database.pgdump";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: u32,
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub created_at: String,
    pub egov_version: String,
    pub blobs: usize,
    /// Where the blobs are when they are not in the archive: the bucket of an object store
    /// (`s3://bucket/prefix`), whose own versioning and replication keep them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_store: Option<String>,
    /// SHA-256 of the database file in the archive.
    pub database_sha256: String,
}

fn io(e: impl std::fmt::Display) -> StoreError {
    StoreError::file("backup", std::io::Error::other(e.to_string()))
}

fn run(cmd: &mut Command, what: &str) -> Result<(), StoreError> {
    let out = cmd.output().map_err(|e| {
        StoreError::file(
            format!("{what} could not be started; install the PostgreSQL client tools"),
            e,
        )
    })?;
    if !out.status.success() {
        return Err(StoreError::file(
            format!("{what} failed"),
            std::io::Error::other(String::from_utf8_lossy(&out.stderr).trim().to_owned()),
        ));
    }
    Ok(())
}

fn sha256_file(path: &Path) -> Result<String, StoreError> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Writes a backup archive to `out` (via a temporary file, renamed at the end).
pub async fn backup(
    db: &Db,
    db_url: &str,
    blobs: &Blobs,
    out: &Path,
) -> Result<Manifest, StoreError> {
    let work = tempfile_dir(out)?;
    let (db_file, name) = match db.dialect() {
        Dialect::Sqlite => {
            let path = work.join(SQLITE_FILE);
            let target = path.display().to_string().replace('\'', "''");
            crate::Exec::execute(&mut &*db, &format!("VACUUM INTO '{target}'"), args![]).await?;
            (path, SQLITE_FILE)
        }
        Dialect::Postgres => {
            let path = work.join(PG_FILE);
            let (url, path2) = (db_url.to_owned(), path.clone());
            tokio::task::spawn_blocking(move || {
                run(
                    Command::new("pg_dump")
                        .arg("--format=custom")
                        .arg("--no-owner")
                        .arg("--no-privileges")
                        .arg(format!("--file={}", path2.display()))
                        .arg(format!("--dbname={url}")),
                    "pg_dump",
                )
            })
            .await
            .map_err(io)??;
            (path, PG_FILE)
        }
    };
    // An object store keeps its blobs itself (versioning, replication): the archive holds the
    // database and says where the blobs are.
    let (shas, blob_store, root) = match blobs {
        Blobs::Local(s) => (
            crate::blobs::all(&mut &*db).await?,
            None,
            s.root().to_owned(),
        ),
        Blobs::S3 { .. } => (Vec::new(), Some(blobs.describe()), PathBuf::new()),
    };
    let manifest = Manifest {
        format: FORMAT,
        backend: db.dialect_name().to_owned(),
        created_at: crate::ts_text(crate::now()),
        egov_version: env!("CARGO_PKG_VERSION").to_owned(),
        blobs: shas.len(),
        blob_store,
        database_sha256: sha256_file(&db_file)?,
    };
    let (out, m) = (out.to_owned(), manifest.clone());
    tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
        let tmp = out.with_extension("partial");
        let f = File::create(&tmp)?;
        let mut tar = tar::Builder::new(f);
        let json = serde_json::to_vec_pretty(&m).map_err(io)?;
        let mut header = tar::Header::new_gnu();
        header.set_size(json.len() as u64);
        header.set_mode(0o600);
        header.set_cksum();
        tar.append_data(&mut header, MANIFEST, json.as_slice())?;
        tar.append_path_with_name(&db_file, name)?;
        let store = BlobStore::new(root);
        for sha in &shas {
            let p = store.path(sha)?;
            tar.append_path_with_name(&p, format!("blobs/{sha}"))
                .map_err(|e| {
                    StoreError::file(format!("blob {sha} named by the database is missing"), e)
                })?;
        }
        let mut f = tar.into_inner()?;
        f.flush()?;
        f.sync_all()?;
        std::fs::rename(&tmp, &out)?;
        let _ = std::fs::remove_dir_all(db_file.parent().unwrap_or(Path::new("/nonexistent")));
        Ok(())
    })
    .await
    .map_err(io)??;
    Ok(manifest)
}

fn tempfile_dir(near: &Path) -> Result<PathBuf, StoreError> {
    let parent = near
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let mut r = [0u8; 6];
    getrandom::fill(&mut r).map_err(io)?;
    let dir = parent.join(format!(".egov-backup-{}", hex::encode(r)));
    std::fs::create_dir(&dir)?;
    Ok(dir)
}

/// Reads the manifest of an archive.
pub fn read_manifest(archive: &Path) -> Result<Manifest, StoreError> {
    let mut tar = tar::Archive::new(File::open(archive)?);
    for entry in tar.entries()? {
        let mut e = entry?;
        if e.path()?.to_str() == Some(MANIFEST) {
            let mut s = String::new();
            e.read_to_string(&mut s)?;
            return serde_json::from_str(&s)
                .map_err(|e| StoreError::Invalid(format!("bad manifest: {e}")));
        }
    }
    Err(StoreError::Invalid(
        "this file is not an egov backup (no manifest)".into(),
    ))
}

/// Restores an archive: the database into `target_url` (a SQLite path that must not exist, or
/// an empty PostgreSQL database) and the blobs into `blob_root`. `force` allows overwriting.
pub async fn restore(
    archive: &Path,
    target_url: &str,
    blob_root: &Path,
    force: bool,
) -> Result<Manifest, StoreError> {
    let manifest = read_manifest(archive)?;
    if manifest.format != FORMAT {
        return Err(StoreError::Invalid(format!(
            "backup format {} is not supported",
            manifest.format
        )));
    }
    let target_is_pg =
        target_url.starts_with("postgres://") || target_url.starts_with("postgresql://");
    if target_is_pg != (manifest.backend == "postgres") {
        return Err(StoreError::Invalid(format!(
            "this backup is of a {} database; restore it into the same kind",
            manifest.backend
        )));
    }
    let (archive, target, root) = (
        archive.to_owned(),
        target_url.to_owned(),
        blob_root.to_owned(),
    );
    let m = manifest.clone();
    tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
        let work = tempfile_dir(&root.join("x"))?;
        let mut tar = tar::Archive::new(File::open(&archive)?);
        let blobs = BlobStore::new(&root);
        let mut db_file = None;
        for entry in tar.entries()? {
            let mut e = entry?;
            let path = e.path()?.to_string_lossy().into_owned();
            if let Some(sha) = path.strip_prefix("blobs/") {
                let mut bytes = Vec::new();
                e.read_to_end(&mut bytes)?;
                if hex::encode(Sha256::digest(&bytes)) != sha {
                    return Err(StoreError::Invalid(format!(
                        "blob {sha} in the archive is corrupt"
                    )));
                }
                blobs.put(&bytes)?;
            } else if path == SQLITE_FILE || path == PG_FILE {
                let p = work.join(&path);
                e.unpack(&p)?;
                db_file = Some(p);
            }
        }
        let db_file =
            db_file.ok_or_else(|| StoreError::Invalid("the archive holds no database".into()))?;
        if sha256_file(&db_file)? != m.database_sha256 {
            return Err(StoreError::Invalid(
                "the database in the archive is corrupt".into(),
            ));
        }
        if target_is_pg {
            let mut cmd = Command::new("pg_restore");
            cmd.arg("--no-owner")
                .arg("--no-privileges")
                .arg("--exit-on-error")
                .arg(format!("--dbname={target}"));
            if force {
                cmd.arg("--clean").arg("--if-exists");
            }
            run(cmd.arg(&db_file), "pg_restore")?;
        } else {
            let path = target
                .strip_prefix("sqlite://")
                .or_else(|| target.strip_prefix("sqlite:"))
                .unwrap_or(&target);
            let path = Path::new(path);
            if path.exists() && !force {
                return Err(StoreError::Invalid(format!(
                    "{} already exists; stop the server and use --force to replace it",
                    path.display()
                )));
            }
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            let tmp = path.with_extension("restoring");
            std::fs::copy(&db_file, &tmp)?;
            std::fs::rename(&tmp, path)?;
        }
        let _ = std::fs::remove_dir_all(&work);
        Ok(())
    })
    .await
    .map_err(io)??;
    Ok(manifest)
}

/// Row counts of every table, to compare a restore with its source.
pub async fn table_counts(db: &Db) -> Result<Vec<(String, i64)>, StoreError> {
    let tables: Vec<(String,)> =
        match db.dialect() {
            Dialect::Sqlite => crate::Exec::fetch_all(
                &mut &*db,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 AND name NOT LIKE '_sqlx%' ORDER BY name",
                args![],
            )
            .await?,
            Dialect::Postgres => {
                crate::Exec::fetch_all(
                    &mut &*db,
                    "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' \
                 AND tablename NOT LIKE '_sqlx%' ORDER BY tablename",
                    args![],
                )
                .await?
            }
        };
    let mut out = Vec::new();
    for (t,) in tables {
        let n: i64 =
            crate::Exec::scalar(&mut &*db, &format!("SELECT COUNT(*) FROM {t}"), args![]).await?;
        out.push((t, n));
    }
    Ok(out)
}
