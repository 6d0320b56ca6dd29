//! PKCS#12 key stores written by OpenSSL (an independent implementation) are read, and the key
//! in them signs valid PAdES signatures; wrong passwords, legacy encryption and files that are
//! not key stores get a clear error.

mod common;

use common::*;
use egov_pki::demo::Issued;
use egov_pki::sign::sign_with;
use egov_pki::verify::{Status, verify_pdf};

/// Exports `who`'s key and chain with `openssl pkcs12 -export` and `extra` options.
fn export(
    who: &Issued,
    dir: &std::path::Path,
    name: &str,
    password: &str,
    extra: &[&str],
) -> Vec<u8> {
    use der::EncodePem;
    let key = dir.join(format!("{name}.key"));
    let der = who.key.to_pkcs8_der().unwrap();
    let pem = der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, &der).unwrap();
    std::fs::write(&key, pem).unwrap();
    let mut certs = String::new();
    for c in chain(who) {
        certs.push_str(&c.to_pem(der::pem::LineEnding::LF).unwrap());
    }
    let cert = dir.join(format!("{name}.pem"));
    std::fs::write(&cert, certs).unwrap();
    let out = dir.join(format!("{name}.p12"));
    let status = std::process::Command::new("openssl")
        .args(["pkcs12", "-export", "-inkey"])
        .arg(&key)
        .arg("-in")
        .arg(&cert)
        .args(["-passout", &format!("pass:{password}"), "-out"])
        .arg(&out)
        .args(extra)
        .output()
        .expect("openssl runs");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    std::fs::read(out).unwrap()
}

#[test]
fn openssl_key_stores_are_read_and_sign() {
    let p = pki();
    let dir = tempfile::tempdir().unwrap();
    for (who, name) in [(&p.leader_rsa, "rsa"), (&p.leader_ec, "ec")] {
        let p12 = export(who, dir.path(), name, "mật khẩu 123", &[]);
        let store = egov_pki::pkcs12::read(&p12, "mật khẩu 123").unwrap();
        assert_eq!(
            store.chain[0], who.cert,
            "the key's certificate comes first"
        );
        assert_eq!(store.chain.len(), chain(who).len());
        let mut req = request(who);
        req.chain = store.chain.clone();
        let signed = sign_with(&sample_pdf(), &req, &store.key).unwrap();
        let report = verify_pdf(&signed, &trust(), now()).unwrap();
        assert_eq!(report.status, Status::Valid, "{report:#?}");
        // The imported key can be kept under a key-encryption key like any key file.
        let pem = store.key.to_encrypted_pem(b"kek").unwrap();
        assert!(egov_pki::FileKey::from_pem(&pem, Some(b"kek")).is_ok());
    }
}

#[test]
fn bad_key_stores_are_refused_with_the_reason() {
    let p = pki();
    let dir = tempfile::tempdir().unwrap();
    let p12 = export(&p.leader_ec, dir.path(), "ec", "dung", &[]);
    let e = egov_pki::pkcs12::read(&p12, "sai").err().unwrap();
    assert!(e.to_string().contains("password"), "{e}");
    // Legacy 3DES encryption, as older Windows exports write it.
    let legacy = export(
        &p.leader_ec,
        dir.path(),
        "legacy",
        "dung",
        &[
            "-keypbe",
            "PBE-SHA1-3DES",
            "-certpbe",
            "PBE-SHA1-3DES",
            "-macalg",
            "sha1",
        ],
    );
    let e = egov_pki::pkcs12::read(&legacy, "dung").err().unwrap();
    assert!(e.to_string().contains("legacy"), "{e}");
    for junk in [
        &b"not a key store"[..],
        &sample_pdf()[..],
        &[0x30, 0x03, 0x02, 0x01, 0x03],
    ] {
        let e = egov_pki::pkcs12::read(junk, "x").err().unwrap();
        assert_eq!(e.code(), "signing_key_unusable", "{e}");
    }
}
