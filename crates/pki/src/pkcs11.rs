//! Keys in PKCS#11 tokens and HSMs (a leader's USB token, the agency's seal HSM; SoftHSM2 in the
//! tests). The private key never leaves the device: egov asks it to sign.
//!
//! Wrong PINs: egov counts consecutive failures per token in a small file and stops trying after
//! [`Token::max_pin_tries`], before the token's own counter runs out; the token's own
//! "locked" and "final try" answers are reported as such.

use crate::keys::{KeyAlgorithm, RawSigner};
use crate::{Error, Result};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::RvError;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use der::{Decode, Encode};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use x509_cert::Certificate;

/// Where the key is: the module, the token and the key's label.
#[derive(Debug, Clone)]
pub struct Token {
    /// The PKCS#11 module (`/usr/lib/softhsm/libsofthsm2.so`, a CA token's driver).
    pub module: PathBuf,
    /// The token's label; `None` takes the first token present.
    pub token_label: Option<String>,
    pub key_label: String,
    /// Consecutive wrong PINs egov allows before it refuses to try again.
    pub max_pin_tries: u32,
    /// Where the count of wrong PINs is kept (`None`: not kept across runs).
    pub tries_file: Option<PathBuf>,
}

fn token_error(e: cryptoki::error::Error) -> Error {
    match e {
        cryptoki::error::Error::Pkcs11(RvError::PinLocked, _) => Error::PinLocked,
        other => Error::Token(other.to_string()),
    }
}

/// Opens the module (initialised once per process).
fn open_module(module: &Path) -> Result<Pkcs11> {
    let ctx = Pkcs11::new(module)
        .map_err(|e| Error::Token(format!("cannot load {}: {e}", module.display())))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(cryptoki::error::Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {
            Ok(ctx)
        }
        Err(e) => Err(token_error(e)),
    }
}

fn find_slot(ctx: &Pkcs11, label: Option<&str>) -> Result<Slot> {
    for slot in ctx
        .get_slots_with_initialized_token()
        .map_err(token_error)?
    {
        let info = ctx.get_token_info(slot).map_err(token_error)?;
        if label.is_none_or(|l| info.label().trim() == l) {
            return Ok(slot);
        }
    }
    Err(Error::Token(match label {
        Some(l) => format!("no token labelled {l:?} is present"),
        None => "no token is present".into(),
    }))
}

fn read_tries(file: Option<&Path>) -> u32 {
    file.and_then(|f| std::fs::read_to_string(f).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

fn write_tries(file: Option<&Path>, n: u32) {
    if let Some(f) = file {
        if let Some(dir) = f.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(f, n.to_string());
    }
}

/// A private key on a token, logged in.
pub struct TokenKey {
    // The session and the module it belongs to; PKCS#11 sessions are used one call at a time.
    session: Mutex<Session>,
    _ctx: Pkcs11,
    key: ObjectHandle,
    algorithm: KeyAlgorithm,
    label: String,
}

impl Token {
    /// Logs in with `pin` and finds the key.
    pub fn open(&self, pin: &str) -> Result<TokenKey> {
        let tries = read_tries(self.tries_file.as_deref());
        if tries >= self.max_pin_tries {
            return Err(Error::PinLocked);
        }
        let ctx = open_module(&self.module)?;
        let slot = find_slot(&ctx, self.token_label.as_deref())?;
        let info = ctx.get_token_info(slot).map_err(token_error)?;
        if info.user_pin_locked() {
            return Err(Error::PinLocked);
        }
        let session = ctx.open_ro_session(slot).map_err(token_error)?;
        match session.login(UserType::User, Some(&AuthPin::new(pin.into()))) {
            Ok(()) | Err(cryptoki::error::Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {
                write_tries(self.tries_file.as_deref(), 0);
            }
            Err(cryptoki::error::Error::Pkcs11(RvError::PinIncorrect, _)) => {
                let tries = tries + 1;
                write_tries(self.tries_file.as_deref(), tries);
                if tries >= self.max_pin_tries {
                    return Err(Error::PinLocked);
                }
                return Err(Error::PinIncorrect {
                    remaining: self.max_pin_tries - tries,
                });
            }
            Err(e) => return Err(token_error(e)),
        }
        let key = find_one(
            &session,
            &[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Label(self.key_label.as_bytes().to_vec()),
            ],
        )?
        .ok_or_else(|| {
            Error::Token(format!(
                "no private key labelled {:?} on the token",
                self.key_label
            ))
        })?;
        let kt = session
            .get_attributes(key, &[AttributeType::KeyType])
            .map_err(token_error)?;
        let algorithm = match kt.first() {
            Some(Attribute::KeyType(KeyType::RSA)) => KeyAlgorithm::Rsa,
            Some(Attribute::KeyType(KeyType::EC)) => KeyAlgorithm::EcdsaP256,
            _ => return Err(Error::Token("the key is neither RSA nor EC".into())),
        };
        Ok(TokenKey {
            session: Mutex::new(session),
            _ctx: ctx,
            key,
            algorithm,
            label: self.key_label.clone(),
        })
    }

    /// Forgets the count of wrong PINs (after the token's administrator unlocked it).
    pub fn reset_tries(&self) {
        write_tries(self.tries_file.as_deref(), 0);
    }
}

fn find_one(session: &Session, template: &[Attribute]) -> Result<Option<ObjectHandle>> {
    Ok(session
        .find_objects(template)
        .map_err(token_error)?
        .into_iter()
        .next())
}

impl TokenKey {
    /// The certificate stored on the token beside the key (same label), if any.
    pub fn certificate(&self) -> Result<Option<Certificate>> {
        let session = self
            .session
            .lock()
            .map_err(|_| Error::Token("session poisoned".into()))?;
        let Some(handle) = find_one(
            &session,
            &[
                Attribute::Class(ObjectClass::CERTIFICATE),
                Attribute::Label(self.label.as_bytes().to_vec()),
            ],
        )?
        else {
            return Ok(None);
        };
        let attrs = session
            .get_attributes(handle, &[AttributeType::Value])
            .map_err(token_error)?;
        match attrs.first() {
            Some(Attribute::Value(der)) => Ok(Some(Certificate::from_der(der)?)),
            _ => Ok(None),
        }
    }
}

impl RawSigner for TokenKey {
    fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let session = self
            .session
            .lock()
            .map_err(|_| Error::Token("session poisoned".into()))?;
        match self.algorithm {
            KeyAlgorithm::Rsa => session
                .sign(&Mechanism::Sha256RsaPkcs, self.key, message)
                .map_err(token_error),
            KeyAlgorithm::EcdsaP256 => {
                let raw = session
                    .sign(&Mechanism::Ecdsa, self.key, &crate::sha256(message))
                    .map_err(token_error)?;
                crate::keys::ecdsa_raw_to_der(&raw)
            }
        }
    }
}

/// Initialises the token in a free slot (SoftHSM2 for tests and the demo): label, security
/// officer PIN and user PIN.
pub fn init_token(module: &Path, label: &str, so_pin: &str, user_pin: &str) -> Result<()> {
    let ctx = open_module(module)?;
    let slot = ctx
        .get_slots_with_token()
        .map_err(token_error)?
        .into_iter()
        .find(|s| ctx.get_token_info(*s).is_ok_and(|i| !i.token_initialized()))
        .ok_or_else(|| Error::Token("no free slot to initialise".into()))?;
    ctx.init_token(slot, &AuthPin::new(so_pin.into()), label)
        .map_err(token_error)?;
    let session = ctx.open_rw_session(slot).map_err(token_error)?;
    session
        .login(UserType::So, Some(&AuthPin::new(so_pin.into())))
        .map_err(token_error)?;
    session
        .init_pin(&AuthPin::new(user_pin.into()))
        .map_err(token_error)?;
    Ok(())
}

/// A read-write session logged in as the user, for managing the token's objects.
fn user_session(token: &Token, pin: &str) -> Result<(Pkcs11, Session)> {
    let ctx = open_module(&token.module)?;
    let slot = find_slot(&ctx, token.token_label.as_deref())?;
    let session = ctx.open_rw_session(slot).map_err(token_error)?;
    session
        .login(UserType::User, Some(&AuthPin::new(pin.into())))
        .map_err(token_error)?;
    Ok((ctx, session))
}

/// Generates a key pair on the token and returns its public key.
pub fn generate_key(
    token: &Token,
    pin: &str,
    algorithm: KeyAlgorithm,
) -> Result<SubjectPublicKeyInfoOwned> {
    let (_ctx, session) = user_session(token, pin)?;
    let label = Attribute::Label(token.key_label.as_bytes().to_vec());
    let id = Attribute::Id(crate::sha256(token.key_label.as_bytes())[..8].to_vec());
    let p256_params = crate::keys::OID_P256.to_der()?;
    let (mechanism, mut public) = match algorithm {
        KeyAlgorithm::Rsa => (
            Mechanism::RsaPkcsKeyPairGen,
            vec![
                Attribute::ModulusBits(2048.into()),
                Attribute::PublicExponent(vec![1, 0, 1]),
            ],
        ),
        KeyAlgorithm::EcdsaP256 => (
            Mechanism::EccKeyPairGen,
            vec![Attribute::EcParams(p256_params)],
        ),
    };
    public.extend([
        Attribute::Token(true),
        Attribute::Verify(true),
        label.clone(),
        id.clone(),
    ]);
    let private = [
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        label,
        id,
    ];
    let (pub_handle, _) = session
        .generate_key_pair(&mechanism, &public, &private)
        .map_err(token_error)?;
    public_key_info(&session, pub_handle, algorithm)
}

fn public_key_info(
    session: &Session,
    handle: ObjectHandle,
    algorithm: KeyAlgorithm,
) -> Result<SubjectPublicKeyInfoOwned> {
    match algorithm {
        KeyAlgorithm::Rsa => {
            let attrs = session
                .get_attributes(
                    handle,
                    &[AttributeType::Modulus, AttributeType::PublicExponent],
                )
                .map_err(token_error)?;
            let (mut n, mut e) = (None, None);
            for a in attrs {
                match a {
                    Attribute::Modulus(v) => n = Some(v),
                    Attribute::PublicExponent(v) => e = Some(v),
                    _ => {}
                }
            }
            let (Some(n), Some(e)) = (n, e) else {
                return Err(Error::Token(
                    "the token did not return the RSA public key".into(),
                ));
            };
            let key = rsa::PublicKey::new(
                rsa::BoxedUint::from_be_slice_vartime(&n),
                rsa::BoxedUint::from_be_slice_vartime(&e),
            )
            .map_err(|e| Error::Token(e.to_string()))?;
            use spki::EncodePublicKey;
            let der = key
                .to_public_key_der()
                .map_err(|e| Error::Token(e.to_string()))?;
            Ok(SubjectPublicKeyInfoOwned::from_der(der.as_bytes())?)
        }
        KeyAlgorithm::EcdsaP256 => {
            let attrs = session
                .get_attributes(handle, &[AttributeType::EcPoint])
                .map_err(token_error)?;
            let Some(Attribute::EcPoint(point)) = attrs.into_iter().next() else {
                return Err(Error::Token(
                    "the token did not return the EC public key".into(),
                ));
            };
            // CKA_EC_POINT is a DER OCTET STRING holding the uncompressed point.
            let point = der::asn1::OctetString::from_der(&point)
                .map(|o| o.as_bytes().to_vec())
                .unwrap_or(point);
            Ok(SubjectPublicKeyInfoOwned {
                algorithm: AlgorithmIdentifierOwned {
                    oid: crate::keys::OID_EC_PUBLIC_KEY,
                    parameters: Some(der::Any::encode_from(&crate::keys::OID_P256)?),
                },
                subject_public_key: der::asn1::BitString::from_bytes(&point)?,
            })
        }
    }
}

/// Stores a certificate on the token beside the key of the same label.
pub fn store_certificate(token: &Token, pin: &str, cert: &Certificate) -> Result<()> {
    let (_ctx, session) = user_session(token, pin)?;
    let tbs = cert.tbs_certificate();
    session
        .create_object(&[
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::CertificateType(cryptoki::object::CertificateType::X_509),
            Attribute::Token(true),
            Attribute::Label(token.key_label.as_bytes().to_vec()),
            Attribute::Id(crate::sha256(token.key_label.as_bytes())[..8].to_vec()),
            Attribute::Subject(tbs.subject().to_der()?),
            Attribute::Issuer(tbs.issuer().to_der()?),
            Attribute::SerialNumber(tbs.serial_number().to_der()?),
            Attribute::Value(cert.to_der()?),
        ])
        .map_err(token_error)?;
    Ok(())
}
