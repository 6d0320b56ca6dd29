//! `egov-bench-documents`: measures the documents module through its use cases, on SQLite or
//! PostgreSQL — not part of CI; see `scripts/bench-documents.sh` and docs/performance.md.
//!
//! 1. Fan-out: one document issued to all 166 communes of the two-tier structure, then to the
//!    549 communes of the three-tier one (their committees made current in this throwaway
//!    database, as a 2024 deployment had them), timed from the issue request until every
//!    recipient's queue shows it.
//! 2. Numbering: 16 clerks registering documents at once for a while: numbers per second, and a
//!    check that the series has no gap and no duplicate.
//! 3. Search at N documents (default 1,000,000) of a synthetic Vietnamese corpus: p50/p95 for a
//!    named mix — a rare word, a common word, a notation, a sender — as a department's specialist
//!    (permission applied in the query).

use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use egov_app::documents::RecipientInput;
use egov_app::documents::outgoing::{DraftCmd, OutAction, PaperOutCmd};
use egov_app::{Actor, App, Settings};
use egov_store::{Arg, Exec};

#[derive(Parser)]
struct Args {
    /// PostgreSQL URL; default: SQLite in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long, default_value_t = 1_000_000)]
    documents: usize,
    #[arg(long, default_value_t = 16)]
    clerks: usize,
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Searches per query kind.
    #[arg(long, default_value_t = 200)]
    queries: usize,
}

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

async fn actor(app: &App, user: &str) -> Result<Actor> {
    let p = egov_store::people::find_by_username(&mut app.db(), user)
        .await?
        .with_context(|| format!("no demo account {user}"))?;
    Ok(Actor::person(p.id, user))
}

async fn ids(app: &App, sql: &str) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = (app.db()).fetch_all(sql, egov_store::args![]).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Drafts, reviews and signs off a document to `to`, then times its issue.
async fn fan_out(app: &App, to: &[i64]) -> Result<f64> {
    let snv: i64 = (app.db())
        .scalar(
            "SELECT agency_id FROM postings p JOIN people u ON u.id = p.person_id WHERE u.username = 'chuyenvien.snv'",
            egov_store::args![],
        )
        .await?;
    let drafter = actor(app, "chuyenvien.snv").await?;
    let d = app
        .create_draft(
            &drafter,
            DraftCmd {
                recipients: to.iter().map(|id| RecipientInput::agency(*id)).collect(),
                ..DraftCmd::new(
                    snv,
                    "official_letter",
                    "Về việc triển khai sắp xếp tổ chức bộ máy",
                )
            },
        )
        .await?;
    app.add_document_file(&drafter, d.id, "main", "cv.pdf", None, PDF.to_vec())
        .await?;
    let mut v = egov_store::documents::get_document(&mut app.db(), d.id)
        .await?
        .version;
    for (user, event) in [
        ("chuyenvien.snv", "submit"),
        ("truongphong.snv", "approve"),
        ("giamdoc.snv", "sign_off"),
    ] {
        let a = actor(app, user).await?;
        v = app
            .act_on_document(&a, d.id, OutAction::parse(event, v, String::new(), None)?)
            .await?
            .version;
    }
    let clerk = actor(app, "vanthu.snv").await?;
    let t = Instant::now();
    app.act_on_document(
        &clerk,
        d.id,
        OutAction::parse("issue", v, String::new(), None)?,
    )
    .await?;
    let n: i64 = (app.db())
        .scalar(
            "SELECT COUNT(*) FROM incoming WHERE document_id = $1 AND state = 'arrived'",
            egov_store::args![d.id],
        )
        .await?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    if n as usize != to.len() {
        bail!("{n} of {} copies arrived", to.len());
    }
    Ok(ms)
}

const SENDERS: &[&str] = &[
    "Văn phòng Chính phủ",
    "Bộ Nội vụ",
    "Bộ Tài chính",
    "Bộ Tư pháp",
    "Bộ Xây dựng",
    "Bộ Y tế",
    "Ủy ban nhân dân tỉnh Thanh Hóa",
    "Sở Tài chính",
    "Sở Xây dựng",
    "Sở Nông nghiệp và Môi trường",
    "Sở Y tế",
    "Sở Giáo dục và Đào tạo",
    "Ủy ban nhân dân phường Hạc Thành",
    "Ủy ban nhân dân xã Đông Sơn",
];
const KINDS: &[(&str, &str)] = &[
    ("QĐ", "decision"),
    ("KH", "plan"),
    ("BC", "report"),
    ("TB", "notice"),
    ("HD", "guidance"),
    ("TTr", "submission"),
    ("GM", "invitation"),
];
const WORDS: &[&str] = &[
    "triển khai",
    "thực hiện",
    "kế hoạch",
    "công tác",
    "năm 2026",
    "tăng cường",
    "quản lý",
    "nhà nước",
    "đất đai",
    "xây dựng",
    "chuyển đổi số",
    "cải cách hành chính",
    "phòng chống",
    "thiên tai",
    "giáo dục",
    "y tế",
    "ngân sách",
    "đầu tư công",
    "giải ngân",
    "bồi thường",
    "giải phóng mặt bằng",
    "an toàn thực phẩm",
    "môi trường",
    "tổ chức bộ máy",
    "cán bộ",
    "công chức",
    "thi đua",
    "khen thưởng",
    "báo cáo",
    "quý IV",
];

/// Loads `n` documents from outside with one incoming copy each, spread over agencies.
async fn load_corpus(app: &App, n: usize, agencies: &[i64]) -> Result<f64> {
    let t = Instant::now();
    let mut rng: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let now = egov_store::now();
    let batch = 500;
    let mut done = 0;
    while done < n {
        let m = batch.min(n - done);
        let mut tx = app.db().begin().await?;
        let mut sql = String::from(
            "INSERT INTO documents (origin, issuer_name, kind, number, notation, issued_on, subject, urgency, state, \
             search_fold, access_fold, created_at, updated_at) VALUES ",
        );
        let mut a: Vec<Arg> = Vec::with_capacity(m * 8 + 1);
        let mut owners = Vec::with_capacity(m);
        for i in 0..m {
            let sender = SENDERS[(next() % SENDERS.len() as u64) as usize];
            let (abbr, kind) = KINDS[(next() % KINDS.len() as u64) as usize];
            let number = 1 + next() % 3000;
            let issuer = if sender.starts_with("Bộ") {
                "BNV"
            } else {
                "UBND"
            };
            let notation = format!("{number:02}/{abbr}-{issuer}");
            let mut words = Vec::new();
            for _ in 0..(4 + next() % 5) {
                words.push(WORDS[(next() % WORDS.len() as u64) as usize]);
            }
            // One document in ten thousand mentions a rare word.
            if next() % 10_000 == 0 {
                words.push("karaoke");
            }
            let subject = format!("Về việc {}", words.join(" "));
            let fold = format!(
                "{} {} {}",
                egov_domain::text::fold(&subject),
                egov_domain::text::fold(sender),
                egov_domain::documents::notation::search_words(&notation)
            );
            let day = time::Date::from_ordinal_date(2026, 1 + (next() % 320) as u16)?;
            let b = i * 8;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "('external', ${}, ${}, ${}, ${}, ${}, ${}, 'normal', 'issued', ${}, ${}, $0, $0)",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8
            ));
            let owner = agencies[(next() % agencies.len() as u64) as usize];
            a.extend([
                Arg::from(sender),
                Arg::from(kind),
                Arg::from(number as i64),
                Arg::from(notation),
                Arg::from(day),
                Arg::from(subject),
                Arg::from(fold),
                Arg::from(egov_store::fts::agency_words(&[owner])),
            ]);
            owners.push(owner);
        }
        // $0 is the time, bound last.
        a.push(Arg::from(now));
        let sql = sql.replace("$0", &format!("${}", a.len()));
        let sql = format!("{sql} RETURNING id");
        let new_ids: Vec<(i64,)> = tx.fetch_all(&sql, a).await?;
        let mut isql = String::from(
            "INSERT INTO incoming (agency_id, document_id, channel, state, arrived_at, updated_at) VALUES ",
        );
        let mut ia: Vec<Arg> = Vec::with_capacity(m * 2 + 1);
        for (i, (id,)) in new_ids.iter().enumerate() {
            if i > 0 {
                isql.push_str(", ");
            }
            isql.push_str(&format!(
                "(${}, ${}, 'electronic', 'completed', $1, $1)",
                i * 2 + 2,
                i * 2 + 3
            ));
            ia.push(Arg::from(owners[i]));
            ia.push(Arg::from(*id));
        }
        ia.insert(0, Arg::from(now));
        tx.execute(&isql, ia).await?;
        tx.commit().await?;
        done += m;
    }
    (app.db()).execute("ANALYZE", egov_store::args![]).await?;
    Ok(t.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("egov-bench-documents-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut settings = Settings {
        data_dir: dir.clone(),
        ..Default::default()
    };
    if let Some(u) = &args.database_url {
        settings.database.url = u.clone();
    }
    settings.database.max_connections = 32;
    let app = App::open(settings).await?;
    app.seed_demo().await?;
    let backend = app.db().dialect_name();

    // 1. Fan-out.
    let two = ids(
        &app,
        "SELECT a.id FROM agencies a JOIN admin_units u ON u.id = a.admin_unit_id \
         WHERE u.structure = 'two_tier' AND u.level = 'commune' ORDER BY a.id",
    )
    .await?;
    let three = ids(
        &app,
        "SELECT a.id FROM agencies a JOIN admin_units u ON u.id = a.admin_unit_id \
         WHERE u.structure = 'three_tier' AND u.level = 'commune' ORDER BY a.id",
    )
    .await?;
    // As a 2024 deployment had them: the old communes' committees in force.
    (app.db())
        .execute(
            "UPDATE agencies SET valid_to = NULL WHERE id IN (SELECT a.id FROM agencies a JOIN admin_units u \
             ON u.id = a.admin_unit_id WHERE u.structure = 'three_tier' AND u.level = 'commune')",
            egov_store::args![],
        )
        .await?;
    for (name, to) in [("two_tier_166", &two), ("three_tier_549", &three)] {
        let mut runs = Vec::new();
        for _ in 0..5 {
            runs.push(fan_out(&app, to).await?);
        }
        runs.sort_by(f64::total_cmp);
        println!(
            "{}",
            serde_json::json!({"backend": backend, "fan_out": name, "recipients": to.len(),
                "ms_median": percentile(&runs, 0.5), "ms_max": runs[runs.len() - 1]})
        );
    }

    // 2. Numbering under concurrent clerks.
    let clerk = actor(&app, "vanthu.snv").await?;
    let snv: i64 = (app.db())
        .scalar(
            "SELECT agency_id FROM postings p JOIN people u ON u.id = p.person_id WHERE u.username = 'vanthu.snv'",
            egov_store::args![],
        )
        .await?;
    let deadline = Instant::now() + std::time::Duration::from_secs(args.seconds);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.clerks {
        let (app, clerk) = (app.clone(), clerk.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let s = Instant::now();
                app.register_paper_outgoing(
                    &clerk,
                    PaperOutCmd {
                        agency_id: snv,
                        kind: "notice".into(),
                        subject: "Thông báo kết luận giao ban".into(),
                        signer_name: "Phạm Minh Tuấn".into(),
                        signer_position: "Giám đốc".into(),
                        ..Default::default()
                    },
                )
                .await?;
                lat.push(s.elapsed().as_secs_f64() * 1000.0);
                n += 1;
            }
            anyhow::Ok((n, lat))
        }));
    }
    let mut total = 0;
    let mut lat = Vec::new();
    for task in tasks {
        let (n, l) = task.await??;
        total += n;
        lat.extend(l);
    }
    let secs = t.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    let numbers = ids(
        &app,
        &format!(
            "SELECT number FROM documents WHERE agency_id = {snv} AND series = 'all' AND number IS NOT NULL ORDER BY number"
        ),
    )
    .await?;
    let gapless = numbers.iter().enumerate().all(|(i, n)| *n == i as i64 + 1);
    println!(
        "{}",
        serde_json::json!({"backend": backend, "numbering": {"clerks": args.clerks, "issued": total,
            "per_second": total as f64 / secs, "p50_ms": percentile(&lat, 0.5), "p95_ms": percentile(&lat, 0.95),
            "numbers": numbers.len(), "gapless_and_unique": gapless}})
    );
    if !gapless {
        bail!("the numbers have a gap or a duplicate");
    }

    // 3. Search over a large corpus.
    let receivers = ids(
        &app,
        "SELECT id FROM agencies WHERE kind = 'department' AND valid_to IS NULL ORDER BY id",
    )
    .await?;
    let load = load_corpus(&app, args.documents, &receivers).await?;
    println!(
        "{}",
        serde_json::json!({"backend": backend, "corpus": {"documents": args.documents, "load_seconds": load,
            "receiving_agencies": receivers.len()}})
    );
    let reader = actor(&app, "chuyenvien.snv").await?;
    let mix: &[(&str, &[&str])] = &[
        ("rare_word", &["karaoke", "karaoke chuyen doi"]),
        ("common_word", &["trien khai", "ke hoach", "cong tac"]),
        ("notation", &["123 qd ubnd", "45/KH-UBND", "7 tb bnv"]),
        (
            "sender",
            &["so tai chinh", "bo noi vu", "van phong chinh phu"],
        ),
    ];
    for (name, queries) in mix {
        let mut lat = Vec::new();
        let mut hits = 0usize;
        for i in 0..args.queries {
            let q = queries[i % queries.len()];
            let s = Instant::now();
            hits += app.search_documents(&reader, q).await?.len();
            lat.push(s.elapsed().as_secs_f64() * 1000.0);
        }
        lat.sort_by(f64::total_cmp);
        println!(
            "{}",
            serde_json::json!({"backend": backend, "search": name, "queries": args.queries,
                "mean_hits": hits as f64 / args.queries as f64,
                "p50_ms": percentile(&lat, 0.5), "p95_ms": percentile(&lat, 0.95), "p99_ms": percentile(&lat, 0.99)})
        );
    }
    app.db().close().await;
    if std::env::var_os("EGOV_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        eprintln!("kept {}", dir.display());
    }
    Ok(())
}
