//! `egov-bench-intake`: measures taking online dossiers in from the national portal's stand-in
//! over HTTP, on SQLite or PostgreSQL — not part of CI; see `scripts/bench-intake.sh` and
//! docs/performance.md.
//!
//! 1. Throughput: N submissions, each with two files of `--file-mb` MB, pulled and taken in
//!    (files streamed into the file store, hashes checked, dossiers submitted).
//! 2. Memory: one submission with a single file of `--big-mb` MB; the process's peak resident
//!    memory, reset just before, after taking it in (the stand-in already holds the file in
//!    this process and serves it without copying, so the growth is egov's own).
//! 3. The national catalogue: `--catalogue` procedures (the fixture's entry under as many
//!    codes; all but the seed's one are new to egov) listed, each fetched, compared with egov's
//!    version in force and held for review; the time and the growth of the peak resident
//!    memory.

use std::time::Instant;

use anyhow::Result;
use clap::Parser;
use egov_app::settings::NationalPortal;
use egov_app::{App, Settings};
use egov_web::national_fake::FakePortal;
use serde_json::json;
use sha2::Digest;

#[derive(Parser)]
struct Args {
    /// PostgreSQL URL; default: SQLite in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long, default_value_t = 500)]
    dossiers: usize,
    #[arg(long, default_value_t = 1)]
    file_mb: usize,
    #[arg(long, default_value_t = 200)]
    big_mb: usize,
    /// Procedures in the national catalogue pulled (0: skip).
    #[arg(long, default_value_t = 6000)]
    catalogue: usize,
}

/// A PDF-looking file of `mb` MB, distinct for each `seed`.
fn pdf(mb: usize, seed: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(mb << 20);
    v.extend_from_slice(b"%PDF-1.4\n% bench\n");
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    while v.len() < mb << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(mb << 20);
    v
}

/// Starts the peak anew at the current resident memory (Linux: `clear_refs` 5).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory of this process since the last reset, in MiB.
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn submission(n: usize, agency: &str, files: &[(String, Vec<u8>)]) -> serde_json::Value {
    let attach = |i: usize| {
        let (id, bytes) = &files[i];
        json!([{ "IdGiayTo": id, "TenGiayTo": format!("{id}.pdf"),
                  "HashTepTin": hex::encode(sha2::Sha256::digest(bytes)) }])
    };
    let mut components = vec![json!({"MaThanhPhanHoSo": "TP1", "GiayToDinhKem": attach(0)})];
    if files.len() > 1 {
        components.push(json!({"MaThanhPhanHoSo": "GTTT", "GiayToDinhKem": attach(1)}));
    }
    json!({
        "MaHoSo": format!("G22.99-20261207-{n:07}"),
        "MaTTHC": "9.000004",
        "MaDonViTiepNhan": agency,
        "NgayNop": egov_domain::national::DateStyle::Compact.format(egov_store::now()),
        "TrichYeu": "Xác nhận tình trạng hôn nhân",
        "TaiKhoanDuocXacThucVoiVNeID": "1",
        "ThongTinNguoiNop": {"LoaiDoiTuong": "1", "HoVaTen": "Nguyễn Văn Bình",
                             "SoDinhDanh": format!("0381{n:08}")},
        "ThanhPhanHoSo": components,
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let fake = FakePortal::new(Vec::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let served = fake.clone();
    tokio::spawn(async move { served.serve(listener, std::future::pending()).await });
    let dir = tempfile::tempdir()?;
    let mut settings = Settings {
        data_dir: dir.path().to_path_buf(),
        national_portal: NationalPortal {
            enabled: true,
            intake: true,
            url,
            username: "bench".into(),
            password: "bench".into(),
            batch: 1000,
            intake_page: 500,
            ..NationalPortal::default()
        },
        ..Settings::default()
    };
    settings.server.max_upload_bytes = (args.big_mb + 8) << 20;
    if let Some(u) = &args.database_url {
        settings.database.url = u.clone();
    }
    let app = App::open(settings.clone()).await?;
    app.seed_demo()
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let hac_thanh = app
        .committee_by_unit(egov_domain::admin_unit::Structure::TwoTier, "14797")
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let agency = egov_store::agencies::get(&mut app.db(), hac_thanh)
        .await?
        .code;
    let portal = egov_app::onestop::national_sync::HttpPortal::new(settings.national_portal);
    let backend = if args.database_url.is_some() {
        "postgres"
    } else {
        "sqlite"
    };

    // 1. N submissions with two files each.
    for n in 0..args.dossiers {
        let files: Vec<(String, Vec<u8>)> = (0..2)
            .map(|i| {
                (
                    format!("F{n:07}-{i}"),
                    pdf(args.file_mb, (n * 2 + i) as u64),
                )
            })
            .collect();
        fake.submit(submission(n, &agency, &files), files);
    }
    let t = Instant::now();
    let mut taken = 0;
    while taken < args.dossiers {
        let r = app
            .intake_national(&portal)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        anyhow::ensure!(
            r.held == 0 && r.failed == 0 && r.pull_error.is_none(),
            "the intake did not take everything: {r:?}"
        );
        anyhow::ensure!(r.taken > 0, "the intake made no progress: {r:?}");
        taken += r.taken;
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"backend": backend, "intake": {"dossiers": taken, "files_each": 2, "file_mb": args.file_mb,
            "seconds": (secs * 10.0).round() / 10.0, "dossiers_per_s": (taken as f64 / secs * 10.0).round() / 10.0,
            "mb_per_s": (taken as f64 * 2.0 * args.file_mb as f64 / secs).round()}})
    );

    // 2. One submission with one big file: egov's peak memory while taking it in.
    let big = vec![("BIG-0000001".to_owned(), pdf(args.big_mb, 7_777_777))];
    fake.submit(submission(9_000_000, &agency, &big), big);
    reset_peak();
    let before = peak_mib();
    let t = Instant::now();
    let r = app
        .intake_national(&portal)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    anyhow::ensure!(r.taken == 1, "the big submission was not taken in: {r:?}");
    let after = peak_mib();
    println!(
        "{}",
        json!({"backend": backend, "big_file": {"mb": args.big_mb, "seconds": (t.elapsed().as_secs_f64() * 10.0).round() / 10.0,
            "peak_before_mib": before.round(), "peak_after_mib": after.round(), "peak_growth_mib": (after - before).round()}})
    );

    // 3. The national catalogue pulled and compared.
    if args.catalogue > 0 {
        let entry: serde_json::Value = serde_json::from_str(include_str!(
            "../../../app/tests/fixtures/national/laythutuc-answer.json"
        ))?;
        let entry = &entry["result"][0];
        for n in 0..args.catalogue {
            let mut e = entry.clone();
            // The seed's 9.000004 stays itself; the others are new to egov.
            if n > 0 {
                e["MATTHC"] = json!(format!("{}.{:06}", 1 + n % 2, 100_000 + n));
                e["TENTTHC"] = json!(format!("Thủ tục thử số {n}"));
            }
            fake.publish_procedure(e);
        }
        reset_peak();
        let before = peak_mib();
        let t = Instant::now();
        let pull = app
            .pull_catalogue(&portal)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        anyhow::ensure!(
            pull.listed == args.catalogue && pull.bad == 0,
            "the catalogue pull was not whole: {pull:?}"
        );
        let secs = t.elapsed().as_secs_f64();
        let after = peak_mib();
        println!(
            "{}",
            json!({"backend": backend, "catalogue": {"procedures": pull.listed, "new": pull.new, "changed": pull.changed,
                "seconds": (secs * 10.0).round() / 10.0, "per_s": (pull.listed as f64 / secs).round(),
                "peak_growth_mib": (after - before).round()}})
        );
    }
    Ok(())
}
