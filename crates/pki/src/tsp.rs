//! RFC 3161 time-stamps for PAdES B-T: the request egov sends to a time-stamp authority for a
//! signature value, the checks on its reply, and the verification of a time-stamp token found
//! in a signature (what it stamps, who signed it, when).

use crate::cms_sig::{self, OID_CONTENT_TYPE, OID_MESSAGE_DIGEST, OID_SHA256};
use crate::keys::verify_signature;
use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::asn1::{Any, GeneralizedTime, Int, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::Certificate;

/// `id-ct-TSTInfo`.
pub const OID_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// `id-kp-timeStamping`.
pub const OID_KP_TIME_STAMPING: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct MessageImprint {
    pub hash_algorithm: AlgorithmIdentifierOwned,
    pub hashed_message: OctetString,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TimeStampReq {
    pub version: u8,
    pub message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    pub req_policy: Option<ObjectIdentifier>,
    #[asn1(optional = "true")]
    pub nonce: Option<Int>,
    #[asn1(default = "Default::default")]
    pub cert_req: bool,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct PkiStatusInfo {
    pub status: u32,
    #[asn1(optional = "true")]
    pub status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    pub fail_info: Option<der::asn1::BitString>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TimeStampResp {
    pub status: PkiStatusInfo,
    #[asn1(optional = "true")]
    pub time_stamp_token: Option<ContentInfo>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct Accuracy {
    #[asn1(optional = "true")]
    pub seconds: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub millis: Option<Int>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub micros: Option<Int>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TstInfo {
    pub version: u8,
    pub policy: ObjectIdentifier,
    pub message_imprint: MessageImprint,
    pub serial_number: Int,
    pub gen_time: GeneralizedTime,
    #[asn1(optional = "true")]
    pub accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    pub ordering: bool,
    #[asn1(optional = "true")]
    pub nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub tsa: Option<Any>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<x509_cert::ext::Extensions>,
}

fn sha256_alg() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: OID_SHA256,
        parameters: None,
    }
}

/// A request for a time-stamp on `signature_value` (SHA-256), with a fresh nonce; returns the
/// DER request and the nonce to expect back.
pub fn request(signature_value: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce).map_err(|e| e.to_string())?;
    nonce[0] &= 0x7f;
    nonce[0] |= 0x01;
    let req = TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: sha256_alg(),
            hashed_message: OctetString::new(crate::sha256(signature_value).to_vec())
                .map_err(|e| e.to_string())?,
        },
        req_policy: None,
        nonce: Some(Int::new(&nonce).map_err(|e| e.to_string())?),
        cert_req: true,
    };
    Ok((req.to_der().map_err(|e| e.to_string())?, nonce.to_vec()))
}

/// Checks a time-stamp authority's reply to [`request`] and returns the token (DER
/// `ContentInfo`), after verifying it stamps `signature_value` and carries our nonce.
pub fn token_from_response(
    response: &[u8],
    signature_value: &[u8],
    nonce: &[u8],
) -> Result<Vec<u8>, String> {
    let resp = TimeStampResp::from_der(response)
        .map_err(|e| format!("the time-stamp reply cannot be read: {e}"))?;
    if resp.status.status > 1 {
        return Err(format!(
            "the time-stamp authority refused (status {}{})",
            resp.status.status,
            resp.status
                .status_string
                .map(|s| format!(": {}", s.join("; ")))
                .unwrap_or_default()
        ));
    }
    let token = resp
        .time_stamp_token
        .ok_or("the time-stamp reply carries no token")?
        .to_der()
        .map_err(|e| e.to_string())?;
    let stamp = check_token(&token, signature_value)?;
    if stamp.nonce.as_deref() != Some(nonce) {
        return Err("the time-stamp token does not answer our request (nonce)".into());
    }
    Ok(token)
}

/// What a verified time-stamp token says.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub gen_time: OffsetDateTime,
    /// The authority's certificate and the others the token carries.
    pub signer: Certificate,
    pub certificates: Vec<Certificate>,
    pub nonce: Option<Vec<u8>>,
}

/// Verifies that `token` (DER `ContentInfo`) is a time-stamp over `stamped` signed by the
/// certificate it names, which must be a time-stamping certificate. The chain of that
/// certificate is for the caller to judge.
pub fn check_token(token: &[u8], stamped: &[u8]) -> Result<Stamp, String> {
    let ci = ContentInfo::from_der(token).map_err(|e| format!("not a time-stamp token: {e}"))?;
    if ci.content_type != cms_sig::OID_SIGNED_DATA {
        return Err("the time-stamp token is not SignedData".into());
    }
    let sd: SignedData = ci
        .content
        .decode_as()
        .map_err(|e| format!("bad time-stamp token: {e}"))?;
    if sd.encap_content_info.econtent_type != OID_TST_INFO {
        return Err("the time-stamp token does not carry TSTInfo".into());
    }
    let tst_der = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or("the time-stamp token is empty")?
        .decode_as::<OctetString>()
        .map_err(|e| format!("bad TSTInfo: {e}"))?
        .as_bytes()
        .to_vec();
    let tst = TstInfo::from_der(&tst_der).map_err(|e| format!("bad TSTInfo: {e}"))?;
    let imprint_alg = cms_sig::digest_name(&tst.message_imprint.hash_algorithm.oid)
        .ok_or("the time-stamp uses an unknown digest")?;
    if imprint_alg == "sha1" {
        return Err("the time-stamp imprint is SHA-1, which is no longer accepted".into());
    }
    if cms_sig::digest(imprint_alg, &[stamped]).as_deref()
        != Some(tst.message_imprint.hashed_message.as_bytes())
    {
        return Err("the time-stamp is not over this signature".into());
    }
    let mut infos = sd.signer_infos.0.iter();
    let (Some(info), None) = (infos.next(), infos.next()) else {
        return Err("the time-stamp token must have one signer".into());
    };
    let certificates = cms_sig::certificates_in(&sd);
    let signer = certificates
        .iter()
        .find(|c| cms_sig::identifies(&info.sid, c))
        .cloned()
        .ok_or("the time-stamp token does not carry its authority's certificate")?;
    let attrs = info
        .signed_attrs
        .as_ref()
        .ok_or("the time-stamp token has no signed attributes")?;
    match cms_sig::attribute_value(attrs, &OID_CONTENT_TYPE) {
        Ok(Some(v)) if v.decode_as::<ObjectIdentifier>().ok() == Some(OID_TST_INFO) => {}
        _ => return Err("the time-stamp token's content type is wrong".into()),
    }
    let digest_alg = cms_sig::digest_name(&info.digest_alg.oid)
        .ok_or("the time-stamp token uses an unknown digest")?;
    match cms_sig::attribute_value(attrs, &OID_MESSAGE_DIGEST) {
        Ok(Some(v))
            if v.decode_as::<OctetString>()
                .ok()
                .map(|o| o.as_bytes().to_vec())
                == cms_sig::digest(digest_alg, &[&tst_der]) => {}
        _ => return Err("the time-stamp token's TSTInfo was changed".into()),
    }
    let signed = attrs.to_der().map_err(|e| e.to_string())?;
    match verify_signature(
        signer.tbs_certificate().subject_public_key_info(),
        &info.signature_algorithm.oid,
        Some(&info.digest_alg.oid),
        &signed,
        info.signature.as_bytes(),
    ) {
        Ok(true) => {}
        Ok(false) => return Err("the time-stamp token's signature is wrong".into()),
        Err(e) => return Err(e),
    }
    let eku = signer
        .tbs_certificate()
        .get_extension::<x509_cert::ext::pkix::ExtendedKeyUsage>()
        .ok()
        .flatten()
        .map(|(_, e)| e.0.contains(&OID_KP_TIME_STAMPING));
    if eku != Some(true) {
        return Err("the time-stamp authority's certificate is not for time-stamping".into());
    }
    Ok(Stamp {
        gen_time: OffsetDateTime::from(tst.gen_time.to_system_time()),
        signer,
        certificates,
        nonce: tst.nonce.map(|n| n.as_bytes().to_vec()),
    })
}
