//! Signatures on documents' files are judged when the files arrive, against the trust lists of
//! the settings.

use std::sync::Arc;

use egov_app::documents::outgoing::DraftCmd;
use egov_app::{App, Settings};
use egov_pki::demo::{self, Purpose};
use egov_pki::{KeyAlgorithm, SignRequest};
use egov_store::Db;
use time::Duration;

use super::documents::{actor, agency_of};

struct Fixture {
    app: Arc<App>,
    leader: demo::Issued,
    ca: demo::Issued,
    _dir: tempfile::TempDir,
}

fn fixture(db: Db) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let t = egov_store::now();
    let (from, to) = (t - Duration::days(30), t + Duration::days(365));
    let root = demo::issue(
        None,
        "CN=Gốc thử nghiệm,C=VN",
        KeyAlgorithm::EcdsaP256,
        Purpose::Ca,
        from,
        to,
    )
    .unwrap();
    let ca = demo::issue(
        Some(&root),
        "CN=CA thử nghiệm,C=VN",
        KeyAlgorithm::EcdsaP256,
        Purpose::Ca,
        from,
        to,
    )
    .unwrap();
    let leader = demo::issue(
        Some(&ca),
        "CN=Lê Văn Giám Đốc,O=Sở Nội vụ,C=VN",
        KeyAlgorithm::EcdsaP256,
        Purpose::Signing,
        from,
        to,
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("pki")).unwrap();
    std::fs::write(
        dir.path().join("pki/root.pem"),
        egov_pki::cert::to_pem(&root.cert).unwrap(),
    )
    .unwrap();
    let mut settings = Settings {
        data_dir: dir.path().to_path_buf(),
        ..Settings::default()
    };
    settings.signatures.trust_gcc = vec!["pki/root.pem".into()];
    Fixture {
        app: App::with_db(db, settings),
        leader,
        ca,
        _dir: dir,
    }
}

fn letter() -> Vec<u8> {
    let mut d = egov_pdf::Document::new("Công văn");
    d.paragraph(
        &egov_pdf::BODY,
        "Về việc báo cáo số liệu cán bộ, công chức cấp xã.",
    );
    d.finish()
}

fn signed_letter(f: &Fixture) -> Vec<u8> {
    let req = SignRequest::new(
        vec![f.leader.cert.clone(), f.ca.cert.clone()],
        egov_store::now(),
    );
    egov_pki::sign::sign_with(&letter(), &req, &f.leader.key).unwrap()
}

both!(files_are_judged_when_they_arrive, |db| {
    let f = fixture(db);
    let app = &f.app;
    app.seed_demo().await.unwrap();
    let snv = agency_of(app, "chuyenvien.snv").await;
    let drafter = actor(app, "chuyenvien.snv").await;
    let d = app
        .create_draft(
            &drafter,
            DraftCmd {
                agency_id: snv,
                kind: "report".into(),
                legal: false,
                subject: "Báo cáo số liệu".into(),
                urgency: None,
                unit_abbr: None,
                recipients: vec![],
                recipients_text: String::new(),
                replaces_id: None,
                secrecy: None,
            },
        )
        .await
        .unwrap();
    let signed = signed_letter(&f);
    let mut tampered = signed.clone();
    tampered.extend_from_slice(b"\n9 0 obj\n(sua noi dung)\nendobj\n");
    let mut ids = Vec::new();
    for (name, bytes) in [
        ("signed.pdf", signed),
        ("plain.pdf", letter()),
        ("tampered.pdf", tampered),
    ] {
        let a = app
            .add_document_file(
                &drafter,
                d.id,
                "attachment",
                name,
                Some("application/pdf"),
                bytes,
            )
            .await
            .unwrap();
        ids.push(a.id);
    }
    let verdicts = app.document_signatures(&drafter, d.id).await.unwrap();
    let status: Vec<&str> = verdicts.iter().map(|v| v.1.as_str()).collect();
    assert_eq!(status, ["valid", "unsigned", "invalid"]);
    let row = app.file_signatures(&drafter, d.id, ids[0]).await.unwrap();
    let report: serde_json::Value = serde_json::from_str(&row.report).unwrap();
    assert_eq!(report["signatures"][0]["signer"], "Lê Văn Giám Đốc");
    assert_eq!(report["signatures"][0]["trust_list"], "gcc");
    let row = app.file_signatures(&drafter, d.id, ids[2]).await.unwrap();
    assert!(
        row.report.contains("appended_not_revision"),
        "{}",
        row.report
    );

    // Someone of another agency sees neither the document nor its verdicts.
    let outsider = actor(app, "chuyenvien.stp").await;
    assert!(app.file_signatures(&outsider, d.id, ids[0]).await.is_err());
    assert!(app.document_signatures(&outsider, d.id).await.is_err());

    // Any PDF can be checked without storing it; what is not a PDF gets a clear error.
    let report = app.verify_pdf(signed_letter(&f)).await.unwrap();
    assert_eq!(report.status, egov_pki::Status::Valid);
    let e = app.verify_pdf(b"GIF89a".to_vec()).await.unwrap_err();
    assert_eq!(e.code, "pdf_not_pdf");
});
