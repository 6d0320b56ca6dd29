//! `egov demo`: a data directory with Thanh Hóa seeded, its accounts printed, and the server.

use std::io::Write;

use anyhow::{Context, Result};
use egov_app::seed::DemoAccount;

const CREDENTIALS: &str = "demo-accounts.json";

pub async fn run(
    mut settings: egov_app::Settings,
    listen: &str,
    seed_only: bool,
    key_algorithm: egov_pki::KeyAlgorithm,
) -> Result<()> {
    let started = std::time::Instant::now();
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating {}", settings.data_dir.display()))?;
    settings.server.listen = listen.to_owned();
    let public_url = settings.server.public_url();
    let cred_path = settings.data_dir.join(CREDENTIALS);
    let app = super::open(settings.clone()).await?;
    let accounts: Vec<DemoAccount> = if app
        .is_demo_seeded()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        match std::fs::read_to_string(&cred_path) {
            Ok(s) => serde_json::from_str(&s).context("reading the demo accounts")?,
            Err(_) => Vec::new(),
        }
    } else {
        println!("Seeding Thanh Hóa (both structures, departments, demo officials)…");
        let seeding = std::time::Instant::now();
        let accounts = app
            .seed_demo()
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        println!("Seeded in {:.1} s.", seeding.elapsed().as_secs_f64());
        write_private(&cred_path, &serde_json::to_string_pretty(&accounts)?)?;
        accounts
    };
    print_accounts(&accounts, &cred_path);
    println!("Open {public_url} in a browser.");
    // A demo PKI beside the data, unless the configuration names real trust lists or seals.
    let dir = settings.data_dir.join("pki");
    let pki = app
        .demo_pki(&dir, key_algorithm)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let images = app
        .demo_images()
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    if images > 0 {
        println!("Demo signature and seal images approved: {images}.");
    }
    // Departments' online dossiers wait at the province's public administration centre.
    let centre = egov_store::agencies::find_by_short_name(&mut app.db(), "TTPVHCC")
        .await?
        .map(|a| a.code)
        .unwrap_or_default();
    drop(app);
    let s = &settings.signatures;
    if s.trust_gcc.is_empty() && s.trust_public.is_empty() && s.seals.is_empty() {
        settings.signatures = egov_app::settings::Signatures {
            leader_signature: s.leader_signature,
            ..relative_to(&pki.settings, &settings.data_dir)
        };
        // Every command run against this data directory (`egov pki verify`, `egov serve`)
        // reads these settings too, so they judge and seal as the demo does.
        let file = settings
            .data_dir
            .join(egov_app::settings::DATA_DIR_SETTINGS);
        let text = format!(
            "# Written by `egov demo`: the demo PKI's trust list, revocation list and seals.\n\
             # Every egov command run with this data directory reads it (beneath --config\n\
             # and EGOV__ variables). Relative paths are under the data directory.\n{}",
            super::pki::toml_signatures(&settings.signatures)?
        );
        std::fs::write(&file, text).with_context(|| format!("writing {}", file.display()))?;
    }
    println!(
        "Demo PKI in {} ({} seals, {} personal keys). A leader signs what waits for them with:",
        dir.display(),
        pki.settings.seals.len(),
        pki.people.len()
    );
    println!(
        "  egov signer sign --server {public_url} --user giamdoc.snv --password … \\\n    --key {d}/person-giamdoc.snv.key.pem --cert {d}/person-giamdoc.snv.pem --key-password-file {d}/kek\n",
        d = dir.display()
    );
    println!(
        "Ready in {:.1} s (seeding, keys and images).",
        started.elapsed().as_secs_f64()
    );
    if seed_only {
        return Ok(());
    }
    // A stand-in national portal beside the demo, unless the configuration names a real one:
    // every dossier and step is reported to it as it would be to dichvucong.gov.vn.
    if !settings.national_portal.enabled {
        let fake = egov_web::national_fake::FakePortal::new(Vec::new());
        // Its catalogue holds one procedure changed since the demo's (a shorter time limit),
        // for the operator's review.
        let catalogue: serde_json::Value = serde_json::from_str(include_str!(
            "../../app/tests/fixtures/national/laythutuc-answer.json"
        ))?;
        if let Some(entry) = catalogue["result"].get(0) {
            fake.publish_procedure(entry.clone());
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move {
            if let Err(e) = fake.serve(listener, std::future::pending()).await {
                tracing::warn!(error = %e, "the national portal stand-in stopped");
            }
        });
        settings.national_portal = egov_app::settings::NationalPortal {
            enabled: true,
            url: url.clone(),
            username: "demo".into(),
            password: "demo".into(),
            intake: true,
            department_centre: centre,
            ..Default::default()
        };
        println!("National Public Service Portal stand-in: {url}/ (what it holds).");
        println!("Submit a dossier there as a citizen would: {url}/submit (egov takes it in).");
    }
    if !settings.exchange.enabled {
        settings.exchange = demo_hub(&settings).await?;
    }
    let app = super::open(settings).await?;
    super::serve(app, listen).await
}

/// Ministries the demo's hub connects, answering as their systems would (identifiers from
/// `vn-standards.md` §2).
const MINISTRIES: [(&str, &str); 4] = [
    ("000.00.00.G09", "Bộ Nội vụ"),
    ("000.00.00.G12", "Bộ Tài chính"),
    ("000.00.00.G17", "Bộ Xây dựng"),
    ("000.00.00.G22", "Văn phòng Chính phủ"),
];

/// A local document exchange hub beside the demo (unless the configuration names a real
/// one): the demo's agencies and four ministries connected, the ministries answering what
/// they are sent. The demo's agencies take the identifiers they were given as published ones
/// (as importing the province's published list would make them), so that they may travel.
async fn demo_hub(settings: &egov_app::Settings) -> Result<egov_app::settings::Exchange> {
    let app = super::open(settings.clone()).await?;
    use egov_store::Exec as _;
    (app.db())
        .execute(
            "UPDATE agencies SET code_source = 'official' WHERE code_source = 'local'",
            egov_store::args![],
        )
        .await?;
    let ours: Vec<(String, String)> = (app.db())
        .fetch_all(
            "SELECT code, name FROM agencies WHERE valid_to IS NULL ORDER BY code",
            egov_store::args![],
        )
        .await?;
    drop(app);
    let mut directory: Vec<egov_app::exchange::transport::Connected> = ours
        .into_iter()
        .map(|(code, name)| egov_app::exchange::transport::Connected {
            code,
            name,
            parent: None,
        })
        .collect();
    directory.extend(MINISTRIES.iter().map(|(code, name)| {
        egov_app::exchange::transport::Connected {
            code: (*code).into(),
            name: (*name).into(),
            parent: None,
        }
    }));
    // Every call signed, as with the real hub; the secret lives as long as this process.
    let secret = egov_app::auth::random_token(24);
    let hub = egov_web::exchange_hub::LocalHub::new(
        std::collections::BTreeMap::from([("egov-demo".to_string(), secret.clone())]),
        directory,
    );
    hub.answer_for(MINISTRIES.iter().map(|(c, _)| (*c).to_string()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        if let Err(e) = hub.serve(listener, std::future::pending()).await {
            tracing::warn!(error = %e, "the exchange hub stopped");
        }
    });
    println!(
        "Document exchange hub (local): {url}/_state — the ministries it connects answer what they are sent."
    );
    Ok(egov_app::settings::Exchange {
        enabled: true,
        poll_seconds: 5,
        hub: egov_app::exchange::transport::HubConfig {
            url,
            system_id: "egov-demo".into(),
            secret,
            ..Default::default()
        },
        ..settings.exchange.clone()
    })
}

pub(crate) fn write_private(path: &std::path::Path, text: &str) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

fn print_accounts(accounts: &[DemoAccount], path: &std::path::Path) {
    println!();
    println!("Demo accounts (also in {}):", path.display());
    println!("{:<20} {:<16} who", "user name", "password");
    for a in accounts {
        println!("{:<20} {:<16} {}", a.username, a.password, a.what);
        if let Some(s) = &a.totp_secret {
            println!(
                "{:<20} TOTP secret {s} (add it to an authenticator app)",
                ""
            );
        }
    }
    println!();
}

/// The demo PKI's settings with paths under the data directory written relative to it, so the
/// directory can be moved or restored elsewhere.
fn relative_to(
    s: &egov_app::settings::Signatures,
    data_dir: &std::path::Path,
) -> egov_app::settings::Signatures {
    let rel = |p: &std::path::PathBuf| {
        p.strip_prefix(data_dir)
            .map_or_else(|_| p.clone(), |r| r.to_path_buf())
    };
    let mut out = s.clone();
    for list in [
        &mut out.trust_gcc,
        &mut out.trust_public,
        &mut out.intermediates,
        &mut out.crls,
    ] {
        *list = list.iter().map(rel).collect();
    }
    out.kek_file = out.kek_file.as_ref().map(rel);
    for seal in &mut out.seals {
        seal.certificate = rel(&seal.certificate);
        seal.key = seal.key.as_ref().map(rel);
    }
    out
}
