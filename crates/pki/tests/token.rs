//! Keys in a PKCS#11 token (SoftHSM2 standing in for a leader's USB token or the seal HSM).

mod common;

use common::*;
use egov_pki::demo::{self, Purpose};
use egov_pki::pkcs11::{self, Token};
use egov_pki::sign::sign_with;
use egov_pki::verify::{Status, verify_pdf};
use egov_pki::{Error, KeyAlgorithm, RawSigner};
use std::path::PathBuf;
use time::Duration;

/// The SoftHSM2 module: `$EGOV_PKCS11_MODULE`, else Debian's path.
fn module() -> PathBuf {
    let path = std::env::var("EGOV_PKCS11_MODULE")
        .unwrap_or_else(|_| "/usr/lib/softhsm/libsofthsm2.so".into());
    let path = PathBuf::from(path);
    assert!(
        path.exists(),
        "SoftHSM2 is needed for the token tests: run scripts/test.sh (it installs Debian's softhsm2) \
         or set EGOV_PKCS11_MODULE to a PKCS#11 module ({} is missing)",
        path.display()
    );
    path
}

/// A fresh SoftHSM2 token store for this test process.
fn fresh_store(dir: &std::path::Path) {
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\n",
            tokens.display()
        ),
    )
    .unwrap();
    // SAFETY: set before the module is loaded, while this test is the only thread using it.
    unsafe { std::env::set_var("SOFTHSM2_CONF", &conf) };
}

fn token(dir: &std::path::Path, key_label: &str) -> Token {
    Token {
        module: module(),
        token_label: Some("egov-test".into()),
        key_label: key_label.into(),
        max_pin_tries: 3,
        tries_file: Some(dir.join("pin-tries")),
    }
}

fn signs_on_the_token(algorithm: KeyAlgorithm) {
    let dir = tempfile::tempdir().unwrap();
    fresh_store(dir.path());
    pkcs11::init_token(&module(), "egov-test", "87654321", "123456").unwrap();
    let t = token(dir.path(), "leader");
    let public = pkcs11::generate_key(&t, "123456", algorithm).unwrap();
    let p = pki();
    let cert = demo::issue_for_public_key(
        &p.gcc_ca,
        "CN=Trần Văn Token,O=UBND tỉnh Thanh Hóa,C=VN",
        public,
        Purpose::Signing,
        now() - Duration::days(1),
        now() + Duration::days(365),
    )
    .unwrap();
    pkcs11::store_certificate(&t, "123456", &cert).unwrap();

    let key = t.open("123456").unwrap();
    assert_eq!(key.algorithm(), algorithm);
    let on_token = key
        .certificate()
        .unwrap()
        .expect("the certificate is on the token");
    assert_eq!(on_token, cert);
    let mut req = request(&p.leader_rsa);
    req.chain = vec![on_token, p.gcc_ca.cert.clone()];
    let signed = sign_with(&sample_pdf(), &req, &key).unwrap();
    let report = verify_pdf(&signed, &trust(), now()).unwrap();
    assert_eq!(report.status, Status::Valid, "{report:#?}");
    assert_eq!(
        report.signatures[0].signer.as_deref(),
        Some("Trần Văn Token")
    );
    let (ok, text) = pyhanko_validate(&signed);
    assert!(ok && text.contains("judged VALID"), "{text}");
}

#[test]
fn an_rsa_key_on_a_token_signs_valid_pdfs() {
    signs_on_the_token(KeyAlgorithm::Rsa);
}

#[test]
fn an_ecdsa_key_on_a_token_signs_valid_pdfs() {
    signs_on_the_token(KeyAlgorithm::EcdsaP256);
}

#[test]
fn wrong_pins_lock_the_token_after_three_tries() {
    let dir = tempfile::tempdir().unwrap();
    fresh_store(dir.path());
    pkcs11::init_token(&module(), "egov-test", "87654321", "123456").unwrap();
    let t = token(dir.path(), "leader");
    pkcs11::generate_key(&t, "123456", KeyAlgorithm::EcdsaP256).unwrap();
    assert!(matches!(
        t.open("000000"),
        Err(Error::PinIncorrect { remaining: 2 })
    ));
    assert!(matches!(
        t.open("111111"),
        Err(Error::PinIncorrect { remaining: 1 })
    ));
    assert!(matches!(t.open("222222"), Err(Error::PinLocked)));
    // Locked: even the right PIN is not tried until the token's administrator resets it.
    assert!(matches!(t.open("123456"), Err(Error::PinLocked)));
    t.reset_tries();
    assert!(t.open("123456").is_ok());
    // A success resets the count.
    assert!(matches!(
        t.open("000000"),
        Err(Error::PinIncorrect { remaining: 2 })
    ));
    assert!(t.open("123456").is_ok());
    assert!(matches!(
        t.open("000000"),
        Err(Error::PinIncorrect { remaining: 2 })
    ));
}

#[test]
fn a_missing_key_or_token_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    fresh_store(dir.path());
    pkcs11::init_token(&module(), "egov-test", "87654321", "123456").unwrap();
    let t = token(dir.path(), "nobody");
    assert!(matches!(t.open("123456"), Err(Error::Token(m)) if m.contains("nobody")));
    let mut other = token(dir.path(), "leader");
    other.token_label = Some("absent".into());
    assert!(matches!(other.open("123456"), Err(Error::Token(m)) if m.contains("absent")));
}
