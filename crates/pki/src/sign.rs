//! Two-phase PAdES signing: [`prepare`] appends an incremental update with a signature field and
//! a zero-filled `/Contents` placeholder; [`Prepared::data_to_be_signed`] is what the key holder
//! signs; [`finish`] checks the signature against the certificate and writes the CMS into the
//! placeholder. Nothing before the update changes, so earlier signatures stay valid.

use crate::cms_sig;
use crate::keys::{KeyAlgorithm, RawSigner};
use crate::{Error, Result};
use der::Encode;
use lopdf::{Dictionary, Document, IncrementalDocument, Object, ObjectId, StringFormat};
use std::ops::Range;
use time::{OffsetDateTime, UtcOffset};
use x509_cert::Certificate;

/// Bytes reserved for the CMS by default: the signature, the chain of a national CA (three
/// RSA-2048/4096 certificates) and a time-stamp token fit comfortably.
pub const DEFAULT_RESERVE: usize = 16 * 1024;

/// The `/ByteRange` written before the real one is known: wide enough for any offset in a file
/// below 10 GB, patched in place (padded with spaces) once the file is laid out.
const RANGE_PLACEHOLDER: i64 = 9_999_999_999;

/// Vietnam's offset (no daylight saving time), used for the claimed signing time `/M`.
pub const VN_OFFSET: UtcOffset = match UtcOffset::from_hms(7, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("valid offset"),
};

/// A visible signature: where it goes and what it shows.
#[derive(Debug, Clone)]
pub struct Appearance {
    /// 1-based page number.
    pub page: u32,
    /// Lower-left x, lower-left y, upper-right x, upper-right y, in points.
    pub rect: [f32; 4],
    /// Form XObject content drawn in the box (in the box's own coordinates), and the images it
    /// names (`/Im0`, `/Im1`… in order).
    pub content: Vec<u8>,
    pub images: Vec<Image>,
    /// Or a one-page PDF of the box's size whose page is the appearance (text in an embedded
    /// font); `content` and `images` are then unused.
    pub layer: Option<Vec<u8>>,
}

/// An image for an appearance: 8-bit RGB samples with an optional 8-bit alpha channel.
#[derive(Debug, Clone)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
    pub alpha: Option<Vec<u8>>,
}

/// What to sign and how.
#[derive(Debug, Clone)]
pub struct SignRequest {
    /// The certificate of the signer first, then its issuers (not required to reach the root).
    pub chain: Vec<Certificate>,
    /// The claimed signing time, written as `/M` in Vietnam's local time.
    pub signing_time: OffsetDateTime,
    /// A field name unique in the document; `None` picks `Signature<n>`.
    pub field_name: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
    /// The signer's name as shown by readers (`/Name`).
    pub name: Option<String>,
    /// `None` for an invisible signature.
    pub appearance: Option<Appearance>,
    /// Bytes reserved for the CMS signature.
    pub reserve: usize,
}

impl SignRequest {
    pub fn new(chain: Vec<Certificate>, signing_time: OffsetDateTime) -> Self {
        SignRequest {
            chain,
            signing_time,
            field_name: None,
            reason: None,
            location: None,
            name: None,
            appearance: None,
            reserve: DEFAULT_RESERVE,
        }
    }
}

/// A PDF laid out for signing, waiting for the signature value.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The whole file with the placeholder.
    pub pdf: Vec<u8>,
    /// The `<…>` hex string of `/Contents`, delimiters included: what the signature skips.
    pub contents: Range<usize>,
    /// The signer's certificate and its issuers.
    pub chain: Vec<Certificate>,
}

impl Prepared {
    /// Rebuilds the state from a stored prepared file and chain (the server keeps these between
    /// the two phases).
    pub fn from_parts(pdf: Vec<u8>, chain: Vec<Certificate>) -> Result<Self> {
        let contents = find_placeholder(&pdf)?;
        Ok(Prepared {
            pdf,
            contents,
            chain,
        })
    }

    /// SHA-256 over the file minus the `/Contents` string.
    pub fn document_digest(&self) -> [u8; 32] {
        use sha2_11::Digest;
        let mut d = sha2_11::Sha256::new();
        d.update(&self.pdf[..self.contents.start]);
        d.update(&self.pdf[self.contents.end..]);
        d.finalize().into()
    }

    /// The DER signed attributes: the bytes the key holder signs (with SHA-256).
    pub fn data_to_be_signed(&self) -> Result<Vec<u8>> {
        let cert = self.signer()?;
        Ok(cms_sig::signed_attributes(&self.document_digest(), cert)?.to_der()?)
    }

    pub fn signer(&self) -> Result<&Certificate> {
        self.chain
            .first()
            .ok_or_else(|| Error::Certificate("no signing certificate".into()))
    }

    pub fn algorithm(&self) -> Result<KeyAlgorithm> {
        KeyAlgorithm::of_public_key(self.signer()?.tbs_certificate().subject_public_key_info())
    }
}

/// Phase one: lays `pdf` out with a signature field and a placeholder for the signature.
pub fn prepare(pdf: &[u8], request: &SignRequest) -> Result<Prepared> {
    let signer = request
        .chain
        .first()
        .ok_or_else(|| Error::Certificate("no signing certificate".into()))?;
    KeyAlgorithm::of_public_key(signer.tbs_certificate().subject_public_key_info())?;
    let doc = load(pdf)?;
    if doc.xref_start == 0 {
        return Err(Error::Malformed(
            "the cross-reference table is damaged".into(),
        ));
    }
    let pages = doc.get_pages();
    let page_number = request.appearance.as_ref().map_or(1, |a| a.page);
    let page_id = *pages
        .get(&page_number)
        .ok_or_else(|| Error::Malformed(format!("the document has no page {page_number}")))?;
    let root_id = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| Error::Malformed("the trailer names no catalog".into()))?;
    let field_name = match &request.field_name {
        Some(n) => n.clone(),
        None => format!("Signature{}", count_signature_fields(&doc) + 1),
    };

    let mut inc = IncrementalDocument::create_from(pdf.to_vec(), doc);
    let new = &mut inc.new_document;

    let mut sig = Dictionary::new();
    sig.set("Type", Object::Name(b"Sig".to_vec()));
    sig.set("Filter", Object::Name(b"Adobe.PPKLite".to_vec()));
    sig.set("SubFilter", Object::Name(b"ETSI.CAdES.detached".to_vec()));
    sig.set(
        "ByteRange",
        Object::Array(vec![
            Object::Integer(0),
            Object::Integer(RANGE_PLACEHOLDER),
            Object::Integer(RANGE_PLACEHOLDER),
            Object::Integer(RANGE_PLACEHOLDER),
        ]),
    );
    sig.set(
        "Contents",
        Object::String(vec![0; request.reserve], StringFormat::Hexadecimal),
    );
    sig.set(
        "M",
        Object::String(
            pdf_date(request.signing_time).into_bytes(),
            StringFormat::Literal,
        ),
    );
    for (key, value) in [
        ("Name", &request.name),
        ("Reason", &request.reason),
        ("Location", &request.location),
    ] {
        if let Some(v) = value {
            sig.set(key, Object::String(text_string(v), StringFormat::Literal));
        }
    }
    let sig_id = new.add_object(Object::Dictionary(sig));

    let mut widget = Dictionary::new();
    widget.set("Type", Object::Name(b"Annot".to_vec()));
    widget.set("Subtype", Object::Name(b"Widget".to_vec()));
    widget.set("FT", Object::Name(b"Sig".to_vec()));
    widget.set(
        "T",
        Object::String(text_string(&field_name), StringFormat::Literal),
    );
    widget.set("V", Object::Reference(sig_id));
    widget.set("F", Object::Integer(132)); // print + locked
    widget.set("P", Object::Reference(page_id));
    match &request.appearance {
        Some(a) => {
            let ap = appearance_stream(new, a)?;
            widget.set(
                "Rect",
                Object::Array(a.rect.iter().map(|v| Object::Real(*v)).collect()),
            );
            let mut apd = Dictionary::new();
            apd.set("N", Object::Reference(ap));
            widget.set("AP", Object::Dictionary(apd));
        }
        None => widget.set(
            "Rect",
            Object::Array(vec![0.into(), 0.into(), 0.into(), 0.into()]),
        ),
    }
    let widget_id = new.add_object(Object::Dictionary(widget));

    add_to_page_annots(&mut inc, page_id, widget_id)?;
    add_to_acroform(&mut inc, root_id, widget_id)?;

    let mut out = Vec::with_capacity(pdf.len() + request.reserve * 2 + 4096);
    inc.save_to(&mut out)
        .map_err(|e| Error::Malformed(e.to_string()))?;
    let contents = patch_byte_range(&mut out, pdf.len(), request.reserve)?;
    Ok(Prepared {
        pdf: out,
        contents,
        chain: request.chain.clone(),
    })
}

/// A time-stamp authority: takes a DER `TimeStampReq` and returns the DER `TimeStampResp`
/// (egov's server and `egov pki sign` post it over HTTP as `application/timestamp-query`).
pub type Tsa<'a> = &'a dyn Fn(&[u8]) -> std::result::Result<Vec<u8>, String>;

/// Phase two: checks `signature` (over [`Prepared::data_to_be_signed`]) against the signer's
/// certificate and writes the CMS into the placeholder.
pub fn finish(prepared: &Prepared, signature: &[u8]) -> Result<Vec<u8>> {
    finish_stamped(prepared, signature, None)
}

/// [`finish`] with a time-stamp from `tsa` over the signature (PAdES B-T).
pub fn finish_stamped(prepared: &Prepared, signature: &[u8], tsa: Option<Tsa>) -> Result<Vec<u8>> {
    let algorithm = prepared.algorithm()?;
    let signer = prepared.signer()?;
    let attrs = cms_sig::signed_attributes(&prepared.document_digest(), signer)?;
    let tbs = attrs.to_der()?;
    let sig_alg = algorithm.signature_algorithm();
    match crate::keys::verify_signature(
        signer.tbs_certificate().subject_public_key_info(),
        &sig_alg.oid,
        None,
        &tbs,
        signature,
    ) {
        Ok(true) => {}
        Ok(false) => return Err(Error::SignatureMismatch),
        Err(e) => return Err(Error::Certificate(e)),
    }
    let token = match tsa {
        Some(tsa) => {
            let (request, nonce) = crate::tsp::request(signature).map_err(Error::Timestamp)?;
            let reply = tsa(&request).map_err(Error::Timestamp)?;
            Some(
                crate::tsp::token_from_response(&reply, signature, &nonce)
                    .map_err(Error::Timestamp)?,
            )
        }
        None => None,
    };
    let cms =
        cms_sig::signed_data_stamped(attrs, sig_alg, signature, &prepared.chain, token.as_deref())?;
    let hex = hex::encode(&cms);
    let room = prepared.contents.len() - 2;
    if hex.len() > room {
        return Err(Error::SignatureTooLarge {
            needed: cms.len(),
            reserved: room / 2,
        });
    }
    let mut out = prepared.pdf.clone();
    out[prepared.contents.start + 1..prepared.contents.start + 1 + hex.len()]
        .copy_from_slice(hex.as_bytes());
    Ok(out)
}

/// Both phases with a key at hand (the agency seal with a file key or an HSM, tests).
pub fn sign_with(pdf: &[u8], request: &SignRequest, key: &dyn RawSigner) -> Result<Vec<u8>> {
    sign_with_stamped(pdf, request, key, None)
}

/// [`sign_with`], time-stamped by `tsa` when one is given.
pub fn sign_with_stamped(
    pdf: &[u8],
    request: &SignRequest,
    key: &dyn RawSigner,
    tsa: Option<Tsa>,
) -> Result<Vec<u8>> {
    let prepared = prepare(pdf, request)?;
    let signature = key.sign(&prepared.data_to_be_signed()?)?;
    finish_stamped(&prepared, &signature, tsa)
}

/// Loads a PDF the way signing and verification need it: the header checked, no encryption,
/// within the default [`Limits`](crate::Limits).
pub(crate) fn load(pdf: &[u8]) -> Result<Document> {
    load_within(pdf, &crate::Limits::default())
}

/// Loads a PDF within `limits`: its objects and pages counted from the bytes first, every
/// stream's decompressed size bounded while it is parsed.
pub(crate) fn load_within(pdf: &[u8], limits: &crate::Limits) -> Result<Document> {
    let start = &pdf[..pdf.len().min(1024)];
    if !start.windows(5).any(|w| w == b"%PDF-") {
        return Err(Error::NotPdf);
    }
    crate::limits::check(pdf, limits)?;
    let options = lopdf::LoadOptions {
        max_decompressed_size: Some(limits.max_stream_bytes),
        ..Default::default()
    };
    let doc = Document::load_mem_with_options(pdf, options).map_err(|e| match e {
        lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword => Error::Encrypted,
        other => Error::Malformed(other.to_string()),
    })?;
    if doc.trailer.get(b"Encrypt").is_ok() || doc.was_encrypted() {
        return Err(Error::Encrypted);
    }
    Ok(doc)
}

fn count_signature_fields(doc: &Document) -> usize {
    let Ok(catalog) = doc.catalog() else { return 0 };
    let Ok((_, form)) = catalog.get(b"AcroForm").and_then(|o| doc.dereference(o)) else {
        return 0;
    };
    let Ok(form) = form.as_dict() else { return 0 };
    form.get(b"Fields")
        .and_then(|o| doc.dereference(o))
        .and_then(|(_, f)| f.as_array())
        .map_or(0, |a| a.len())
}

/// `D:YYYYMMDDHHmmSS+07'00'`.
pub fn pdf_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(VN_OFFSET);
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}+07'00'",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A PDF text string: ASCII as is, anything else as UTF-16BE with a byte-order mark.
pub(crate) fn text_string(s: &str) -> Vec<u8> {
    if s.is_ascii() {
        s.as_bytes().to_vec()
    } else {
        let mut v = vec![0xFE, 0xFF];
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_be_bytes());
        }
        v
    }
}

fn appearance_stream(new: &mut Document, a: &Appearance) -> Result<ObjectId> {
    let w = a.rect[2] - a.rect[0];
    let h = a.rect[3] - a.rect[1];
    let bbox = Object::Array(vec![
        Object::Real(0.0),
        Object::Real(0.0),
        Object::Real(w),
        Object::Real(h),
    ]);
    if let Some(layer) = &a.layer {
        let layer = Document::load_mem(layer).map_err(|e| Error::Malformed(e.to_string()))?;
        let page = *layer
            .get_pages()
            .get(&1)
            .ok_or_else(|| Error::Malformed("the appearance has no page".into()))?;
        let content = layer.get_page_content(page);
        let resources = layer
            .get_dictionary(page)
            .map_err(|e| Error::Malformed(e.to_string()))?
            .get(b"Resources")
            .cloned()
            .unwrap_or(Object::Dictionary(Dictionary::new()));
        let resources = crate::stamp::import(new, &layer, &resources, &mut Default::default());
        let mut form = Dictionary::new();
        form.set("Type", Object::Name(b"XObject".to_vec()));
        form.set("Subtype", Object::Name(b"Form".to_vec()));
        form.set("BBox", bbox);
        form.set("Resources", resources);
        let mut s = lopdf::Stream::new(form, content);
        let _ = s.compress();
        return Ok(new.add_object(Object::Stream(s)));
    }
    let mut xobjects = Dictionary::new();
    for (i, img) in a.images.iter().enumerate() {
        let mut dict = Dictionary::new();
        dict.set("Type", Object::Name(b"XObject".to_vec()));
        dict.set("Subtype", Object::Name(b"Image".to_vec()));
        dict.set("Width", Object::Integer(img.width.into()));
        dict.set("Height", Object::Integer(img.height.into()));
        dict.set("ColorSpace", Object::Name(b"DeviceRGB".to_vec()));
        dict.set("BitsPerComponent", Object::Integer(8));
        if let Some(alpha) = &img.alpha {
            let mut sm = Dictionary::new();
            sm.set("Type", Object::Name(b"XObject".to_vec()));
            sm.set("Subtype", Object::Name(b"Image".to_vec()));
            sm.set("Width", Object::Integer(img.width.into()));
            sm.set("Height", Object::Integer(img.height.into()));
            sm.set("ColorSpace", Object::Name(b"DeviceGray".to_vec()));
            sm.set("BitsPerComponent", Object::Integer(8));
            let mut s = lopdf::Stream::new(sm, alpha.clone());
            let _ = s.compress();
            let smask = new.add_object(Object::Stream(s));
            dict.set("SMask", Object::Reference(smask));
        }
        let mut s = lopdf::Stream::new(dict, img.rgb.clone());
        let _ = s.compress();
        let id = new.add_object(Object::Stream(s));
        xobjects.set(format!("Im{i}"), Object::Reference(id));
    }
    let mut resources = Dictionary::new();
    resources.set("XObject", Object::Dictionary(xobjects));
    let mut form = Dictionary::new();
    form.set("Type", Object::Name(b"XObject".to_vec()));
    form.set("Subtype", Object::Name(b"Form".to_vec()));
    form.set("BBox", bbox);
    form.set("Resources", Object::Dictionary(resources));
    Ok(new.add_object(Object::Stream(lopdf::Stream::new(form, a.content.clone()))))
}

fn add_to_page_annots(
    inc: &mut IncrementalDocument,
    page_id: ObjectId,
    widget: ObjectId,
) -> Result<()> {
    inc.opt_clone_object_to_new_document(page_id)
        .map_err(|e| Error::Malformed(e.to_string()))?;
    let existing = inc
        .new_document
        .get_dictionary(page_id)
        .map_err(|e| Error::Malformed(e.to_string()))?
        .get(b"Annots")
        .ok()
        .cloned();
    match existing {
        Some(Object::Reference(arr_id)) => {
            inc.opt_clone_object_to_new_document(arr_id)
                .map_err(|e| Error::Malformed(e.to_string()))?;
            let arr = inc
                .new_document
                .get_object_mut(arr_id)
                .and_then(Object::as_array_mut)
                .map_err(|_| Error::Malformed("the page's annotations are not an array".into()))?;
            arr.push(Object::Reference(widget));
        }
        Some(Object::Array(mut arr)) => {
            arr.push(Object::Reference(widget));
            set_in(inc, page_id, "Annots", Object::Array(arr))?;
        }
        Some(_) => {
            return Err(Error::Malformed(
                "the page's annotations are not an array".into(),
            ));
        }
        None => set_in(
            inc,
            page_id,
            "Annots",
            Object::Array(vec![Object::Reference(widget)]),
        )?,
    }
    Ok(())
}

fn add_to_acroform(
    inc: &mut IncrementalDocument,
    root_id: ObjectId,
    widget: ObjectId,
) -> Result<()> {
    let prev = inc.get_prev_documents();
    let form = prev
        .get_dictionary(root_id)
        .map_err(|e| Error::Malformed(e.to_string()))?
        .get(b"AcroForm")
        .ok()
        .cloned();
    let (form_id, mut form) = match form {
        Some(Object::Reference(id)) => {
            let d = prev
                .get_dictionary(id)
                .map_err(|_| Error::Malformed("the interactive form is not a dictionary".into()))?
                .clone();
            (Some(id), d)
        }
        Some(Object::Dictionary(d)) => (None, d),
        Some(_) => {
            return Err(Error::Malformed(
                "the interactive form is not a dictionary".into(),
            ));
        }
        None => (None, Dictionary::new()),
    };
    let fields = match form.get(b"Fields").ok().cloned() {
        Some(Object::Reference(arr_id)) => {
            inc.opt_clone_object_to_new_document(arr_id)
                .map_err(|e| Error::Malformed(e.to_string()))?;
            inc.new_document
                .get_object_mut(arr_id)
                .and_then(Object::as_array_mut)
                .map_err(|_| Error::Malformed("the form's fields are not an array".into()))?
                .push(Object::Reference(widget));
            Object::Reference(arr_id)
        }
        Some(Object::Array(mut arr)) => {
            arr.push(Object::Reference(widget));
            Object::Array(arr)
        }
        _ => Object::Array(vec![Object::Reference(widget)]),
    };
    form.set("Fields", fields);
    form.set("SigFlags", Object::Integer(3));
    match form_id {
        Some(id) => inc.new_document.set_object(id, Object::Dictionary(form)),
        None => set_in(inc, root_id, "AcroForm", Object::Dictionary(form))?,
    }
    Ok(())
}

fn set_in(inc: &mut IncrementalDocument, id: ObjectId, key: &str, value: Object) -> Result<()> {
    inc.opt_clone_object_to_new_document(id)
        .map_err(|e| Error::Malformed(e.to_string()))?;
    inc.new_document
        .get_dictionary_mut(id)
        .map_err(|e| Error::Malformed(e.to_string()))?
        .set(key, value);
    Ok(())
}

/// Finds the placeholder in the appended part, writes the real `/ByteRange` over the
/// placeholder one and returns the span of the `/Contents` string.
fn patch_byte_range(out: &mut [u8], appended_from: usize, reserve: usize) -> Result<Range<usize>> {
    let contents = find_zero_contents(out, appended_from, reserve)
        .ok_or_else(|| Error::Malformed("the signature placeholder was not written".into()))?;
    let placeholder = format!("0 {RANGE_PLACEHOLDER} {RANGE_PLACEHOLDER} {RANGE_PLACEHOLDER}");
    let at = find(&out[appended_from..], placeholder.as_bytes())
        .map(|i| i + appended_from)
        .ok_or_else(|| Error::Malformed("the byte range placeholder was not written".into()))?;
    let real = format!(
        "0 {} {} {}",
        contents.start,
        contents.end,
        out.len() - contents.end
    );
    let mut padded = real.into_bytes();
    padded.resize(placeholder.len(), b' ');
    out[at..at + placeholder.len()].copy_from_slice(&padded);
    Ok(contents)
}

fn find_zero_contents(out: &[u8], from: usize, reserve: usize) -> Option<Range<usize>> {
    let mut needle = vec![b'<'];
    needle.extend(std::iter::repeat_n(b'0', reserve * 2));
    needle.push(b'>');
    find(&out[from..], &needle).map(|i| from + i..from + i + needle.len())
}

/// The placeholder of a stored prepared file: the `<…>` that the `/ByteRange` skips.
fn find_placeholder(pdf: &[u8]) -> Result<Range<usize>> {
    let at = rfind(pdf, b"/ByteRange")
        .ok_or_else(|| Error::Malformed("no signature placeholder".into()))?;
    let rest = &pdf[at + 10..];
    let open = rest
        .iter()
        .position(|b| *b == b'[')
        .ok_or_else(|| Error::Malformed("bad byte range".into()))?;
    let close = rest
        .iter()
        .position(|b| *b == b']')
        .ok_or_else(|| Error::Malformed("bad byte range".into()))?;
    let nums: Vec<usize> = std::str::from_utf8(&rest[open + 1..close])
        .map_err(|_| Error::Malformed("bad byte range".into()))?
        .split_ascii_whitespace()
        .map(|n| {
            n.parse()
                .map_err(|_| Error::Malformed("bad byte range".into()))
        })
        .collect::<Result<_>>()?;
    match nums[..] {
        [0, a, b, c] if a < b && b + c == pdf.len() && pdf[a] == b'<' && pdf[b - 1] == b'>' => {
            Ok(a..b)
        }
        _ => Err(Error::Malformed("bad byte range".into())),
    }
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub(crate) fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}
