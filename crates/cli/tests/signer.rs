//! The signer's client and the PKI commands, driven as a leader and an operator would: a demo
//! PKI, a document signed off in egov, `egov signer` signing it over the API with the leader's
//! key, and `egov pki sign|verify` on files.

mod common;
use common::{Killed, egov};

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use egov_app::documents::outgoing::{DraftCmd, OutAction};
use egov_store::testing::TestDb;

fn run(mut c: Command) -> Output {
    c.output().expect("run egov")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn draft_pdf() -> Vec<u8> {
    let mut d = egov_pdf::Document::new("Dự thảo");
    let s = egov_pdf::Style::new(egov_pdf::Face::Regular, 13.0, egov_pdf::Align::Center);
    d.text_at(egov_pdf::mm(70.0), 100.0, &s, "Số:        /SNV-VP");
    d.text_at(
        egov_pdf::mm(145.0),
        100.0,
        &s,
        "Thanh Hóa, ngày     tháng     năm",
    );
    d.finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_signs_with_egov_signer_and_an_operator_checks_files() {
    let test_db = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let url = test_db.url.clone();

    // The operator seeds the demo and makes a demo PKI; its printed settings configure the server.
    let out = run({
        let mut c = egov(data, &url);
        c.args(["demo", "--seed-only"]);
        c
    });
    assert!(out.status.success(), "{}", text(&out));
    let out = run({
        let mut c = egov(data, &url);
        c.args(["pki", "demo"]).arg(data.join("pki"));
        c
    });
    assert!(out.status.success(), "{}", text(&out));
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    let toml = &printed[printed.find("[signatures]").expect("printed settings")..];
    let config = data.join("egov.toml");
    std::fs::write(&config, toml).unwrap();

    // A document of the Department of Home Affairs reaches sign-off.
    let settings = egov_app::Settings {
        data_dir: data.to_path_buf(),
        ..Default::default()
    };
    let app = egov_app::App::with_db(test_db.db.clone(), settings);
    let person = |u: &'static str| {
        let app = app.clone();
        async move { app.actor_by_username(u).await.unwrap() }
    };
    let drafter = person("chuyenvien.snv").await;
    let snv = egov_store::org::postings_of(
        &mut app.db(),
        drafter.person_id.unwrap(),
        Some(egov_store::now()),
    )
    .await
    .unwrap()[0]
        .agency_id;
    let d = app
        .create_draft(
            &drafter,
            DraftCmd {
                recipients_text: "Lưu: VT.".into(),
                ..DraftCmd::new(snv, "official_letter", "Về việc ký số văn bản")
            },
        )
        .await
        .unwrap();
    app.add_document_file(&drafter, d.id, "main", "cv.pdf", None, draft_pdf())
        .await
        .unwrap();
    let act =
        |event: &str, version: i64| OutAction::parse(event, version, String::new(), None).unwrap();
    let d = egov_store::documents::get_document(&mut app.db(), d.id)
        .await
        .unwrap();
    let d = app
        .act_on_document(&drafter, d.id, act("submit", d.version))
        .await
        .unwrap();
    let d = app
        .act_on_document(
            &person("truongphong.snv").await,
            d.id,
            act("approve", d.version),
        )
        .await
        .unwrap();
    let d = app
        .act_on_document(
            &person("giamdoc.snv").await,
            d.id,
            act("sign_off", d.version),
        )
        .await
        .unwrap();
    let notation = d.notation.clone().unwrap();

    // The server runs with the demo PKI's settings.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Killed(
        egov(data, &url)
            .arg("--config")
            .arg(&config)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }

    // The leader's client lists and signs what waits for the leader.
    let accounts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("demo-accounts.json")).unwrap())
            .unwrap();
    let password = accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["username"] == "giamdoc.snv")
        .unwrap()["password"]
        .as_str()
        .unwrap()
        .to_owned();
    let signer = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_egov"));
        c.arg("signer")
            .args(args)
            .args(["--server", &format!("http://127.0.0.1:{port}")])
            .args(["--user", "giamdoc.snv", "--password", &password])
            .env("EGOV__LOG__LEVEL", "warn");
        c
    };
    let out = run(signer(&["list"]));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&notation), "{}", text(&out));
    let pki = data.join("pki");
    let key = |name: &str| pki.join(name).display().to_string();
    // Someone else's key is refused and nothing is signed.
    let out = run(signer(&[
        "sign",
        "--key",
        &key("person-phogiamdoc.snv.key.pem"),
        "--cert",
        &key("person-phogiamdoc.snv.pem"),
        "--key-password-file",
        &key("kek"),
    ]));
    assert!(!out.status.success());
    assert!(
        text(&out).contains("certificate_not_signer"),
        "{}",
        text(&out)
    );
    let out = run(signer(&[
        "sign",
        "--key",
        &key("person-giamdoc.snv.key.pem"),
        "--cert",
        &key("person-giamdoc.snv.pem"),
        "--key-password-file",
        &key("kek"),
        "--position",
        "1,110,200",
    ]));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("signed (valid)"), "{}", text(&out));
    let out = run(signer(&["list"]));
    assert!(text(&out).contains("Nothing waits"), "{}", text(&out));

    // The operator checks the signed file, a tampered copy and a file signed with a seal key.
    let d = egov_store::documents::get_document(&mut app.db(), d.id)
        .await
        .unwrap();
    let signed = app.read_blob(d.main_sha.as_ref().unwrap()).await.unwrap();
    // The demo's signature image of the leader, where the leader placed it: its top-left
    // corner 110 mm from the left and 200 mm from the top of the A4 page.
    let (page, rect) = egov_pki::appearance::first_visible_signature(&signed)
        .unwrap()
        .expect("a visible signature");
    let mm = |v: f32| v * 72.0 / 25.4;
    assert_eq!(page, 1);
    assert!((rect[0] - mm(110.0)).abs() < 0.5, "{rect:?}");
    assert!((rect[3] - (mm(297.0) - mm(200.0))).abs() < 0.5, "{rect:?}");
    std::fs::write(data.join("signed.pdf"), &signed).unwrap();
    let verify = |file: &str| {
        let mut c = egov(data, &url);
        c.arg("--config")
            .arg(&config)
            .args(["pki", "verify"])
            .arg(data.join(file));
        run(c)
    };
    let out = verify("signed.pdf");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Verdict: valid"), "{}", text(&out));
    let mut tampered = signed.clone();
    tampered.extend_from_slice(b"\n99 0 obj\n(them noi dung)\nendobj\n");
    std::fs::write(data.join("tampered.pdf"), &tampered).unwrap();
    let out = verify("tampered.pdf");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    std::fs::write(data.join("plain.pdf"), draft_pdf()).unwrap();
    let seal = std::fs::read_dir(&pki)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .find(|n| n.starts_with("seal-") && n.ends_with(".key.pem"))
        .unwrap();
    let mut c = egov(data, &url);
    c.args(["pki", "sign", "--key"])
        .arg(pki.join(&seal))
        .arg("--cert")
        .arg(pki.join(seal.replace(".key.pem", ".pem")))
        .arg("--key-password-file")
        .arg(pki.join("kek"))
        .arg(data.join("plain.pdf"))
        .arg(data.join("sealed.pdf"));
    let out = run(c);
    assert!(out.status.success(), "{}", text(&out));
    let out = verify("sealed.pdf");
    assert!(out.status.success(), "{}", text(&out));
    let out = verify("plain.pdf");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("Verdict: unsigned"), "{}", text(&out));

    // The same seal key handed over as a PKCS#12 file (written by OpenSSL): signed with
    // directly, and imported under the key-encryption key.
    let p12 = data.join("seal.p12");
    let exported = std::process::Command::new("openssl")
        .args(["pkcs12", "-export", "-inkey"])
        .arg(pki.join(&seal))
        .arg("-passin")
        .arg(format!("file:{}", pki.join("kek").display()))
        .arg("-in")
        .arg(pki.join(seal.replace(".key.pem", ".pem")))
        .args(["-passout", "pass:Mat-khau-p12", "-out"])
        .arg(&p12)
        .output()
        .expect("openssl runs");
    assert!(exported.status.success(), "{}", text(&exported));
    std::fs::write(data.join("p12-password"), "Mat-khau-p12\n").unwrap();
    let sign_p12 = |password_file: &str, out_file: &str| {
        let mut c = egov(data, &url);
        c.args(["pki", "sign", "--p12"])
            .arg(&p12)
            .arg("--key-password-file")
            .arg(data.join(password_file))
            .arg(data.join("plain.pdf"))
            .arg(data.join(out_file));
        run(c)
    };
    let out = sign_p12("p12-password", "sealed-p12.pdf");
    assert!(out.status.success(), "{}", text(&out));
    assert!(verify("sealed-p12.pdf").status.success());
    std::fs::write(data.join("wrong-password"), "sai").unwrap();
    let out = sign_p12("wrong-password", "never.pdf");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("password does not open"),
        "{}",
        text(&out)
    );
    let stem = data.join("imported-000.00.00.H56");
    let mut c = egov(data, &url);
    c.arg("--config")
        .arg(&config)
        .args(["pki", "import-p12"])
        .arg(&p12)
        .arg(&stem)
        .arg("--password-file")
        .arg(data.join("p12-password"));
    let out = run(c);
    assert!(out.status.success(), "{}", text(&out));
    let mut c = egov(data, &url);
    c.args(["pki", "sign", "--key"])
        .arg(data.join("imported-000.00.00.H56.key.pem"))
        .arg("--cert")
        .arg(data.join("imported-000.00.00.H56.pem"))
        .arg("--key-password-file")
        .arg(pki.join("kek"))
        .arg(data.join("plain.pdf"))
        .arg(data.join("sealed-imported.pdf"));
    let out = run(c);
    assert!(out.status.success(), "{}", text(&out));
    assert!(verify("sealed-imported.pdf").status.success());
}
