//! Signatures on documents' files are judged when the files arrive, against the trust lists of
//! the settings.

use std::sync::Arc;

use egov_app::documents::outgoing::{DraftCmd, OutAction};
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
    let (root, ca) = demo::root_and_ca(KeyAlgorithm::EcdsaP256, from, to).unwrap();
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
        .create_draft(&drafter, DraftCmd::new(snv, "report", "Báo cáo số liệu"))
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
    // Judging parses the whole file: a worker does it, not the upload.
    assert!(
        app.document_signatures(&drafter, d.id)
            .await
            .unwrap()
            .is_empty()
    );
    // Three judged, three read for search.
    assert_eq!(crate::run_jobs(app).await, 6);
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

/// An action on an outgoing document, without a note.
pub(crate) fn act(event: &str, version: i64) -> OutAction {
    OutAction::parse(event, version, String::new(), None).unwrap()
}

/// A letter of the Department of Home Affairs to the province's People's Committee, drafted by
/// its specialist with `files` (role, file name, bytes).
pub(crate) async fn letter_to_the_province(
    app: &App,
    files: Vec<(&str, &str, Vec<u8>)>,
) -> egov_store::documents::DocumentRow {
    let snv = agency_of(app, "chuyenvien.snv").await;
    let tinh = agency_of(app, "vanthu.tinh").await;
    let drafter = actor(app, "chuyenvien.snv").await;
    let d = app
        .create_draft(
            &drafter,
            DraftCmd {
                recipients: vec![egov_app::documents::RecipientInput::agency(tinh)],
                recipients_text: "Lưu: VT.".into(),
                ..DraftCmd::new(snv, "official_letter", "Về việc báo cáo số liệu cán bộ")
            },
        )
        .await
        .unwrap();
    for (role, name, bytes) in files {
        app.add_document_file(&drafter, d.id, role, name, None, bytes)
            .await
            .unwrap();
    }
    egov_store::documents::get_document(&mut app.db(), d.id)
        .await
        .unwrap()
}

/// Submitted by the drafter, approved by the head of unit, signed off by the director.
pub(crate) async fn to_sign_off(
    app: &App,
    d: egov_store::documents::DocumentRow,
) -> egov_store::documents::DocumentRow {
    let mut d = d;
    for (user, event) in [
        ("chuyenvien.snv", "submit"),
        ("truongphong.snv", "approve"),
        ("giamdoc.snv", "sign_off"),
    ] {
        let who = actor(app, user).await;
        d = app
            .act_on_document(&who, d.id, act(event, d.version))
            .await
            .unwrap();
    }
    d
}

/// The `/ByteRange` of the first signature and its CMS (DER, without the zero padding).
fn first_signature(pdf: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let at = pdf
        .windows(10)
        .position(|w| w == b"/ByteRange")
        .expect("a signature");
    let rest = &pdf[at..];
    let open = rest.iter().position(|b| *b == b'[').unwrap();
    let close = rest.iter().position(|b| *b == b']').unwrap();
    let n: Vec<usize> = std::str::from_utf8(&rest[open + 1..close])
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    let mut signed = pdf[n[0]..n[0] + n[1]].to_vec();
    signed.extend_from_slice(&pdf[n[2]..n[2] + n[3]]);
    let der = hex::decode(&pdf[n[1] + 1..n[2] - 1]).unwrap();
    // A DER SEQUENCE with a long-form length: 0x30 0x8N and N length bytes.
    let len_bytes = (der[1] & 0x7f) as usize;
    let len = der[2..2 + len_bytes]
        .iter()
        .fold(0usize, |a, b| a * 256 + *b as usize);
    (signed, der[..2 + len_bytes + len].to_vec())
}

/// Asks pyHanko to validate `file` against the trust anchor `root`; fails the test unless every
/// signature is judged valid.
pub(crate) fn pyhanko_says_valid(file: &std::path::Path, root: &std::path::Path) {
    let out = std::process::Command::new(pyhanko())
        .args([
            "sign",
            "validate",
            "--pretty-print",
            "--no-revocation-check",
            "--trust-replace",
            "--trust",
        ])
        .arg(root)
        .arg(file)
        .output()
        .expect("pyhanko runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{}: {said}", file.display());
    assert!(
        said.contains("judged VALID") && !said.contains("INVALID"),
        "{said}"
    );
}

fn pyhanko() -> std::path::PathBuf {
    if let Ok(p) = std::env::var("EGOV_PYHANKO") {
        return p.into();
    }
    let venv = std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default())
        .join(".cache/egov-venv/bin/pyhanko");
    assert!(
        venv.exists(),
        "pyHanko is needed to judge egov's signatures: run scripts/test.sh (it installs it), or set EGOV_PYHANKO"
    );
    venv
}

/// A time-stamp authority on 127.0.0.1 that answers RFC 3161 requests over HTTP with
/// `openssl ts -reply`, its certificate issued by `issuer`. Returns its URL.
fn start_tsa(issuer: &demo::Issued, dir: &std::path::Path) -> String {
    use std::io::{Read, Write};
    let t = egov_store::now();
    let tsa = demo::issue(
        Some(issuer),
        "CN=Dấu thời gian thử nghiệm,O=egov demo,C=VN",
        KeyAlgorithm::EcdsaP256,
        Purpose::TimeStamping,
        t - Duration::days(1),
        t + Duration::days(30),
    )
    .unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("tsa.pem"),
        egov_pki::cert::to_pem(&tsa.cert).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("tsa.key"),
        tsa.key.to_encrypted_pem(b"tsa").unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("serial"), "01\n").unwrap();
    std::fs::write(
        dir.join("tsa.cnf"),
        format!(
            "[ tsa ]\ndefault_tsa = egov\n[ egov ]\nserial = {d}/serial\nsigner_cert = {d}/tsa.pem\n\
             signer_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sha256\naccuracy = secs:1\n\
             ordering = no\ntsa_name = no\ness_cert_id_alg = sha256\n",
            d = dir.display()
        ),
    )
    .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/tsa", listener.local_addr().unwrap());
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body_at = loop {
                let k = s.read(&mut chunk).unwrap_or(0);
                if k == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..k]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break Some(i + 4);
                }
            };
            let Some(body_at) = body_at else { continue };
            let head = String::from_utf8_lossy(&buf[..body_at]).to_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < body_at + len {
                let k = s.read(&mut chunk).unwrap_or(0);
                if k == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..k]);
            }
            let (q, r) = (dir.join(format!("{n}.tsq")), dir.join(format!("{n}.tsr")));
            std::fs::write(&q, &buf[body_at..]).unwrap();
            let ok = std::process::Command::new("openssl")
                .args(["ts", "-reply", "-config"])
                .arg(dir.join("tsa.cnf"))
                .arg("-queryfile")
                .arg(&q)
                .arg("-inkey")
                .arg(dir.join("tsa.key"))
                .args(["-passin", "pass:tsa", "-out"])
                .arg(&r)
                .status()
                .is_ok_and(|st| st.success());
            let body = if ok {
                std::fs::read(&r).unwrap_or_default()
            } else {
                Vec::new()
            };
            let status = if ok {
                "200 OK"
            } else {
                "500 Internal Server Error"
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(&body);
        }
    });
    url
}

both!(
    the_leader_signs_at_sign_off_and_the_clerk_seals_at_issue,
    |db| {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            data_dir: dir.path().to_path_buf(),
            ..Settings::default()
        };
        let first = App::with_db(db.clone(), settings.clone());
        first.seed_demo().await.unwrap();
        let pki = first
            .demo_pki(&dir.path().join("pki"), egov_pki::KeyAlgorithm::Rsa)
            .await
            .unwrap();
        let kek = std::fs::read_to_string(dir.path().join("pki/kek")).unwrap();
        let root = demo::Issued {
            key: egov_pki::FileKey::from_pem(
                &std::fs::read_to_string(dir.path().join("pki/root.key.pem")).unwrap(),
                Some(kek.trim().as_bytes()),
            )
            .unwrap(),
            cert: egov_pki::cert::load_certificates(
                &std::fs::read(dir.path().join("pki/root.pem")).unwrap(),
            )
            .unwrap()
            .remove(0),
        };
        let tsa_url = start_tsa(&root, &dir.path().join("tsa"));
        let mut settings = settings;
        settings.signatures = egov_app::settings::Signatures {
            leader_signature: egov_app::settings::LeaderSignature::Required,
            tsa_url: Some(tsa_url),
            ..pki.settings.clone()
        };
        let app = &App::with_db(db, settings);
        let key_of = |user: &str| {
            let (_, cert, key) = pki.people.iter().find(|p| p.0 == user).unwrap();
            let k = egov_pki::FileKey::from_pem(
                &std::fs::read_to_string(key).unwrap(),
                Some(kek.trim().as_bytes()),
            )
            .unwrap();
            (k, std::fs::read_to_string(cert).unwrap())
        };
        let draft =
            letter_to_the_province(app, vec![("main", "du-thao.pdf", crate::documents::pdf())])
                .await;
        let draft_sha = draft.main_sha.clone().unwrap();
        let d = to_sign_off(app, draft).await;
        let leader = actor(app, "giamdoc.snv").await;
        let drafter = actor(app, "chuyenvien.snv").await;
        let snv = agency_of(app, "chuyenvien.snv").await;
        let tinh = agency_of(app, "vanthu.tinh").await;

        // The number and date are in the file now, before anyone signs.
        let notation = d.notation.clone().unwrap();
        let numbered_sha = d.main_sha.clone().unwrap();
        assert_ne!(numbered_sha, draft_sha);
        let numbered = app.read_blob(&numbered_sha).await.unwrap();
        // Every font embedded (the overlay's Liberation Serif too); the text read as laid out.
        crate::forms::text_of(&numbered, dir.path(), "numbered");
        let out = std::process::Command::new("pdftotext")
            .arg("-layout")
            .arg(dir.path().join("numbered.pdf"))
            .arg("-")
            .output()
            .expect("pdftotext runs (poppler-utils)");
        let text = String::from_utf8_lossy(&out.stdout).replace(' ', "");
        let number = notation.split('/').next().unwrap();
        assert!(text.contains(&format!("Số:{number}/SNV-VP")), "{text}");
        let (dd, mm) = egov_pki::stamp::day_month(d.issued_on.unwrap());
        assert!(
            text.contains(&format!(
                "ngày{dd}tháng{mm}năm{}",
                d.issued_on.unwrap().year()
            )),
            "{text}"
        );

        // The records office cannot issue before the leader has signed.
        let clerk = actor(app, "vanthu.snv").await;
        let e = app
            .act_on_document(&clerk, d.id, act("issue", d.version))
            .await
            .unwrap_err();
        assert_eq!(e.code, "signature_pending");

        // The signature waits for the leader, and only for the leader.
        let waiting = app.signatures_waiting(&leader).await.unwrap();
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0].notation.as_deref(), Some(notation.as_str()));
        let rid = waiting[0].id;
        let deputy = actor(app, "phogiamdoc.snv").await;
        assert!(app.signatures_waiting(&deputy).await.unwrap().is_empty());
        let (_, deputy_chain) = key_of("phogiamdoc.snv");
        let e = app
            .prepare_signature(&deputy, rid, &deputy_chain, None)
            .await
            .unwrap_err();
        assert_eq!(e.kind, egov_app::ErrorKind::Forbidden);
        // The leader's client with someone else's certificate is refused.
        let e = app
            .prepare_signature(&leader, rid, &deputy_chain, None)
            .await
            .unwrap_err();
        assert_eq!(e.code, "certificate_not_signer");
        let e = app
            .prepare_signature(&leader, rid, "not a certificate", None)
            .await
            .unwrap_err();
        assert_eq!(e.code, "bad_certificate");

        // Phase one, the signature on the "token", phase two.
        let (key, chain) = key_of("giamdoc.snv");
        let to_sign = app
            .prepare_signature(&leader, rid, &chain, None)
            .await
            .unwrap();
        use base64::Engine;
        let dtbs = base64::engine::general_purpose::STANDARD
            .decode(&to_sign.data_to_be_signed)
            .unwrap();
        assert_eq!(to_sign.algorithm, "rsa");
        let (deputy_key, _) = key_of("phogiamdoc.snv");
        use egov_pki::RawSigner;
        let wrong = deputy_key.sign(&dtbs).unwrap();
        let e = app
            .complete_signature(&leader, rid, &wrong)
            .await
            .unwrap_err();
        assert_eq!(e.code, "signature_mismatch");
        let signature = key.sign(&dtbs).unwrap();
        let verdict = app
            .complete_signature(&leader, rid, &signature)
            .await
            .unwrap();
        assert_eq!(verdict.status, "valid", "{}", verdict.report);
        let e = app
            .complete_signature(&leader, rid, &signature)
            .await
            .unwrap_err();
        assert_eq!(e.code, "signature_closed");
        assert!(app.signatures_waiting(&leader).await.unwrap().is_empty());

        // The clerk issues; the agency seal goes on with the agency's key.
        let d = egov_store::documents::get_document(&mut app.db(), d.id)
            .await
            .unwrap();
        let d = app
            .act_on_document(&clerk, d.id, act("issue", d.version))
            .await
            .unwrap();
        let sealed = app.read_blob(d.main_sha.as_ref().unwrap()).await.unwrap();
        let report = app.verify_pdf(sealed.clone()).await.unwrap();
        assert_eq!(report.status, egov_pki::Status::Valid, "{report:#?}");
        assert_eq!(report.signatures.len(), 2);
        let names: Vec<_> = report
            .signatures
            .iter()
            .map(|s| s.signer.clone().unwrap_or_default())
            .collect();
        let leader_name = egov_store::people::get(&mut app.db(), leader.person_id.unwrap())
            .await
            .unwrap()
            .full_name;
        assert_eq!(names[0], leader_name);
        assert!(names[1].contains("Sở Nội vụ"), "{names:?}");
        assert_eq!(report.signatures[0].changes_after, "signatures");
        // Both signatures carry a time-stamp from the authority (PAdES B-T).
        for s in &report.signatures {
            assert_eq!(s.time_source, "timestamp", "{report:#?}");
        }
        let audit: Vec<(String,)> = {
            use egov_store::Exec;
            (app.db())
            .fetch_all(
                "SELECT action FROM audit_log WHERE object_id = $1 AND object_type = 'document' ORDER BY id",
                egov_store::args![d.id.to_string()],
            )
            .await
            .unwrap()
        };
        let actions: Vec<&str> = audit.iter().map(|a| a.0.as_str()).collect();
        assert!(actions.contains(&"document.signed"), "{actions:?}");
        assert!(actions.contains(&"document.issue"), "{actions:?}");

        // The recipient's register shows the verdict; both agencies' statistics count the document.
        let year = d.issued_on.unwrap().year();
        let month = usize::from(u8::from(d.issued_on.unwrap().month())) - 1;
        let tinh_clerk = actor(app, "vanthu.tinh").await;
        let copy = app
            .incoming_list(&tinh_clerk, tinh, &["arrived"])
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.document_id == d.id)
            .unwrap();
        assert_eq!(copy.signature.as_deref(), Some("valid"));
        let sent = app.signature_statistics(&clerk, snv, year).await.unwrap();
        assert_eq!((sent.sent, sent.sent_valid), (1, 1));
        assert_eq!(
            (sent.months[month].sent, sent.months[month].sent_valid),
            (1, 1)
        );
        let got = app
            .signature_statistics(&tinh_clerk, tinh, year)
            .await
            .unwrap();
        assert_eq!((got.received, got.received_valid), (1, 1));
        assert!(
            app.signature_statistics(&drafter, tinh, year)
                .await
                .is_err()
        );

        // pyHanko: after numbering and sealing, both signatures are intact and trusted.
        let file = dir.path().join("issued.pdf");
        std::fs::write(&file, &sealed).unwrap();
        pyhanko_says_valid(&file, &dir.path().join("pki/root.pem"));

        // openssl cms verifies the leader's CMS over the bytes it covers.
        let (signed_bytes, cms) = first_signature(&sealed);
        std::fs::write(dir.path().join("content.bin"), &signed_bytes).unwrap();
        std::fs::write(dir.path().join("sig.der"), &cms).unwrap();
        let out = std::process::Command::new("openssl")
            .args([
                "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-in",
            ])
            .arg(dir.path().join("sig.der"))
            .arg("-content")
            .arg(dir.path().join("content.bin"))
            .arg("-CAfile")
            .arg(dir.path().join("pki/root.pem"))
            .args(["-out", "/dev/null"])
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl cms: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        // The audit chain's checkpoints are time-stamped by the same authority, and held.
        let cp = app.write_audit_checkpoint().await.unwrap();
        assert!(cp.timestamp.is_some());
        let r = app.verify_audit().await.unwrap();
        assert!(r.broken.is_none(), "{r:?}");
        assert!(r.checkpoints >= 1);
        // A checkpoint whose hash was changed (to hide a rewrite) no longer carries its MAC
        // nor its time-stamp.
        let file = dir.path().join("audit-checkpoints.jsonl");
        let text = std::fs::read_to_string(&file).unwrap();
        let forged = text.replace(&cp.hash, &"0".repeat(cp.hash.len()));
        std::fs::write(&file, forged).unwrap();
        let r = app.verify_audit().await.unwrap();
        assert!(
            r.broken
                .as_ref()
                .is_some_and(|b| b.reason.contains("checkpoint")),
            "{r:?}"
        );
        std::fs::write(&file, text).unwrap();
    }
);
