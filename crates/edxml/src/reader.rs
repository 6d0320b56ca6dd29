//! The tolerant reader: reads what real systems send (`vn-standards.md` §1.10), not only what
//! the standard says.
//!
//! - Elements are matched by namespace URI and local name, prefixed or not, in any order; the
//!   QCVN namespace, the legacy one a vendor binds beside it and no namespace at all are read
//!   as edXML; other namespaces are skipped (the signature block is matched by local name in
//!   whatever namespace it comes).
//! - Both spellings (`Bussiness`/`Business`, `OrganizationInCharge`/`OrganInCharge`), both date
//!   orders, unknown codes kept raw, the hub's empty `ResponseFor` dropped.
//! - Attachments are streamed: their base64 is decoded in chunks straight from the source into
//!   the caller's [`AttachmentSink`] (the file store), never held whole; a ZIP is recognised by
//!   its magic bytes whatever its label.
//! - What a packet may cost is bounded ([`Limits`]): its size, the length of any one element or
//!   text, nesting depth, element and attachment counts; DTDs (and so entity expansion) are
//!   refused outright.
//!
//! The raw packet is the evidence: the caller keeps its bytes (as a blob); the reading gives
//! their SHA-256 and size so the two stay tied.

use std::io::{self, BufRead};

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use sha2::{Digest, Sha256};

use crate::dates::{parse_date, parse_timestamp};
use crate::error::ReadError;
use crate::model::*;

/// What one packet may cost. The defaults suit a province's traffic: documents of some
/// hundreds of megabytes at most.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The packet's size in bytes, as received.
    pub max_packet: u64,
    /// One element's tag or one run of text outside attachments.
    pub max_token: u64,
    pub max_depth: usize,
    pub max_elements: usize,
    pub max_attachments: usize,
    /// One attachment, decoded.
    pub max_attachment: u64,
    /// All the text kept in the model (names, subjects, places …), outside attachments.
    pub max_metadata: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_packet: 512 * 1024 * 1024,
            max_token: 1024 * 1024,
            max_depth: 32,
            max_elements: 100_000,
            max_attachments: 500,
            max_attachment: 384 * 1024 * 1024,
            max_metadata: 16 * 1024 * 1024,
        }
    }
}

/// Where the reader puts an attachment's decoded bytes: the file store's side of the reader.
/// Attachments come one at a time, in document order: `begin`, `write`s, then `finish`. When
/// the packet turns out unreadable — half-way through an attachment or after the last one —
/// `abort` is called once: the sink forgets everything of this reading, so nothing of a
/// refused packet is left half-kept.
pub trait AttachmentSink {
    fn begin(&mut self, index: usize) -> io::Result<()>;
    fn write(&mut self, chunk: &[u8]) -> io::Result<()>;
    /// The bytes are complete; answers how the sink refers to them (a blob's hash, a path).
    fn finish(&mut self) -> io::Result<String>;
    fn abort(&mut self) {}
}

/// A sink that keeps nothing: the reading still has each attachment's size and hash.
#[derive(Debug, Default)]
pub struct DiscardSink;

impl AttachmentSink for DiscardSink {
    fn begin(&mut self, _index: usize) -> io::Result<()> {
        Ok(())
    }
    fn write(&mut self, _chunk: &[u8]) -> io::Result<()> {
        Ok(())
    }
    fn finish(&mut self) -> io::Result<String> {
        Ok(String::new())
    }
}

/// A sink that keeps every attachment in memory (for tests and small packets).
#[derive(Debug, Default)]
pub struct MemorySink {
    pub files: Vec<Vec<u8>>,
}

impl AttachmentSink for MemorySink {
    fn begin(&mut self, _index: usize) -> io::Result<()> {
        self.files.push(Vec::new());
        Ok(())
    }
    fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.files
            .last_mut()
            .ok_or_else(|| io::Error::other("write before begin"))?
            .extend_from_slice(chunk);
        Ok(())
    }
    fn finish(&mut self) -> io::Result<String> {
        Ok(format!("memory:{}", self.files.len() - 1))
    }
    fn abort(&mut self) {
        self.files.clear();
    }
}

/// A packet as read, with what was tolerated on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub packet: Packet,
    /// Deviations the reader accepted (unknown elements, dates it could not read, attachments
    /// missing from the manifest …), for the operator.
    pub notes: Vec<String>,
    /// The packet's size and SHA-256 as received (the raw bytes are the evidence).
    pub size: u64,
    pub sha256: String,
}

/// Reads a packet held in memory.
pub fn read_slice(
    bytes: &[u8],
    limits: &Limits,
    sink: &mut dyn AttachmentSink,
) -> Result<Reading, ReadError> {
    read(bytes, limits, sink)
}

/// Reads a packet from a stream.
pub fn read<R: BufRead>(
    src: R,
    limits: &Limits,
    sink: &mut dyn AttachmentSink,
) -> Result<Reading, ReadError> {
    let mut reader = Reader::new(src, limits, sink);
    let result = reader.run();
    if result.is_err() && reader.began {
        reader.sink.abort();
    }
    result
}

/// The source as the XML parser sees it: counted, hashed and bounded.
struct Bounded<R> {
    inner: R,
    total: u64,
    max_total: u64,
    /// Bytes the current event has taken (reset before each event).
    run: u64,
    max_run: u64,
    /// Set while an attachment's base64 is streamed: long runs are expected there.
    raw: bool,
    hasher: Sha256,
    /// The limit broken, if one was: io errors lose their cause inside the XML parser.
    broken: Option<ReadError>,
}

impl<R: BufRead> io::Read for Bounded<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Bounded<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.total > self.max_total {
            self.broken = Some(ReadError::TooLarge(self.max_total));
            return Err(io::Error::other("packet too large"));
        }
        if !self.raw && self.run > self.max_run {
            self.broken = Some(ReadError::TokenTooLong(self.max_run));
            return Err(io::Error::other("token too long"));
        }
        let raw = self.raw;
        let buf = self.inner.fill_buf()?;
        // Outside an attachment the XML parser gets small pieces, so that the limit on one
        // event is checked before its buffer can grow past it.
        let cap = if raw { buf.len() } else { buf.len().min(PIECE) };
        Ok(&buf[..cap])
    }

    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            self.hasher.update(&buf[..amt.min(buf.len())]);
        }
        self.total += amt as u64;
        if !self.raw {
            self.run += amt as u64;
        }
        self.inner.consume(amt);
    }
}

/// The largest piece the XML parser is given at once outside attachments.
const PIECE: usize = 64 * 1024;

/// Which family an element belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    /// QCVN 102, the legacy e-doc.vn binding, or none.
    Edxml,
    /// Anything else (XML-DSig inside the signature, extensions).
    Foreign,
}

struct Reader<'a, R: BufRead> {
    xml: NsReader<Bounded<R>>,
    limits: &'a Limits,
    sink: &'a mut dyn AttachmentSink,
    stack: Vec<(String, Ns)>,
    text: String,
    elements: usize,
    /// Text kept in the model so far.
    metadata: u64,
    doc: DocumentPacket,
    status_code: Option<String>,
    status_description: String,
    status_timestamp: Option<String>,
    status_staff: StaffInfo,
    manifest: Vec<Attachment>,
    attachment: Option<(Attachment, bool)>,
    began: bool,
    in_signature: usize,
    notes: Vec<String>,
}

const MAX_NOTES: usize = 50;

impl<'a, R: BufRead> Reader<'a, R> {
    fn new(src: R, limits: &'a Limits, sink: &'a mut dyn AttachmentSink) -> Self {
        let bounded = Bounded {
            inner: src,
            total: 0,
            max_total: limits.max_packet,
            run: 0,
            max_run: limits.max_token,
            raw: false,
            hasher: Sha256::new(),
            broken: None,
        };
        let mut xml = NsReader::from_reader(bounded);
        let config = xml.config_mut();
        config.check_end_names = true;
        Reader {
            xml,
            limits,
            sink,
            stack: Vec::new(),
            text: String::new(),
            elements: 0,
            metadata: 0,
            doc: DocumentPacket::default(),
            status_code: None,
            status_description: String::new(),
            status_timestamp: None,
            status_staff: StaffInfo::default(),
            manifest: Vec::new(),
            attachment: None,
            began: false,
            in_signature: 0,
            notes: Vec::new(),
        }
    }

    fn note(&mut self, note: String) {
        let note = short_to(&note, 300);
        if self.notes.len() < MAX_NOTES && !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    /// An XML error, or the limit the source broke.
    fn xml_error(&mut self, e: quick_xml::Error) -> ReadError {
        if let Some(b) = self.xml.get_mut().broken.take() {
            return b;
        }
        match e {
            quick_xml::Error::Io(io) => ReadError::Io(io::Error::new(io.kind(), io.to_string())),
            other => ReadError::NotXml(format!(
                "{other} (near byte {})",
                self.xml.buffer_position()
            )),
        }
    }

    fn run(&mut self) -> Result<Reading, ReadError> {
        let mut buf = Vec::with_capacity(1024);
        let mut seen_root = false;
        let mut root_closed = false;
        loop {
            buf.clear();
            // Every event is bounded on its own: the run of bytes it may take starts afresh.
            self.xml.get_mut().run = 0;
            let (ns, event) = match self.xml.read_resolved_event_into(&mut buf) {
                Ok((ns, ev)) => (resolve(&ns), ev),
                Err(e) => return Err(self.xml_error(e)),
            };
            match event {
                Event::Start(ref start) | Event::Empty(ref start) => {
                    let empty = matches!(event, Event::Empty(_));
                    if root_closed {
                        return Err(ReadError::NotXml(
                            "there is an element after the packet's root element".into(),
                        ));
                    }
                    let local = start.local_name().as_ref().to_string();
                    let ns_kind = match &ns {
                        Resolved::Ours => Ns::Edxml,
                        Resolved::Unknown(prefix) => {
                            self.note(format!(
                                "the prefix {}: is not declared; {} read as edXML",
                                short(prefix),
                                short(&local)
                            ));
                            Ns::Edxml
                        }
                        Resolved::Other(uri) => {
                            if !seen_root && uri == "http://www.go.vn/eDoc" {
                                return Err(ReadError::LegacyFormat);
                            }
                            Ns::Foreign
                        }
                    };
                    if !seen_root {
                        seen_root = true;
                        if ns_kind != Ns::Edxml || (local != "edXML" && local != "edXMLEnvelope") {
                            if local.eq_ignore_ascii_case("edXMLEnvelope") {
                                return Err(ReadError::LegacyFormat);
                            }
                            return Err(ReadError::NotEdxml(format!(
                                "the root element is {}, not edXML",
                                short(&local)
                            )));
                        }
                    }
                    self.elements += 1;
                    if self.elements > self.limits.max_elements {
                        return Err(ReadError::TooManyElements(self.limits.max_elements));
                    }
                    if self.stack.len() >= self.limits.max_depth {
                        return Err(ReadError::TooDeep(self.limits.max_depth));
                    }
                    self.text.clear();
                    self.start(&local, ns_kind, start)?;
                    self.stack.push((local.clone(), ns_kind));
                    if empty {
                        self.close()?;
                    } else if ns_kind == Ns::Edxml
                        && local == "ContentTransferEncoded"
                        && self.in_signature == 0
                        && self.attachment.is_some()
                    {
                        self.stream_content()?;
                        self.stack.pop();
                    }
                    root_closed = self.stack.is_empty();
                }
                Event::End(_) => {
                    self.close()?;
                    root_closed = self.stack.is_empty();
                }
                Event::Text(t) => {
                    let s = t.xml10_content();
                    if root_closed || !seen_root {
                        if !s.trim().is_empty() {
                            return Err(ReadError::NotXml(
                                "there is text outside the packet's root element".into(),
                            ));
                        }
                        continue;
                    }
                    self.push_text(&s)?;
                }
                Event::CData(c) => {
                    if root_closed || !seen_root {
                        return Err(ReadError::NotXml(
                            "there is text outside the packet's root element".into(),
                        ));
                    }
                    let s = c.xml10_content();
                    self.push_text(&s)?;
                }
                Event::GeneralRef(r) => {
                    if root_closed || !seen_root {
                        return Err(ReadError::NotXml(
                            "there is text outside the packet's root element".into(),
                        ));
                    }
                    let c = resolve_reference(&r)?;
                    let mut tmp = [0u8; 4];
                    self.push_text(c.encode_utf8(&mut tmp))?;
                }
                Event::DocType(_) => return Err(ReadError::Dtd),
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => break,
            }
        }
        if !seen_root {
            return Err(ReadError::NotXml("the packet holds no element".into()));
        }
        if !self.stack.is_empty() {
            return Err(ReadError::NotXml(
                "the packet ends before its elements close".into(),
            ));
        }
        self.finish()
    }

    /// The current element ends.
    fn close(&mut self) -> Result<(), ReadError> {
        let Some((local, ns_kind)) = self.stack.pop() else {
            return Err(ReadError::NotXml("an end tag without its start".into()));
        };
        let text = std::mem::take(&mut self.text);
        let kept = text.trim();
        self.metadata += kept.len() as u64;
        if self.metadata > self.limits.max_metadata {
            return Err(ReadError::TooMuchText(self.limits.max_metadata));
        }
        self.end(&local, ns_kind, kept)
    }

    fn push_text(&mut self, s: &str) -> Result<(), ReadError> {
        if self.text.len() + s.len() > self.limits.max_token as usize {
            return Err(ReadError::TokenTooLong(self.limits.max_token));
        }
        self.text.push_str(s);
        Ok(())
    }

    fn parent(&self) -> Option<&str> {
        self.stack
            .last()
            .filter(|(_, ns)| *ns == Ns::Edxml)
            .map(|(n, _)| n.as_str())
    }

    fn grandparent(&self) -> Option<&str> {
        let n = self.stack.len();
        (n >= 2)
            .then(|| &self.stack[n - 2])
            .filter(|(_, ns)| *ns == Ns::Edxml)
            .map(|(n, _)| n.as_str())
    }

    fn within(&self, name: &str) -> bool {
        self.stack
            .iter()
            .any(|(n, ns)| *ns == Ns::Edxml && n == name)
    }

    fn start(
        &mut self,
        local: &str,
        ns: Ns,
        start: &quick_xml::events::BytesStart<'_>,
    ) -> Result<(), ReadError> {
        if local == "Signature" || local == "DigitalSignature" {
            if self.in_signature == 0 {
                let namespace = match ns {
                    Ns::Edxml => NAMESPACE.to_string(),
                    Ns::Foreign => {
                        let (r, _) = self.xml.resolver().resolve_element(start.name());
                        match r {
                            ResolveResult::Bound(n) => n.as_ref().to_string(),
                            _ => String::new(),
                        }
                    }
                };
                self.doc.signature = Some(PacketSignature {
                    namespace,
                    ..PacketSignature::default()
                });
            }
            self.in_signature += 1;
            return Ok(());
        }
        if self.in_signature > 0 || ns != Ns::Edxml {
            if self.in_signature == 0 && self.stack.iter().all(|(_, n)| *n == Ns::Edxml) {
                self.note(format!(
                    "an element {} of another namespace was skipped",
                    short(local)
                ));
            }
            return Ok(());
        }
        let parent = self.parent().unwrap_or_default().to_string();
        match (parent.as_str(), local) {
            ("MessageHeader", "To") => self.doc.header.to.push(Organ::default()),
            ("MessageHeader", "ResponseFor") => {
                self.doc.header.response_for.push(ResponseFor::default())
            }
            // Entries of a list are opened wherever they stand, so that their fields never
            // land in the entry before them.
            (_, "TraceHeader") => self.doc.trace.push(TraceHeader::default()),
            (_, "BussinessDocumentInfo" | "BusinessDocumentInfo") => {
                self.doc.business.document_info = Some(DocumentInfo::default())
            }
            (_, "Receiver") => self
                .doc
                .business
                .document_info
                .get_or_insert_with(DocumentInfo::default)
                .receivers
                .push(Receiver::default()),
            (_, "ReplacementInfo") => self
                .doc
                .business
                .replacements
                .push(ReplacementInfo::default()),
            (_, "Reference") if self.within("edXMLManifest") => {
                let mut reference = Attachment::default();
                for a in start.attributes().flatten() {
                    if a.key.local_name().as_ref() == "href" {
                        let v = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .unwrap_or_default();
                        reference.content_id = strip_cid(&v).to_string();
                    }
                }
                self.manifest.push(reference);
            }
            (_, "Attachment") if !self.within("edXMLManifest") => {
                if self.attachment.is_some() {
                    return Err(ReadError::NotEdxml(
                        "an attachment begins inside another".into(),
                    ));
                }
                if self.doc.attachments.len() >= self.limits.max_attachments {
                    return Err(ReadError::TooManyAttachments(self.limits.max_attachments));
                }
                self.attachment = Some((Attachment::default(), false));
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, local: &str, ns: Ns, text: &str) -> Result<(), ReadError> {
        if local == "Signature" || local == "DigitalSignature" {
            self.in_signature = self.in_signature.saturating_sub(1);
            return Ok(());
        }
        if self.in_signature > 0 {
            if let Some(sig) = self.doc.signature.as_mut() {
                match local {
                    "SignatureValue" if !text.is_empty() => sig.signed = true,
                    "X509Certificate" if sig.certificate.is_empty() => {
                        sig.certificate = text.split_whitespace().collect()
                    }
                    _ => {}
                }
            }
            return Ok(());
        }
        if ns != Ns::Edxml {
            return Ok(());
        }
        let parent = self.parent().unwrap_or_default().to_string();
        let grandparent = self.grandparent().unwrap_or_default().to_string();
        if self.container_end(local, &parent, text) {
            return Ok(());
        }
        let t = || text.to_string();
        let known = match (parent.as_str(), local) {
            ("From", field) if grandparent == "MessageHeader" => {
                organ_field(&mut self.doc.header.from, field, text)
            }
            ("To", field) if grandparent == "MessageHeader" => {
                match self.doc.header.to.last_mut() {
                    Some(o) => organ_field(o, field, text),
                    None => false,
                }
            }
            ("Code", "CodeNumber") if grandparent == "MessageHeader" => {
                self.doc.header.code.number = t();
                true
            }
            ("Code", "CodeNotation") if grandparent == "MessageHeader" => {
                self.doc.header.code.notation = t();
                true
            }
            ("Code", "CodeNumber" | "CodeNotation") if grandparent == "ResponseFor" => {
                if let Some(r) = self.doc.header.response_for.last_mut() {
                    r.code = if r.code.is_empty() {
                        t()
                    } else {
                        format!("{}/{}", r.code, text)
                    };
                }
                true
            }
            ("PromulgationInfo", "Place") => {
                self.doc.header.promulgation_place = t();
                true
            }
            ("PromulgationInfo", "PromulgationDate") => {
                self.doc.header.promulgation_date = self.date("PromulgationDate", text);
                true
            }
            ("DocumentType", "Type") => {
                self.doc.header.document_type.code = t();
                true
            }
            ("DocumentType", "TypeName") => {
                self.doc.header.document_type.name = t();
                true
            }
            ("DocumentType", "TypeDetail") => {
                self.doc.header.document_type.detail = t();
                true
            }
            ("SignerInfo", "Competence") => {
                self.doc.header.signer.competence = t();
                true
            }
            ("SignerInfo", "Position") => {
                self.doc.header.signer.position = t();
                true
            }
            ("SignerInfo", "FullName") => {
                self.doc.header.signer.full_name = t();
                true
            }
            ("ToPlaces", "Place") => {
                if !text.is_empty() {
                    self.doc.header.to_places.push(t());
                }
                true
            }
            ("OtherInfo", field) => self.other_info(field, text),
            ("Appendixes", "Appendix") => {
                if !text.is_empty() {
                    self.doc.header.other_info.appendixes.push(t());
                }
                true
            }
            ("ResponseFor", field) if grandparent == "MessageHeader" => {
                let date = (field == "PromulgationDate")
                    .then(|| self.date("ResponseFor/PromulgationDate", text))
                    .flatten();
                match self.doc.header.response_for.last_mut() {
                    Some(r) => match field {
                        "OrganId" => {
                            r.organ_id = t();
                            true
                        }
                        "Code" => {
                            if !text.is_empty() {
                                r.code = t();
                            }
                            true
                        }
                        "PromulgationDate" => {
                            r.promulgation_date = date;
                            true
                        }
                        "DocumentId" => {
                            r.document_id = t();
                            true
                        }
                        _ => false,
                    },
                    None => false,
                }
            }
            ("MessageHeader", field) => self.header_field(field, text),
            ("TraceHeader", "OrganId") => {
                if let Some(h) = self.doc.trace.last_mut() {
                    h.organ_id = (!text.is_empty()).then(t);
                }
                true
            }
            ("TraceHeader", "Timestamp") => {
                let ts = self.timestamp("TraceHeader/Timestamp", text);
                if let Some(h) = self.doc.trace.last_mut() {
                    h.timestamp = ts;
                }
                true
            }
            ("Bussiness" | "Business", field) => self.business_field(field, text),
            ("StaffInfo", field) => {
                let staff = if grandparent == "MessageHeader" {
                    &mut self.status_staff
                } else {
                    &mut self.doc.business.staff
                };
                staff_field(staff, field, text)
            }
            ("BussinessDocumentInfo" | "BusinessDocumentInfo", field) => {
                match self.doc.business.document_info.as_mut() {
                    Some(info) => match field {
                        "DocumentInfo" => {
                            info.document_info = t();
                            true
                        }
                        "DocumentReceiver" => {
                            info.document_receiver = t();
                            true
                        }
                        _ => false,
                    },
                    None => false,
                }
            }
            ("Receiver", field) => match self
                .doc
                .business
                .document_info
                .as_mut()
                .and_then(|i| i.receivers.last_mut())
            {
                Some(r) => match field {
                    "ReceiverType" => {
                        r.receiver_type = t();
                        true
                    }
                    "OrganId" => {
                        r.organ_id = t();
                        true
                    }
                    _ => false,
                },
                None => false,
            },
            ("ReplacementInfo", "DocumentId") => {
                if let Some(r) = self.doc.business.replacements.last_mut() {
                    r.document_id = t();
                }
                true
            }
            ("OrganIdList", "OrganId") if grandparent == "ReplacementInfo" => {
                if let Some(r) = self.doc.business.replacements.last_mut()
                    && !text.is_empty()
                {
                    r.organ_ids.push(t());
                }
                true
            }
            ("Reference", field) if self.within("edXMLManifest") => {
                match self.manifest.last_mut() {
                    Some(a) => attachment_field(a, field, text),
                    None => false,
                }
            }
            ("Attachment", field) => match self.attachment.as_mut() {
                Some((a, _)) => attachment_field(a, field, text),
                None => false,
            },
            _ => false,
        };
        if !known {
            let where_ = if parent.is_empty() {
                String::new()
            } else {
                format!(" in {}", short(&parent))
            };
            self.note(format!(
                "an unknown element {}{where_} was kept out",
                short(local)
            ));
        }
        Ok(())
    }

    /// Handles the end of an element that holds others; false when `local` is a leaf here.
    fn container_end(&mut self, local: &str, parent: &str, text: &str) -> bool {
        match local {
            "ResponseFor" => {
                if self
                    .doc
                    .header
                    .response_for
                    .last()
                    .is_some_and(ResponseFor::is_empty)
                {
                    self.doc.header.response_for.pop();
                }
            }
            "Attachment" if self.attachment.is_some() => {
                if let Some((a, had_content)) = self.attachment.take() {
                    if !had_content {
                        // Kept so that the manifest and the attachments still line up.
                        self.note(format!(
                            "attachment {} ({}) has no content",
                            self.doc.attachments.len(),
                            short(&a.name)
                        ));
                    }
                    self.doc.attachments.push(a);
                }
            }
            "Code" if parent == "MessageHeader" => {
                // Some senders write the code as one string, `7816/VPCP-TTĐT`.
                let code = &mut self.doc.header.code;
                if !text.is_empty() && code.number.is_empty() && code.notation.is_empty() {
                    let (number, notation) = text.split_once('/').unwrap_or((text, ""));
                    code.number = number.trim().to_string();
                    code.notation = notation.trim().to_string();
                }
            }
            "Code" => return false,
            "edXML"
            | "edXMLEnvelope"
            | "edXMLHeader"
            | "edXMLBody"
            | "edXMLManifest"
            | "MessageHeader"
            | "From"
            | "To"
            | "PromulgationInfo"
            | "DocumentType"
            | "SignerInfo"
            | "ToPlaces"
            | "OtherInfo"
            | "Appendixes"
            | "TraceHeaderList"
            | "TraceHeader"
            | "Bussiness"
            | "Business"
            | "StaffInfo"
            | "ReceiverList"
            | "Receiver"
            | "ReplacementInfoList"
            | "ReplacementInfo"
            | "OrganIdList"
            | "Reference"
            | "AttachmentEncoded"
            | "BussinessDocumentInfo"
            | "BusinessDocumentInfo"
            | "ContentTransferEncoded" => {}
            _ => return false,
        }
        true
    }

    fn header_field(&mut self, field: &str, text: &str) -> bool {
        let h = &mut self.doc.header;
        match field {
            "Subject" => h.subject = text.to_string(),
            "Content" => h.content = text.to_string(),
            "DueDate" => {
                let d = self.date("DueDate", text);
                self.doc.header.due_date = d;
            }
            "SteeringType" => h.steering_type = text.to_string(),
            "DocumentId" => h.document_id = text.to_string(),
            "StatusCode" => self.status_code = Some(text.to_string()),
            "Description" => self.status_description = text.to_string(),
            "Timestamp" => self.status_timestamp = Some(text.to_string()),
            _ => return false,
        }
        true
    }

    fn other_info(&mut self, field: &str, text: &str) -> bool {
        let o = &mut self.doc.header.other_info;
        match field {
            "Priority" => o.priority = Priority::from_wire(text),
            "SphereOfPromulgation" => o.sphere_of_promulgation = text.to_string(),
            "TyperNotation" => o.typer_notation = text.to_string(),
            "PromulgationAmount" => o.promulgation_amount = text.parse().ok(),
            "PageAmount" => o.page_amount = text.parse().ok(),
            "Direction" => o.direction = parse_bool(text),
            "Appendix" => {
                if !text.is_empty() {
                    o.appendixes.push(text.to_string())
                }
            }
            _ => return false,
        }
        true
    }

    fn business_field(&mut self, field: &str, text: &str) -> bool {
        let b = &mut self.doc.business;
        match field {
            "BussinessDocType" | "BusinessDocType" => b.action = BusinessAction::from_wire(text),
            "BussinessDocReason" | "BusinessDocReason" => b.reason = text.to_string(),
            "DocumentId" => b.document_id = text.to_string(),
            "Paper" => b.paper = parse_bool(text),
            _ => return false,
        }
        true
    }

    fn date(&mut self, field: &str, text: &str) -> Option<time::Date> {
        if text.is_empty() {
            return None;
        }
        let d = parse_date(text);
        if d.is_none() {
            self.note(format!(
                "{field} {} is not a date; it was left out",
                short(text)
            ));
        }
        d
    }

    fn timestamp(&mut self, field: &str, text: &str) -> Option<time::PrimitiveDateTime> {
        if text.is_empty() {
            return None;
        }
        let d = parse_timestamp(text);
        if d.is_none() {
            self.note(format!(
                "{field} {} is not a time; it was left out",
                short(text)
            ));
        }
        d
    }

    /// Streams the base64 content of the current attachment into the sink: the text is read
    /// straight from the source (the XML parser never buffers it), character references to
    /// line breaks are skipped, comments are allowed, and so are CDATA sections — each of those
    /// read whole by the parser, so within the limit on one event.
    fn stream_content(&mut self) -> Result<(), ReadError> {
        let index = self.doc.attachments.len();
        let Some((_, had)) = self.attachment.as_mut() else {
            return Ok(());
        };
        if *had {
            return Err(ReadError::AttachmentContentTwice(index));
        }
        *had = true;
        self.sink.begin(index).map_err(ReadError::Sink)?;
        self.began = true;
        let mut decoder = Base64Stream::new(index, self.limits.max_attachment);
        let mut buf = Vec::new();
        loop {
            self.stream_text(&mut decoder)?;
            buf.clear();
            let event = match self.xml.read_event_into(&mut buf) {
                Ok(e) => e,
                Err(e) => return Err(self.xml_error(e)),
            };
            match event {
                Event::End(_) => break,
                Event::CData(c) => decoder.feed(c.xml10_content().as_bytes(), self.sink)?,
                Event::Text(t) => decoder.feed(t.xml10_content().as_bytes(), self.sink)?,
                Event::Comment(_) | Event::PI(_) => {}
                Event::GeneralRef(r) => {
                    if !resolve_reference(&r)?.is_whitespace() {
                        return Err(not_base64(index, "it holds a character reference"));
                    }
                }
                Event::Eof => {
                    return Err(ReadError::NotXml(
                        "the packet ends inside an attachment".into(),
                    ));
                }
                _ => return Err(not_base64(index, "it holds an element")),
            }
        }
        let (size, sha256, zip) = decoder.finish(self.sink)?;
        let stored = self.sink.finish().map_err(ReadError::Sink)?;
        if let Some((a, _)) = self.attachment.as_mut() {
            a.size = size;
            a.sha256 = sha256;
            a.zip = zip;
            a.stored = stored;
        }
        Ok(())
    }

    /// Feeds the text up to the next `<` from the source into the decoder.
    fn stream_text(&mut self, decoder: &mut Base64Stream) -> Result<(), ReadError> {
        let index = decoder.index;
        self.xml.get_mut().raw = true;
        let result = loop {
            let src = self.xml.get_mut();
            let available = match src.fill_buf() {
                Ok(b) => b,
                Err(e) => {
                    break Err(src.broken.take().unwrap_or(ReadError::Io(e)));
                }
            };
            if available.is_empty() {
                break Err(ReadError::NotXml(
                    "the packet ends inside an attachment".into(),
                ));
            }
            match available.iter().position(|&b| b == b'<' || b == b'&') {
                None => {
                    let n = available.len();
                    decoder.feed(available, self.sink)?;
                    src.consume(n);
                }
                Some(i) => {
                    let at = available[i];
                    decoder.feed(&available[..i], self.sink)?;
                    src.consume(i);
                    if at == b'<' {
                        break Ok(());
                    }
                    // A character reference: `&#13;`, `&#xA;` and the like are line breaks
                    // some writers escape; anything else has no place in base64.
                    let mut reference = Vec::new();
                    let ended = loop {
                        let b = match src.fill_buf() {
                            Ok(b) => b,
                            Err(e) => break Err(src.broken.take().unwrap_or(ReadError::Io(e))),
                        };
                        let Some(&c) = b.first() else {
                            break Err(ReadError::NotXml(
                                "the packet ends inside an attachment".into(),
                            ));
                        };
                        src.consume(1);
                        reference.push(c);
                        if c == b';' || reference.len() > 12 {
                            break Ok(());
                        }
                    };
                    if let Err(e) = ended {
                        break Err(e);
                    }
                    if !char_reference(&reference).is_some_and(char::is_whitespace) {
                        break Err(not_base64(
                            index,
                            format!("it holds {}", short(&String::from_utf8_lossy(&reference))),
                        ));
                    }
                }
            }
        };
        let src = self.xml.get_mut();
        src.raw = false;
        src.run = 0;
        result
    }

    fn finish(&mut self) -> Result<Reading, ReadError> {
        let src = self.xml.get_mut();
        let size = src.total;
        let sha256 = hex::encode(std::mem::take(&mut src.hasher).finalize());
        let from = std::mem::take(&mut self.doc.header.from);
        if from.organ_id.is_empty() {
            return Err(ReadError::MissingFrom);
        }
        let packet = if let Some(code) = self.status_code.take() {
            if code.is_empty() {
                return Err(ReadError::MissingStatusCode);
            }
            let response_for = self
                .doc
                .header
                .response_for
                .drain(..)
                .find(|r| !r.document_id.is_empty())
                .ok_or(ReadError::MissingDocumentId)?;
            let timestamp = match self.status_timestamp.take() {
                Some(t) => self.timestamp("Timestamp", &t),
                None => None,
            };
            Packet::Status(Box::new(StatusPacket {
                from,
                response_for,
                staff: std::mem::take(&mut self.status_staff),
                status: StatusCode::from_wire(&code),
                description: std::mem::take(&mut self.status_description),
                timestamp,
            }))
        } else {
            if self.doc.header.document_id.is_empty() {
                return Err(ReadError::MissingDocumentId);
            }
            let mut doc = std::mem::take(&mut self.doc);
            doc.header.from = from;
            // The manifest describes the attachments: fill in what the attachment block left
            // out, matching on the content id (with or without `cid:`) first, then an
            // attachment without one takes the first entry no attachment matched.
            let mut used = vec![false; self.manifest.len()];
            let mut matched = vec![None; doc.attachments.len()];
            for (i, a) in doc.attachments.iter().enumerate() {
                if a.content_id.is_empty() {
                    continue;
                }
                if let Some(j) = (0..self.manifest.len())
                    .find(|&j| !used[j] && self.manifest[j].content_id == a.content_id)
                {
                    used[j] = true;
                    matched[i] = Some(j);
                }
            }
            for (i, a) in doc.attachments.iter().enumerate() {
                if a.content_id.is_empty()
                    && let Some(j) = (0..self.manifest.len()).find(|&j| !used[j])
                {
                    used[j] = true;
                    matched[i] = Some(j);
                }
            }
            let mut unlisted = Vec::new();
            for (a, m) in doc.attachments.iter_mut().zip(&matched) {
                match m {
                    Some(j) => {
                        let m = &self.manifest[*j];
                        fill(&mut a.name, &m.name);
                        fill(&mut a.content_type, &m.content_type);
                        fill(&mut a.description, &m.description);
                        fill(&mut a.content_id, &m.content_id);
                    }
                    None => unlisted.push(a.name.clone()),
                }
            }
            let missing: Vec<String> = self
                .manifest
                .iter()
                .zip(&used)
                .filter(|(_, u)| !**u)
                .map(|(m, _)| m.name.clone())
                .collect();
            for name in unlisted {
                self.note(format!(
                    "attachment {} is not in the manifest",
                    short(&name)
                ));
            }
            for name in missing {
                self.note(format!(
                    "the manifest lists {}, which is not attached",
                    short(&name)
                ));
            }
            Packet::Document(Box::new(doc))
        };
        Ok(Reading {
            packet,
            notes: std::mem::take(&mut self.notes),
            size,
            sha256,
        })
    }
}

/// A value quoted in a note: at most 80 characters, control characters shown.
fn short(s: &str) -> String {
    short_to(&format!("{:?}", s.chars().take(81).collect::<String>()), 90)
}

fn short_to(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

fn fill(target: &mut String, from: &str) {
    if target.is_empty() {
        *target = from.to_string();
    }
}

fn not_base64(index: usize, reason: impl Into<String>) -> ReadError {
    ReadError::AttachmentNotBase64 {
        index,
        reason: reason.into(),
    }
}

enum Resolved {
    Ours,
    Unknown(String),
    Other(String),
}

fn resolve(r: &ResolveResult<'_>) -> Resolved {
    match r {
        ResolveResult::Unbound => Resolved::Ours,
        ResolveResult::Bound(ns) => {
            let uri = ns.as_ref().trim_end_matches('/');
            if uri == NAMESPACE || uri == LEGACY_NAMESPACE.trim_end_matches('/') {
                Resolved::Ours
            } else {
                Resolved::Other(ns.as_ref().to_string())
            }
        }
        ResolveResult::Unknown(p) => Resolved::Unknown(p.clone()),
    }
}

fn resolve_reference(r: &quick_xml::events::BytesRef<'_>) -> Result<char, ReadError> {
    if let Some(c) = r
        .resolve_char_ref()
        .map_err(|e| ReadError::NotXml(e.to_string()))?
    {
        return Ok(c);
    }
    match r.xml10_content().as_ref() {
        "amp" => Ok('&'),
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        other => Err(ReadError::NotXml(format!(
            "the entity &{other}; is not defined (packets may not declare entities)"
        ))),
    }
}

/// The character of a numeric reference (`&#13;`, `&#x0D;`), if it is one.
fn char_reference(r: &[u8]) -> Option<char> {
    let body = r.strip_prefix(b"&#")?.strip_suffix(b";")?;
    let body = std::str::from_utf8(body).ok()?;
    let code = match body.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => body.parse().ok()?,
    };
    char::from_u32(code)
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}

fn strip_cid(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix("cid:")
        .or_else(|| s.strip_prefix("CID:"))
        .unwrap_or(s)
}

fn organ_field(o: &mut Organ, field: &str, text: &str) -> bool {
    let target = match field {
        "OrganId" => &mut o.organ_id,
        "OrganizationInCharge" | "OrganInCharge" => &mut o.organization_in_charge,
        "OrganName" => &mut o.organ_name,
        "OrganAdd" => &mut o.organ_add,
        "Email" => &mut o.email,
        "Telephone" => &mut o.telephone,
        "Fax" => &mut o.fax,
        "Website" => &mut o.website,
        _ => return false,
    };
    *target = text.to_string();
    true
}

fn staff_field(s: &mut StaffInfo, field: &str, text: &str) -> bool {
    let target = match field {
        "Department" => &mut s.department,
        "Staff" => &mut s.staff,
        "Mobile" => &mut s.mobile,
        "Email" => &mut s.email,
        _ => return false,
    };
    *target = text.to_string();
    true
}

fn attachment_field(a: &mut Attachment, field: &str, text: &str) -> bool {
    match field {
        "AttachmentName" => a.name = text.to_string(),
        "ContentType" => a.content_type = text.to_string(),
        "ContentId" => a.content_id = strip_cid(text).to_string(),
        "Description" => a.description = text.to_string(),
        "ContentTransferEncoded" => {}
        _ => return false,
    }
    true
}

/// Base64 decoded in chunks as it streams past: whitespace skipped, padding only at the end
/// (and tolerated when missing), the decoded bytes hashed, counted and handed on.
struct Base64Stream {
    index: usize,
    max: u64,
    pending: Vec<u8>,
    out: Vec<u8>,
    padded: bool,
    size: u64,
    head: Vec<u8>,
    hasher: Sha256,
}

const CHUNK: usize = 64 * 1024;

const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

impl Base64Stream {
    fn new(index: usize, max: u64) -> Self {
        Base64Stream {
            index,
            max,
            pending: Vec::with_capacity(CHUNK + 4),
            out: Vec::with_capacity(CHUNK),
            padded: false,
            size: 0,
            head: Vec::with_capacity(4),
            hasher: Sha256::new(),
        }
    }

    fn feed(&mut self, text: &[u8], sink: &mut dyn AttachmentSink) -> Result<(), ReadError> {
        // Runs of base64 between line breaks are copied whole.
        let mut rest = text;
        while !rest.is_empty() {
            let start = rest
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(rest.len());
            rest = &rest[start..];
            let end = rest
                .iter()
                .position(|b| b.is_ascii_whitespace())
                .unwrap_or(rest.len());
            let mut run = &rest[..end];
            rest = &rest[end..];
            while !run.is_empty() {
                if self.padded && run.iter().any(|&b| b != b'=') {
                    return Err(not_base64(self.index, "data follows its padding"));
                }
                let take = (CHUNK - self.pending.len()).min(run.len());
                self.pending.extend_from_slice(&run[..take]);
                run = &run[take..];
                if self.pending.len() >= CHUNK {
                    self.flush(false, sink)?;
                }
            }
        }
        Ok(())
    }

    fn flush(&mut self, last: bool, sink: &mut dyn AttachmentSink) -> Result<(), ReadError> {
        let take = if last {
            self.pending.len()
        } else {
            self.pending.len() / 4 * 4
        };
        if take == 0 {
            return Ok(());
        }
        let chunk = &self.pending[..take];
        if !last && chunk.last() == Some(&b'=') {
            self.padded = true;
        }
        self.out.clear();
        ENGINE
            .decode_vec(chunk, &mut self.out)
            .map_err(|e| not_base64(self.index, e.to_string()))?;
        self.pending.drain(..take);
        self.size += self.out.len() as u64;
        if self.size > self.max {
            return Err(ReadError::AttachmentTooLarge {
                index: self.index,
                max: self.max,
            });
        }
        if self.head.len() < 4 {
            let n = (4 - self.head.len()).min(self.out.len());
            self.head.extend_from_slice(&self.out[..n]);
        }
        self.hasher.update(&self.out);
        sink.write(&self.out).map_err(ReadError::Sink)
    }

    fn finish(mut self, sink: &mut dyn AttachmentSink) -> Result<(u64, String, bool), ReadError> {
        self.flush(true, sink)?;
        let zip = crate::unzip::is_zip(&self.head);
        Ok((self.size, hex::encode(self.hasher.finalize()), zip))
    }
}
