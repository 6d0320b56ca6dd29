//! A demo PKI and sample documents shared by the signature tests.
#![allow(dead_code)]

use egov_pki::demo::{self, Issued, Purpose};
use egov_pki::verify::TrustStore;
use egov_pki::{KeyAlgorithm, SignRequest};
use std::path::PathBuf;
use std::sync::OnceLock;
use time::{Duration, OffsetDateTime};
use x509_cert::crl::CertificateList;

pub struct Pki {
    pub gcc_root: Issued,
    pub gcc_ca: Issued,
    pub public_root: Issued,
    pub leader_rsa: Issued,
    pub leader_ec: Issued,
    pub seal: Issued,
    pub public_person: Issued,
    pub expired: Issued,
    pub revoked: Issued,
    pub encryption_only: Issued,
    pub rogue_root: Issued,
    pub rogue_leader: Issued,
    pub gcc_crl: CertificateList,
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let t = now();
        let (from, to) = (t - Duration::days(365), t + Duration::days(3650));
        let gcc_root = demo::issue(
            None,
            "CN=Cục Chứng thực số và Bảo mật thông tin (thử nghiệm),O=Ban Cơ yếu Chính phủ,C=VN",
            KeyAlgorithm::Rsa,
            Purpose::Ca,
            from,
            to,
        )
        .unwrap();
        let gcc_ca = demo::issue(
            Some(&gcc_root),
            "CN=CA phục vụ các cơ quan Nhà nước (thử nghiệm),O=Ban Cơ yếu Chính phủ,C=VN",
            KeyAlgorithm::Rsa,
            Purpose::Ca,
            from,
            to,
        )
        .unwrap();
        let public_root = demo::issue(
            None,
            "CN=CA công cộng được cấp phép (thử nghiệm),O=Nhà cung cấp dịch vụ chứng thực,C=VN",
            KeyAlgorithm::EcdsaP256,
            Purpose::Ca,
            from,
            to,
        )
        .unwrap();
        let person = |issuer: &Issued, cn: &str, alg, purpose, nb, na| {
            demo::issue(
                Some(issuer),
                &format!("CN={cn},O=UBND tỉnh Thanh Hóa,L=Thanh Hóa,C=VN"),
                alg,
                purpose,
                nb,
                na,
            )
            .unwrap()
        };
        let leader_rsa = person(
            &gcc_ca,
            "Lê Văn Giám Đốc",
            KeyAlgorithm::Rsa,
            Purpose::Signing,
            from,
            to,
        );
        let leader_ec = person(
            &gcc_ca,
            "Phạm Thị Phó Giám Đốc",
            KeyAlgorithm::EcdsaP256,
            Purpose::Signing,
            from,
            to,
        );
        let seal = person(
            &gcc_ca,
            "Sở Nội vụ tỉnh Thanh Hóa",
            KeyAlgorithm::Rsa,
            Purpose::Signing,
            from,
            to,
        );
        let public_person = person(
            &public_root,
            "Nguyễn Văn Công Dân",
            KeyAlgorithm::EcdsaP256,
            Purpose::Signing,
            from,
            to,
        );
        let expired = person(
            &gcc_ca,
            "Người Hết Hạn",
            KeyAlgorithm::EcdsaP256,
            Purpose::Signing,
            t - Duration::days(400),
            t - Duration::days(30),
        );
        let revoked = person(
            &gcc_ca,
            "Người Bị Thu Hồi",
            KeyAlgorithm::EcdsaP256,
            Purpose::Signing,
            from,
            to,
        );
        let encryption_only = person(
            &gcc_ca,
            "Chỉ Mã Hóa",
            KeyAlgorithm::Rsa,
            Purpose::EncryptionOnly,
            from,
            to,
        );
        let rogue_root = demo::issue(
            None,
            "CN=CA phục vụ các cơ quan Nhà nước (thử nghiệm),O=Ban Cơ yếu Chính phủ,C=VN",
            KeyAlgorithm::EcdsaP256,
            Purpose::Ca,
            from,
            to,
        )
        .unwrap();
        let rogue_leader = person(
            &rogue_root,
            "Lê Văn Giám Đốc",
            KeyAlgorithm::EcdsaP256,
            Purpose::Signing,
            from,
            to,
        );
        let gcc_crl = demo::crl(
            &gcc_ca,
            1,
            &[(
                revoked.cert.tbs_certificate().serial_number().clone(),
                t - Duration::days(2),
            )],
            t - Duration::hours(1),
            t + Duration::days(7),
        )
        .unwrap();
        Pki {
            gcc_root,
            gcc_ca,
            public_root,
            leader_rsa,
            leader_ec,
            seal,
            public_person,
            expired,
            revoked,
            encryption_only,
            rogue_root,
            rogue_leader,
            gcc_crl,
        }
    })
}

pub fn trust() -> TrustStore {
    let p = pki();
    let mut t = TrustStore::default();
    t.add_list("gcc", vec![p.gcc_root.cert.clone()]);
    t.add_list("public", vec![p.public_root.cert.clone()]);
    t.crls.push(p.gcc_crl.clone());
    t
}

/// The chain a signer sends: its certificate and its issuing CA.
pub fn chain(who: &Issued) -> Vec<x509_cert::Certificate> {
    let p = pki();
    let issuer = who.cert.tbs_certificate().issuer();
    let mut chain = vec![who.cert.clone()];
    if issuer == p.gcc_ca.cert.tbs_certificate().subject() && who.cert != p.gcc_ca.cert {
        chain.push(p.gcc_ca.cert.clone());
    }
    chain
}

pub fn request(who: &Issued) -> SignRequest {
    let mut r = SignRequest::new(chain(who), now() - Duration::minutes(1));
    r.reason = Some("Phê duyệt văn bản".into());
    r.location = Some("Thanh Hóa".into());
    r
}

/// A one-page official letter made by egov's own PDF writer.
pub fn sample_pdf() -> Vec<u8> {
    use egov_pdf::{Align, BODY, Document, Face, Style};
    let mut d = Document::new("Công văn thử nghiệm");
    d.paragraph(
        &Style::new(Face::Bold, 13.0, Align::Center),
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    );
    d.paragraph(
        &Style::new(Face::Bold, 14.0, Align::Center),
        "Độc lập - Tự do - Hạnh phúc",
    );
    d.space(12.0);
    d.paragraph(
        &BODY,
        "Số: 45/SNV-TCBC — V/v báo cáo số liệu cán bộ, công chức cấp xã năm 2026.",
    );
    d.paragraph(
        &BODY,
        "Kính gửi: Ủy ban nhân dân các xã, phường trên địa bàn tỉnh.",
    );
    d.finish()
}

/// The pyHanko command: `$EGOV_PYHANKO`, else the test virtualenv, else `pyhanko` on the PATH.
pub fn pyhanko() -> PathBuf {
    if let Ok(p) = std::env::var("EGOV_PYHANKO") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(std::env::var("HOME").unwrap_or_default())
        .join(".cache/egov-venv/bin/pyhanko");
    if venv.exists() {
        return venv;
    }
    if let Ok(out) = std::process::Command::new("sh")
        .args(["-c", "command -v pyhanko"])
        .output()
        && out.status.success()
    {
        return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    }
    panic!(
        "pyHanko is needed to judge egov's signatures: run scripts/test.sh (it installs it in \
         ~/.cache/egov-venv), or `pip install pyhanko pyhanko-cli` and set EGOV_PYHANKO"
    );
}

/// pyHanko's verdict on `pdf` with the GCC and public roots as the only trust anchors:
/// (exit status success, printed report).
pub fn pyhanko_validate(pdf: &[u8]) -> (bool, String) {
    let p = pki();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.pdf");
    std::fs::write(&file, pdf).unwrap();
    let mut roots = String::new();
    for c in [&p.gcc_root.cert, &p.public_root.cert] {
        roots.push_str(&egov_pki::cert::to_pem(c).unwrap());
    }
    let roots_file = dir.path().join("roots.pem");
    std::fs::write(&roots_file, roots).unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, egov_pki::cert::to_pem(&p.gcc_ca.cert).unwrap()).unwrap();
    let out = std::process::Command::new(pyhanko())
        .args([
            "sign",
            "validate",
            "--pretty-print",
            "--no-revocation-check",
            "--trust-replace",
            "--trust",
        ])
        .arg(&roots_file)
        .arg("--other-certs")
        .arg(&ca_file)
        .arg(&file)
        .output()
        .expect("pyhanko runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A local time-stamp authority built on `openssl ts -reply`, with a certificate from the GCC
/// test CA: takes a DER request, returns the DER reply.
pub struct LocalTsa {
    pub dir: tempfile::TempDir,
    pub cert: x509_cert::Certificate,
}

impl LocalTsa {
    pub fn start() -> LocalTsa {
        let p = pki();
        let t = now();
        let tsa = demo::issue(
            Some(&p.gcc_ca),
            "CN=Dịch vụ cấp dấu thời gian (thử nghiệm),O=Ban Cơ yếu Chính phủ,C=VN",
            KeyAlgorithm::Rsa,
            Purpose::TimeStamping,
            t - Duration::days(30),
            t + Duration::days(365),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("tsa.pem"),
            egov_pki::cert::to_pem(&tsa.cert).unwrap(),
        )
        .unwrap();
        std::fs::write(
            d.join("chain.pem"),
            egov_pki::cert::to_pem(&p.gcc_ca.cert).unwrap(),
        )
        .unwrap();
        std::fs::write(d.join("tsa.key"), tsa.key.to_encrypted_pem(b"tsa").unwrap()).unwrap();
        std::fs::write(d.join("serial"), "01\n").unwrap();
        std::fs::write(
            d.join("tsa.cnf"),
            format!(
                "[ tsa ]\ndefault_tsa = egov\n[ egov ]\nserial = {dir}/serial\nsigner_cert = {dir}/tsa.pem\n\
                 certs = {dir}/chain.pem\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\n\
                 digests = sha256\naccuracy = secs:1\nordering = no\ntsa_name = no\n\
                 ess_cert_id_chain = no\ness_cert_id_alg = sha256\n",
                dir = d.display()
            ),
        )
        .unwrap();
        LocalTsa {
            dir,
            cert: tsa.cert,
        }
    }

    pub fn reply(&self, request: &[u8]) -> Result<Vec<u8>, String> {
        let d = self.dir.path();
        let n: u64 = getrandom_u64();
        let (q, r) = (d.join(format!("{n}.tsq")), d.join(format!("{n}.tsr")));
        std::fs::write(&q, request).map_err(|e| e.to_string())?;
        let out = std::process::Command::new("openssl")
            .args(["ts", "-reply", "-config"])
            .arg(d.join("tsa.cnf"))
            .arg("-queryfile")
            .arg(&q)
            .arg("-inkey")
            .arg(d.join("tsa.key"))
            .args(["-passin", "pass:tsa", "-out"])
            .arg(&r)
            .output()
            .map_err(|e| format!("openssl is needed for the local time-stamp authority: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        std::fs::read(&r).map_err(|e| e.to_string())
    }
}

fn getrandom_u64() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed) ^ u64::from(std::process::id()) << 32
}
