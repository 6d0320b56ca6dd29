//! The packet layer end to end: the fixture corpus read as stated; the common form written
//! back byte for byte; everything the writer emits read back identically and accepted by
//! xmllint against the schema; what the writer refuses; and bad input of every kind answered
//! with a clear error, within bounds.

mod common;

use std::io::{Cursor, Read, Write};
use std::path::Path;
use std::process::Command;

use common::{assert_reads_as, corpus};
use egov_edxml::unzip::{EntrySink, ZipLimits, unzip};
use egov_edxml::*;
use proptest::prelude::*;
use time::macros::{date, datetime};

fn schema() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/edxml.xsd")
}

/// xmllint's verdict on a packet against our schema (the test fails when xmllint is missing:
/// `scripts/test.sh` installs it).
fn xmllint(bytes: &[u8]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("packet.edxml");
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(schema())
        .arg(&path)
        .output()
        .expect("xmllint is needed to judge the packets (Debian: apt-get install libxml2-utils)");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn read_mem(bytes: &[u8]) -> Result<(Reading, MemorySink), ReadError> {
    let mut sink = MemorySink::default();
    let r = read_slice(bytes, &Limits::default(), &mut sink)?;
    Ok((r, sink))
}

/// Writes a packet back from its reading (the attachments' bytes from the sink).
fn write_back(reading: &Reading, sink: &MemorySink) -> Vec<u8> {
    match &reading.packet {
        Packet::Document(d) => {
            let contents: Vec<&[u8]> = sink.files.iter().map(|f| f.as_slice()).collect();
            document_to_vec(d, &contents).unwrap()
        }
        Packet::Status(s) => status_to_vec(s).unwrap(),
    }
}

#[test]
fn the_fixture_corpus_reads_as_stated() {
    let corpus = corpus("fixtures");
    assert!(corpus.len() >= 13);
    for (name, bytes, expect) in &corpus {
        let summary = assert_reads_as(name, bytes, expect);
        assert!(summary.notes.is_empty(), "{name}: {:?}", summary.notes);
    }
}

#[test]
fn the_common_form_is_written_back_byte_for_byte_and_the_schema_accepts_it() {
    for (name, bytes, _) in corpus("fixtures") {
        let (reading, sink) = read_mem(&bytes).unwrap();
        let written = write_back(&reading, &sink);
        assert_eq!(
            String::from_utf8_lossy(&written),
            String::from_utf8_lossy(&bytes),
            "{name}: the writer's output is the fixture's common form"
        );
        xmllint(&written).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn every_business_action_and_status_is_written_as_the_fixtures_show() {
    // Built from scratch, not from a reading: the writer's own output for each action and
    // status, compared field by field with the fixture's reading.
    let base = || {
        let (r, _) = read_mem(&std::fs::read(fixture("common_new")).unwrap()).unwrap();
        let Packet::Document(d) = r.packet else {
            unreachable!()
        };
        *d
    };
    for (name, action) in [
        ("common_revocation", BusinessAction::Revocation),
        ("common_update", BusinessAction::Update),
        ("common_replacement", BusinessAction::Replacement),
    ] {
        let (want, _) = read_mem(&std::fs::read(fixture(name)).unwrap()).unwrap();
        let Packet::Document(want) = want.packet else {
            unreachable!()
        };
        let mut doc = base();
        doc.business = want.business.clone();
        doc.header = want.header.clone();
        doc.trace = want.trace.clone();
        doc.attachments = want.attachments.clone();
        assert_eq!(doc.business.action, action);
        let contents: Vec<&[u8]> = if doc.attachments.is_empty() {
            vec![]
        } else {
            vec![FIXTURE_PDF]
        };
        let written = document_to_vec(&doc, &contents).unwrap();
        xmllint(&written).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (got, _) = read_mem(&written).unwrap();
        let Packet::Document(got) = got.packet else {
            panic!("{name}: a document")
        };
        assert_eq!(got.header, want.header, "{name}: header");
        assert_eq!(got.business, want.business, "{name}: business");
        assert_eq!(got.trace, want.trace, "{name}: trace");
        assert_eq!(got.attachments, want.attachments, "{name}: attachments");
    }
    for code in StatusCode::KNOWN {
        let name = format!("common_status_{}", code.wire());
        let (want, _) = read_mem(&std::fs::read(fixture(&name)).unwrap()).unwrap();
        let Packet::Status(want) = want.packet else {
            panic!("{name}: a status")
        };
        let status = StatusPacket {
            from: want.from.clone(),
            response_for: want.response_for.clone(),
            staff: want.staff.clone(),
            status: code.clone(),
            description: want.description.clone(),
            timestamp: want.timestamp,
        };
        let written = status_to_vec(&status).unwrap();
        xmllint(&written).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(read_mem(&written).unwrap().0.packet, Packet::Status(want));
    }
}

const FIXTURE_PDF: &[u8] = b"%PDF-1.4\n% egov fixture: Cong van 1234/UBND-VP\n%%EOF\n";

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}.edxml"))
}

/// A minimal valid document packet of ours.
fn ours() -> DocumentPacket {
    let code = DocumentCode {
        number: "15".into(),
        notation: "SNV-VP".into(),
    };
    DocumentPacket {
        header: MessageHeader {
            from: Organ::new("000.00.12.H56", "Sở Nội vụ tỉnh Thanh Hóa"),
            to: vec![Organ::new("000.00.00.G09", "Bộ Nội vụ")],
            document_id: document_id("000.00.12.H56", date!(2026 - 12 - 07), &code),
            code,
            promulgation_date: Some(date!(2026 - 12 - 07)),
            document_type: DocumentType {
                code: "2".into(),
                name: "Công văn".into(),
                detail: String::new(),
            },
            subject: "V/v cử cán bộ tham dự tập huấn".into(),
            steering_type: "0".into(),
            ..MessageHeader::default()
        },
        trace: vec![TraceHeader {
            organ_id: Some("000.00.12.H56".into()),
            timestamp: Some(datetime!(2026-12-07 09:00:00)),
        }],
        ..DocumentPacket::default()
    }
}

#[test]
fn the_writer_refuses_what_a_receiving_system_may_reject() {
    let refused = |doc: DocumentPacket, field: &str| {
        let err = document_to_vec(&doc, &[]).expect_err(field);
        assert_eq!(err.code(), "invalid_packet");
        assert!(err.to_string().contains(field), "{field}: {err}");
    };
    document_to_vec(&ours(), &[]).expect("the minimal packet is written");

    let mut d = ours();
    d.header.from.organ_id = "H56.DN.001".into();
    refused(d, "From/OrganId");
    let mut d = ours();
    d.header.to[0].organ_id = "null".into();
    refused(d, "To/OrganId");
    let mut d = ours();
    d.header.to.clear();
    refused(d, "To");
    let mut d = ours();
    d.header.document_id = "000.00.00.G09,2026/12/07,15/SNV-VP".into();
    refused(d, "DocumentId");
    let mut d = ours();
    d.header.document_id = "000.00.12.H56,07/12/2026,15/SNV-VP".into();
    refused(d, "DocumentId");
    let mut d = ours();
    d.header.subject = "a bell \u{7} rings".into();
    refused(d, "Subject");
    let mut d = ours();
    d.business.action = BusinessAction::Other("9".into());
    refused(d, "BussinessDocType");
    let mut d = ours();
    d.business.action = BusinessAction::Revocation;
    refused(d, "BussinessDocReason");
    let mut d = ours();
    d.business.action = BusinessAction::Replacement;
    d.business.reason = "Thay thế".into();
    refused(d, "ReplacementInfoList");
    let mut d = ours();
    d.header.other_info.priority = Priority::Other("7".into());
    refused(d, "OtherInfo/Priority");
    let mut d = ours();
    d.attachments.push(Attachment {
        name: "a.pdf".into(),
        content_type: "application/pdf".into(),
        content_id: "cid:x".into(),
        ..Attachment::default()
    });
    let err = document_to_vec(&d, &[b"x"]).unwrap_err();
    assert!(err.to_string().contains("without cid:"), "{err}");

    let status = StatusPacket {
        from: Organ::new("000.00.12.H56", "Sở Nội vụ"),
        response_for: ResponseFor {
            organ_id: "000.00.00.G09".into(),
            code: "1/BNV".into(),
            promulgation_date: None,
            document_id: "000.00.00.G09,2026/12/01,1/BNV".into(),
        },
        staff: StaffInfo::default(),
        status: StatusCode::Other("07".into()),
        description: String::new(),
        timestamp: Some(datetime!(2026-12-07 09:00:00)),
    };
    assert!(
        status_to_vec(&status)
            .unwrap_err()
            .to_string()
            .contains("StatusCode")
    );
}

// --- round trip ------------------------------------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    // Vietnamese letters, XML's special characters, inner spaces and line breaks; no edge
    // whitespace (the reader trims).
    proptest::string::string_regex("[A-Za-zĐđƯưÔôẾếỆệ0-9&<>\"'/.,;:()-]([A-Za-zĐđƯưÔôẾếỆệ0-9&<>\"'/.,;:() \n-]{0,40}[A-Za-zĐđ0-9&<>.)])?")
        .unwrap()
}

fn maybe_text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), text()]
}

fn organ_id() -> impl Strategy<Value = String> {
    (1u8..=99, 0u8..=20, prop::sample::select(vec!['G', 'H']))
        .prop_map(|(l1, l2, c)| format!("000.00.{l2:02}.{c}{l1:02}"))
}

fn organ() -> impl Strategy<Value = Organ> {
    (organ_id(), text(), maybe_text(), maybe_text()).prop_map(|(id, name, add, mail)| Organ {
        organ_id: id,
        organ_name: name,
        organ_add: add,
        email: mail,
        ..Organ::default()
    })
}

fn day() -> impl Strategy<Value = time::Date> {
    (2016i32..2030, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| {
        time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap()
    })
}

fn instant() -> impl Strategy<Value = time::PrimitiveDateTime> {
    (day(), 0u8..24, 0u8..60, 0u8..60).prop_map(|(d, h, m, s)| {
        time::PrimitiveDateTime::new(d, time::Time::from_hms(h, m, s).unwrap())
    })
}

prop_compose! {
    fn document()(
        from in organ(),
        to in prop::collection::vec(organ(), 1..4),
        number in "[1-9][0-9]{0,4}",
        notation in "[A-Z]{2,5}-[A-ZĐ]{2,4}",
        promulgated in day(),
        due in prop::option::of(day()),
        subject in text(),
        content in maybe_text(),
        places in prop::collection::vec(text(), 0..3),
        priority in 0u8..4,
        pages in prop::option::of(1u32..500),
        action in 0u8..4,
        reason in text(),
        when in instant(),
        files in prop::collection::vec((text(), prop::collection::vec(any::<u8>(), 0..3000)), 0..3),
    ) -> (DocumentPacket, Vec<Vec<u8>>) {
        let code = DocumentCode { number, notation };
        let action = BusinessAction::from_wire(&action.to_string());
        let mut business = Business {
            action: action.clone(),
            paper: Some(false),
            ..Business::default()
        };
        if action != BusinessAction::New {
            business.reason = reason;
            business.document_id = document_id(&from.organ_id, promulgated, &code);
        }
        if action == BusinessAction::Replacement {
            business.replacements.push(ReplacementInfo {
                document_id: format!("{},2016/01/01,1/OLD", from.organ_id),
                organ_ids: to.iter().map(|o| o.organ_id.clone()).collect(),
            });
        }
        let attachments = files
            .iter()
            .enumerate()
            .map(|(i, (name, _))| Attachment {
                name: format!("{i}-{name}.pdf"),
                content_type: "application/pdf".into(),
                content_id: format!("part-{i}"),
                description: name.clone(),
                ..Attachment::default()
            })
            .collect();
        let doc = DocumentPacket {
            header: MessageHeader {
                document_id: document_id(&from.organ_id, promulgated, &code),
                from: from.clone(),
                to,
                code,
                promulgation_place: "Thanh Hóa".into(),
                promulgation_date: Some(promulgated),
                document_type: DocumentType { code: "2".into(), name: "Công văn".into(), detail: String::new() },
                subject,
                content,
                due_date: due,
                to_places: places,
                other_info: OtherInfo {
                    priority: Priority::from_wire(&priority.to_string()),
                    page_amount: pages,
                    direction: Some(false),
                    ..OtherInfo::default()
                },
                steering_type: "0".into(),
                ..MessageHeader::default()
            },
            trace: vec![TraceHeader { organ_id: Some(from.organ_id), timestamp: Some(when) }],
            business,
            signature: None,
            attachments,
        };
        (doc, files.into_iter().map(|(_, b)| b).collect())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the writer emits, the reader reads back as the same packet, and the schema
    /// accepts it.
    #[test]
    fn what_the_writer_emits_reads_back_identically((doc, files) in document()) {
        let contents: Vec<&[u8]> = files.iter().map(|f| f.as_slice()).collect();
        let bytes = document_to_vec(&doc, &contents).unwrap();
        let (reading, sink) = read_mem(&bytes).unwrap();
        prop_assert!(reading.notes.is_empty(), "{:?}", reading.notes);
        let Packet::Document(got) = reading.packet else { panic!("a document") };
        prop_assert_eq!(&got.header, &doc.header);
        prop_assert_eq!(&got.business, &doc.business);
        prop_assert_eq!(&got.trace, &doc.trace);
        prop_assert_eq!(&sink.files, &files);
        for (a, f) in got.attachments.iter().zip(&files) {
            prop_assert_eq!(a.size, f.len() as u64);
            prop_assert_eq!(&a.name, &doc.attachments[got.attachments.iter().position(|x| x == a).unwrap()].name);
        }
        if let Err(e) = xmllint(&bytes) {
            prop_assert!(false, "xmllint: {}", e);
        }
    }
}

// --- bad input -------------------------------------------------------------------------------

fn refused(bytes: &[u8], limits: &Limits) -> ReadError {
    let mut sink = MemorySink::default();
    let err = read_slice(bytes, limits, &mut sink).expect_err("refused");
    assert!(sink.files.is_empty(), "nothing half-kept: {}", err);
    err
}

fn packet_with(header_extra: &str, attachment: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0"?><edXML xmlns="{NAMESPACE}"><edXMLEnvelope><edXMLHeader><MessageHeader>
        <From><OrganId>000.00.00.G22</OrganId></From><To><OrganId>000.00.00.H56</OrganId></To>
        {header_extra}</MessageHeader></edXMLHeader></edXMLEnvelope>
        <AttachmentEncoded><Attachment><AttachmentName>a.pdf</AttachmentName>
        <ContentTransferEncoded>{attachment}</ContentTransferEncoded></Attachment></AttachmentEncoded></edXML>"#
    )
    .into_bytes()
}

const DOC_ID: &str = "<DocumentId>000.00.00.G22,2026/12/01,1/VPCP</DocumentId>";

#[test]
fn bad_packets_get_a_clear_error() {
    let limits = Limits::default();
    // Sanity: the packet the cases below break is read.
    let (ok, sink) = read_mem(&packet_with(DOC_ID, "JVBERi0=")).unwrap();
    assert_eq!(sink.files, vec![b"%PDF-".to_vec()]);
    assert_eq!(ok.packet.document_id(), "000.00.00.G22,2026/12/01,1/VPCP");

    assert_eq!(refused(b"%PDF-1.4 not a packet", &limits).code(), "not_xml");
    assert_eq!(refused(b"", &limits).code(), "not_xml");
    assert_eq!(
        refused(b"<edXML><unclosed></edXML>", &limits).code(),
        "not_xml"
    );
    assert_eq!(
        refused(b"<html><body>502 Bad Gateway</body></html>", &limits).code(),
        "not_edxml"
    );
    assert_eq!(
        refused(
            br#"<EdXMLEnvelope xmlns="http://www.go.vn/eDoc"><MessageHeader/></EdXMLEnvelope>"#,
            &limits
        )
        .code(),
        "legacy_edoc_format"
    );
    let bomb = br#"<?xml version="1.0"?>
<!DOCTYPE edXML [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<edXML><Subject>&c;</Subject></edXML>"#;
    assert_eq!(refused(bomb, &limits).code(), "dtd_not_allowed");
    let external = br#"<?xml version="1.0"?><!DOCTYPE edXML SYSTEM "file:///etc/passwd"><edXML/>"#;
    assert_eq!(refused(external, &limits).code(), "dtd_not_allowed");
    let undeclared = packet_with(&format!("{DOC_ID}<Subject>&secret;</Subject>"), "");
    assert_eq!(refused(&undeclared, &limits).code(), "not_xml");
    let deep = format!(
        "<edXML>{}{}</edXML>",
        "<a>".repeat(10_000),
        "</a>".repeat(10_000)
    );
    assert_eq!(refused(deep.as_bytes(), &limits).code(), "too_deep");
    let many = format!("<edXML>{}</edXML>", "<x/>".repeat(200_000));
    assert_eq!(
        refused(many.as_bytes(), &limits).code(),
        "too_many_elements"
    );
    let long = packet_with(
        &format!("{DOC_ID}<Subject>{}</Subject>", "x".repeat(2 << 20)),
        "",
    );
    assert_eq!(refused(&long, &limits).code(), "token_too_long");
    assert_eq!(
        refused(&packet_with("", "JVBERi0="), &limits).code(),
        "missing_document_id"
    );
    let no_from = String::from_utf8(packet_with(DOC_ID, "JVBERi0="))
        .unwrap()
        .replace("<From><OrganId>000.00.00.G22</OrganId></From>", "");
    assert_eq!(refused(no_from.as_bytes(), &limits).code(), "missing_from");
    for bad in ["JVBE*i0=", "JVBERi0=QUJD", "<x/>", "&amp;"] {
        let err = refused(&packet_with(DOC_ID, bad), &limits);
        assert_eq!(err.code(), "attachment_not_base64", "{bad}: {err}");
    }
    let small = Limits {
        max_packet: 4096,
        ..Limits::default()
    };
    let big = packet_with(DOC_ID, &"QUJD".repeat(4096));
    assert_eq!(refused(&big, &small).code(), "packet_too_large");
    // What follows the root element is not part of the packet and is not merged into it.
    let mut twice = packet_with(DOC_ID, "JVBERi0=");
    twice.extend_from_slice(
        format!("<edXML xmlns=\"{NAMESPACE}\"><edXMLEnvelope><edXMLHeader><MessageHeader><DocumentId>X</DocumentId></MessageHeader></edXMLHeader></edXMLEnvelope></edXML>").as_bytes(),
    );
    assert_eq!(refused(&twice, &limits).code(), "not_xml");
    let mut trailing = packet_with(DOC_ID, "JVBERi0=");
    trailing.extend_from_slice(b"\n  trailing words\n");
    assert_eq!(refused(&trailing, &limits).code(), "not_xml");
    // One event is bounded whatever it is: text full of `>`, a long comment, a long attribute.
    let small_token = Limits {
        max_token: 64 * 1024,
        ..Limits::default()
    };
    for (what, filler) in [
        (
            "text",
            format!("<Subject>{}</Subject>", "a>".repeat(200_000)),
        ),
        ("comment", format!("<!-- {} -->", "a>".repeat(200_000))),
        (
            "attribute",
            format!("<Subject a=\"{}\">x</Subject>", "a>".repeat(200_000)),
        ),
    ] {
        let err = refused(&packet_with(&format!("{DOC_ID}{filler}"), ""), &small_token);
        assert_eq!(err.code(), "token_too_long", "{what}: {err}");
    }
    // All the texts together are bounded too.
    let small_text = Limits {
        max_metadata: 100_000,
        ..Limits::default()
    };
    let places = format!(
        "{DOC_ID}<ToPlaces>{}</ToPlaces>",
        format!("<Place>{}</Place>", "p".repeat(30_000)).repeat(5)
    );
    assert_eq!(
        refused(&packet_with(&places, ""), &small_text).code(),
        "too_much_text"
    );
    // An attachment inside another is refused; a self-closed content is no content.
    let nested = packet_with(
        DOC_ID,
        "QUJD</ContentTransferEncoded><Attachment><ContentTransferEncoded>REVG</ContentTransferEncoded></Attachment><ContentTransferEncoded>",
    );
    assert_eq!(refused(&nested, &limits).code(), "not_edxml");
    let empty = String::from_utf8(packet_with(DOC_ID, "")).unwrap().replace(
        "<ContentTransferEncoded></ContentTransferEncoded>",
        "<ContentTransferEncoded/>JVBERi0=",
    );
    let (r, sink) = read_mem(empty.as_bytes()).unwrap();
    assert!(
        sink.files.is_empty(),
        "the text after a self-closed content is not the file"
    );
    let Packet::Document(d) = r.packet else {
        panic!()
    };
    assert_eq!(d.attachments[0].size, 0);
    assert!(
        r.notes.iter().any(|n| n.contains("has no content")),
        "{:?}",
        r.notes
    );
    // A code written as one string is read as number and notation.
    let (r, _) = read_mem(&packet_with(
        &format!("{DOC_ID}<Code>7816/VPCP-TTĐT</Code>"),
        "",
    ))
    .unwrap();
    let Packet::Document(d) = r.packet else {
        panic!()
    };
    assert_eq!(d.header.code.number, "7816");
    assert_eq!(d.header.code.notation, "VPCP-TTĐT");
    // Line breaks in base64, escaped or not (`&#x0D;` and `&#010;` too), and a CDATA section
    // are fine.
    let (r, sink) = read_mem(&packet_with(
        DOC_ID,
        "JVBE&#13;&#xA;&#x0D;&#010;\r\n  Ri0<![CDATA[=]]>",
    ))
    .unwrap();
    assert_eq!(sink.files, vec![b"%PDF-".to_vec()]);
    assert_eq!(r.notes, vec!["attachment \"a.pdf\" is not in the manifest"]);
}

/// A source that claims a 2 GB attachment: a header, then base64 without end.
struct Endless {
    head: Cursor<Vec<u8>>,
    produced: u64,
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.head.read(buf)?;
        if n > 0 {
            return Ok(n);
        }
        if self.produced >= 2 << 30 {
            return Ok(0);
        }
        let n = buf.len().min(64 * 1024);
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = if i % 77 == 76 { b'\n' } else { b'A' };
        }
        self.produced += n as u64;
        Ok(n)
    }
}

/// A sink that only counts: what the reader hands on, it hands on in chunks.
#[derive(Default)]
struct Counting {
    bytes: u64,
    largest_chunk: usize,
    aborted: bool,
}

impl AttachmentSink for Counting {
    fn begin(&mut self, _index: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.bytes += chunk.len() as u64;
        self.largest_chunk = self.largest_chunk.max(chunk.len());
        Ok(())
    }
    fn finish(&mut self) -> std::io::Result<String> {
        Ok(String::new())
    }
    fn abort(&mut self) {
        self.aborted = true;
    }
}

#[test]
fn a_two_gigabyte_attachment_stops_at_the_limit_streamed_in_chunks() {
    let head = String::from_utf8(packet_with(DOC_ID, "")).unwrap();
    let head = head[..head.find("</ContentTransferEncoded>").unwrap()].to_string();
    let src = std::io::BufReader::new(Endless {
        head: Cursor::new(head.into_bytes()),
        produced: 0,
    });
    let limits = Limits {
        max_attachment: 8 << 20,
        ..Limits::default()
    };
    let mut sink = Counting::default();
    let err = read(src, &limits, &mut sink).unwrap_err();
    assert_eq!(err.code(), "attachment_too_large", "{err}");
    assert!(sink.aborted, "the sink is told to drop what it had");
    assert!(sink.largest_chunk <= 64 * 1024, "{}", sink.largest_chunk);
    assert!(sink.bytes <= 8 << 20);
    // And a packet larger than allowed stops at that size, in whatever part it is.
    let head = String::from_utf8(packet_with(DOC_ID, "")).unwrap();
    let head = head[..head.find("</ContentTransferEncoded>").unwrap()].to_string();
    let src = std::io::BufReader::new(Endless {
        head: Cursor::new(head.into_bytes()),
        produced: 0,
    });
    let limits = Limits {
        max_packet: 4 << 20,
        ..Limits::default()
    };
    let err = read(src, &limits, &mut Counting::default()).unwrap_err();
    assert_eq!(err.code(), "packet_too_large", "{err}");
}

// --- ZIP attachments -------------------------------------------------------------------------

fn zip_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in files {
            w.start_file(*name, opts).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap();
    }
    out.into_inner()
}

#[derive(Default)]
struct Entries {
    files: Vec<(String, Vec<u8>)>,
}

impl EntrySink for Entries {
    fn begin(&mut self, name: &str) -> std::io::Result<()> {
        self.files.push((name.to_string(), Vec::new()));
        Ok(())
    }
    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.files.last_mut().unwrap().1.extend_from_slice(chunk);
        Ok(())
    }
    fn finish(&mut self) -> std::io::Result<String> {
        Ok(self.files.last().unwrap().0.clone())
    }
    fn abort(&mut self) {
        self.files.clear();
    }
}

#[test]
fn a_zip_labelled_text_is_found_by_its_bytes_and_unpacked_within_limits() {
    let archive = zip_of(&[
        ("cong-van.doc", b"\xD0\xCF\x11\xE0 a Word file".to_vec()),
        (
            "../../etc/phu-luc.xls",
            b"\xD0\xCF\x11\xE0 a sheet".to_vec(),
        ),
    ]);
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &archive);
    let packet = String::from_utf8(packet_with(DOC_ID, &b64))
        .unwrap()
        .replace(
            "<AttachmentName>a.pdf</AttachmentName>",
            "<AttachmentName>cong-van.doc</AttachmentName><ContentType>text/plain</ContentType>",
        );
    let (reading, sink) = read_mem(packet.as_bytes()).unwrap();
    let Packet::Document(d) = reading.packet else {
        panic!()
    };
    assert!(d.attachments[0].zip, "a ZIP whatever its label");
    assert_eq!(d.attachments[0].content_type, "text/plain");
    let mut entries = Entries::default();
    let list = unzip(
        Cursor::new(&sink.files[0]),
        &ZipLimits::default(),
        &mut entries,
    )
    .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].name, "phu-luc.xls", "no path climbs out");
    assert_eq!(list[1].path, "../../etc/phu-luc.xls");
    assert_eq!(entries.files[0].1, b"\xD0\xCF\x11\xE0 a Word file");

    // A bomb: 64 MB of zeros in a few kilobytes.
    let bomb = zip_of(&[("zeros.doc", vec![0u8; 64 << 20])]);
    assert!(bomb.len() < 200_000, "{}", bomb.len());
    let err = unzip(
        Cursor::new(&bomb),
        &ZipLimits::default(),
        &mut Entries::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "zip_ratio", "{err}");
    let limits = ZipLimits {
        max_entry: 1 << 20,
        ..ZipLimits::default()
    };
    let err = unzip(Cursor::new(&bomb), &limits, &mut Entries::default()).unwrap_err();
    assert_eq!(err.code(), "zip_entry_too_large", "{err}");
    let many: Vec<(String, Vec<u8>)> = (0..300).map(|i| (format!("{i}.txt"), vec![b'x'])).collect();
    let many: Vec<(&str, Vec<u8>)> = many.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    let err = unzip(
        Cursor::new(zip_of(&many)),
        &ZipLimits::default(),
        &mut Entries::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "zip_too_many_entries");
    let err = unzip(
        Cursor::new(b"PK\x03\x04 but not really".to_vec()),
        &ZipLimits::default(),
        &mut Entries::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "not_zip");
}
