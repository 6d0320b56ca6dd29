//! Verification of any signed PDF: integrity of every signature, its certificate chain to a
//! trust list, validity at the signing time, revocation from CRLs, key usage, and what changed
//! after each signature, judged by a stated policy. The verdict never says "valid" unless every
//! check passed.

use crate::cms_sig::{
    self, OID_CONTENT_TYPE, OID_DATA, OID_MESSAGE_DIGEST, OID_SIGNING_CERTIFICATE_V2,
};
use crate::keys::verify_signature;
use crate::sign::find;
use crate::{Error, Result};
use der::Encode;
use der::asn1::{ObjectIdentifier, OctetString};
use lopdf::{Dictionary, Document, Object, ObjectId};
use serde::Serialize;
use std::collections::BTreeSet;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};

/// The verdict, for one signature and for a whole document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Valid,
    Invalid,
    Indeterminate,
    /// The document carries no signature at all.
    Unsigned,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Invalid => "invalid",
            Status::Indeterminate => "indeterminate",
            Status::Unsigned => "unsigned",
        }
    }
}

/// One reason behind a verdict: a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub message: String,
    /// What the finding does to the verdict: `invalid`, `indeterminate`, or `note`.
    pub effect: &'static str,
}

/// What egov found about one signature.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureReport {
    pub field: String,
    pub sub_filter: String,
    pub status: Status,
    pub signer: Option<String>,
    pub signer_subject: Option<String>,
    pub issuer: Option<String>,
    pub serial: Option<String>,
    /// The time the checks were made for: claimed (`/M`) unless a time-stamp proves it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub signing_time: Option<OffsetDateTime>,
    pub time_source: &'static str,
    /// The trust list the chain ended in (`gcc`: the Government Cipher Committee's specialised
    /// CA; `public`: licensed public CAs).
    pub trust_list: Option<String>,
    /// Whether this signature covers the file as it is (nothing appended after it).
    pub covers_whole_file: bool,
    /// What was appended after the signature: `none`, `signatures`, `form_filling`,
    /// `annotations`, or `content` (which makes it invalid).
    pub changes_after: &'static str,
    pub findings: Vec<Finding>,
}

/// The verdict on a document.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub status: Status,
    pub signatures: Vec<SignatureReport>,
    /// Signature fields without a value: places waiting for a signature, which are legitimate
    /// and do not change the verdict.
    pub empty_fields: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
}

/// Trust anchors of one list.
#[derive(Debug, Clone)]
pub struct TrustList {
    pub name: String,
    pub anchors: Vec<Certificate>,
}

/// What verification trusts: trust lists, extra intermediate certificates, CRLs, and the
/// revocation policy.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    pub lists: Vec<TrustList>,
    pub intermediates: Vec<Certificate>,
    pub crls: Vec<CertificateList>,
    /// When set, a certificate without a current CRL from its issuer makes the signature
    /// indeterminate; when not, it is a note.
    pub require_revocation: bool,
    /// How much work a file to verify may cause.
    pub limits: crate::Limits,
}

impl TrustStore {
    pub fn add_list(&mut self, name: &str, anchors: Vec<Certificate>) {
        match self.lists.iter_mut().find(|l| l.name == name) {
            Some(l) => l.anchors.extend(anchors),
            None => self.lists.push(TrustList {
                name: name.to_string(),
                anchors,
            }),
        }
    }
}

const ADBE_DETACHED: &[u8] = b"adbe.pkcs7.detached";
const CADES_DETACHED: &[u8] = b"ETSI.CAdES.detached";
const ADBE_SHA1: &[u8] = b"adbe.pkcs7.sha1";

/// Verifies every signature of `pdf` at time `now`.
///
/// Errors only for a file that cannot be judged at all (not a PDF, encrypted, unreadable);
/// anything wrong with a signature is in the report.
pub fn verify_pdf(pdf: &[u8], trust: &TrustStore, now: OffsetDateTime) -> Result<Report> {
    let doc = load_strict(pdf, &trust.limits)?;
    let mut signatures = Vec::new();
    let mut empty_fields = Vec::new();
    for (name, value) in signature_fields(&doc) {
        match value {
            FieldValue::Signed(sig) => {
                signatures.push(verify_one(pdf, &doc, &name, &sig, trust, now))
            }
            FieldValue::Unreadable => signatures.push(unreadable(&name)),
            FieldValue::Empty => empty_fields.push(name),
        }
    }
    let status = if signatures.is_empty() {
        Status::Unsigned
    } else if signatures.iter().any(|s| s.status == Status::Invalid) {
        Status::Invalid
    } else if signatures.iter().all(|s| s.status == Status::Valid) {
        Status::Valid
    } else {
        Status::Indeterminate
    };
    Ok(Report {
        status,
        signatures,
        empty_fields,
        checked_at: now,
    })
}

/// Loads a PDF within `limits`, refusing a damaged cross-reference table (a repaired file is
/// not what was signed).
fn load_strict(pdf: &[u8], limits: &crate::Limits) -> Result<Document> {
    let doc = crate::sign::load_within(pdf, limits)?;
    if doc.xref_start == 0 || doc.xref_recovery.is_some() {
        return Err(Error::Malformed(
            "the cross-reference table is damaged".into(),
        ));
    }
    Ok(doc)
}

/// A signature field's value.
enum FieldValue {
    Signed(Dictionary),
    /// A value that cannot be resolved or parsed as a signature dictionary: reported invalid,
    /// never left out.
    Unreadable,
    /// No value: a place waiting for a signature.
    Empty,
}

/// Every signature field: (fully qualified name, its value).
fn signature_fields(doc: &Document) -> Vec<(String, FieldValue)> {
    let mut out = Vec::new();
    let Ok(catalog) = doc.catalog() else {
        return out;
    };
    let Some(form) = catalog
        .get(b"AcroForm")
        .ok()
        .and_then(|o| deref_dict(doc, o))
    else {
        return out;
    };
    let Some(fields) = form.get(b"Fields").ok().and_then(|o| deref_array(doc, o)) else {
        return out;
    };
    let mut seen = BTreeSet::new();
    for f in fields {
        walk_field(doc, f, "", &mut out, &mut seen, 0);
    }
    out
}

fn walk_field(
    doc: &Document,
    obj: &Object,
    parent: &str,
    out: &mut Vec<(String, FieldValue)>,
    seen: &mut BTreeSet<ObjectId>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    if let Object::Reference(id) = obj
        && !seen.insert(*id)
    {
        return;
    }
    let Some(field) = deref_dict(doc, obj) else {
        return;
    };
    let own = field
        .get(b"T")
        .ok()
        .and_then(|t| t.as_str().ok())
        .map(decode_text)
        .unwrap_or_default();
    let name = match (parent.is_empty(), own.is_empty()) {
        (true, _) => own,
        (false, true) => parent.to_string(),
        (false, false) => format!("{parent}.{own}"),
    };
    if field.get(b"FT").ok().and_then(|o| o.as_name().ok()) == Some(b"Sig".as_slice()) {
        let value = match field.get(b"V") {
            Err(_) | Ok(Object::Null) => FieldValue::Empty,
            Ok(v) => deref_dict(doc, v)
                .cloned()
                .map_or(FieldValue::Unreadable, FieldValue::Signed),
        };
        out.push((name.clone(), value));
    }
    if let Some(kids) = field.get(b"Kids").ok().and_then(|o| deref_array(doc, o)) {
        for k in kids {
            walk_field(doc, k, &name, out, seen, depth + 1);
        }
    }
}

fn deref_dict<'a>(doc: &'a Document, obj: &'a Object) -> Option<&'a Dictionary> {
    doc.dereference(obj)
        .ok()
        .and_then(|(_, o)| o.as_dict().ok())
}

fn deref_array<'a>(doc: &'a Document, obj: &'a Object) -> Option<&'a Vec<Object>> {
    doc.dereference(obj)
        .ok()
        .and_then(|(_, o)| o.as_array().ok())
}

fn decode_text(bytes: &[u8]) -> String {
    if bytes.starts_with(&[0xFE, 0xFF]) {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        bytes.iter().map(|b| char::from(*b)).collect()
    }
}

struct Judge {
    findings: Vec<Finding>,
}

impl Judge {
    fn invalid(&mut self, code: &'static str, message: impl Into<String>) {
        self.findings.push(Finding {
            code,
            message: message.into(),
            effect: "invalid",
        });
    }
    fn indeterminate(&mut self, code: &'static str, message: impl Into<String>) {
        self.findings.push(Finding {
            code,
            message: message.into(),
            effect: "indeterminate",
        });
    }
    fn note(&mut self, code: &'static str, message: impl Into<String>) {
        self.findings.push(Finding {
            code,
            message: message.into(),
            effect: "note",
        });
    }
    fn status(&self) -> Status {
        if self.findings.iter().any(|f| f.effect == "invalid") {
            Status::Invalid
        } else if self.findings.iter().any(|f| f.effect == "indeterminate") {
            Status::Indeterminate
        } else {
            Status::Valid
        }
    }
}

fn verify_one(
    pdf: &[u8],
    doc: &Document,
    field: &str,
    sig: &Dictionary,
    trust: &TrustStore,
    now: OffsetDateTime,
) -> SignatureReport {
    let mut j = Judge {
        findings: Vec::new(),
    };
    let sub_filter = sig
        .get(b"SubFilter")
        .ok()
        .and_then(|o| o.as_name().ok())
        .unwrap_or_default()
        .to_vec();
    let mut report =
        SignatureReport::blank(field, String::from_utf8_lossy(&sub_filter).into_owned());
    let claimed = sig
        .get(b"M")
        .ok()
        .and_then(|o| o.as_str().ok())
        .and_then(parse_pdf_date);
    report.signing_time = claimed;
    check_signature(pdf, doc, sig, &sub_filter, trust, now, &mut j, &mut report);
    report.status = j.status();
    report.findings = j.findings;
    report
}

/// The report on a signature field whose value cannot be read as a signature dictionary (a
/// damaged `/Contents`, a dangling reference, a value of the wrong type).
fn unreadable(field: &str) -> SignatureReport {
    SignatureReport {
        findings: vec![Finding {
            code: "signature_unreadable",
            message: format!(
                "The signature field {field:?} has a value that cannot be read as a signature."
            ),
            effect: "invalid",
        }],
        ..SignatureReport::blank(field, String::new())
    }
}

impl SignatureReport {
    /// A report on the field `field` before any check: invalid until the checks say otherwise.
    fn blank(field: &str, sub_filter: String) -> SignatureReport {
        SignatureReport {
            field: field.to_string(),
            sub_filter,
            status: Status::Invalid,
            signer: None,
            signer_subject: None,
            issuer: None,
            serial: None,
            signing_time: None,
            time_source: "claimed",
            trust_list: None,
            covers_whole_file: false,
            changes_after: "none",
            findings: Vec::new(),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_signature(
    pdf: &[u8],
    doc: &Document,
    sig: &Dictionary,
    sub_filter: &[u8],
    trust: &TrustStore,
    now: OffsetDateTime,
    j: &mut Judge,
    report: &mut SignatureReport,
) {
    if sub_filter == ADBE_SHA1 {
        j.indeterminate(
            "sha1",
            "the signature uses SHA-1 (adbe.pkcs7.sha1), which is no longer accepted",
        );
        return;
    }
    if sub_filter != ADBE_DETACHED && sub_filter != CADES_DETACHED {
        j.invalid(
            "unsupported_format",
            format!("signatures of type {} are not supported", report.sub_filter),
        );
        return;
    }
    let Some(range) = signed_range(pdf, sig, j, report) else {
        return;
    };
    let Some((parsed, signer)) = check_cms(pdf, &range, sub_filter, j, report) else {
        return;
    };
    check_timestamp(&parsed.signer, trust, now, j, report);
    let at = match report.signing_time {
        Some(t) => t,
        None => {
            j.note(
                "no_signing_time",
                "the signature claims no signing time; certificates are checked for now",
            );
            now
        }
    };
    if report
        .signing_time
        .is_some_and(|t| t > now + time::Duration::minutes(5))
    {
        j.invalid(
            "signing_time_future",
            "the claimed signing time is in the future",
        );
    }
    check_key_usage(&signer, j);
    let mut pool: Vec<Certificate> = parsed.certificates.clone();
    pool.extend(trust.intermediates.iter().cloned());
    check_chain(&signer, &pool, trust, at, now, j, report);
    check_changes(pdf, doc, sig, range.end, &trust.limits, j, report);
}

/// What a signature's /ByteRange signs: the file from 0 to `a` and from `b` to `end`, the gap
/// being the signature value `contents`.
struct SignedRange<'p> {
    a: usize,
    b: usize,
    end: usize,
    contents: &'p [u8],
}

impl SignedRange<'_> {
    /// The signed bytes, in their two parts.
    fn parts<'p>(&self, pdf: &'p [u8]) -> [&'p [u8]; 2] {
        [&pdf[..self.a], &pdf[self.b..self.end]]
    }
}

/// The byte range: [0 a b c], the gap exactly this signature's /Contents string, the end of
/// the range the end of a revision. `None` when the judge has already said why not.
fn signed_range<'s>(
    pdf: &[u8],
    sig: &'s Dictionary,
    j: &mut Judge,
    report: &mut SignatureReport,
) -> Option<SignedRange<'s>> {
    let Some(range) = byte_range(sig) else {
        j.invalid(
            "byte_range_malformed",
            "the signature has no valid /ByteRange",
        );
        return None;
    };
    let [start, a, b, c] = range;
    let end = b.saturating_add(c);
    if start != 0 || a == 0 || a >= b || end > pdf.len() {
        j.invalid(
            "byte_range_malformed",
            "the /ByteRange does not start at the beginning of the file or runs past its end",
        );
        return None;
    }
    let Some(contents) = sig.get(b"Contents").ok().and_then(|o| o.as_str().ok()) else {
        j.invalid(
            "signature_missing",
            "the signature dictionary has no signature value (/Contents)",
        );
        return None;
    };
    let gap = &pdf[a..b];
    let gap_ok = gap.len() >= 2
        && gap[0] == b'<'
        && gap[gap.len() - 1] == b'>'
        && gap[1..gap.len() - 1].iter().all(u8::is_ascii_hexdigit)
        && hex::decode(&gap[1..gap.len() - 1]).ok().as_deref() == Some(contents);
    if !gap_ok {
        j.invalid(
            "byte_range_wrapped",
            "the bytes the /ByteRange leaves out are not this signature's value: the signed range was manipulated",
        );
        return None;
    }
    if !ends_revision(pdf, end) {
        j.invalid(
            "byte_range_not_revision",
            "the signed range does not end where a revision of the file ends",
        );
        return None;
    }
    report.covers_whole_file = pdf[end..].iter().all(u8::is_ascii_whitespace);
    if contents.iter().all(|b| *b == 0) {
        j.invalid("signature_missing", "the signature value is empty");
        return None;
    }
    Some(SignedRange {
        a,
        b,
        end,
        contents,
    })
}

/// The CMS signature over the range: its signer's certificate, its digest, its signed
/// attributes and its value. The parsed signature and the signer's certificate, or `None`
/// when the judge has already said why not.
fn check_cms(
    pdf: &[u8],
    range: &SignedRange,
    sub_filter: &[u8],
    j: &mut Judge,
    report: &mut SignatureReport,
) -> Option<(cms_sig::Parsed, Certificate)> {
    let parsed = match cms_sig::parse(range.contents) {
        Ok(p) => p,
        Err(e) => {
            j.invalid("signature_malformed", e);
            return None;
        }
    };
    let signer_info = &parsed.signer;
    let digest_name = cms_sig::digest_name(&signer_info.digest_alg.oid);
    let Some(signer) = parsed
        .certificates
        .iter()
        .find(|c| cms_sig::identifies(&signer_info.sid, c))
        .cloned()
    else {
        j.invalid(
            "signer_certificate_missing",
            "the signature does not carry its signer's certificate",
        );
        return None;
    };
    describe_signer(&signer, report);
    let digest = match digest_name {
        Some("sha1") => {
            j.indeterminate(
                "sha1",
                "the signature's digest is SHA-1, which is no longer accepted",
            );
            return None;
        }
        Some(name) => cms_sig::digest(name, &range.parts(pdf)).unwrap_or_default(),
        None => {
            j.indeterminate(
                "unsupported_algorithm",
                format!(
                    "unsupported digest algorithm {}",
                    signer_info.digest_alg.oid
                ),
            );
            return None;
        }
    };
    let signer_info = &parsed.signer;
    let spki = signer.tbs_certificate().subject_public_key_info();
    let signed_message = match &signer_info.signed_attrs {
        Some(attrs) => signed_attributes(attrs, &digest, &signer, sub_filter, j)?,
        None if sub_filter == CADES_DETACHED => {
            j.invalid(
                "signed_attributes",
                "a PAdES signature must have signed attributes",
            );
            return None;
        }
        None => range.parts(pdf).concat(),
    };
    match verify_signature(
        spki,
        &signer_info.signature_algorithm.oid,
        Some(&signer_info.digest_alg.oid),
        &signed_message,
        signer_info.signature.as_bytes(),
    ) {
        Ok(true) => {}
        Ok(false) => {
            j.invalid(
                "signature_value_wrong",
                "the signature value does not match the signed data and the certificate",
            );
            return None;
        }
        Err(e) if e.contains("SHA-1") => {
            j.indeterminate("sha1", e);
            return None;
        }
        Err(e) => {
            j.indeterminate("unsupported_algorithm", e);
            return None;
        }
    }

    Some((parsed, signer))
}

/// The signed attributes: content type data, the message digest of the signed bytes, the
/// reference to the signing certificate. Their DER (what the signature value signs), or
/// `None` when the judge has already said why not.
fn signed_attributes(
    attrs: &x509_cert::attr::Attributes,
    digest: &[u8],
    signer: &Certificate,
    sub_filter: &[u8],
    j: &mut Judge,
) -> Option<Vec<u8>> {
    match cms_sig::attribute_value(attrs, &OID_CONTENT_TYPE) {
        Ok(Some(v)) if v.decode_as::<ObjectIdentifier>().ok() == Some(OID_DATA) => {}
        _ => {
            j.invalid(
                "signed_attributes",
                "the signed content type is missing or not data",
            );
            return None;
        }
    }
    match cms_sig::attribute_value(attrs, &OID_MESSAGE_DIGEST) {
        Ok(Some(v)) => {
            if v.decode_as::<OctetString>()
                .ok()
                .map(|o| o.as_bytes().to_vec())
                .as_deref()
                != Some(digest)
            {
                j.invalid(
                    "document_changed",
                    "the signed bytes of the document were changed after signing",
                );
                return None;
            }
        }
        _ => {
            j.invalid("signed_attributes", "the message digest is missing");
            return None;
        }
    }
    match signing_certificate_matches(attrs, signer) {
        Ok(true) => {}
        Ok(false) => {
            j.invalid(
                "signing_certificate_mismatch",
                "the signed reference to the signing certificate names another certificate",
            );
            return None;
        }
        Err(()) if sub_filter == CADES_DETACHED => {
            j.invalid(
                "signing_certificate_missing",
                "a PAdES signature must sign a reference to its certificate (signing-certificate-v2)",
            );
            return None;
        }
        Err(()) => {}
    }
    match attrs.to_der() {
        Ok(d) => Some(d),
        Err(e) => {
            j.invalid("signed_attributes", e.to_string());
            None
        }
    }
}

/// A time-stamp token over the signature value (PAdES B-T): when it verifies and its authority
/// chains to a trust list, its time replaces the claimed one for every later check.
fn check_timestamp(
    signer_info: &cms::signed_data::SignerInfo,
    trust: &TrustStore,
    now: OffsetDateTime,
    j: &mut Judge,
    report: &mut SignatureReport,
) {
    let Some(unsigned) = &signer_info.unsigned_attrs else {
        return;
    };
    let token = match cms_sig::attribute_value(unsigned, &cms_sig::OID_TIMESTAMP_TOKEN) {
        Ok(Some(v)) => v.to_der(),
        Ok(None) => return,
        Err(e) => {
            j.invalid("timestamp_invalid", e);
            return;
        }
    };
    let stamp = match token
        .map_err(|e| e.to_string())
        .and_then(|t| crate::tsp::check_token(&t, signer_info.signature.as_bytes()))
    {
        Ok(s) => s,
        Err(e) => {
            j.invalid("timestamp_invalid", e);
            return;
        }
    };
    let mut scratch = Judge {
        findings: Vec::new(),
    };
    let mut tsa_report = report.clone();
    let mut pool = stamp.certificates.clone();
    pool.extend(trust.intermediates.iter().cloned());
    check_chain(
        &stamp.signer,
        &pool,
        trust,
        stamp.gen_time,
        now,
        &mut scratch,
        &mut tsa_report,
    );
    if scratch.status() != Status::Valid {
        let why: Vec<String> = scratch.findings.iter().map(|f| f.message.clone()).collect();
        j.indeterminate(
            "timestamp_untrusted",
            format!(
                "the time-stamp cannot be relied on ({}); the claimed time is used",
                why.join("; ")
            ),
        );
        return;
    }
    if report
        .signing_time
        .is_some_and(|claimed| claimed > stamp.gen_time + time::Duration::minutes(5))
    {
        j.invalid(
            "signing_time_after_timestamp",
            "the claimed signing time is later than the time-stamp on the signature",
        );
    }
    report.signing_time = Some(stamp.gen_time);
    report.time_source = "timestamp";
}

fn describe_signer(cert: &Certificate, report: &mut SignatureReport) {
    let tbs = cert.tbs_certificate();
    report.signer = tbs.subject().common_name().ok().flatten().map(String::from);
    report.signer_subject = Some(tbs.subject().to_string());
    report.issuer = Some(tbs.issuer().to_string());
    report.serial = Some(hex::encode_upper(tbs.serial_number().as_bytes()));
}

fn signing_certificate_matches(
    attrs: &x509_cert::attr::Attributes,
    cert: &Certificate,
) -> std::result::Result<bool, ()> {
    let Ok(Some(v)) = cms_sig::attribute_value(attrs, &OID_SIGNING_CERTIFICATE_V2) else {
        return Err(());
    };
    let Ok(scv2) = v.decode_as::<cms_sig::SigningCertificateV2>() else {
        return Ok(false);
    };
    let Some(first) = scv2.certs.first() else {
        return Ok(false);
    };
    let alg = first
        .hash_algorithm
        .as_ref()
        .map_or(Some("sha256"), |a| cms_sig::digest_name(&a.oid));
    let Some(alg) = alg else { return Ok(false) };
    let Ok(der) = cert.to_der() else {
        return Ok(false);
    };
    Ok(cms_sig::digest(alg, &[&der]).as_deref() == Some(first.cert_hash.as_bytes()))
}

fn check_key_usage(cert: &Certificate, j: &mut Judge) {
    match cert.tbs_certificate().get_extension::<KeyUsage>() {
        Ok(Some((_, ku))) => {
            if !(ku.0.contains(KeyUsages::DigitalSignature)
                || ku.0.contains(KeyUsages::NonRepudiation))
            {
                j.invalid(
                    "key_usage",
                    "the certificate does not allow signing (key usage lacks digitalSignature and nonRepudiation)",
                );
            }
        }
        Ok(None) => {}
        Err(_) => j.invalid(
            "certificate_malformed",
            "the certificate's key usage cannot be read",
        ),
    }
}

fn cert_time(t: &x509_cert::time::Time) -> OffsetDateTime {
    OffsetDateTime::from(t.to_system_time())
}

fn within(cert: &Certificate, at: OffsetDateTime) -> bool {
    let v = cert.tbs_certificate().validity();
    cert_time(&v.not_before) <= at && at <= cert_time(&v.not_after)
}

fn issued_by(cert: &Certificate, issuer: &Certificate) -> bool {
    if cert.tbs_certificate().issuer() != issuer.tbs_certificate().subject() {
        return false;
    }
    let Ok(tbs) = cert.tbs_certificate().to_der() else {
        return false;
    };
    let Some(sig) = cert.signature().as_bytes() else {
        return false;
    };
    matches!(
        verify_signature(
            issuer.tbs_certificate().subject_public_key_info(),
            &cert.signature_algorithm().oid,
            None,
            &tbs,
            sig
        ),
        Ok(true)
    )
}

fn is_ca(cert: &Certificate) -> bool {
    let bc = matches!(cert.tbs_certificate().get_extension::<BasicConstraints>(), Ok(Some((_, b))) if b.ca);
    let ku = match cert.tbs_certificate().get_extension::<KeyUsage>() {
        Ok(Some((_, ku))) => ku.0.contains(KeyUsages::KeyCertSign),
        Ok(None) => true,
        Err(_) => false,
    };
    bc && ku
}

fn check_chain(
    signer: &Certificate,
    pool: &[Certificate],
    trust: &TrustStore,
    at: OffsetDateTime,
    now: OffsetDateTime,
    j: &mut Judge,
    report: &mut SignatureReport,
) {
    let mut path = vec![signer.clone()];
    let mut anchor: Option<(String, Certificate)> = None;
    'build: for _ in 0..8 {
        let current = path.last().expect("path starts with the signer").clone();
        for list in &trust.lists {
            for a in &list.anchors {
                if a == &current || issued_by(&current, a) {
                    anchor = Some((list.name.clone(), a.clone()));
                    break 'build;
                }
            }
        }
        let next = pool
            .iter()
            .find(|c| *c != &current && !path.contains(c) && is_ca(c) && issued_by(&current, c));
        match next {
            Some(c) => path.push(c.clone()),
            None => break,
        }
    }
    let Some((list, anchor)) = anchor else {
        j.indeterminate(
            "untrusted",
            "the certificate does not chain to a trusted CA of any configured trust list",
        );
        return;
    };
    report.trust_list = Some(list);
    let mut checked: Vec<&Certificate> = path.iter().collect();
    if !checked.contains(&&anchor) {
        checked.push(&anchor);
    }
    for (i, cert) in checked.iter().enumerate() {
        let who = if i == 0 {
            "the signer's certificate"
        } else {
            "a CA certificate in the chain"
        };
        if !within(cert, at) {
            j.invalid(
                "certificate_expired",
                format!("{who} was not valid at the signing time"),
            );
        } else if i == 0 && !within(cert, now) {
            j.note(
                "certificate_expired_since",
                "the signer's certificate has expired since the signing time",
            );
        }
    }
    for (i, cert) in path.iter().enumerate() {
        let issuer = path.get(i + 1).unwrap_or(&anchor);
        if cert == &anchor {
            continue;
        }
        check_revocation(cert, issuer, trust, at, now, j);
    }
}

fn check_revocation(
    cert: &Certificate,
    issuer: &Certificate,
    trust: &TrustStore,
    at: OffsetDateTime,
    now: OffsetDateTime,
    j: &mut Judge,
) {
    let mut current = false;
    for crl in &trust.crls {
        let tbs = &crl.tbs_cert_list;
        if tbs.issuer != *issuer.tbs_certificate().subject() {
            continue;
        }
        let Ok(der) = tbs.to_der() else { continue };
        let Some(sig) = crl.signature.as_bytes() else {
            continue;
        };
        if !matches!(
            verify_signature(
                issuer.tbs_certificate().subject_public_key_info(),
                &crl.signature_algorithm.oid,
                None,
                &der,
                sig
            ),
            Ok(true)
        ) {
            continue;
        }
        if let Some(revoked) = tbs
            .revoked_certificates
            .iter()
            .flatten()
            .find(|r| r.serial_number == *cert.tbs_certificate().serial_number())
        {
            let when = cert_time(&revoked.revocation_date);
            j.invalid(
                "certificate_revoked",
                if when <= at {
                    format!("the certificate was revoked on {} before the signing time", when.date())
                } else {
                    format!(
                        "the certificate was revoked on {}; without a time-stamp the signing time is only claimed",
                        when.date()
                    )
                },
            );
            return;
        }
        let fresh = tbs.next_update.as_ref().is_none_or(|n| cert_time(n) >= now);
        current |= fresh;
    }
    if !current {
        let message = "no current revocation list from the certificate's issuer is available";
        if trust.require_revocation {
            j.indeterminate("revocation_unknown", message);
        } else {
            j.note("revocation_unknown", message);
        }
    }
}

/// The signature's `/ByteRange` as four offsets.
fn byte_range(sig: &Dictionary) -> Option<[usize; 4]> {
    let arr = sig.get(b"ByteRange").ok()?.as_array().ok()?;
    if arr.len() != 4 {
        return None;
    }
    let mut out = [0usize; 4];
    for (i, o) in arr.iter().enumerate() {
        out[i] = usize::try_from(o.as_i64().ok()?).ok()?;
    }
    Some(out)
}

/// Does a revision end at `end` (just after `%%EOF` and its end-of-line)?
fn ends_revision(pdf: &[u8], end: usize) -> bool {
    let head = &pdf[..end];
    let trimmed = head.len()
        - head
            .iter()
            .rev()
            .take_while(|b| **b == b'\r' || **b == b'\n')
            .count();
    head[..trimmed].ends_with(b"%%EOF") && head.len() - trimmed <= 2
}

/// `D:YYYYMMDDHHmmSSOHH'mm'` (the parts after the year optional).
pub fn parse_pdf_date(raw: &[u8]) -> Option<OffsetDateTime> {
    let s = std::str::from_utf8(raw).ok()?;
    let s = s.strip_prefix("D:").unwrap_or(s);
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 4 {
        return None;
    }
    let num = |from: usize, len: usize, default: u32| -> Option<u32> {
        if digits.len() >= from + len {
            digits[from..from + len].parse().ok()
        } else {
            Some(default)
        }
    };
    let year = i32::try_from(num(0, 4, 0)?).ok()?;
    let month = time::Month::try_from(u8::try_from(num(4, 2, 1)?).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(year, month, u8::try_from(num(6, 2, 1)?).ok()?).ok()?;
    let t = time::Time::from_hms(
        u8::try_from(num(8, 2, 0)?).ok()?,
        u8::try_from(num(10, 2, 0)?).ok()?,
        u8::try_from(num(12, 2, 0)?).ok()?,
    )
    .ok()?;
    let rest = &s[digits.len()..];
    let offset = match rest.chars().next() {
        Some(sign @ ('+' | '-')) => {
            let nums: Vec<i8> = rest[1..]
                .split('\'')
                .filter(|p| !p.is_empty())
                .filter_map(|p| p.parse().ok())
                .collect();
            let (h, m) = (*nums.first().unwrap_or(&0), *nums.get(1).unwrap_or(&0));
            let (h, m) = if sign == '-' { (-h, -m) } else { (h, m) };
            time::UtcOffset::from_hms(h, m, 0).ok()?
        }
        _ => time::UtcOffset::UTC,
    };
    Some(time::PrimitiveDateTime::new(date, t).assume_offset(offset))
}

// ---------------------------------------------------------------------------------------------
// What changed after a signature.

/// The DocMDP level of a certification signature, if this signature carries one.
fn docmdp_level(doc: &Document, sig: &Dictionary) -> Option<i64> {
    let refs = sig
        .get(b"Reference")
        .ok()
        .and_then(|o| deref_array(doc, o))?;
    for r in refs {
        let Some(r) = deref_dict(doc, r) else {
            continue;
        };
        if r.get(b"TransformMethod")
            .ok()
            .and_then(|o| o.as_name().ok())
            == Some(b"DocMDP".as_slice())
        {
            let p = r
                .get(b"TransformParams")
                .ok()
                .and_then(|o| deref_dict(doc, o))
                .and_then(|d| d.get(b"P").ok())
                .and_then(|p| p.as_i64().ok())
                .unwrap_or(2);
            return Some(p);
        }
    }
    None
}

fn check_changes(
    pdf: &[u8],
    doc: &Document,
    sig: &Dictionary,
    end: usize,
    limits: &crate::Limits,
    j: &mut Judge,
    report: &mut SignatureReport,
) {
    if end == pdf.len() || pdf[end..].iter().all(u8::is_ascii_whitespace) {
        return;
    }
    let signed = match load_strict(&pdf[..end], limits) {
        Ok(d) => d,
        Err(e) => {
            j.invalid(
                "revision_unreadable",
                format!("the signed revision cannot be read: {e}"),
            );
            return;
        }
    };
    // Every byte after the signed revision must belong to incremental updates chained to it.
    let eofs = count(&pdf[end..], b"%%EOF");
    let tail_ok = {
        let t = pdf.len()
            - pdf
                .iter()
                .rev()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
        pdf[..t].ends_with(b"%%EOF")
    };
    if !tail_ok || doc.revision_count() != signed.revision_count() + eofs {
        j.invalid(
            "appended_not_revision",
            "bytes were appended after the signature outside a proper incremental update",
        );
        report.changes_after = "content";
        return;
    }
    // The DocMDP level set by the first (certification) signature, if any.
    let level = docmdp_level(doc, sig).or_else(|| certification_level(doc));
    match diff(&signed, doc, level) {
        Ok(kind) => {
            if level == Some(1) {
                j.invalid(
                    "changed_after_certification",
                    "the document was certified with no changes allowed, yet it was changed",
                );
                report.changes_after = "content";
            } else {
                report.changes_after = kind;
            }
        }
        Err(what) => {
            j.invalid(
                "changed_after_signing",
                format!("the signed content was changed after signing: {what}"),
            );
            report.changes_after = "content";
        }
    }
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    let mut n = 0;
    let mut rest = haystack;
    while let Some(i) = find(rest, needle) {
        n += 1;
        rest = &rest[i + needle.len()..];
    }
    n
}

fn certification_level(doc: &Document) -> Option<i64> {
    let perms = doc
        .catalog()
        .ok()?
        .get(b"Perms")
        .ok()
        .and_then(|o| deref_dict(doc, o))?;
    let sig = perms.get(b"DocMDP").ok().and_then(|o| deref_dict(doc, o))?;
    docmdp_level(doc, sig)
}

/// Compares the signed revision with the document as it is now, object by object, and says
/// what kind of change was made, or why it is not allowed.
fn diff(
    signed: &Document,
    now: &Document,
    level: Option<i64>,
) -> std::result::Result<&'static str, String> {
    // Without a certification signature only signatures may follow (no form filling: a changed
    // field value can redraw what the signer saw).
    let level = level.unwrap_or(1);
    let root_then = signed
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .ok();
    let root_now = now.trailer.get(b"Root").and_then(Object::as_reference).ok();
    if root_then.is_none() || root_then != root_now {
        return Err("the document catalog was replaced".into());
    }
    let info = now.trailer.get(b"Info").and_then(Object::as_reference).ok();
    let pages: BTreeSet<ObjectId> = signed.get_pages().values().copied().collect();
    let mut kind = "signatures";
    let rank = |k: &str| match k {
        "signatures" => 0,
        "form_filling" => 1,
        _ => 2,
    };
    let raise = |k: &'static str, kind: &mut &'static str| {
        if rank(k) > rank(kind) {
            *kind = k;
        }
    };
    for (id, old) in &signed.objects {
        let Some(new) = now.objects.get(id) else {
            return Err(format!("object {} was deleted", id.0));
        };
        if old == new {
            continue;
        }
        if Some(*id) == info {
            continue; // document information (producer, dates) does not alter what was signed
        }
        let (Ok(od), Ok(nd)) = (old.as_dict(), new.as_dict()) else {
            if let (Ok(oa), Ok(na)) = (old.as_array(), new.as_array())
                && let Some(k) = grows_by_signatures(now, oa, na, level)
            {
                raise(k, &mut kind);
                continue;
            }
            return Err(format!("object {} was altered", id.0));
        };
        if Some(*id) == root_then {
            // ISO 32000-2 and PAdES let a later signer raise the PDF version, declare developer
            // extensions (ISO 32002 for ECDSA), add the DSS and update the metadata.
            same_except(
                od,
                nd,
                &[b"AcroForm", b"DSS", b"Metadata", b"Version", b"Extensions"],
            )
            .map_err(|k| format!("the catalog's {k} was altered"))?;
            check_version(od, nd)?;
            match (od.get(b"AcroForm").ok(), nd.get(b"AcroForm").ok()) {
                (Some(Object::Dictionary(of)), Some(Object::Dictionary(nf))) => {
                    check_form(now, of, nf, level)?
                }
                (None, Some(Object::Dictionary(nf))) => {
                    check_form(now, &Dictionary::new(), nf, level)?
                }
                (o, n) if o == n => {}
                (None, Some(Object::Reference(_))) => {}
                _ => return Err("the catalog's form was replaced".into()),
            }
            continue;
        }
        if pages.contains(id) {
            same_except(od, nd, &[b"Annots"])
                .map_err(|k| format!("page {}'s {k} was altered", id.0))?;
            if let (Ok(oa), Ok(na)) = (od.get(b"Annots"), nd.get(b"Annots")) {
                if let (Ok(oa), Ok(na)) = (oa.as_array(), na.as_array()) {
                    let k = grows_by_signatures(now, oa, na, level)
                        .ok_or_else(|| format!("page {}'s annotations were altered", id.0))?;
                    raise(k, &mut kind);
                } else if oa != na {
                    return Err(format!("page {}'s annotations were replaced", id.0));
                }
            }
            continue;
        }
        if od.has(b"Fields") || nd.has(b"Fields") {
            check_form(now, od, nd, level)?;
            continue;
        }
        if is_field(od) {
            // A field: an empty signature field may be signed; at level 2 or 3 other fields may
            // be filled in.
            let is_sig =
                od.get(b"FT").ok().and_then(|o| o.as_name().ok()) == Some(b"Sig".as_slice());
            if is_sig && !od.has(b"V") {
                same_except(od, nd, &[b"V", b"AP", b"F"])
                    .map_err(|k| format!("signature field's {k} was altered"))?;
                continue;
            }
            if level >= 2 && !is_sig {
                same_except(od, nd, &[b"V", b"AS", b"AP"])
                    .map_err(|k| format!("form field's {k} was altered"))?;
                raise("form_filling", &mut kind);
                continue;
            }
            return Err(format!("form field {} was altered", id.0));
        }
        return Err(format!("object {} was altered", id.0));
    }
    // Objects added after the signature change nothing by themselves: they show only where a
    // changed object (checked above) or a new signature widget refers to them.
    Ok(kind)
}

/// A catalog's `/Version` may be added or raised after a signature (a later signer's PDF 2.0
/// features), never lowered or made something that is not a version.
fn check_version(old: &Dictionary, new: &Dictionary) -> std::result::Result<(), String> {
    let version = |d: &Dictionary| -> std::result::Result<Option<(u8, u8)>, String> {
        match d.get(b"Version") {
            Err(_) => Ok(None),
            Ok(Object::Name(n)) => match n.as_slice() {
                [major, b'.', minor] if major.is_ascii_digit() && minor.is_ascii_digit() => {
                    Ok(Some((major - b'0', minor - b'0')))
                }
                _ => Err("the catalog's Version is not a PDF version".into()),
            },
            Ok(_) => Err("the catalog's Version is not a name".into()),
        }
    };
    match (version(old)?, version(new)?) {
        (Some(o), Some(n)) if n < o => Err("the catalog's Version was lowered".into()),
        (Some(_), None) => Err("the catalog's Version was removed".into()),
        _ => Ok(()),
    }
}

fn is_field(d: &Dictionary) -> bool {
    d.has(b"FT")
        || (d.has(b"T")
            && d.get(b"Subtype").ok().and_then(|o| o.as_name().ok()) != Some(b"Page".as_slice()))
}

fn is_signature_widget(d: &Dictionary) -> bool {
    d.get(b"Subtype").ok().and_then(|o| o.as_name().ok()) == Some(b"Widget".as_slice())
        && d.get(b"FT").ok().and_then(|o| o.as_name().ok()) == Some(b"Sig".as_slice())
}

/// Does `new` keep every entry of `old`, in order, and add only signature widgets (or, at
/// level 3, annotations)?
fn grows_by_signatures(
    now: &Document,
    old: &[Object],
    new: &[Object],
    level: i64,
) -> Option<&'static str> {
    if new.len() < old.len() || new[..old.len()] != *old {
        return None;
    }
    let mut kind = "signatures";
    for added in &new[old.len()..] {
        let d = deref_dict(now, added)?;
        if is_signature_widget(d) {
            continue;
        }
        let subtype = d.get(b"Subtype").ok().and_then(|o| o.as_name().ok());
        if level >= 3 && subtype.is_some() && subtype != Some(b"Widget".as_slice()) {
            kind = "annotations";
            continue;
        }
        return None;
    }
    Some(kind)
}

fn check_form(
    now: &Document,
    old: &Dictionary,
    new: &Dictionary,
    level: i64,
) -> std::result::Result<(), String> {
    same_except(old, new, &[b"Fields", b"SigFlags", b"DR", b"DA"])
        .map_err(|k| format!("the form's {k} was altered"))?;
    for key in [b"DR".as_slice(), b"DA"] {
        if old.get(key).ok() != new.get(key).ok() && old.has(key) {
            return Err("the form's default appearance was altered".into());
        }
    }
    let grows = match (old.get(b"Fields").ok(), new.get(b"Fields").ok()) {
        (Some(Object::Array(o)), Some(Object::Array(n))) => {
            grows_by_signatures(now, o, n, level).is_some()
        }
        (None, Some(Object::Array(n))) => grows_by_signatures(now, &[], n, level).is_some(),
        (o, n) => o == n,
    };
    if grows {
        Ok(())
    } else {
        Err("the form's fields were altered".into())
    }
}

/// Are the two dictionaries equal apart from `keys`? The name of the first differing key
/// otherwise.
fn same_except(
    old: &Dictionary,
    new: &Dictionary,
    keys: &[&[u8]],
) -> std::result::Result<(), String> {
    for (k, v) in old.iter() {
        if keys.contains(&k.as_slice()) {
            continue;
        }
        if new.get(k).ok() != Some(v) {
            return Err(String::from_utf8_lossy(k).into_owned());
        }
    }
    for (k, _) in new.iter() {
        if !keys.contains(&k.as_slice()) && !old.has(k) {
            return Err(String::from_utf8_lossy(k).into_owned());
        }
    }
    Ok(())
}
