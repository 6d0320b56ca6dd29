//! Signing with egov, judged by egov's verifier and by pyHanko.

mod common;

use common::*;
use egov_pki::sign::{finish, prepare, sign_with};
use egov_pki::verify::{Status, verify_pdf};
use egov_pki::{Error, RawSigner};

fn pyhanko_says_valid(pdf: &[u8]) {
    let (ok, text) = pyhanko_validate(pdf);
    assert!(ok, "pyHanko rejects our signature:\n{text}");
    assert!(text.contains("judged VALID"), "{text}");
    assert!(!text.contains("INVALID"), "{text}");
}

#[test]
fn an_rsa_signature_is_valid_for_egov_and_for_pyhanko() {
    let p = pki();
    let signed = sign_with(&sample_pdf(), &request(&p.leader_rsa), &p.leader_rsa.key).unwrap();
    let report = verify_pdf(&signed, &trust(), now()).unwrap();
    assert_eq!(report.status, Status::Valid, "{report:#?}");
    let s = &report.signatures[0];
    assert_eq!(s.signer.as_deref(), Some("Lê Văn Giám Đốc"));
    assert_eq!(s.trust_list.as_deref(), Some("gcc"));
    assert_eq!(s.sub_filter, "ETSI.CAdES.detached");
    assert!(s.covers_whole_file);
    pyhanko_says_valid(&signed);
}

#[test]
fn an_ecdsa_signature_from_a_public_ca_names_the_public_trust_list() {
    let p = pki();
    let signed = sign_with(
        &sample_pdf(),
        &request(&p.public_person),
        &p.public_person.key,
    )
    .unwrap();
    let report = verify_pdf(&signed, &trust(), now()).unwrap();
    assert_eq!(report.status, Status::Valid, "{report:#?}");
    assert_eq!(report.signatures[0].trust_list.as_deref(), Some("public"));
    pyhanko_says_valid(&signed);
}

#[test]
fn the_seal_after_the_leader_leaves_the_leaders_signature_valid() {
    let p = pki();
    let by_leader = sign_with(&sample_pdf(), &request(&p.leader_ec), &p.leader_ec.key).unwrap();
    let mut seal = request(&p.seal);
    seal.field_name = Some("Seal".into());
    let sealed = sign_with(&by_leader, &seal, &p.seal.key).unwrap();
    assert!(
        sealed.starts_with(&by_leader),
        "an incremental update keeps every earlier byte"
    );
    let report = verify_pdf(&sealed, &trust(), now()).unwrap();
    assert_eq!(report.status, Status::Valid, "{report:#?}");
    assert_eq!(report.signatures.len(), 2);
    let leader = &report.signatures[0];
    assert_eq!(leader.signer.as_deref(), Some("Phạm Thị Phó Giám Đốc"));
    assert!(!leader.covers_whole_file);
    assert_eq!(leader.changes_after, "signatures");
    assert_eq!(report.signatures[1].field, "Seal");
    assert!(report.signatures[1].covers_whole_file);
    pyhanko_says_valid(&sealed);
}

#[test]
fn two_phase_signing_checks_the_returned_signature() {
    let p = pki();
    let prepared = prepare(&sample_pdf(), &request(&p.leader_rsa)).unwrap();
    // Phase one hands out data to be signed; a stored prepared file gives the same data back.
    let tbs = prepared.data_to_be_signed().unwrap();
    let restored =
        egov_pki::Prepared::from_parts(prepared.pdf.clone(), prepared.chain.clone()).unwrap();
    assert_eq!(restored.data_to_be_signed().unwrap(), tbs);
    // A signature by another key, or over other data, is refused before anything is written.
    let wrong_key = p.seal.key.sign(&tbs).unwrap();
    assert!(matches!(
        finish(&prepared, &wrong_key),
        Err(Error::SignatureMismatch)
    ));
    let wrong_data = p.leader_rsa.key.sign(b"something else").unwrap();
    assert!(matches!(
        finish(&prepared, &wrong_data),
        Err(Error::SignatureMismatch)
    ));
    let signed = finish(&restored, &p.leader_rsa.key.sign(&tbs).unwrap()).unwrap();
    assert_eq!(
        verify_pdf(&signed, &trust(), now()).unwrap().status,
        Status::Valid
    );
}

fn verdict(who: &egov_pki::demo::Issued) -> (Status, Vec<&'static str>) {
    let signed = sign_with(&sample_pdf(), &request(who), &who.key).unwrap();
    let report = verify_pdf(&signed, &trust(), now()).unwrap();
    let s = &report.signatures[0];
    (s.status, s.findings.iter().map(|f| f.code).collect())
}

#[test]
fn certificates_that_cannot_vouch_for_a_signature_are_reported() {
    let p = pki();
    let (status, codes) = verdict(&p.expired);
    assert_eq!(status, Status::Invalid);
    assert!(codes.contains(&"certificate_expired"), "{codes:?}");

    let (status, codes) = verdict(&p.revoked);
    assert_eq!(status, Status::Invalid);
    assert!(codes.contains(&"certificate_revoked"), "{codes:?}");

    let (status, codes) = verdict(&p.encryption_only);
    assert_eq!(status, Status::Invalid);
    assert!(codes.contains(&"key_usage"), "{codes:?}");

    // A CA that copies the real CA's name but is not on any trust list.
    let (status, codes) = verdict(&p.rogue_leader);
    assert_eq!(status, Status::Indeterminate);
    assert!(codes.contains(&"untrusted"), "{codes:?}");
}

#[test]
fn without_a_current_crl_revocation_is_unknown_when_required() {
    let p = pki();
    let signed = sign_with(&sample_pdf(), &request(&p.leader_rsa), &p.leader_rsa.key).unwrap();
    let mut t = trust();
    t.crls.clear();
    let relaxed = verify_pdf(&signed, &t, now()).unwrap();
    assert_eq!(relaxed.status, Status::Valid);
    assert!(
        relaxed.signatures[0]
            .findings
            .iter()
            .any(|f| f.code == "revocation_unknown" && f.effect == "note")
    );
    t.require_revocation = true;
    assert_eq!(
        verify_pdf(&signed, &t, now()).unwrap().status,
        Status::Indeterminate
    );
}

#[test]
fn files_that_cannot_be_judged_get_a_clear_error() {
    let t = trust();
    assert!(matches!(
        verify_pdf(b"PK\x03\x04 not a pdf", &t, now()),
        Err(Error::NotPdf)
    ));
    let mut broken = sample_pdf();
    broken.truncate(broken.len() / 2);
    assert!(matches!(
        verify_pdf(&broken, &t, now()),
        Err(Error::Malformed(_))
    ));
    let unsigned = verify_pdf(&sample_pdf(), &t, now()).unwrap();
    assert_eq!(unsigned.status, Status::Unsigned);
}

/// Signs `pdf` with pyHanko's own signer (`--use-pades` or the classic `adbe.pkcs7.detached`).
fn pyhanko_signs(pdf: &[u8], who: &egov_pki::demo::Issued, pades: bool) -> Vec<u8> {
    pyhanko_signs_in(pdf, who, pades, "ChuKy1")
}

/// The same, into the signature field `field` (a new one beside any already signed).
fn pyhanko_signs_in(pdf: &[u8], who: &egov_pki::demo::Issued, pades: bool, field: &str) -> Vec<u8> {
    let p = pki();
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n);
    std::fs::write(path("in.pdf"), pdf).unwrap();
    std::fs::write(path("pass"), "mat-khau-thu").unwrap();
    std::fs::write(
        path("key.pem"),
        who.key.to_encrypted_pem(b"mat-khau-thu").unwrap(),
    )
    .unwrap();
    std::fs::write(path("cert.pem"), egov_pki::cert::to_pem(&who.cert).unwrap()).unwrap();
    std::fs::write(
        path("ca.pem"),
        egov_pki::cert::to_pem(&p.gcc_ca.cert).unwrap(),
    )
    .unwrap();
    let mut c = std::process::Command::new(pyhanko());
    c.args(["sign", "addsig", "--field", field]);
    if pades {
        c.arg("--use-pades");
    }
    c.args(["pemder", "--key"])
        .arg(path("key.pem"))
        .arg("--cert")
        .arg(path("cert.pem"))
        .arg("--chain")
        .arg(path("ca.pem"))
        .arg("--passfile")
        .arg(path("pass"))
        .arg(path("in.pdf"))
        .arg(path("out.pdf"));
    let out = c.output().expect("pyhanko runs");
    assert!(
        out.status.success(),
        "pyHanko could not sign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(path("out.pdf")).unwrap()
}

#[test]
fn pdfs_signed_by_pyhanko_verify_in_egov_and_tampering_fails_in_both() {
    let p = pki();
    for (pades, sub_filter) in [
        (true, "ETSI.CAdES.detached"),
        (false, "adbe.pkcs7.detached"),
    ] {
        for who in [&p.leader_rsa, &p.leader_ec] {
            let signed = pyhanko_signs(&sample_pdf(), who, pades);
            let report = verify_pdf(&signed, &trust(), now()).unwrap();
            assert_eq!(report.status, Status::Valid, "{report:#?}");
            assert_eq!(report.signatures[0].sub_filter, sub_filter);
            assert_eq!(report.signatures[0].trust_list.as_deref(), Some("gcc"));

            // The same file with its page made wider behind the signature's back.
            let mut tampered = signed.clone();
            let at = tampered
                .windows(6)
                .position(|w| w == b"595.28")
                .expect("the page's width");
            tampered[at + 5] = b'9';
            let report = verify_pdf(&tampered, &trust(), now()).unwrap();
            assert_ne!(report.status, Status::Valid, "{report:#?}");
            let (ok, text) = pyhanko_validate(&tampered);
            assert!(
                !ok || text.contains("INVALID") || !text.contains("judged VALID"),
                "pyHanko accepts a tampered file:\n{text}"
            );
        }
    }
}

#[test]
fn a_time_stamped_signature_is_b_t_for_egov_and_for_pyhanko() {
    let p = pki();
    let tsa = LocalTsa::start();
    let reply = |req: &[u8]| tsa.reply(req);
    let signed = egov_pki::sign::sign_with_stamped(
        &sample_pdf(),
        &request(&p.leader_rsa),
        &p.leader_rsa.key,
        Some(&reply),
    )
    .unwrap();
    let report = verify_pdf(&signed, &trust(), now()).unwrap();
    assert_eq!(report.status, Status::Valid, "{report:#?}");
    let s = &report.signatures[0];
    assert_eq!(s.time_source, "timestamp");
    let at = s.signing_time.unwrap();
    assert!((now() - at).abs() < time::Duration::minutes(2), "{at}");
    let (ok, text) = pyhanko_validate(&signed);
    assert!(ok, "{text}");
    assert!(text.contains("judged VALID"), "{text}");
    assert!(text.to_lowercase().contains("timestamp"), "{text}");

    // A time-stamp authority that answers something else is refused, nothing is signed.
    let other = |_: &[u8]| tsa.reply(&egov_pki::tsp::request(b"other").unwrap().0);
    let e = egov_pki::sign::sign_with_stamped(
        &sample_pdf(),
        &request(&p.leader_rsa),
        &p.leader_rsa.key,
        Some(&other),
    )
    .unwrap_err();
    assert_eq!(e.code(), "timestamp_failed");
}

/// What pyHanko says of each signature of `pdf`: its report must judge every one valid and
/// intact.
fn pyhanko_says_all_valid(pdf: &[u8], count: usize) {
    let (ok, text) = pyhanko_validate(pdf);
    assert!(ok, "pyHanko:\n{text}");
    assert_eq!(
        text.matches("judged VALID").count(),
        count,
        "pyHanko:\n{text}"
    );
}

#[test]
fn a_countersignature_by_pyhanko_leaves_egovs_signature_valid_with_rsa_and_p256() {
    let p = pki();
    for first in [&p.leader_rsa, &p.leader_ec] {
        let signed = sign_with(&sample_pdf(), &request(first), &first.key).unwrap();
        for (second, pades) in [
            (&p.leader_ec, true),
            (&p.leader_rsa, true),
            (&p.leader_ec, false),
        ] {
            let both = pyhanko_signs_in(&signed, second, pades, "ChuKy2");
            let report = verify_pdf(&both, &trust(), now()).unwrap();
            assert_eq!(report.signatures.len(), 2);
            assert_eq!(report.status, Status::Valid, "{report:#?}");
            assert_eq!(report.signatures[0].changes_after, "signatures");
            pyhanko_says_all_valid(&both, 2);
        }
    }
}

#[test]
fn egovs_countersignature_leaves_pyhankos_signature_valid() {
    let p = pki();
    for (first, pades) in [(&p.leader_ec, true), (&p.leader_rsa, false)] {
        let signed = pyhanko_signs(&sample_pdf(), first, pades);
        for second in [&p.leader_rsa, &p.leader_ec] {
            let both = sign_with(&signed, &request(second), &second.key).unwrap();
            let report = verify_pdf(&both, &trust(), now()).unwrap();
            assert_eq!(report.signatures.len(), 2);
            assert_eq!(report.status, Status::Valid, "{report:#?}");
            pyhanko_says_all_valid(&both, 2);
        }
    }
}
