//! The `egov` binary driven as an operator would: backup and restore while serving, audit
//! verification of a tampered log, and a worker killed between a job's effect and its record.

mod common;
use common::{Killed, egov, free_port, wait_port};

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use egov_store::testing::{Backend, TestDb};
use egov_store::{Exec, args};

fn ok(mut c: Command) -> Output {
    let out = c.output().expect("run egov");
    assert!(
        out.status.success(),
        "{c:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A database URL for the CLI: the test database's URL (the TestDb keeps it alive).
async fn fresh(backend: Backend) -> TestDb {
    TestDb::new(backend).await
}

async fn backup_and_restore(backend: Backend) {
    let src = fresh(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a");
    ok({
        let mut c = egov(&data, &src.url);
        c.args(["demo", "--seed-only"]);
        c
    });
    // A blob and the row naming it, as the document issues will write them.
    let blobs = egov_store::blobs::BlobStore::new(data.join("blobs"));
    let sha = blobs.put("Quyết định số 15/QĐ-UBND".as_bytes()).unwrap();
    egov_store::blobs::record(&mut &src.db, &sha, 26, "text/plain", egov_store::now())
        .await
        .unwrap();

    // Back up while the server runs.
    let port = free_port();
    let server = Killed(
        egov(&data, &src.url)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_port(port);
    let archive = dir.path().join("backup.tar");
    let out = ok({
        let mut c = egov(&data, &src.url);
        c.arg("backup").arg(&archive);
        c
    });
    // The demo's signature and seal images are blobs too.
    let stored: i64 = egov_store::Exec::scalar(
        &mut &src.db,
        "SELECT COUNT(*) FROM blobs",
        egov_store::args![],
    )
    .await
    .unwrap();
    assert!(stored > 1, "{stored}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains(&format!("{stored} blobs")), "{said}");
    let before = egov_store::backup::table_counts(&src.db).await.unwrap();
    drop(server);

    // Restore into a new place.
    let target = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(TestDb::postgres_with(false).await),
    };
    let restored_dir = dir.path().join("b");
    let url = match &target {
        Some(t) => t.url.clone(),
        None => restored_dir.join("egov.sqlite").display().to_string(),
    };
    // The audit key travels apart from the backup (like the key-encryption key): without it
    // the restored chain cannot be checked, and the restore says so.
    std::fs::create_dir_all(&restored_dir).unwrap();
    let keyless = egov(&restored_dir, &url)
        .arg("restore")
        .arg(&archive)
        .output()
        .unwrap();
    assert!(!keyless.status.success());
    assert!(
        String::from_utf8_lossy(&keyless.stderr).contains("audit.key"),
        "{}",
        String::from_utf8_lossy(&keyless.stderr)
    );
    std::fs::copy(data.join("audit.key"), restored_dir.join("audit.key")).unwrap();
    let out = ok({
        let mut c = egov(&restored_dir, &url);
        c.arg("restore").arg("--force").arg(&archive);
        c
    });
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("audit chain: OK"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let db = egov_store::Db::open(&egov_store::DbOptions::new(&url))
        .await
        .unwrap();
    let after = egov_store::backup::table_counts(&db).await.unwrap();
    let strip = |v: Vec<(String, i64)>| {
        v.into_iter()
            .filter(|(t, _)| t != "sessions")
            .collect::<Vec<_>>()
    };
    assert!(after.iter().any(|(t, n)| t == "agencies" && *n > 700));
    assert_eq!(strip(before), strip(after), "the restore has the same rows");
    let restored_blobs = egov_store::blobs::BlobStore::new(restored_dir.join("blobs"));
    assert_eq!(
        restored_blobs.get(&sha).unwrap(),
        "Quyết định số 15/QĐ-UBND".as_bytes()
    );
    // Restoring over an existing database is refused without --force.
    if backend == Backend::Sqlite {
        let out = egov(&restored_dir, &url)
            .arg("restore")
            .arg(&archive)
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    }
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_and_restore_sqlite() {
    backup_and_restore(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_and_restore_postgres() {
    backup_and_restore(Backend::Postgres).await;
}

async fn audit_verify_finds_tampering(backend: Backend) {
    let t = fresh(backend).await;
    let dir = tempfile::tempdir().unwrap();
    ok({
        let mut c = egov(dir.path(), &t.url);
        c.args(["demo", "--seed-only"]);
        c
    });
    let out = ok({
        let mut c = egov(dir.path(), &t.url);
        c.args(["audit", "verify"]);
        c
    });
    assert!(String::from_utf8_lossy(&out.stdout).contains("audit chain OK"));
    (&t.db)
        .execute(
            "UPDATE audit_log SET actor = 'someone else' WHERE seq = 3",
            args![],
        )
        .await
        .unwrap();
    let out = egov(dir.path(), &t.url)
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("BROKEN at entry 3"), "{err}");
}

/// A demo seeded on a fresh database, in a data directory of its own.
async fn seeded_demo(backend: Backend) -> (TestDb, tempfile::TempDir) {
    let t = fresh(backend).await;
    let dir = tempfile::tempdir().unwrap();
    ok({
        let mut c = egov(dir.path(), &t.url);
        c.args(["demo", "--seed-only"]);
        c
    });
    (t, dir)
}

/// `egov audit verify`: its exit status and what it printed.
fn audit_verify(dir: &Path, url: &str) -> (Option<i32>, String) {
    let out = egov(dir, url).args(["audit", "verify"]).output().unwrap();
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// What someone with write access to the database alone can do to the audit log, and what
/// `egov audit verify` says: the key lives in the data directory, not in the database.
async fn audit_attacks_from_the_database(backend: Backend) {
    // 1. An entry changed before it was sealed: its MAC, written with it, gives it away.
    let (t, dir) = seeded_demo(backend).await;
    let unsealed: i64 = (&t.db)
        .scalar("SELECT MAX(id) FROM audit_log WHERE seq IS NULL", args![])
        .await
        .unwrap();
    (&t.db)
        .execute(
            "UPDATE audit_log SET actor = 'nobody' WHERE id = $1",
            args![unsealed],
        )
        .await
        .unwrap();
    let (code, said) = audit_verify(dir.path(), &t.url);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("altered"), "{said}");
    let (t, dir) = seeded_demo(backend).await;
    let verify = || audit_verify(dir.path(), &t.url);
    let out = ok({
        let mut c = egov(dir.path(), &t.url);
        c.args(["audit", "checkpoint"]);
        c
    });
    assert!(String::from_utf8_lossy(&out.stdout).contains("checkpoint at"));
    assert_eq!(verify().0, Some(0));
    // 2. An entry edited and every later link recomputed as an unkeyed chain would be.
    let rows: Vec<(i64, i64)> = (&t.db)
        .fetch_all(
            "SELECT id, seq FROM audit_log WHERE seq >= 5 ORDER BY seq",
            args![],
        )
        .await
        .unwrap();
    let saved: Vec<(i64, Option<String>, Option<String>)> = (&t.db)
        .fetch_all(
            "SELECT id, prev_hash, hash FROM audit_log WHERE seq >= 5 ORDER BY seq",
            args![],
        )
        .await
        .unwrap();
    let head: (i64, String) = (&t.db)
        .fetch_one("SELECT last_seq, last_hash FROM audit_chain", args![])
        .await
        .unwrap();
    let actor5: String = (&t.db)
        .scalar("SELECT actor FROM audit_log WHERE seq = 5", args![])
        .await
        .unwrap();
    (&t.db)
        .execute(
            "UPDATE audit_log SET actor = 'nobody' WHERE seq = 5",
            args![],
        )
        .await
        .unwrap();
    let mut prev: String = (&t.db)
        .scalar("SELECT hash FROM audit_log WHERE seq = 4", args![])
        .await
        .unwrap();
    for (id, seq) in &rows {
        let e: egov_store::audit::Entry = (&t.db)
            .fetch_one(
                "SELECT id, at, actor_id, actor, action, object_type, object_id, agency_id, \
                 before_json, after_json, ip, request_id, seq, prev_hash, hash, mac \
                 FROM audit_log WHERE id = $1",
                args![*id],
            )
            .await
            .unwrap();
        let h = egov_store::audit::entry_hash(&prev, *seq, &e);
        (&t.db)
            .execute(
                "UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE id = $3",
                args![prev.as_str(), h.as_str(), *id],
            )
            .await
            .unwrap();
        prev = h;
    }
    (&t.db)
        .execute(
            "UPDATE audit_chain SET last_hash = $1",
            args![prev.as_str()],
        )
        .await
        .unwrap();
    let (code, said) = verify();
    assert_eq!(code, Some(1));
    assert!(said.contains("BROKEN at entry 5"), "{said}");
    // Put it back as it was.
    (&t.db)
        .execute(
            "UPDATE audit_log SET actor = $1 WHERE seq = 5",
            args![actor5.as_str()],
        )
        .await
        .unwrap();
    for (id, p, h) in &saved {
        (&t.db)
            .execute(
                "UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE id = $3",
                args![p.clone(), h.clone(), *id],
            )
            .await
            .unwrap();
    }
    (&t.db)
        .execute(
            "UPDATE audit_chain SET last_hash = $1",
            args![head.1.as_str()],
        )
        .await
        .unwrap();
    assert_eq!(verify().0, Some(0), "as it was");
    // 3. The tail cut: the newer half of the entries deleted and the head moved back to a link
    // that holds. The chain alone cannot tell; the checkpoint outside the database does.
    assert!(head.0 >= 10, "{head:?}");
    let cut = head.0 / 2;
    let cut_hash: String = (&t.db)
        .scalar("SELECT hash FROM audit_log WHERE seq = $1", args![cut])
        .await
        .unwrap();
    (&t.db)
        .execute("DELETE FROM audit_log WHERE seq > $1", args![cut])
        .await
        .unwrap();
    (&t.db)
        .execute(
            "UPDATE audit_chain SET last_seq = $1, last_hash = $2",
            args![cut, cut_hash.as_str()],
        )
        .await
        .unwrap();
    let (code, said) = verify();
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("tail was removed"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_attacks_from_the_database_sqlite() {
    audit_attacks_from_the_database(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_attacks_from_the_database_postgres() {
    audit_attacks_from_the_database(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_finds_tampering_sqlite() {
    audit_verify_finds_tampering(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_finds_tampering_postgres() {
    audit_verify_finds_tampering(Backend::Postgres).await;
}

/// A receiver that records the idempotency key of every POST and answers 200.
fn receiver() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let keys = Arc::new(Mutex::new(Vec::new()));
    let k = keys.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                let Ok(n) = s.read(&mut chunk) else { break };
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let head = String::from_utf8_lossy(&buf).to_lowercase();
            if let Some(line) = head.lines().find(|l| l.starts_with("idempotency-key:")) {
                k.lock()
                    .unwrap()
                    .push(line["idempotency-key:".len()..].trim().to_owned());
            }
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (port, keys)
}

async fn job_runs_again_after_a_crash(backend: Backend) {
    let t = fresh(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let (port, keys) = receiver();
    ok({
        let mut c = egov(dir.path(), &t.url);
        c.args([
            "jobs",
            "http-post",
            &format!("http://127.0.0.1:{port}/hook"),
            r#"{"event":"test"}"#,
            "--key",
            "job-key-1",
        ]);
        c
    });
    // The worker does the effect, then dies before recording it.
    let out = egov(dir.path(), &t.url)
        .arg("worker")
        .env("EGOV_FAILPOINT", "after-job-effect")
        .env("EGOV__WORKER__LEASE_SECS", "1")
        .env("EGOV__WORKER__POLL_MS", "50")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the worker was meant to abort");
    assert_eq!(*keys.lock().unwrap(), vec!["job-key-1".to_string()]);
    let state: String = (&t.db)
        .scalar("SELECT state FROM jobs", args![])
        .await
        .unwrap();
    assert_eq!(state, "running", "the effect happened but was not recorded");

    // A new worker claims it again once the lease expires; the receiver sees the same key.
    let mut worker = Killed(
        egov(dir.path(), &t.url)
            .arg("worker")
            .env("EGOV__WORKER__LEASE_SECS", "1")
            .env("EGOV__WORKER__POLL_MS", "50")
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let state: String = (&t.db)
            .scalar("SELECT state FROM jobs", args![])
            .await
            .unwrap();
        if state == "done" {
            break;
        }
        assert!(Instant::now() < deadline, "the job was not run again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        *keys.lock().unwrap(),
        vec!["job-key-1".to_string(), "job-key-1".to_string()]
    );
    let attempts: i64 = (&t.db)
        .scalar("SELECT attempts FROM jobs", args![])
        .await
        .unwrap();
    assert_eq!(attempts, 2);
    // SIGTERM stops the worker cleanly.
    unsafe { libc::kill(worker.0.id() as i32, libc::SIGTERM) };
    let status = worker.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_runs_again_after_a_crash_sqlite() {
    job_runs_again_after_a_crash(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_runs_again_after_a_crash_postgres() {
    job_runs_again_after_a_crash(Backend::Postgres).await;
}

#[test]
fn pki_demo_outside_a_demo_says_what_it_needs_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_egov"))
        .current_dir(dir.path())
        .env("EGOV__LOG__LEVEL", "warn")
        .args(["pki", "demo", "pki"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("egov demo --seed-only"), "{said}");
    assert!(
        !dir.path().join("egov-data").exists(),
        "no data directory made"
    );
    assert!(!dir.path().join("pki").exists(), "no keys issued");
    // Checking a PDF needs no data directory either, and makes none.
    std::fs::write(
        dir.path().join("x.pdf"),
        b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n",
    )
    .unwrap();
    let _ = Command::new(env!("CARGO_BIN_EXE_egov"))
        .current_dir(dir.path())
        .env("EGOV__LOG__LEVEL", "warn")
        .args(["pki", "verify", "x.pdf"])
        .output()
        .unwrap();
    assert!(
        !dir.path().join("egov-data").exists(),
        "no data directory made by pki verify"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demos_settings_are_read_by_every_command_in_its_directory() {
    // The README's way: a fresh directory, the default relative data directory.
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_egov"))
            .current_dir(dir.path())
            .env("EGOV__LOG__LEVEL", "warn")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["demo", "--seed-only", "--key-algorithm", "p256"]);
    let settings = std::fs::read_to_string(dir.path().join("egov-data/settings.toml")).unwrap();
    assert!(settings.contains("\"pki/root.pem\""), "{settings}");
    // `egov config` in that directory shows the demo's trust list, resolved once.
    let config = run(&["config"]);
    assert!(config.contains("pki/root.pem"), "{config}");
    assert!(!config.contains("egov-data/egov-data"), "{config}");
}

/// `egov blobs migrate --to s3` copies every file into the bucket (again: nothing to do),
/// `egov blobs verify` then finds every file the database names, and reports one taken away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_move_to_a_bucket_and_are_verified_there() {
    let src = fresh(Backend::Sqlite).await;
    let s3 = egov_store::testing::s3_config().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a");
    ok({
        let mut c = egov(&data, &src.url);
        c.args(["demo", "--seed-only"]);
        c
    });
    let blobs = egov_store::blobs::BlobStore::new(data.join("blobs"));
    let sha = blobs.put("Quyết định số 16/QĐ-UBND".as_bytes()).unwrap();
    egov_store::blobs::record(&mut &src.db, &sha, 26, "text/plain", egov_store::now())
        .await
        .unwrap();
    let files = egov_store::blobs::all(&mut &src.db).await.unwrap().len();
    assert!(files >= 1);
    let with_bucket = |store: &str| {
        let mut c = egov(&data, &src.url);
        c.env("EGOV__BLOBS__STORE", store)
            .env("EGOV__BLOBS__S3__ENDPOINT", &s3.endpoint)
            .env("EGOV__BLOBS__S3__BUCKET", &s3.bucket)
            .env("EGOV__BLOBS__S3__PREFIX", &s3.prefix)
            .env("EGOV__BLOBS__S3__ACCESS_KEY_ID", &s3.access_key_id)
            .env("EGOV__BLOBS__S3__SECRET_ACCESS_KEY", &s3.secret_access_key);
        c
    };
    let first = ok({
        let mut c = with_bucket("local");
        c.args(["blobs", "migrate", "--to", "s3"]);
        c
    });
    let said = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(said.contains("0 already in the bucket"), "{said}");
    let again = ok({
        let mut c = with_bucket("local");
        c.args(["blobs", "migrate", "--to", "s3"]);
        c
    });
    let said = String::from_utf8_lossy(&again.stdout).into_owned();
    assert!(said.starts_with("0 files copied"), "{said}");
    let verified = ok({
        let mut c = with_bucket("s3");
        c.args(["blobs", "verify"]);
        c
    });
    let said = String::from_utf8_lossy(&verified.stdout).into_owned();
    assert!(said.contains(&format!("{files} in order, 0 not")), "{said}");
    // One taken out of the bucket: named, and the command fails.
    let bucket = egov_store::objects::S3Blobs::new(&s3).unwrap();
    bucket.remove(&sha).await.unwrap();
    let out = with_bucket("s3")
        .args(["blobs", "verify"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains(&format!("{sha}: missing")), "{said}");
    // Only s3 can be migrated to.
    let out = with_bucket("local")
        .args(["blobs", "migrate", "--to", "ftp"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
