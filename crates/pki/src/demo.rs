//! A demonstration PKI, modelled on Vietnam's: a root and a specialised public-service CA for
//! state agencies (as the Government Cipher Committee runs), a root and issuing CA for a
//! licensed public CA, personal certificates for leaders, organisation certificates for agency
//! seals, and revocation lists. For the demo and the tests only: real keys come from real CAs.

use crate::keys::{FileKey, KeyAlgorithm};
use crate::{Error, Result};
use der::asn1::UtcTime;
use spki::{SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use std::str::FromStr;
use std::time::{Duration, SystemTime};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder, CrlBuilder};
use x509_cert::crl::{CertificateList, RevokedCert};
use x509_cert::ext::pkix::crl::CrlNumber;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// A key with its certificate.
pub struct Issued {
    pub key: FileKey,
    pub cert: Certificate,
}

/// What a certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Ca,
    /// A person's or an organisation's signing certificate (digitalSignature, nonRepudiation).
    Signing,
    /// A certificate that cannot sign documents (keyEncipherment only): for tests.
    EncryptionOnly,
    /// A time-stamp authority's certificate (digitalSignature; timeStamping, critical).
    TimeStamping,
}

struct Profile {
    subject: Name,
    issuer: Option<Name>,
    purpose: Purpose,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, subject: &Name) -> Name {
        self.issuer.clone().unwrap_or_else(|| subject.clone())
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &x509_cert::TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut ext: Vec<Extension> = Vec::new();
        let ski = SubjectKeyIdentifier::try_from(spk)?;
        let aki = SubjectKeyIdentifier::try_from(issuer_spk)?;
        ext.push(
            AuthorityKeyIdentifier {
                key_identifier: Some(aki.0),
                ..Default::default()
            }
            .to_extension(tbs.subject(), &ext)?,
        );
        ext.push(ski.to_extension(tbs.subject(), &ext)?);
        let (ca, usage) = match self.purpose {
            Purpose::Ca => (true, KeyUsages::KeyCertSign | KeyUsages::CRLSign),
            Purpose::Signing => (
                false,
                KeyUsages::DigitalSignature | KeyUsages::NonRepudiation,
            ),
            Purpose::EncryptionOnly => (false, KeyUsages::KeyEncipherment.into()),
            Purpose::TimeStamping => (false, KeyUsages::DigitalSignature.into()),
        };
        ext.push(
            BasicConstraints {
                ca,
                path_len_constraint: None,
            }
            .to_extension(tbs.subject(), &ext)?,
        );
        ext.push(KeyUsage(usage).to_extension(tbs.subject(), &ext)?);
        if self.purpose == Purpose::TimeStamping {
            use der::Encode;
            let eku =
                x509_cert::ext::pkix::ExtendedKeyUsage(vec![crate::tsp::OID_KP_TIME_STAMPING]);
            ext.push(Extension {
                extn_id: const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE,
                critical: true,
                extn_value: der::asn1::OctetString::new(eku.to_der()?)?,
            });
        }
        Ok(ext)
    }
}

fn system_time(t: OffsetDateTime) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(t.unix_timestamp()).unwrap_or(0))
}

fn x509_time(t: OffsetDateTime) -> Result<Time> {
    Ok(Time::UtcTime(UtcTime::from_system_time(system_time(t))?))
}

fn random_serial() -> Result<SerialNumber> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| Error::Key(e.to_string()))?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x10;
    Ok(SerialNumber::new(&bytes)?)
}

/// Issues a certificate for a fresh key of type `algorithm`. `issuer` is `None` for a
/// self-signed root.
pub fn issue(
    issuer: Option<&Issued>,
    subject: &str,
    algorithm: KeyAlgorithm,
    purpose: Purpose,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Issued> {
    let key = FileKey::generate(algorithm)?;
    let cert = issue_for(issuer, subject, &key, purpose, not_before, not_after)?;
    Ok(Issued { key, cert })
}

/// A test hierarchy of `algorithm`: a self-signed root and a CA under it, both valid from
/// `not_before` to `not_after`.
pub fn root_and_ca(
    algorithm: KeyAlgorithm,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<(Issued, Issued)> {
    let root = issue(
        None,
        "CN=Gốc thử nghiệm,C=VN",
        algorithm,
        Purpose::Ca,
        not_before,
        not_after,
    )?;
    let ca = issue(
        Some(&root),
        "CN=CA thử nghiệm,C=VN",
        algorithm,
        Purpose::Ca,
        not_before,
        not_after,
    )?;
    Ok((root, ca))
}

/// Issues a certificate for an existing key (a self-signed root when `issuer` is `None`).
pub fn issue_for(
    issuer: Option<&Issued>,
    subject: &str,
    key: &FileKey,
    purpose: Purpose,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Certificate> {
    let signer = issuer.map_or(key, |i| &i.key);
    certify(
        issuer,
        subject,
        key.public_key()?,
        signer,
        purpose,
        not_before,
        not_after,
    )
}

/// Issues a certificate by `issuer` for a public key whose private half lives elsewhere (a
/// token).
pub fn issue_for_public_key(
    issuer: &Issued,
    subject: &str,
    public_key: SubjectPublicKeyInfoOwned,
    purpose: Purpose,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Certificate> {
    certify(
        Some(issuer),
        subject,
        public_key,
        &issuer.key,
        purpose,
        not_before,
        not_after,
    )
}

fn certify(
    issuer: Option<&Issued>,
    subject: &str,
    public_key: SubjectPublicKeyInfoOwned,
    signer: &FileKey,
    purpose: Purpose,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Certificate> {
    let subject = Name::from_str(subject)
        .map_err(|e| Error::Certificate(format!("bad subject {subject:?}: {e}")))?;
    let profile = Profile {
        subject,
        issuer: issuer.map(|i| i.cert.tbs_certificate().subject().clone()),
        purpose,
    };
    let mut validity = Validity::from_now(Duration::from_secs(1))?;
    validity.not_before = x509_time(not_before)?;
    validity.not_after = x509_time(not_after)?;
    let builder = CertificateBuilder::new(profile, random_serial()?, validity, public_key)
        .map_err(|e| Error::Certificate(e.to_string()))?;
    build(builder, signer)
}

fn build<B: Builder>(builder: B, signer: &FileKey) -> Result<B::Output> {
    match signer {
        FileKey::Rsa(k) => builder.build::<_, rsa::pkcs1v15::Signature>(k.as_ref()),
        FileKey::P256(k) => builder.build::<_, p256::ecdsa::DerSignature>(k),
    }
    .map_err(|e| Error::Certificate(e.to_string()))
}

/// A revocation list by `issuer`, listing `revoked` (serial, revocation time).
pub fn crl(
    issuer: &Issued,
    number: u32,
    revoked: &[(SerialNumber, OffsetDateTime)],
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
) -> Result<CertificateList> {
    let entries = revoked
        .iter()
        .map(|(serial, when)| {
            Ok(RevokedCert {
                serial_number: serial.clone(),
                revocation_date: x509_time(*when)?,
                crl_entry_extensions: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let builder = CrlBuilder::new_with_this_update(
        &issuer.cert,
        CrlNumber(der::asn1::Uint::new(&number.to_be_bytes())?),
        x509_time(this_update)?,
    )
    .map_err(|e| Error::Certificate(e.to_string()))?
    .with_next_update(Some(x509_time(next_update)?))
    .with_certificates(entries.into_iter());
    build(builder, &issuer.key)
}

/// Draws a demo image: `ink` where `inked(x, y)` holds, transparent elsewhere, as a PNG.
fn demo_png(w: u32, h: u32, ink: [u8; 3], inked: impl Fn(f32, f32) -> bool) -> Vec<u8> {
    let mut data = Vec::with_capacity((w * h * 4) as usize);
    for y in 0..h {
        for x in 0..w {
            let a = if inked(x as f32, y as f32) { 255 } else { 0 };
            data.extend_from_slice(&[ink[0], ink[1], ink[2], a]);
        }
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    // Writing to a Vec cannot fail.
    if let Ok(mut wr) = enc.write_header() {
        let _ = wr.write_image_data(&data);
    }
    out
}

/// A demo handwritten signature: a blue flourish on a transparent background (not anyone's).
pub fn signature_png() -> Vec<u8> {
    demo_png(400, 160, [20, 45, 170], |x, y| {
        let t = x / 400.0 * std::f32::consts::TAU * 1.5;
        let curve = 80.0 + 45.0 * t.sin() * (1.0 - x / 520.0);
        let underline = (y - 135.0).abs() < 3.0 && (60.0..340.0).contains(&x);
        ((y - curve).abs() < 4.0 && (20.0..380.0).contains(&x)) || underline
    })
}

/// A demo seal: a red double ring around a star on a transparent background (not a real seal).
pub fn seal_png() -> Vec<u8> {
    demo_png(360, 360, [205, 25, 35], |x, y| {
        let (dx, dy) = (x - 180.0, y - 180.0);
        let r = dx.hypot(dy);
        let rings = (166.0..176.0).contains(&r) || (140.0..146.0).contains(&r);
        // A five-pointed star: the radius of its outline swings between 30 and 75.
        let angle = dy.atan2(dx) + std::f32::consts::FRAC_PI_2;
        let k = (angle * 5.0 / std::f32::consts::TAU).rem_euclid(1.0);
        let edge = 30.0 + 45.0 * (1.0 - 2.0 * (k - 0.5).abs());
        rings || r < edge
    })
}
