//! Keys that make signatures: the [`RawSigner`] interface every key holder implements (a key
//! file here, a PKCS#11 token or HSM in [`crate::pkcs11`], a remote-signing provider elsewhere),
//! and file keys for the demo and the tests, stored as encrypted PKCS#8 whose key-encryption
//! key comes from a file or the environment, never from the database.

use crate::{Error, Result};
use der::asn1::{AnyRef, ObjectIdentifier};
use der::{Decode, Encode};
use pkcs8::{DecodePrivateKey, EncodePrivateKey, EncryptedPrivateKeyInfoRef, PrivateKeyInfoRef};
use sha2_11::Sha256;
use signature::{Keypair, SignatureEncoding, Signer};
use spki::{AlgorithmIdentifierOwned, EncodePublicKey, SubjectPublicKeyInfoOwned};

pub const OID_RSA_ENCRYPTION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
pub const OID_SHA256_WITH_RSA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
pub const OID_SHA384_WITH_RSA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
pub const OID_SHA512_WITH_RSA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
pub const OID_SHA1_WITH_RSA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
pub const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
pub const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
pub const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// The key types egov signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// RSA with PKCS#1 v1.5 padding (what Vietnamese CA tokens carry).
    Rsa,
    /// ECDSA on NIST P-256.
    EcdsaP256,
}

impl KeyAlgorithm {
    /// The CMS/X.509 signature algorithm with SHA-256.
    pub fn signature_algorithm(self) -> AlgorithmIdentifierOwned {
        match self {
            KeyAlgorithm::Rsa => AlgorithmIdentifierOwned {
                oid: OID_SHA256_WITH_RSA,
                parameters: Some(AnyRef::NULL.into()),
            },
            KeyAlgorithm::EcdsaP256 => AlgorithmIdentifierOwned {
                oid: OID_ECDSA_SHA256,
                parameters: None,
            },
        }
    }

    /// The key type of a certificate's public key.
    pub fn of_public_key(spki: &SubjectPublicKeyInfoOwned) -> Result<Self> {
        if spki.algorithm.oid == OID_RSA_ENCRYPTION {
            Ok(KeyAlgorithm::Rsa)
        } else if spki.algorithm.oid == OID_EC_PUBLIC_KEY
            && spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                == Some(OID_P256)
        {
            Ok(KeyAlgorithm::EcdsaP256)
        } else {
            Err(Error::Certificate(format!(
                "unsupported public key algorithm {}",
                spki.algorithm.oid
            )))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa => "rsa",
            KeyAlgorithm::EcdsaP256 => "ecdsa-p256",
        }
    }
}

impl std::str::FromStr for KeyAlgorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "rsa" => Ok(KeyAlgorithm::Rsa),
            "ecdsa-p256" | "p256" | "ec" => Ok(KeyAlgorithm::EcdsaP256),
            other => Err(Error::Key(format!(
                "unknown key type {other:?} (rsa or ecdsa-p256)"
            ))),
        }
    }
}

/// Anything that holds a private key and can sign with it.
pub trait RawSigner {
    fn algorithm(&self) -> KeyAlgorithm;
    /// Signs `message` with SHA-256: a PKCS#1 v1.5 signature for RSA, a DER-encoded
    /// `ECDSA-Sig-Value` for P-256.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>>;
}

/// A private key held in memory (demo, tests, an agency seal key without an HSM).
pub enum FileKey {
    Rsa(Box<rsa::pkcs1v15::SigningKey<Sha256>>),
    P256(p256::ecdsa::SigningKey),
}

/// PBKDF2 iterations for encrypted key files. The key-encryption key is 32 random bytes, not a
/// password, so stretching adds nothing; the count is what OpenSSL reads without complaint.
const PBKDF2_ITERATIONS: u32 = 10_000;

impl FileKey {
    /// A fresh key (RSA 2048 or P-256) from the operating system's random source.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self> {
        let mut rng = getrandom::rand_core::UnwrapErr(getrandom::SysRng);
        Ok(match algorithm {
            KeyAlgorithm::Rsa => FileKey::Rsa(Box::new(
                rsa::pkcs1v15::SigningKey::<Sha256>::random(&mut rng, 2048)
                    .map_err(|e| Error::Key(e.to_string()))?,
            )),
            KeyAlgorithm::EcdsaP256 => {
                use p256::elliptic_curve::Generate;
                FileKey::P256(p256::ecdsa::SigningKey::generate_from_rng(&mut rng))
            }
        })
    }

    /// Reads an unencrypted PKCS#8 key (DER).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let info = PrivateKeyInfoRef::from_der(der).map_err(|e| Error::Key(e.to_string()))?;
        if info.algorithm.oid == OID_RSA_ENCRYPTION {
            let key =
                rsa::PrivateKey::from_pkcs8_der(der).map_err(|e| Error::Key(e.to_string()))?;
            Ok(FileKey::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(key))))
        } else if info.algorithm.oid == OID_EC_PUBLIC_KEY {
            let key = p256::ecdsa::SigningKey::from_pkcs8_der(der)
                .map_err(|e| Error::Key(format!("only P-256 EC keys are supported: {e}")))?;
            Ok(FileKey::P256(key))
        } else {
            Err(Error::Key(format!(
                "unsupported key algorithm {}",
                info.algorithm.oid
            )))
        }
    }

    /// Reads a PEM key: `ENCRYPTED PRIVATE KEY` (decrypted with `kek`) or, for tests and
    /// imports only, `PRIVATE KEY`.
    pub fn from_pem(pem: &str, kek: Option<&[u8]>) -> Result<Self> {
        let (label, der) = pem_rfc7468_decode(pem)?;
        match label.as_str() {
            "ENCRYPTED PRIVATE KEY" => {
                let kek = kek.ok_or_else(|| {
                    Error::Key(
                        "the key file is encrypted and no key-encryption key is configured".into(),
                    )
                })?;
                let info = EncryptedPrivateKeyInfoRef::from_der(&der)
                    .map_err(|e| Error::Key(e.to_string()))?;
                let plain = info.decrypt(kek).map_err(|_| {
                    Error::Key("the key-encryption key does not open this key file".into())
                })?;
                Self::from_pkcs8_der(plain.as_bytes())
            }
            "PRIVATE KEY" => Self::from_pkcs8_der(&der),
            other => Err(Error::Key(format!(
                "a {other} is not a PKCS#8 key; convert it with `openssl pkcs8 -topk8`"
            ))),
        }
    }

    /// The key as PKCS#8 (DER), unencrypted: only for handing it to a token.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>> {
        let doc = match self {
            FileKey::Rsa(k) => k.to_pkcs8_der(),
            FileKey::P256(k) => k.to_pkcs8_der(),
        }
        .map_err(|e| Error::Key(e.to_string()))?;
        Ok(doc.as_bytes().to_vec())
    }

    /// The key as `ENCRYPTED PRIVATE KEY` PEM (PBES2: PBKDF2-SHA256, AES-256-CBC) under `kek`;
    /// `openssl pkey` opens it with the same bytes as its passphrase.
    pub fn to_encrypted_pem(&self, kek: &[u8]) -> Result<String> {
        let der = self.to_pkcs8_der()?;
        let info = PrivateKeyInfoRef::from_der(&der).map_err(|e| Error::Key(e.to_string()))?;
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| Error::Key(e.to_string()))?;
        getrandom::fill(&mut iv).map_err(|e| Error::Key(e.to_string()))?;
        let params = pkcs8::pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
            PBKDF2_ITERATIONS,
            &salt,
            iv,
        )
        .map_err(|e| Error::Key(e.to_string()))?;
        let encrypted = info
            .encrypt_with_params(params, kek)
            .map_err(|e| Error::Key(e.to_string()))?;
        encrypted
            .to_pem("ENCRYPTED PRIVATE KEY", der::pem::LineEnding::LF)
            .map(|s| s.to_string())
            .map_err(|e| Error::Key(e.to_string()))
    }

    pub fn public_key(&self) -> Result<SubjectPublicKeyInfoOwned> {
        let der = match self {
            FileKey::Rsa(k) => k.verifying_key().to_public_key_der(),
            FileKey::P256(k) => k.verifying_key().to_public_key_der(),
        }
        .map_err(|e| Error::Key(e.to_string()))?;
        SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).map_err(|e| Error::Key(e.to_string()))
    }
}

impl RawSigner for FileKey {
    fn algorithm(&self) -> KeyAlgorithm {
        match self {
            FileKey::Rsa(_) => KeyAlgorithm::Rsa,
            FileKey::P256(_) => KeyAlgorithm::EcdsaP256,
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        match self {
            FileKey::Rsa(k) => {
                let sig: rsa::pkcs1v15::Signature =
                    k.try_sign(message).map_err(|e| Error::Key(e.to_string()))?;
                Ok(sig.to_vec())
            }
            FileKey::P256(k) => {
                let sig: p256::ecdsa::DerSignature =
                    k.try_sign(message).map_err(|e| Error::Key(e.to_string()))?;
                Ok(sig.to_vec())
            }
        }
    }
}

/// Decodes one PEM block, returning its label and contents.
pub(crate) fn pem_rfc7468_decode(pem: &str) -> Result<(String, Vec<u8>)> {
    let (label, der) = der::pem::decode_vec(pem.trim().as_bytes())
        .map_err(|e| Error::Key(format!("not PEM: {e}")))?;
    Ok((label.to_string(), der))
}

/// Raw ECDSA `r || s` (what PKCS#11 `CKM_ECDSA` returns) to the DER `ECDSA-Sig-Value` of CMS.
pub fn ecdsa_raw_to_der(raw: &[u8]) -> Result<Vec<u8>> {
    let sig = p256::ecdsa::Signature::from_slice(raw)
        .map_err(|e| Error::Token(format!("bad ECDSA signature: {e}")))?;
    Ok(sig.to_der().to_vec())
}

/// Checks that `signature` over `message` verifies with the public key `spki` using the
/// signature algorithm `alg` (RSA PKCS#1 v1.5 with SHA-256/384/512, ECDSA P-256 with SHA-256).
/// `Ok(false)` for a wrong signature; `Err` for an algorithm egov does not accept.
pub fn verify_signature(
    spki: &SubjectPublicKeyInfoOwned,
    alg: &ObjectIdentifier,
    digest_alg: Option<&ObjectIdentifier>,
    message: &[u8],
    signature: &[u8],
) -> std::result::Result<bool, String> {
    use signature::Verifier;
    let spki_der = spki.to_der().map_err(|e| e.to_string())?;
    let hash = if *alg == OID_SHA256_WITH_RSA || *alg == OID_ECDSA_SHA256 {
        "sha256"
    } else if *alg == OID_SHA384_WITH_RSA {
        "sha384"
    } else if *alg == OID_SHA512_WITH_RSA {
        "sha512"
    } else if *alg == OID_SHA1_WITH_RSA {
        return Err("SHA-1 signatures are no longer accepted".into());
    } else if *alg == OID_RSA_ENCRYPTION {
        match digest_alg.map(crate::cms_sig::digest_name) {
            Some(Some(name)) => name,
            _ => return Err("unknown digest algorithm".into()),
        }
    } else {
        return Err(format!("unsupported signature algorithm {alg}"));
    };
    if hash == "sha1" {
        return Err("SHA-1 signatures are no longer accepted".into());
    }
    if spki.algorithm.oid == OID_RSA_ENCRYPTION {
        use spki::DecodePublicKey;
        let key = rsa::PublicKey::from_public_key_der(&spki_der).map_err(|e| e.to_string())?;
        let Ok(sig) = rsa::pkcs1v15::Signature::try_from(signature) else {
            return Ok(false);
        };
        let ok = match hash {
            "sha256" => rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key).verify(message, &sig),
            "sha384" => {
                rsa::pkcs1v15::VerifyingKey::<sha2_11::Sha384>::new(key).verify(message, &sig)
            }
            _ => rsa::pkcs1v15::VerifyingKey::<sha2_11::Sha512>::new(key).verify(message, &sig),
        };
        Ok(ok.is_ok())
    } else if spki.algorithm.oid == OID_EC_PUBLIC_KEY {
        use spki::DecodePublicKey;
        if hash != "sha256" {
            return Err("ECDSA is accepted with SHA-256 only".into());
        }
        let key = p256::ecdsa::VerifyingKey::from_public_key_der(&spki_der)
            .map_err(|_| "only P-256 EC keys are supported".to_string())?;
        let Ok(sig) = p256::ecdsa::DerSignature::from_bytes(signature) else {
            return Ok(false);
        };
        Ok(key.verify(message, &sig).is_ok())
    } else {
        Err(format!(
            "unsupported public key algorithm {}",
            spki.algorithm.oid
        ))
    }
}
