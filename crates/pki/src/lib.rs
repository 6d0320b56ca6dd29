//! PAdES signatures for egov.
//!
//! Signing is two-phase, because a leader's personal key never leaves the leader's token: the
//! server [`prepare`](sign::prepare)s the final PDF with room for the signature and hands out the
//! data to be signed; whoever holds the key signs it ([`keys::RawSigner`]: a key file, a PKCS#11
//! token or HSM, or a remote-signing provider); the server [`finish`](sign::finish)es the file.
//! [`verify`](verify::verify_pdf) judges any signed PDF against trust lists and revocation lists
//! and says what changed after each signature.

pub mod appearance;
pub mod cert;
pub mod cms_sig;
pub mod demo;
pub mod keys;
pub mod limits;
pub mod pkcs11;
pub mod pkcs12;
pub mod sign;
pub mod stamp;
pub mod text;
pub mod tsp;
pub mod verify;

pub use keys::{FileKey, KeyAlgorithm, RawSigner};
pub use limits::Limits;
pub use lopdf;
pub use sign::{Prepared, SignRequest, finish, prepare};
pub use verify::{Report, SignatureReport, Status, TrustStore, verify_pdf};
pub use x509_cert;

/// What can go wrong while signing, with a stable code for the screens and the API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the file is not a PDF")]
    NotPdf,
    #[error("the PDF is encrypted; egov signs and verifies only unencrypted PDFs")]
    Encrypted,
    #[error("the PDF cannot be read: {0}")]
    Malformed(String),
    #[error("the key cannot be used: {0}")]
    Key(String),
    #[error("the certificate cannot be used: {0}")]
    Certificate(String),
    #[error("the token PIN is wrong ({remaining} tries left before the token locks)")]
    PinIncorrect { remaining: u32 },
    #[error("the token is locked after too many wrong PINs; its administrator must unlock it")]
    PinLocked,
    #[error("the token or HSM refused: {0}")]
    Token(String),
    #[error(
        "the signature does not fit in the space reserved for it ({needed} bytes, {reserved} reserved)"
    )]
    SignatureTooLarge { needed: usize, reserved: usize },
    #[error("the signature value does not match the prepared document and certificate")]
    SignatureMismatch,
    #[error("no time-stamp: {0}")]
    Timestamp(String),
    #[error("the visible signature cannot be placed: {0}")]
    Appearance(String),
    /// The file asks for more work than the limits allow (see [`limits::Limits`]).
    #[error("the PDF is too large to be read: {0}")]
    TooComplex(String),
}

impl Error {
    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotPdf => "pdf_not_pdf",
            Error::Encrypted => "pdf_encrypted",
            Error::Malformed(_) => "pdf_malformed",
            Error::Key(_) => "signing_key_unusable",
            Error::Certificate(_) => "signing_certificate_unusable",
            Error::PinIncorrect { .. } => "token_pin_incorrect",
            Error::PinLocked => "token_pin_locked",
            Error::Token(_) => "token_error",
            Error::SignatureTooLarge { .. } => "signature_too_large",
            Error::SignatureMismatch => "signature_mismatch",
            Error::Timestamp(_) => "timestamp_failed",
            Error::Appearance(_) => "signature_position_invalid",
            Error::TooComplex(_) => "pdf_too_complex",
        }
    }
}

impl From<der::Error> for Error {
    fn from(e: der::Error) -> Self {
        Error::Certificate(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2_11::Digest;
    sha2_11::Sha256::digest(data).into()
}
