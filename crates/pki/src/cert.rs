//! Reading certificates and revocation lists, PEM or DER.

use crate::{Error, Result};
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;

/// Every certificate in `bytes`: one or more PEM blocks, or a single DER certificate.
pub fn load_certificates(bytes: &[u8]) -> Result<Vec<Certificate>> {
    if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        let certs =
            Certificate::load_pem_chain(bytes).map_err(|e| Error::Certificate(e.to_string()))?;
        if certs.is_empty() {
            return Err(Error::Certificate("no certificate in the PEM file".into()));
        }
        Ok(certs)
    } else {
        Ok(vec![
            Certificate::from_der(bytes).map_err(|e| Error::Certificate(e.to_string()))?,
        ])
    }
}

/// A revocation list, PEM (`X509 CRL`) or DER.
pub fn load_crl(bytes: &[u8]) -> Result<CertificateList> {
    if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Error::Certificate("the CRL is not PEM text".into()))?;
        let (label, der) =
            crate::keys::pem_rfc7468_decode(text).map_err(|e| Error::Certificate(e.to_string()))?;
        if label != "X509 CRL" {
            return Err(Error::Certificate(format!(
                "expected an X509 CRL, found {label}"
            )));
        }
        CertificateList::from_der(&der).map_err(|e| Error::Certificate(e.to_string()))
    } else {
        CertificateList::from_der(bytes).map_err(|e| Error::Certificate(e.to_string()))
    }
}

/// A certificate as PEM.
pub fn to_pem(cert: &Certificate) -> Result<String> {
    let der = cert.to_der()?;
    der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &der)
        .map_err(|e| Error::Certificate(e.to_string()))
}

/// A CRL as PEM.
pub fn crl_to_pem(crl: &CertificateList) -> Result<String> {
    let der = crl.to_der()?;
    der::pem::encode_string("X509 CRL", der::pem::LineEnding::LF, &der)
        .map_err(|e| Error::Certificate(e.to_string()))
}

/// The subject's common name, or the whole subject.
pub fn display_name(cert: &Certificate) -> String {
    let subject = cert.tbs_certificate().subject();
    subject
        .common_name()
        .ok()
        .flatten()
        .map(String::from)
        .unwrap_or_else(|| subject.to_string())
}

/// Serial number in upper-case hex, as CAs print it.
pub fn serial_hex(cert: &Certificate) -> String {
    hex::encode_upper(cert.tbs_certificate().serial_number().as_bytes())
}

/// SHA-256 fingerprint (hex) of the DER certificate.
pub fn fingerprint(cert: &Certificate) -> Result<String> {
    Ok(hex::encode(crate::sha256(&cert.to_der()?)))
}
