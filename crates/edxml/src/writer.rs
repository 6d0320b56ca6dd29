//! The strict writer: emits the common form real systems accept (`vn-standards.md` §1.10) —
//! the root `edXML` in the QCVN default namespace, the envelope prefixed `edXML:`, the
//! fourteen header parts in the standard's order, `Bussiness` spelt as nearly everyone spells
//! it, dates as `yyyy/MM/dd`, the attachments unprefixed after the envelope — and refuses a
//! packet it would be ashamed of: our identifiers not QCVN 102 ones, a `DocumentId` not of the
//! form `<sender>,<yyyy/MM/dd>,<number>/<notation>`, a code outside the tables, characters XML
//! cannot carry.
//!
//! No XML signature block is written: the signature that counts is the PAdES signature on the
//! document's file (Decree 30); an empty block would claim nothing.

use std::io::{self, Read, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use egov_domain::agency_code::AgencyCode;

use crate::dates::{format_date, format_timestamp, parse_date};
use crate::error::WriteError;
use crate::model::*;

/// Writes a document packet; `contents` gives each attachment's bytes, in order.
pub fn write_document<W: Write>(
    doc: &DocumentPacket,
    contents: &mut [&mut dyn Read],
    out: W,
) -> Result<(), WriteError> {
    validate_document(doc)?;
    if contents.len() != doc.attachments.len() {
        return Err(WriteError::AttachmentCount {
            index: doc.attachments.len(),
            given: contents.len(),
        });
    }
    let mut w = Xml::new(out);
    w.raw("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n")?;
    w.raw(&format!("<edXML xmlns=\"{NAMESPACE}\">\n"))?;
    w.raw(&format!(
        "  <edXML:edXMLEnvelope xmlns:edXML=\"{NAMESPACE}\">\n"
    ))?;
    w.open(2, "edXMLHeader")?;
    header(&mut w, &doc.header)?;
    w.open(3, "TraceHeaderList")?;
    for t in &doc.trace {
        w.open(4, "TraceHeader")?;
        w.leaf(5, "OrganId", t.organ_id.as_deref().unwrap_or_default())?;
        w.leaf(
            5,
            "Timestamp",
            &t.timestamp.map(format_timestamp).unwrap_or_default(),
        )?;
        w.close(4, "TraceHeader")?;
    }
    business(&mut w, &doc.business)?;
    w.close(3, "TraceHeaderList")?;
    w.close(2, "edXMLHeader")?;
    w.open(2, "edXMLBody")?;
    w.raw("      <edXML:edXMLManifest version=\"1.0\">\n")?;
    for a in &doc.attachments {
        w.open(4, "Reference")?;
        w.leaf(5, "Description", &a.description)?;
        w.leaf(5, "AttachmentName", &a.name)?;
        w.leaf(5, "ContentType", &a.content_type)?;
        w.leaf(5, "ContentId", &format!("cid:{}", a.content_id))?;
        w.close(4, "Reference")?;
    }
    w.close(3, "edXMLManifest")?;
    w.close(2, "edXMLBody")?;
    w.raw("  </edXML:edXMLEnvelope>\n")?;
    if !doc.attachments.is_empty() {
        w.raw("  <AttachmentEncoded>\n")?;
        for (a, content) in doc.attachments.iter().zip(contents.iter_mut()) {
            w.raw("    <Attachment>\n")?;
            w.plain(3, "ContentType", &a.content_type)?;
            w.plain(3, "ContentId", &a.content_id)?;
            w.plain(3, "Description", &a.description)?;
            w.raw("      <ContentTransferEncoded>")?;
            base64_stream(&mut **content, &mut w.out)?;
            w.raw("</ContentTransferEncoded>\n")?;
            w.plain(3, "AttachmentName", &a.name)?;
            w.raw("    </Attachment>\n")?;
        }
        w.raw("  </AttachmentEncoded>\n")?;
    }
    w.raw("</edXML>\n")?;
    w.out.flush()?;
    Ok(())
}

/// Writes a status packet, its parts in the order real status packets use.
pub fn write_status<W: Write>(status: &StatusPacket, out: W) -> Result<(), WriteError> {
    validate_status(status)?;
    let mut w = Xml::new(out);
    w.raw("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n")?;
    w.raw(&format!("<edXML xmlns=\"{NAMESPACE}\">\n"))?;
    w.raw(&format!(
        "  <edXML:edXMLEnvelope xmlns:edXML=\"{NAMESPACE}\">\n"
    ))?;
    w.open(2, "edXMLHeader")?;
    w.open(3, "MessageHeader")?;
    organ(&mut w, 4, "From", &status.from)?;
    response_for(&mut w, 4, &status.response_for)?;
    staff(&mut w, 4, &status.staff)?;
    w.leaf(4, "StatusCode", status.status.wire())?;
    w.leaf(4, "Description", &status.description)?;
    w.leaf(
        4,
        "Timestamp",
        &status.timestamp.map(format_timestamp).unwrap_or_default(),
    )?;
    w.close(3, "MessageHeader")?;
    w.close(2, "edXMLHeader")?;
    w.raw("  </edXML:edXMLEnvelope>\n")?;
    w.raw("</edXML>\n")?;
    w.out.flush()?;
    Ok(())
}

/// Writes either kind of packet; attachments' bytes as for [`write_document`].
pub fn write_packet<W: Write>(
    packet: &Packet,
    contents: &mut [&mut dyn Read],
    out: W,
) -> Result<(), WriteError> {
    match packet {
        Packet::Document(d) => write_document(d, contents, out),
        Packet::Status(s) => write_status(s, out),
    }
}

/// A document packet in memory, attachments given as byte slices.
pub fn document_to_vec(doc: &DocumentPacket, contents: &[&[u8]]) -> Result<Vec<u8>, WriteError> {
    let mut readers: Vec<&[u8]> = contents.to_vec();
    let mut dyns: Vec<&mut dyn Read> = readers.iter_mut().map(|r| r as &mut dyn Read).collect();
    let mut out = Vec::new();
    write_document(doc, &mut dyns, &mut out)?;
    Ok(out)
}

/// A status packet in memory.
pub fn status_to_vec(status: &StatusPacket) -> Result<Vec<u8>, WriteError> {
    let mut out = Vec::new();
    write_status(status, &mut out)?;
    Ok(out)
}

/// The `DocumentId` of a document: `<sender OrganId>,<yyyy/MM/dd>,<number>/<notation>`.
pub fn document_id(sender: &str, promulgated: time::Date, code: &DocumentCode) -> String {
    format!("{sender},{},{}", format_date(promulgated), code.joined())
}

fn header<W: Write>(w: &mut Xml<W>, h: &MessageHeader) -> io::Result<()> {
    w.open(3, "MessageHeader")?;
    organ(w, 4, "From", &h.from)?;
    for to in &h.to {
        organ(w, 4, "To", to)?;
    }
    w.open(4, "Code")?;
    w.leaf(5, "CodeNumber", &h.code.number)?;
    w.leaf(5, "CodeNotation", &h.code.notation)?;
    w.close(4, "Code")?;
    w.open(4, "PromulgationInfo")?;
    w.leaf(5, "Place", &h.promulgation_place)?;
    w.leaf(
        5,
        "PromulgationDate",
        &h.promulgation_date.map(format_date).unwrap_or_default(),
    )?;
    w.close(4, "PromulgationInfo")?;
    w.open(4, "DocumentType")?;
    w.leaf(5, "Type", &h.document_type.code)?;
    w.leaf(5, "TypeName", &h.document_type.name)?;
    if !h.document_type.detail.is_empty() {
        w.leaf(5, "TypeDetail", &h.document_type.detail)?;
    }
    w.close(4, "DocumentType")?;
    w.leaf(4, "Subject", &h.subject)?;
    w.leaf(4, "Content", &h.content)?;
    w.open(4, "SignerInfo")?;
    w.leaf(5, "Competence", &h.signer.competence)?;
    w.leaf(5, "Position", &h.signer.position)?;
    w.leaf(5, "FullName", &h.signer.full_name)?;
    w.close(4, "SignerInfo")?;
    if let Some(d) = h.due_date {
        w.leaf(4, "DueDate", &format_date(d))?;
    }
    w.open(4, "ToPlaces")?;
    for p in &h.to_places {
        w.leaf(5, "Place", p)?;
    }
    w.close(4, "ToPlaces")?;
    let o = &h.other_info;
    w.open(4, "OtherInfo")?;
    w.leaf(5, "Priority", o.priority.wire())?;
    w.leaf(5, "SphereOfPromulgation", &o.sphere_of_promulgation)?;
    w.leaf(5, "TyperNotation", &o.typer_notation)?;
    if let Some(n) = o.promulgation_amount {
        w.leaf(5, "PromulgationAmount", &n.to_string())?;
    }
    if let Some(n) = o.page_amount {
        w.leaf(5, "PageAmount", &n.to_string())?;
    }
    w.open(5, "Appendixes")?;
    for a in &o.appendixes {
        w.leaf(6, "Appendix", a)?;
    }
    w.close(5, "Appendixes")?;
    if let Some(d) = o.direction {
        w.leaf(5, "Direction", if d { "true" } else { "false" })?;
    }
    w.close(4, "OtherInfo")?;
    for r in &h.response_for {
        response_for(w, 4, r)?;
    }
    w.leaf(4, "SteeringType", &h.steering_type)?;
    w.leaf(4, "DocumentId", &h.document_id)?;
    w.close(3, "MessageHeader")
}

fn organ<W: Write>(w: &mut Xml<W>, depth: usize, tag: &str, o: &Organ) -> io::Result<()> {
    w.open(depth, tag)?;
    w.leaf(depth + 1, "OrganId", &o.organ_id)?;
    w.leaf(depth + 1, "OrganizationInCharge", &o.organization_in_charge)?;
    w.leaf(depth + 1, "OrganName", &o.organ_name)?;
    w.leaf(depth + 1, "OrganAdd", &o.organ_add)?;
    w.leaf(depth + 1, "Email", &o.email)?;
    w.leaf(depth + 1, "Telephone", &o.telephone)?;
    w.leaf(depth + 1, "Fax", &o.fax)?;
    w.leaf(depth + 1, "Website", &o.website)?;
    w.close(depth, tag)
}

fn response_for<W: Write>(w: &mut Xml<W>, depth: usize, r: &ResponseFor) -> io::Result<()> {
    w.open(depth, "ResponseFor")?;
    w.leaf(depth + 1, "OrganId", &r.organ_id)?;
    w.leaf(depth + 1, "Code", &r.code)?;
    if let Some(d) = r.promulgation_date {
        w.leaf(depth + 1, "PromulgationDate", &format_date(d))?;
    }
    w.leaf(depth + 1, "DocumentId", &r.document_id)?;
    w.close(depth, "ResponseFor")
}

fn staff<W: Write>(w: &mut Xml<W>, depth: usize, s: &StaffInfo) -> io::Result<()> {
    w.open(depth, "StaffInfo")?;
    w.leaf(depth + 1, "Department", &s.department)?;
    w.leaf(depth + 1, "Staff", &s.staff)?;
    w.leaf(depth + 1, "Mobile", &s.mobile)?;
    w.leaf(depth + 1, "Email", &s.email)?;
    w.close(depth, "StaffInfo")
}

fn business<W: Write>(w: &mut Xml<W>, b: &Business) -> io::Result<()> {
    w.open(4, "Bussiness")?;
    w.leaf(5, "BussinessDocType", b.action.wire())?;
    w.leaf(5, "BussinessDocReason", &b.reason)?;
    if let Some(info) = &b.document_info {
        w.open(5, "BussinessDocumentInfo")?;
        w.leaf(6, "DocumentInfo", &info.document_info)?;
        w.leaf(6, "DocumentReceiver", &info.document_receiver)?;
        w.open(6, "ReceiverList")?;
        for r in &info.receivers {
            w.open(7, "Receiver")?;
            w.leaf(8, "ReceiverType", &r.receiver_type)?;
            w.leaf(8, "OrganId", &r.organ_id)?;
            w.close(7, "Receiver")?;
        }
        w.close(6, "ReceiverList")?;
        w.close(5, "BussinessDocumentInfo")?;
    }
    if !b.document_id.is_empty() {
        w.leaf(5, "DocumentId", &b.document_id)?;
    }
    staff(w, 5, &b.staff)?;
    if let Some(p) = b.paper {
        w.leaf(5, "Paper", if p { "1" } else { "0" })?;
    }
    if !b.replacements.is_empty() {
        w.open(5, "ReplacementInfoList")?;
        for r in &b.replacements {
            w.open(6, "ReplacementInfo")?;
            w.leaf(7, "DocumentId", &r.document_id)?;
            w.open(7, "OrganIdList")?;
            for id in &r.organ_ids {
                w.leaf(8, "OrganId", id)?;
            }
            w.close(7, "OrganIdList")?;
            w.close(6, "ReplacementInfo")?;
        }
        w.close(5, "ReplacementInfoList")?;
    }
    w.close(4, "Bussiness")
}

/// Streams `src` as one line of base64.
fn base64_stream<W: Write>(src: &mut dyn Read, out: &mut W) -> io::Result<()> {
    // A multiple of 3, so that chunks encode without padding until the last.
    let mut buf = vec![0u8; 48 * 1024];
    let mut filled = 0;
    let mut encoded = String::with_capacity(64 * 1024 + 4);
    loop {
        let n = src.read(&mut buf[filled..])?;
        filled += n;
        if filled == buf.len() || (n == 0 && filled > 0) {
            encoded.clear();
            STANDARD.encode_string(&buf[..filled], &mut encoded);
            out.write_all(encoded.as_bytes())?;
            filled = 0;
        }
        if n == 0 {
            return Ok(());
        }
    }
}

/// A little XML writer: indentation, escaping, the `edXML:` prefix inside the envelope.
struct Xml<W: Write> {
    out: W,
}

impl<W: Write> Xml<W> {
    fn new(out: W) -> Self {
        Xml { out }
    }

    fn raw(&mut self, s: &str) -> io::Result<()> {
        self.out.write_all(s.as_bytes())
    }

    fn indent(&mut self, depth: usize) -> io::Result<()> {
        for _ in 0..depth {
            self.out.write_all(b"  ")?;
        }
        Ok(())
    }

    fn open(&mut self, depth: usize, tag: &str) -> io::Result<()> {
        self.indent(depth)?;
        writeln!(self.out, "<edXML:{tag}>")
    }

    fn close(&mut self, depth: usize, tag: &str) -> io::Result<()> {
        self.indent(depth)?;
        writeln!(self.out, "</edXML:{tag}>")
    }

    fn leaf(&mut self, depth: usize, tag: &str, text: &str) -> io::Result<()> {
        self.indent(depth)?;
        writeln!(self.out, "<edXML:{tag}>{}</edXML:{tag}>", escape(text))
    }

    /// An element of the attachment block, unprefixed as senders write it.
    fn plain(&mut self, depth: usize, tag: &str, text: &str) -> io::Result<()> {
        self.indent(depth)?;
        writeln!(self.out, "<{tag}>{}</{tag}>", escape(text))
    }
}

/// Escapes text for an element's content; a carriage return is written as a reference so that
/// it survives the XML parser's line-end normalisation.
fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['&', '<', '>', '\r']) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

// --- validation ------------------------------------------------------------------------------

fn our_id(field: &str, id: &str) -> Result<(), WriteError> {
    id.parse::<AgencyCode>().map(|_| ()).map_err(|e| {
        WriteError::invalid(field, format!("{id:?} is not a QCVN 102 identifier: {e}"))
    })
}

fn required(field: &str, s: &str) -> Result<(), WriteError> {
    if s.trim().is_empty() {
        return Err(WriteError::invalid(field, "is required"));
    }
    Ok(())
}

fn digits(field: &str, s: &str) -> Result<(), WriteError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 4 {
        return Err(WriteError::invalid(
            field,
            format!("{s:?} is not a code number"),
        ));
    }
    Ok(())
}

/// Every text of the packet: characters XML 1.0 cannot carry are refused, and so are spaces
/// at either end (the reader trims them, so the packet would not read back as written).
fn xml_text(field: &str, s: &str) -> Result<(), WriteError> {
    if let Some(c) = s.chars().find(|&c| {
        (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}'
    }) {
        return Err(WriteError::invalid(
            field,
            format!(
                "holds the character U+{:04X}, which XML cannot carry",
                c as u32
            ),
        ));
    }
    if s.trim() != s {
        return Err(WriteError::invalid(
            field,
            format!("{s:?} has spaces at its ends"),
        ));
    }
    Ok(())
}

/// An item of a list: text, and not empty (an empty one reads back as no item).
fn list_item(field: &str, s: &str) -> Result<(), WriteError> {
    required(field, s)?;
    xml_text(field, s)
}

fn organ_text(field: &str, o: &Organ) -> Result<(), WriteError> {
    for s in [
        &o.organ_id,
        &o.organization_in_charge,
        &o.organ_name,
        &o.organ_add,
        &o.email,
        &o.telephone,
        &o.fax,
        &o.website,
    ] {
        xml_text(field, s)?;
    }
    Ok(())
}

/// `<sender>,<yyyy/MM/dd>,<number>/<notation>`: the sender must be the `From` given.
fn valid_document_id(field: &str, id: &str, sender: &str) -> Result<(), WriteError> {
    let bad = |why: &str| {
        WriteError::invalid(
            field,
            format!("{id:?} is not <sender>,<yyyy/MM/dd>,<number>/<notation>: {why}"),
        )
    };
    let mut parts = id.splitn(3, ',');
    let (Some(org), Some(date), Some(code)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("it needs three parts separated by commas"));
    };
    if org != sender {
        return Err(bad("it does not start with the sender's identifier"));
    }
    if parse_date(date).map(format_date).as_deref() != Some(date) {
        return Err(bad("its date is not yyyy/MM/dd"));
    }
    if code.trim().is_empty() || code != code.trim() {
        return Err(bad("its number and notation are missing"));
    }
    Ok(())
}

fn validate_document(doc: &DocumentPacket) -> Result<(), WriteError> {
    let h = &doc.header;
    our_id("From/OrganId", &h.from.organ_id)?;
    required("From/OrganName", &h.from.organ_name)?;
    organ_text("From", &h.from)?;
    if h.to.is_empty() {
        return Err(WriteError::invalid(
            "To",
            "a packet needs at least one recipient",
        ));
    }
    for to in &h.to {
        our_id("To/OrganId", &to.organ_id)?;
        organ_text("To", to)?;
    }
    required("Code/CodeNumber", &h.code.number)?;
    required("Code/CodeNotation", &h.code.notation)?;
    if h.promulgation_date.is_none() {
        return Err(WriteError::invalid(
            "PromulgationInfo/PromulgationDate",
            "is required",
        ));
    }
    digits("DocumentType/Type", &h.document_type.code)?;
    required("DocumentType/TypeName", &h.document_type.name)?;
    required("Subject", &h.subject)?;
    digits("SteeringType", &h.steering_type)?;
    if let Priority::Other(p) = &h.other_info.priority {
        return Err(WriteError::invalid(
            "OtherInfo/Priority",
            format!("{p:?} is not one of 0–3"),
        ));
    }
    valid_document_id("DocumentId", &h.document_id, &h.from.organ_id)?;
    xml_text("DocumentId", &h.document_id)?;
    for (name, s) in [
        ("Code/CodeNumber", &h.code.number),
        ("Code/CodeNotation", &h.code.notation),
        ("PromulgationInfo/Place", &h.promulgation_place),
        ("DocumentType/TypeName", &h.document_type.name),
        ("DocumentType/TypeDetail", &h.document_type.detail),
        ("Subject", &h.subject),
        ("Content", &h.content),
        ("SignerInfo/Competence", &h.signer.competence),
        ("SignerInfo/Position", &h.signer.position),
        ("SignerInfo/FullName", &h.signer.full_name),
        (
            "OtherInfo/SphereOfPromulgation",
            &h.other_info.sphere_of_promulgation,
        ),
        ("OtherInfo/TyperNotation", &h.other_info.typer_notation),
        ("BussinessDocReason", &doc.business.reason),
    ] {
        xml_text(name, s)?;
    }
    for s in &h.to_places {
        list_item("ToPlaces/Place", s)?;
    }
    for s in &h.other_info.appendixes {
        list_item("OtherInfo/Appendixes/Appendix", s)?;
    }
    for r in &h.response_for {
        required("ResponseFor/DocumentId", &r.document_id)?;
        xml_text("ResponseFor", &r.code)?;
        xml_text("ResponseFor", &r.document_id)?;
        xml_text("ResponseFor", &r.organ_id)?;
    }
    for t in &doc.trace {
        let id = t.organ_id.as_deref().unwrap_or_default();
        required("TraceHeader/OrganId", id)?;
        xml_text("TraceHeader/OrganId", id)?;
        if t.timestamp.is_none() {
            return Err(WriteError::invalid("TraceHeader/Timestamp", "is required"));
        }
    }
    let b = &doc.business;
    match &b.action {
        BusinessAction::New => {}
        BusinessAction::Other(v) => {
            return Err(WriteError::invalid(
                "BussinessDocType",
                format!("{v:?} is not one of 0–3"),
            ));
        }
        BusinessAction::Revocation | BusinessAction::Update | BusinessAction::Replacement => {
            required("BussinessDocReason", &b.reason)?;
        }
    }
    if b.action == BusinessAction::Replacement
        && (b.replacements.is_empty() || b.replacements.iter().any(|r| r.document_id.is_empty()))
    {
        return Err(WriteError::invalid(
            "ReplacementInfoList",
            "a replacement names the document(s) it replaces",
        ));
    }
    xml_text("Bussiness/DocumentId", &b.document_id)?;
    for r in &b.replacements {
        list_item("ReplacementInfo/DocumentId", &r.document_id)?;
        for id in &r.organ_ids {
            our_id("ReplacementInfo/OrganId", id)?;
        }
    }
    if let Some(info) = &b.document_info {
        for r in &info.receivers {
            our_id("Receiver/OrganId", &r.organ_id)?;
            xml_text("Receiver/ReceiverType", &r.receiver_type)?;
        }
        xml_text("DocumentInfo", &info.document_info)?;
        xml_text("DocumentReceiver", &info.document_receiver)?;
    }
    for s in [
        &b.staff.department,
        &b.staff.staff,
        &b.staff.mobile,
        &b.staff.email,
    ] {
        xml_text("StaffInfo", s)?;
    }
    let mut ids = std::collections::HashSet::new();
    for (i, a) in doc.attachments.iter().enumerate() {
        let field = format!("attachment {i}");
        required(&field, &a.name)?;
        required(&field, &a.content_type)?;
        xml_text(&field, &a.name)?;
        xml_text(&field, &a.content_type)?;
        xml_text(&field, &a.description)?;
        xml_text(&field, &a.content_id)?;
        if a.content_id.is_empty()
            || a.content_id.starts_with("cid:")
            || a.content_id
                .chars()
                .any(|c| c.is_whitespace() || c == '<' || c == '>')
        {
            return Err(WriteError::invalid(
                field,
                format!(
                    "content id {:?} must be a bare token, without cid:",
                    a.content_id
                ),
            ));
        }
        if !ids.insert(&a.content_id) {
            return Err(WriteError::invalid(
                field,
                "two attachments share a content id",
            ));
        }
    }
    Ok(())
}

fn validate_status(s: &StatusPacket) -> Result<(), WriteError> {
    our_id("From/OrganId", &s.from.organ_id)?;
    required("From/OrganName", &s.from.organ_name)?;
    organ_text("From", &s.from)?;
    required("ResponseFor/DocumentId", &s.response_for.document_id)?;
    required("ResponseFor/OrganId", &s.response_for.organ_id)?;
    for v in [
        &s.response_for.document_id,
        &s.response_for.organ_id,
        &s.response_for.code,
        &s.description,
        &s.staff.department,
        &s.staff.staff,
        &s.staff.mobile,
        &s.staff.email,
    ] {
        xml_text("status", v)?;
    }
    if let StatusCode::Other(v) = &s.status {
        return Err(WriteError::invalid(
            "StatusCode",
            format!("{v:?} is not one of 01–06, 13, 15, 16"),
        ));
    }
    if s.timestamp.is_none() {
        return Err(WriteError::invalid("Timestamp", "is required"));
    }
    Ok(())
}
