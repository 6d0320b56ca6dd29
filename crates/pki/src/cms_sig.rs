//! The CMS `SignedData` inside a PDF signature: the signed attributes egov signs (PAdES
//! baseline: content type, message digest, signing-certificate-v2 — and no signing time, which
//! PAdES puts in the signature dictionary) and the parsing of any detached CMS signature.

use crate::{Error, Result};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::{Attribute, Attributes};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

pub const OID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub const OID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
pub const OID_MESSAGE_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
pub const OID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
pub const OID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
pub const OID_SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
pub const OID_TIMESTAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
pub const OID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
pub const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
pub const OID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
pub const OID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// `IssuerSerial` of RFC 5035.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct IssuerSerial {
    pub issuer: Vec<GeneralName>,
    pub serial_number: SerialNumber,
}

/// `ESSCertIDv2` of RFC 5035 (the hash algorithm defaults to SHA-256).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    pub cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// `SigningCertificateV2` of RFC 5035.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    pub policies: Option<Any>,
}

/// The name of a digest algorithm egov knows, by OID.
pub fn digest_name(oid: &ObjectIdentifier) -> Option<&'static str> {
    match *oid {
        OID_SHA1 => Some("sha1"),
        OID_SHA256 => Some("sha256"),
        OID_SHA384 => Some("sha384"),
        OID_SHA512 => Some("sha512"),
        _ => None,
    }
}

/// The digest of `parts` (concatenated) with the named algorithm.
pub fn digest(name: &str, parts: &[&[u8]]) -> Option<Vec<u8>> {
    use sha2_11::Digest;
    fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
        let mut d = D::new();
        for p in parts {
            d.update(p);
        }
        d.finalize().to_vec()
    }
    Some(match name {
        "sha1" => run::<sha1::Sha1>(parts),
        "sha256" => run::<sha2_11::Sha256>(parts),
        "sha384" => run::<sha2_11::Sha384>(parts),
        "sha512" => run::<sha2_11::Sha512>(parts),
        _ => return None,
    })
}

fn sha256_alg() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: OID_SHA256,
        parameters: None,
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

/// The signed attributes for a detached PAdES signature over content whose SHA-256 is
/// `content_digest`, by the holder of `cert`.
pub fn signed_attributes(content_digest: &[u8], cert: &Certificate) -> Result<Attributes> {
    let cert_der = cert.to_der()?;
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(crate::sha256(&cert_der).to_vec())?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    cert.tbs_certificate().issuer().clone(),
                )],
                serial_number: cert.tbs_certificate().serial_number().clone(),
            }),
        }],
        policies: None,
    };
    let attrs = vec![
        attribute(OID_CONTENT_TYPE, Any::encode_from(&OID_DATA)?)?,
        attribute(
            OID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(content_digest.to_vec())?)?,
        )?,
        attribute(OID_SIGNING_CERTIFICATE_V2, Any::encode_from(&ess)?)?,
    ];
    Ok(SetOfVec::try_from(attrs)?)
}

/// The `ContentInfo` (DER) of a detached `SignedData` with one signer.
pub fn signed_data(
    attrs: Attributes,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: &[u8],
    chain: &[Certificate],
) -> Result<Vec<u8>> {
    signed_data_stamped(attrs, signature_algorithm, signature, chain, None)
}

/// [`signed_data`] with a time-stamp token (DER `ContentInfo`) over the signature value as an
/// unsigned attribute (PAdES B-T).
pub fn signed_data_stamped(
    attrs: Attributes,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: &[u8],
    chain: &[Certificate],
    timestamp: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let unsigned_attrs = match timestamp {
        Some(token) => Some(SetOfVec::try_from(vec![attribute(
            OID_TIMESTAMP_TOKEN,
            Any::from_der(token)?,
        )?])?),
        None => None,
    };
    let signer = chain
        .first()
        .ok_or_else(|| Error::Certificate("no signing certificate".into()))?;
    let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: signer.tbs_certificate().issuer().clone(),
        serial_number: signer.tbs_certificate().serial_number().clone(),
    });
    let info = SignerInfo {
        version: CmsVersion::V1,
        sid,
        digest_alg: sha256_alg(),
        signed_attrs: Some(attrs),
        signature_algorithm,
        signature: OctetString::new(signature.to_vec())?,
        unsigned_attrs,
    };
    let certs: Vec<CertificateChoices> = chain
        .iter()
        .cloned()
        .map(CertificateChoices::Certificate)
        .collect();
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256_alg()])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: OID_DATA,
            econtent: None,
        },
        certificates: Some(certs.try_into()?),
        crls: None,
        signer_infos: SignerInfos::try_from(vec![info])?,
    };
    let ci = ContentInfo {
        content_type: OID_SIGNED_DATA,
        content: Any::encode_from(&sd)?,
    };
    Ok(ci.to_der()?)
}

/// A CMS signature as found in a PDF.
pub struct Parsed {
    pub signed_data: SignedData,
    pub signer: SignerInfo,
    pub certificates: Vec<Certificate>,
}

/// Reads the DER `ContentInfo` at the start of `contents`; what follows must be zero padding.
pub fn parse(contents: &[u8]) -> std::result::Result<Parsed, String> {
    let mut reader = der::SliceReader::new(contents).map_err(|e| e.to_string())?;
    let header = der::Header::decode(&mut reader)
        .map_err(|_| "the signature value is not DER".to_string())?;
    let len = usize::try_from(u32::from(header.length())).map_err(|e| e.to_string())?;
    let total = len
        + usize::try_from(u32::from(header.encoded_len().map_err(|e| e.to_string())?)).unwrap_or(0);
    if total > contents.len() {
        return Err("the signature value is truncated".into());
    }
    if contents[total..].iter().any(|b| *b != 0) {
        return Err("bytes other than padding follow the signature value".into());
    }
    let ci = ContentInfo::from_der(&contents[..total])
        .map_err(|e| format!("not a CMS ContentInfo: {e}"))?;
    if ci.content_type != OID_SIGNED_DATA {
        return Err(format!(
            "the CMS content is {} rather than SignedData",
            ci.content_type
        ));
    }
    let sd: SignedData = ci
        .content
        .decode_as()
        .map_err(|e| format!("bad SignedData: {e}"))?;
    if sd.encap_content_info.econtent.is_some() {
        return Err("the signature embeds its content instead of being detached".into());
    }
    let mut infos = sd.signer_infos.0.iter();
    let signer = match (infos.next(), infos.next()) {
        (Some(s), None) => s.clone(),
        (None, _) => return Err("the signature has no signer".into()),
        _ => return Err("the signature has more than one signer".into()),
    };
    let certificates = certificates_in(&sd);
    Ok(Parsed {
        signed_data: sd,
        signer,
        certificates,
    })
}

/// The single value of a signed attribute, if present exactly once.
pub fn attribute_value<'a>(
    attrs: &'a Attributes,
    oid: &ObjectIdentifier,
) -> std::result::Result<Option<&'a Any>, String> {
    let mut found = attrs.iter().filter(|a| a.oid == *oid);
    match (found.next(), found.next()) {
        (None, _) => Ok(None),
        (Some(a), None) => {
            let mut values = a.values.iter();
            match (values.next(), values.next()) {
                (Some(v), None) => Ok(Some(v)),
                _ => Err(format!("attribute {oid} must have exactly one value")),
            }
        }
        _ => Err(format!("attribute {oid} appears more than once")),
    }
}

/// Does `sid` name `cert`?
pub fn identifies(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            isn.issuer == *cert.tbs_certificate().issuer()
                && isn.serial_number == *cert.tbs_certificate().serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => matches!(
            cert.tbs_certificate().get_extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>(),
            Ok(Some((_, own))) if own == *ski
        ),
    }
}

/// The certificates a CMS signed-data carries (other kinds of entry are skipped).
pub(crate) fn certificates_in(sd: &SignedData) -> Vec<Certificate> {
    sd.certificates
        .as_ref()
        .map(|set| {
            set.0
                .iter()
                .filter_map(|c| match c {
                    CertificateChoices::Certificate(c) => Some(c.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}
