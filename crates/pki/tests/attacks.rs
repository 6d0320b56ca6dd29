//! The known attacks on PDF signatures — incremental saving, signature wrapping, universal
//! signature forgery and shadow attacks — built as files; egov must call none of them valid.

mod common;

use common::*;
use egov_pki::cms_sig;
use egov_pki::sign::{Prepared, prepare, sign_with};
use egov_pki::verify::{Report, Status, verify_pdf};
use egov_pki::{Error, RawSigner};
use lopdf::{Dictionary, IncrementalDocument, Object, ObjectId, Stream, StringFormat};

/// Appends a proper incremental update made by `change`.
fn update(pdf: &[u8], change: impl FnOnce(&mut IncrementalDocument)) -> Vec<u8> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let mut inc = IncrementalDocument::create_from(pdf.to_vec(), doc);
    change(&mut inc);
    let mut out = Vec::new();
    inc.save_to(&mut out).unwrap();
    out
}

fn first_page(inc: &IncrementalDocument) -> ObjectId {
    inc.get_prev_documents().get_pages()[&1]
}

fn page_contents(inc: &IncrementalDocument) -> ObjectId {
    let page = inc
        .get_prev_documents()
        .get_dictionary(first_page(inc))
        .unwrap();
    match page.get(b"Contents").unwrap() {
        Object::Reference(id) => *id,
        Object::Array(a) => a[0].as_reference().unwrap(),
        other => panic!("unexpected contents {other:?}"),
    }
}

fn text_stream(text: &str) -> Object {
    let content = format!("BT /F1 24 Tf 72 500 Td ({text}) Tj ET");
    Object::Stream(Stream::new(Dictionary::new(), content.into_bytes()))
}

fn signed_letter() -> Vec<u8> {
    let p = pki();
    sign_with(&sample_pdf(), &request(&p.leader_rsa), &p.leader_rsa.key).unwrap()
}

/// A letter that already holds, unused, what a shadow attack needs later: a second content
/// stream and an overlay form, both invisible when it is signed.
fn letter_with_shadow() -> (Vec<u8>, ObjectId, ObjectId) {
    let mut ids = (0, 0);
    let prepared = update(&sample_pdf(), |inc| {
        let replacement = inc
            .new_document
            .add_object(text_stream("Dong y chi 5 ty dong"));
        let mut form = Dictionary::new();
        form.set("Type", Object::Name(b"XObject".to_vec()));
        form.set("Subtype", Object::Name(b"Form".to_vec()));
        form.set(
            "BBox",
            Object::Array(vec![0.into(), 0.into(), 595.into(), 842.into()]),
        );
        let overlay = inc.new_document.add_object(Object::Stream(Stream::new(
            form,
            b"1 1 1 rg 0 0 595 842 re f".to_vec(),
        )));
        ids = (replacement.0, overlay.0);
    });
    let p = pki();
    let signed = sign_with(&prepared, &request(&p.leader_rsa), &p.leader_rsa.key).unwrap();
    (signed, (ids.0, 0), (ids.1, 0))
}

fn assert_not_valid(report: &Report, expect_code: &str) {
    assert_ne!(report.status, Status::Valid, "{report:#?}");
    let codes: Vec<&str> = report
        .signatures
        .iter()
        .flat_map(|s| s.findings.iter().map(|f| f.code))
        .collect();
    assert!(
        codes.contains(&expect_code),
        "expected {expect_code}, found {codes:?}"
    );
}

fn judge(pdf: &[u8]) -> Report {
    verify_pdf(pdf, &trust(), now()).unwrap()
}

// --- Incremental saving attacks ---------------------------------------------------------------

#[test]
fn isa_rewriting_the_page_content_in_an_update_is_invalid() {
    let attacked = update(&signed_letter(), |inc| {
        let contents = page_contents(inc);
        inc.new_document
            .set_object(contents, text_stream("Noi dung da bi thay"));
    });
    let report = judge(&attacked);
    assert_eq!(report.status, Status::Invalid);
    assert_not_valid(&report, "changed_after_signing");
    assert_eq!(report.signatures[0].changes_after, "content");
}

#[test]
fn isa_adding_a_content_stream_to_the_page_is_invalid() {
    let attacked = update(&signed_letter(), |inc| {
        let page = first_page(inc);
        let old = page_contents(inc);
        let extra = inc.new_document.add_object(text_stream("THEM NOI DUNG"));
        inc.opt_clone_object_to_new_document(page).unwrap();
        inc.new_document.get_dictionary_mut(page).unwrap().set(
            "Contents",
            Object::Array(vec![Object::Reference(old), Object::Reference(extra)]),
        );
    });
    assert_not_valid(&judge(&attacked), "changed_after_signing");
}

#[test]
fn isa_appending_objects_without_a_cross_reference_section_is_invalid() {
    let mut attacked = signed_letter();
    attacked.extend_from_slice(
        b"\n4 0 obj\n<< /Length 20 >>\nstream\nBT (evil) Tj ET\nendstream\nendobj\n",
    );
    assert_not_valid(&judge(&attacked), "appended_not_revision");
}

#[test]
fn isa_replacing_the_catalog_is_invalid() {
    let attacked = update(&signed_letter(), |inc| {
        let root = inc
            .get_prev_documents()
            .trailer
            .get(b"Root")
            .unwrap()
            .as_reference()
            .unwrap();
        let mut catalog = inc
            .get_prev_documents()
            .get_dictionary(root)
            .unwrap()
            .clone();
        catalog.remove(b"AcroForm");
        let new_root = inc.new_document.add_object(Object::Dictionary(catalog));
        inc.new_document
            .trailer
            .set("Root", Object::Reference(new_root));
    });
    // The new catalog drops the signature field: either the signature is gone (unsigned) or it
    // is reported as changed; never valid.
    let report = judge(&attacked);
    assert_ne!(report.status, Status::Valid, "{report:#?}");
}

// --- Signature wrapping attacks ---------------------------------------------------------------

fn byte_range_span(pdf: &[u8]) -> (usize, usize) {
    let at = pdf.windows(10).rposition(|w| w == b"/ByteRange").unwrap();
    let open = at + pdf[at..].iter().position(|b| *b == b'[').unwrap();
    let close = at + pdf[at..].iter().position(|b| *b == b']').unwrap();
    (open, close + 1)
}

#[test]
fn swa_moving_the_byte_range_is_invalid() {
    let signed = signed_letter();
    let (open, close) = byte_range_span(&signed);
    let original = String::from_utf8(signed[open..close].to_vec()).unwrap();
    let nums: Vec<usize> = original
        .trim_matches(|c| c == '[' || c == ']' || c == ' ')
        .split_ascii_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    // Shift the gap: the "signature" is now two bytes of signed content and the real value is
    // inside the signed range.
    for (a, b) in [
        (nums[1] - 2, nums[1]),
        (nums[1] + 1, nums[2] + 1),
        (nums[1], nums[2] - 10),
    ] {
        let forged = format!("[0 {a} {b} {}", signed.len() - b);
        let mut forged = forged.into_bytes();
        forged.resize(close - open - 1, b' ');
        forged.push(b']');
        let mut attacked = signed.clone();
        attacked[open..close].copy_from_slice(&forged);
        let report = judge(&attacked);
        assert_eq!(report.status, Status::Invalid, "{report:#?}");
    }
}

#[test]
fn swa_a_redefined_signature_dictionary_pointing_at_other_bytes_is_invalid() {
    let signed = signed_letter();
    let attacked = update(&signed, |inc| {
        let prev = inc.get_prev_documents();
        let (sig_id, mut sig) = prev
            .objects
            .iter()
            .find_map(|(id, o)| {
                let d = o.as_dict().ok()?;
                (d.get(b"Type").ok()?.as_name().ok()? == b"Sig").then(|| (*id, d.clone()))
            })
            .unwrap();
        // Claim a range whose gap is some other hex string of the file (none matches) and whose
        // end is the new end of file.
        sig.set(
            "ByteRange",
            Object::Array(vec![0.into(), 100.into(), 200.into(), 300.into()]),
        );
        inc.new_document.set_object(sig_id, Object::Dictionary(sig));
    });
    let report = judge(&attacked);
    assert_eq!(report.status, Status::Invalid, "{report:#?}");
}

// --- Universal signature forgery ------------------------------------------------------------

/// An unsigned letter with a signature field whose value is `sig`.
fn with_signature_dictionary(sig: Dictionary) -> Vec<u8> {
    update(&sample_pdf(), |inc| {
        let page = first_page(inc);
        let root = inc
            .get_prev_documents()
            .trailer
            .get(b"Root")
            .unwrap()
            .as_reference()
            .unwrap();
        let sig_id = inc.new_document.add_object(Object::Dictionary(sig));
        let mut widget = Dictionary::new();
        widget.set("Type", Object::Name(b"Annot".to_vec()));
        widget.set("Subtype", Object::Name(b"Widget".to_vec()));
        widget.set("FT", Object::Name(b"Sig".to_vec()));
        widget.set(
            "T",
            Object::String(b"Forged".to_vec(), StringFormat::Literal),
        );
        widget.set("V", Object::Reference(sig_id));
        widget.set(
            "Rect",
            Object::Array(vec![0.into(), 0.into(), 0.into(), 0.into()]),
        );
        widget.set("P", Object::Reference(page));
        let w = inc.new_document.add_object(Object::Dictionary(widget));
        inc.opt_clone_object_to_new_document(page).unwrap();
        inc.new_document
            .get_dictionary_mut(page)
            .unwrap()
            .set("Annots", Object::Array(vec![Object::Reference(w)]));
        inc.opt_clone_object_to_new_document(root).unwrap();
        let mut form = Dictionary::new();
        form.set("Fields", Object::Array(vec![Object::Reference(w)]));
        form.set("SigFlags", Object::Integer(3));
        inc.new_document
            .get_dictionary_mut(root)
            .unwrap()
            .set("AcroForm", Object::Dictionary(form));
    })
}

fn sig_dict(contents: Option<Vec<u8>>, range: Option<Object>) -> Dictionary {
    let mut d = Dictionary::new();
    d.set("Type", Object::Name(b"Sig".to_vec()));
    d.set("Filter", Object::Name(b"Adobe.PPKLite".to_vec()));
    d.set("SubFilter", Object::Name(b"ETSI.CAdES.detached".to_vec()));
    if let Some(c) = contents {
        d.set("Contents", Object::String(c, StringFormat::Hexadecimal));
    }
    if let Some(r) = range {
        d.set("ByteRange", r);
    }
    d
}

#[test]
fn usf_missing_or_empty_values_and_ranges_are_invalid() {
    let range = || Object::Array(vec![0.into(), 10.into(), 20.into(), 30.into()]);
    let cases = [
        (sig_dict(None, Some(range())), "signature_missing"),
        (sig_dict(Some(vec![]), Some(range())), "byte_range_wrapped"),
        (sig_dict(Some(vec![0; 64]), None), "byte_range_malformed"),
        (
            sig_dict(Some(vec![0; 64]), Some(Object::Null)),
            "byte_range_malformed",
        ),
        (
            sig_dict(
                Some(vec![0; 64]),
                Some(Object::Array(vec![0.into(), 0.into(), 0.into(), 0.into()])),
            ),
            "byte_range_malformed",
        ),
    ];
    for (dict, code) in cases {
        let report = judge(&with_signature_dictionary(dict));
        assert_eq!(report.status, Status::Invalid, "{report:#?}");
        assert_not_valid(&report, code);
    }
}

/// Writes `cms` (DER) into a prepared file's placeholder, as an attacker's tool would.
fn embed(prepared: &Prepared, cms: &[u8]) -> Vec<u8> {
    let hex = hex::encode(cms);
    let mut out = prepared.pdf.clone();
    out[prepared.contents.start + 1..prepared.contents.start + 1 + hex.len()]
        .copy_from_slice(hex.as_bytes());
    out
}

#[test]
fn usf_bogus_signature_values_and_certificates_are_not_valid() {
    let p = pki();
    let prepared = prepare(&sample_pdf(), &request(&p.leader_rsa)).unwrap();
    let attrs =
        cms_sig::signed_attributes(&prepared.document_digest(), &p.leader_rsa.cert).unwrap();
    let tbs = der::Encode::to_der(&attrs).unwrap();
    let alg = egov_pki::KeyAlgorithm::Rsa.signature_algorithm();

    // Garbage instead of CMS.
    let report = judge(&embed(&prepared, b"\x30\x03\x02\x01\x01"));
    assert_not_valid(&report, "signature_malformed");

    // The leader's certificate with a signature made by another key.
    let wrong = p.seal.key.sign(&tbs).unwrap();
    let cms =
        cms_sig::signed_data(attrs.clone(), alg.clone(), &wrong, &chain(&p.leader_rsa)).unwrap();
    assert_not_valid(&judge(&embed(&prepared, &cms)), "signature_value_wrong");

    // A zero-filled signature value.
    let cms =
        cms_sig::signed_data(attrs.clone(), alg.clone(), &[0; 256], &chain(&p.leader_rsa)).unwrap();
    assert_not_valid(&judge(&embed(&prepared, &cms)), "signature_value_wrong");

    // Another certificate in place of the signer's.
    let good = p.leader_rsa.key.sign(&tbs).unwrap();
    let cms = cms_sig::signed_data(
        attrs.clone(),
        alg.clone(),
        &good,
        std::slice::from_ref(&p.seal.cert),
    )
    .unwrap();
    assert_not_valid(
        &judge(&embed(&prepared, &cms)),
        "signing_certificate_mismatch",
    );

    // No certificate at all.
    let cms =
        cms_sig::signed_data(attrs.clone(), alg.clone(), &good, &chain(&p.leader_rsa)).unwrap();
    let mut ci: cms::content_info::ContentInfo = der::Decode::from_der(&cms).unwrap();
    let mut sd: cms::signed_data::SignedData = ci.content.decode_as().unwrap();
    sd.certificates = None;
    ci.content = der::Any::encode_from(&sd).unwrap();
    let cms = der::Encode::to_der(&ci).unwrap();
    assert_not_valid(
        &judge(&embed(&prepared, &cms)),
        "signer_certificate_missing",
    );

    // Signed attributes over another document.
    let other = cms_sig::signed_attributes(&[7; 32], &p.leader_rsa.cert).unwrap();
    let sig = p
        .leader_rsa
        .key
        .sign(&der::Encode::to_der(&other).unwrap())
        .unwrap();
    let cms = cms_sig::signed_data(other, alg, &sig, &chain(&p.leader_rsa)).unwrap();
    assert_not_valid(&judge(&embed(&prepared, &cms)), "document_changed");

    // A look-alike certificate from a CA that copies the real one's name.
    let rogue = sign_with(
        &sample_pdf(),
        &request(&p.rogue_leader),
        &p.rogue_leader.key,
    )
    .unwrap();
    assert_not_valid(&judge(&rogue), "untrusted");
}

// --- Shadow attacks ----------------------------------------------------------------------------

#[test]
fn shadow_hide_drawing_a_prepared_overlay_is_invalid() {
    let (signed, _, overlay) = letter_with_shadow();
    assert_eq!(judge(&signed).status, Status::Valid);
    let attacked = update(&signed, |inc| {
        let page = first_page(inc);
        let old = page_contents(inc);
        let draw = inc.new_document.add_object(Object::Stream(Stream::new(
            Dictionary::new(),
            b"q /Shadow Do Q".to_vec(),
        )));
        inc.opt_clone_object_to_new_document(page).unwrap();
        let dict = inc.new_document.get_dictionary_mut(page).unwrap();
        dict.set(
            "Contents",
            Object::Array(vec![Object::Reference(old), Object::Reference(draw)]),
        );
        let mut xo = Dictionary::new();
        xo.set("Shadow", Object::Reference(overlay));
        let mut res = Dictionary::new();
        res.set("XObject", Object::Dictionary(xo));
        dict.set("Resources", Object::Dictionary(res));
    });
    assert_not_valid(&judge(&attacked), "changed_after_signing");
}

#[test]
fn shadow_hide_with_an_annotation_over_the_text_is_invalid() {
    let attacked = update(&signed_letter(), |inc| {
        let page = first_page(inc);
        let mut annot = Dictionary::new();
        annot.set("Type", Object::Name(b"Annot".to_vec()));
        annot.set("Subtype", Object::Name(b"Square".to_vec()));
        annot.set(
            "Rect",
            Object::Array(vec![0.into(), 0.into(), 595.into(), 842.into()]),
        );
        annot.set("IC", Object::Array(vec![1.into(), 1.into(), 1.into()]));
        let id = inc.new_document.add_object(Object::Dictionary(annot));
        inc.opt_clone_object_to_new_document(page).unwrap();
        let dict = inc.new_document.get_dictionary_mut(page).unwrap();
        let mut annots = dict.get(b"Annots").unwrap().as_array().unwrap().clone();
        annots.push(Object::Reference(id));
        dict.set("Annots", Object::Array(annots));
    });
    assert_not_valid(&judge(&attacked), "changed_after_signing");
}

#[test]
fn shadow_replace_pointing_the_page_at_prepared_content_is_invalid() {
    let (signed, replacement, _) = letter_with_shadow();
    let attacked = update(&signed, |inc| {
        let page = first_page(inc);
        inc.opt_clone_object_to_new_document(page).unwrap();
        inc.new_document
            .get_dictionary_mut(page)
            .unwrap()
            .set("Contents", Object::Reference(replacement));
    });
    assert_not_valid(&judge(&attacked), "changed_after_signing");
}

#[test]
fn shadow_hide_and_replace_redefining_the_content_object_is_invalid() {
    let (signed, replacement, _) = letter_with_shadow();
    let attacked = update(&signed, |inc| {
        let contents = page_contents(inc);
        let body = inc
            .get_prev_documents()
            .get_object(replacement)
            .unwrap()
            .clone();
        inc.new_document.set_object(contents, body);
    });
    assert_not_valid(&judge(&attacked), "changed_after_signing");
}

#[test]
fn encrypted_files_are_refused() {
    // An /Encrypt entry in the trailer is enough for egov to refuse the file.
    let attacked = update(&sample_pdf(), |inc| {
        let mut enc = Dictionary::new();
        enc.set("Filter", Object::Name(b"Standard".to_vec()));
        enc.set("V", Object::Integer(4));
        let id = inc.new_document.add_object(Object::Dictionary(enc));
        inc.new_document
            .trailer
            .set("Encrypt", Object::Reference(id));
    });
    assert!(matches!(
        verify_pdf(&attacked, &trust(), now()),
        Err(Error::Encrypted | Error::Malformed(_))
    ));
    let p = pki();
    assert!(matches!(
        prepare(&attacked, &request(&p.leader_rsa)),
        Err(Error::Encrypted | Error::Malformed(_))
    ));
}

#[test]
fn a_time_stamp_taken_from_another_signature_is_not_valid() {
    let p = pki();
    let tsa = LocalTsa::start();
    let prepared = prepare(&sample_pdf(), &request(&p.leader_rsa)).unwrap();
    let attrs =
        cms_sig::signed_attributes(&prepared.document_digest(), &p.leader_rsa.cert).unwrap();
    let tbs = der::Encode::to_der(&attrs).unwrap();
    let good = p.leader_rsa.key.sign(&tbs).unwrap();
    // A genuine token of the same authority, over some other signature value.
    let (req, nonce) = egov_pki::tsp::request(b"a different signature").unwrap();
    let token = egov_pki::tsp::token_from_response(
        &tsa.reply(&req).unwrap(),
        b"a different signature",
        &nonce,
    )
    .unwrap();
    let cms = cms_sig::signed_data_stamped(
        attrs,
        egov_pki::KeyAlgorithm::Rsa.signature_algorithm(),
        &good,
        &chain(&p.leader_rsa),
        Some(&token),
    )
    .unwrap();
    assert_not_valid(&judge(&embed(&prepared, &cms)), "timestamp_invalid");
}

// --- Signatures that cannot be parsed ---------------------------------------------------------

/// Replaces the `nth` hex digit inside the `k`-th signature's `/Contents <…>` with `G`.
fn damage_contents(pdf: &[u8], k: usize, nth: usize) -> Vec<u8> {
    let mut out = pdf.to_vec();
    let starts: Vec<usize> = out
        .windows(10)
        .enumerate()
        .filter(|(_, w)| {
            w.starts_with(b"/Contents") && w[9..].iter().all(|b| *b == b' ' || *b == b'<')
        })
        .map(|(i, _)| i)
        .collect();
    let mut at = starts[k] + 9;
    while out[at] != b'<' {
        at += 1;
    }
    out[at + 1 + nth] = b'G';
    out
}

#[test]
fn a_signature_whose_contents_cannot_be_parsed_is_reported_invalid_not_dropped() {
    let signed = signed_letter();
    assert_eq!(judge(&signed).status, Status::Valid);
    for nth in [0, 10, 200] {
        let report = judge(&damage_contents(&signed, 0, nth));
        assert_eq!(
            report.signatures.len(),
            1,
            "the damaged signature is still listed"
        );
        assert_eq!(report.status, Status::Invalid);
        assert_eq!(report.signatures[0].status, Status::Invalid);
    }
}

#[test]
fn a_damaged_second_signature_makes_the_document_invalid_and_the_first_stays_listed() {
    let p = pki();
    let once = signed_letter();
    let twice = sign_with(&once, &request(&p.leader_rsa), &p.leader_rsa.key).unwrap();
    let before = judge(&twice);
    assert_eq!(before.signatures.len(), 2);
    let report = judge(&damage_contents(&twice, 1, 5));
    assert_eq!(report.signatures.len(), 2);
    assert_eq!(report.status, Status::Invalid);
    assert!(
        report
            .signatures
            .iter()
            .any(|s| s.status == Status::Invalid)
    );
}

#[test]
fn a_later_version_and_extensions_are_allowed_but_nothing_else_in_the_catalog() {
    let signed = signed_letter();
    let catalog_update = |change: fn(&mut Dictionary)| {
        update(&signed, move |inc| {
            let root = inc
                .get_prev_documents()
                .trailer
                .get(b"Root")
                .unwrap()
                .as_reference()
                .unwrap();
            inc.opt_clone_object_to_new_document(root).unwrap();
            change(inc.new_document.get_dictionary_mut(root).unwrap());
        })
    };
    // What PAdES and ISO 32000-2 allow a later signer: a higher version, developer extensions.
    let allowed = catalog_update(|c| {
        c.set("Version", Object::Name(b"2.0".to_vec()));
        let mut iso = Dictionary::new();
        iso.set("BaseVersion", Object::Name(b"2.0".to_vec()));
        iso.set("ExtensionLevel", Object::Integer(32002));
        let mut ext = Dictionary::new();
        ext.set("ISO_", Object::Array(vec![Object::Dictionary(iso)]));
        c.set("Extensions", Object::Dictionary(ext));
    });
    assert_eq!(
        judge(&allowed).status,
        Status::Valid,
        "{:#?}",
        judge(&allowed)
    );
    // A version that is none, or an action that runs on opening, is a change of content.
    let not_a_version = catalog_update(|c| c.set("Version", Object::Name(b"evil".to_vec())));
    assert_not_valid(&judge(&not_a_version), "changed_after_signing");
    let open_action = catalog_update(|c| {
        c.set("OpenAction", Object::Array(vec![Object::Integer(0)]));
    });
    assert_not_valid(&judge(&open_action), "changed_after_signing");
}
