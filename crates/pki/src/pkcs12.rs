//! PKCS#12 key stores (.p12, .pfx; RFC 7292): the form in which a CA or a token's software hands
//! out a key with its certificates. egov reads them to sign with directly (`egov pki sign
//! --p12`) or to import the key under the key-encryption key (`egov pki import-p12`).
//!
//! Read: key bags, shrouded key bags and certificate bags, plain or encrypted with PBES2
//! (PBKDF2 with AES or with the schemes `pkcs5` supports) — what OpenSSL 3 and current Windows
//! write. The legacy PKCS#12 schemes (3DES or RC2 with SHA-1) are refused with the command that
//! re-exports the file. The MAC is not checked: a wrong password fails decryption, and the key
//! must match the certificate it comes with.

use der::asn1::{Any, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Sequence};
use pkcs8::EncryptedPrivateKeyInfoRef;
use x509_cert::Certificate;

use crate::keys::FileKey;
use crate::{Error, Result};

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
const KEY_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.1");
const SHROUDED_KEY_BAG: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.2");
const CERT_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.3");
const X509_CERTIFICATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.22.1");
/// The arc of the legacy password-based schemes of PKCS#12 (pbeWithSHAAnd3-KeyTripleDES-CBC …).
const LEGACY_PBE_ARC: &str = "1.2.840.113549.1.12.1.";

#[derive(Sequence)]
struct Pfx {
    version: u8,
    auth_safe: ContentInfo,
    mac_data: Option<Any>,
}

#[derive(Sequence)]
struct ContentInfo {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    content: Option<Any>,
}

#[derive(Sequence)]
struct EncryptedData {
    version: u8,
    content: EncryptedContentInfo,
}

#[derive(Sequence)]
struct EncryptedContentInfo {
    content_type: ObjectIdentifier,
    algorithm: Any,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    encrypted: Option<OctetString>,
}

#[derive(Sequence)]
struct SafeBag {
    bag_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    value: Any,
    attributes: Option<Any>,
}

#[derive(Sequence)]
struct CertBag {
    cert_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    value: OctetString,
}

/// What a key store holds: the key and its certificate chain, the key's certificate first.
pub struct KeyStore {
    pub key: FileKey,
    pub chain: Vec<Certificate>,
}

fn bad(what: impl std::fmt::Display) -> Error {
    Error::Key(format!("not a readable PKCS#12 file: {what}"))
}

/// Reads a PKCS#12 file (DER) opened with `password`.
pub fn read(p12: &[u8], password: &str) -> Result<KeyStore> {
    let pfx = Pfx::from_der(p12).map_err(bad)?;
    if pfx.version != 3 {
        return Err(bad(format!("version {}", pfx.version)));
    }
    let safes: Vec<ContentInfo> =
        Vec::from_der(data_of(&pfx.auth_safe)?.as_bytes()).map_err(bad)?;
    let mut keys = Vec::new();
    let mut certs = Vec::new();
    for safe in &safes {
        let contents = if safe.content_type == ID_DATA {
            data_of(safe)?.as_bytes().to_vec()
        } else if safe.content_type == ID_ENCRYPTED_DATA {
            decrypt_data(safe, password)?
        } else {
            continue;
        };
        let bags: Vec<SafeBag> = Vec::from_der(&contents).map_err(bad)?;
        for bag in bags {
            let value = bag.value.to_der().map_err(bad)?;
            if bag.bag_id == KEY_BAG {
                keys.push(FileKey::from_pkcs8_der(&value)?);
            } else if bag.bag_id == SHROUDED_KEY_BAG {
                let info = EncryptedPrivateKeyInfoRef::from_der(&value).map_err(bad)?;
                legacy_check(&info.encryption_algorithm.to_der().map_err(bad)?)?;
                let plain = info
                    .decrypt(password.as_bytes())
                    .map_err(|_| wrong_password())?;
                keys.push(FileKey::from_pkcs8_der(plain.as_bytes())?);
            } else if bag.bag_id == CERT_BAG {
                let cert = CertBag::from_der(&value).map_err(bad)?;
                if cert.cert_id == X509_CERTIFICATE {
                    certs.push(Certificate::from_der(cert.value.as_bytes()).map_err(bad)?);
                }
            }
        }
    }
    let key = match keys.len() {
        1 => keys.remove(0),
        0 => return Err(bad("it holds no private key")),
        n => {
            return Err(bad(format!(
                "it holds {n} private keys; export one at a time"
            )));
        }
    };
    let public = key.public_key()?.to_der().map_err(bad)?;
    let own = certs
        .iter()
        .position(|c| {
            c.tbs_certificate()
                .subject_public_key_info()
                .to_der()
                .is_ok_and(|d| d == public)
        })
        .ok_or_else(|| bad("no certificate in it matches its key"))?;
    let mine = certs.remove(own);
    let mut chain = vec![mine];
    chain.extend(certs);
    Ok(KeyStore { key, chain })
}

fn wrong_password() -> Error {
    Error::Key("the password does not open this PKCS#12 file".into())
}

/// The octets of an `id-data` content.
fn data_of(info: &ContentInfo) -> Result<OctetString> {
    if info.content_type != ID_DATA {
        return Err(bad(format!("content of type {}", info.content_type)));
    }
    info.content
        .as_ref()
        .ok_or_else(|| bad("empty content"))?
        .decode_as::<OctetString>()
        .map_err(bad)
}

/// Refuses the legacy PKCS#12 schemes with the way out.
fn legacy_check(algorithm_der: &[u8]) -> Result<()> {
    let alg = spki::AlgorithmIdentifierOwned::from_der(algorithm_der).map_err(bad)?;
    if alg.oid.to_string().starts_with(LEGACY_PBE_ARC) {
        return Err(Error::Key(
            "the PKCS#12 file uses a legacy encryption (3DES or RC2 with SHA-1); export it again with AES: \
             openssl pkcs12 -in old.p12 -legacy -nodes | openssl pkcs12 -export -out new.p12"
                .into(),
        ));
    }
    Ok(())
}

fn decrypt_data(info: &ContentInfo, password: &str) -> Result<Vec<u8>> {
    let data: EncryptedData = info
        .content
        .as_ref()
        .ok_or_else(|| bad("empty encrypted content"))?
        .decode_as()
        .map_err(bad)?;
    let algorithm = data.content.algorithm.to_der().map_err(bad)?;
    legacy_check(&algorithm)?;
    let scheme = pkcs8::pkcs5::EncryptionScheme::from_der(&algorithm).map_err(bad)?;
    let ciphertext = data
        .content
        .encrypted
        .ok_or_else(|| bad("no encrypted content"))?;
    scheme
        .decrypt(password.as_bytes(), ciphertext.as_bytes())
        .map_err(|_| wrong_password())
}
