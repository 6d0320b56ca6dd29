//! Signing and verification speed: signatures and verifications per second for each key type
//! (file keys, and SoftHSM2 when its module is installed), and the time to sign, seal and verify
//! a 10 MB PDF. Not run in CI; the figures go into docs/performance.md.
//!
//! `egov-bench-signatures [iterations]`

use std::time::Instant;

use egov_pki::demo::{self, Issued, Purpose};
use egov_pki::pkcs11::{self, Token};
use egov_pki::sign::sign_with;
use egov_pki::verify::{TrustStore, verify_pdf};
use egov_pki::{KeyAlgorithm, RawSigner, SignRequest};
use time::{Duration, OffsetDateTime};

fn letter(pages: usize) -> Vec<u8> {
    let mut d = egov_pdf::Document::new("Công văn");
    for i in 0..pages {
        if i > 0 {
            d.new_page();
        }
        d.paragraph(
            &egov_pdf::BODY,
            "Về việc báo cáo số liệu cán bộ, công chức cấp xã năm 2026 trên địa bàn tỉnh Thanh Hóa.",
        );
    }
    d.finish()
}

/// A PDF of about `mb` megabytes: the letter plus an embedded file of random bytes.
fn big_pdf(mb: usize) -> Vec<u8> {
    use egov_pki::lopdf::{Dictionary, IncrementalDocument, Object, Stream};
    let base = letter(1);
    let doc = egov_pki::lopdf::Document::load_mem(&base).unwrap();
    let mut inc = IncrementalDocument::create_from(base, doc);
    let mut data = vec![0u8; mb << 20];
    fill_noise(&mut data);
    let mut dict = Dictionary::new();
    dict.set("Type", Object::Name(b"EmbeddedFile".to_vec()));
    inc.new_document
        .add_object(Object::Stream(Stream::new(dict, data)));
    let mut out = Vec::new();
    inc.save_to(&mut out).unwrap();
    out
}

fn fill_noise(buf: &mut [u8]) {
    // A simple xorshift stream: incompressible enough and fast.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for b in buf.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
}

fn rate(label: &str, n: usize, mut f: impl FnMut()) {
    f(); // warm up
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "| {label} | {n} | {:.2} ms | {:.0}/s |",
        secs * 1000.0 / n as f64,
        n as f64 / secs
    );
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let t = OffsetDateTime::now_utc();
    let (from, to) = (t - Duration::days(1), t + Duration::days(365));
    let (root, ca) = demo::root_and_ca(KeyAlgorithm::Rsa, from, to).unwrap();
    let person = |alg| {
        demo::issue(
            Some(&ca),
            "CN=Lãnh đạo,C=VN",
            alg,
            Purpose::Signing,
            from,
            to,
        )
        .unwrap()
    };
    let rsa = person(KeyAlgorithm::Rsa);
    let ec = person(KeyAlgorithm::EcdsaP256);
    let mut trust = TrustStore::default();
    trust.add_list("gcc", vec![root.cert.clone()]);
    trust
        .crls
        .push(demo::crl(&ca, 1, &[], t - Duration::hours(1), t + Duration::days(7)).unwrap());
    let req = |who: &Issued| SignRequest::new(vec![who.cert.clone(), ca.cert.clone()], t);
    let pdf = letter(2);

    println!("| operation | iterations | per operation | rate |");
    println!("|---|---:|---:|---:|");
    for (label, who) in [("RSA-2048 file key", &rsa), ("ECDSA P-256 file key", &ec)] {
        let r = req(who);
        rate(&format!("sign a 2-page letter, {label}"), n, || {
            sign_with(&pdf, &r, &who.key).unwrap();
        });
        let signed = sign_with(&pdf, &r, &who.key).unwrap();
        rate(&format!("verify it, {label}"), n, || {
            assert_eq!(
                verify_pdf(&signed, &trust, t).unwrap().status,
                egov_pki::Status::Valid
            );
        });
        rate(&format!("raw signature only, {label}"), n, || {
            who.key.sign(b"data to be signed").unwrap();
        });
    }

    // Visible: the demo signature image above a box, and the demo seal over its left third.
    let sig_png = egov_pki::appearance::decode_png(&demo::signature_png()).unwrap();
    let seal_png = egov_pki::appearance::decode_png(&demo::seal_png()).unwrap();
    let at = [300.0, 200.0, 413.4, 245.4];
    let mut visible = req(&ec);
    visible.appearance = Some(egov_pki::appearance::image_appearance(
        1,
        at,
        sig_png.image.clone(),
    ));
    rate(
        "sign with the signature image, ECDSA P-256 file key",
        n,
        || {
            sign_with(&pdf, &visible, &ec.key).unwrap();
        },
    );
    let by_leader = sign_with(&pdf, &visible, &ec.key).unwrap();
    let mut seal = req(&rsa);
    seal.appearance = Some(egov_pki::appearance::image_appearance(
        1,
        egov_pki::appearance::seal_over(at, 102.0),
        seal_png.image.clone(),
    ));
    rate(
        "seal over it with the seal image, RSA-2048 file key",
        n,
        || {
            sign_with(&by_leader, &seal, &rsa.key).unwrap();
        },
    );

    let module = std::path::PathBuf::from(
        std::env::var("EGOV_PKCS11_MODULE")
            .unwrap_or_else(|_| "/usr/lib/softhsm/libsofthsm2.so".into()),
    );
    if module.exists() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tokens")).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\n",
                dir.path().join("tokens").display()
            ),
        )
        .unwrap();
        // SAFETY: single-threaded here, before the module is loaded.
        unsafe { std::env::set_var("SOFTHSM2_CONF", &conf) };
        pkcs11::init_token(&module, "bench", "87654321", "123456").unwrap();
        for (alg, label) in [
            (KeyAlgorithm::Rsa, "RSA-2048 SoftHSM2"),
            (KeyAlgorithm::EcdsaP256, "ECDSA P-256 SoftHSM2"),
        ] {
            let token = Token {
                module: module.clone(),
                token_label: Some("bench".into()),
                key_label: label.into(),
                max_pin_tries: 3,
                tries_file: None,
            };
            let public = pkcs11::generate_key(&token, "123456", alg).unwrap();
            let cert = demo::issue_for_public_key(
                &ca,
                "CN=Token,C=VN",
                public,
                Purpose::Signing,
                from,
                to,
            )
            .unwrap();
            let key = token.open("123456").unwrap();
            let r = SignRequest::new(vec![cert, ca.cert.clone()], t);
            rate(&format!("sign a 2-page letter, {label}"), n, || {
                sign_with(&pdf, &r, &key).unwrap();
            });
        }
    } else {
        println!("(SoftHSM2 not installed: token figures skipped)");
    }

    let big = big_pdf(10);
    println!("\n10 MB PDF ({} bytes):", big.len());
    let start = Instant::now();
    let by_leader = sign_with(&big, &req(&ec), &ec.key).unwrap();
    let signed_at = start.elapsed();
    let sealed = sign_with(&by_leader, &req(&rsa), &rsa.key).unwrap();
    let sealed_at = start.elapsed() - signed_at;
    let start = Instant::now();
    let report = verify_pdf(&sealed, &trust, t).unwrap();
    let verified = start.elapsed();
    assert_eq!(report.status, egov_pki::Status::Valid);
    println!(
        "leader signs {:.0} ms, clerk seals {:.0} ms, both signatures verified {:.0} ms",
        signed_at.as_secs_f64() * 1000.0,
        sealed_at.as_secs_f64() * 1000.0,
        verified.as_secs_f64() * 1000.0
    );
}
