//! `egov exchange inspect` and `egov exchange build` as an operator runs them: a packet built
//! from a JSON description and read back, a foreign packet with a ZIP labelled text, and
//! packets that cannot be read answered with a reason and a non-zero exit — never a panic.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn egov() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_egov"));
    c.env("EGOV__LOG__LEVEL", "warn");
    c
}

fn inspect(packet: &Path) -> (Output, Value) {
    let out = egov()
        .args(["exchange", "inspect"])
        .arg(packet)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "inspect prints JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, json)
}

fn corpus(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../edxml/tests")
        .join(path)
}

#[test]
fn a_packet_built_from_a_description_is_inspected_as_described() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cv.pdf"),
        b"%PDF-1.7\n% the signed letter\n%%EOF\n",
    )
    .unwrap();
    let description = serde_json::json!({
        "kind": "document",
        "header": {
            "from": { "organ_id": "000.00.12.H56", "organ_name": "Sở Nội vụ tỉnh Thanh Hóa" },
            "to": [
                { "organ_id": "000.00.00.G09", "organ_name": "Bộ Nội vụ" },
                { "organ_id": "000.00.00.G22", "organ_name": "Văn phòng Chính phủ" }
            ],
            "code": { "number": "215", "notation": "SNV-TCBC" },
            "promulgation_date": "2026-12-07",
            "document_type": { "code": "2", "name": "Công văn" },
            "subject": "V/v báo cáo số lượng cán bộ cấp xã sau sắp xếp",
            "steering_type": "0"
        },
        "attachments": [
            { "name": "215-SNV-TCBC.pdf", "content_type": "application/pdf", "file": "cv.pdf" }
        ]
    });
    std::fs::write(
        dir.path().join("cv.json"),
        serde_json::to_vec_pretty(&description).unwrap(),
    )
    .unwrap();
    let packet = dir.path().join("cv.edxml");
    let out = egov()
        .args(["exchange", "build"])
        .arg(dir.path().join("cv.json"))
        .arg(&packet)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (out, json) = inspect(&packet);
    assert!(out.status.success());
    assert_eq!(json["kind"], "document");
    assert_eq!(json["document_id"], "000.00.12.H56,2026/12/07,215/SNV-TCBC");
    assert_eq!(json["from"], "000.00.12.H56");
    assert_eq!(json["to"][1], "000.00.00.G22");
    assert_eq!(json["code"], "215/SNV-TCBC");
    assert_eq!(json["business"], "new");
    assert_eq!(json["trace_organ_ids"][0], "000.00.12.H56");
    assert_eq!(json["attachments"][0]["name"], "215-SNV-TCBC.pdf");
    assert_eq!(json["attachments"][0]["content_type"], "application/pdf");
    assert_eq!(json["attachments"][0]["size"], 35);
    assert_eq!(json["size"], std::fs::metadata(&packet).unwrap().len());

    // Our identifiers are checked: a description with a locally made-up sender is refused and
    // leaves no file behind.
    let mut bad = description.clone();
    bad["header"]["from"]["organ_id"] = "H56.SNV".into();
    std::fs::write(dir.path().join("bad.json"), bad.to_string()).unwrap();
    let out = egov()
        .args(["exchange", "build"])
        .arg(dir.path().join("bad.json"))
        .arg(dir.path().join("bad.edxml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("From/OrganId"), "{err}");
    assert!(!dir.path().join("bad.edxml").exists());

    // A description names only files beside it unless the operator says otherwise.
    let mut outside = description.clone();
    outside["attachments"][0]["file"] = "../../etc/passwd".into();
    std::fs::write(dir.path().join("outside.json"), outside.to_string()).unwrap();
    let out = egov()
        .args(["exchange", "build"])
        .arg(dir.path().join("outside.json"))
        .arg(dir.path().join("outside.edxml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--any-path"));
    assert!(!dir.path().join("outside.edxml").exists());
}

#[test]
fn a_foreign_packet_shows_its_zip_and_a_status_its_code() {
    let (out, json) = inspect(&corpus("foreign/lgsp_gateway_zip_as_text_plain.edxml"));
    assert!(out.status.success());
    let zipped: Vec<&Value> = json["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["zip"] == true)
        .collect();
    assert_eq!(zipped.len(), 1);
    assert_eq!(zipped[0]["content_type"], "text/plain");
    let archive = &json["archives"][0];
    assert!(archive["error"].is_null(), "{archive}");
    assert!(
        archive["files"][0]["name"]
            .as_str()
            .unwrap()
            .ends_with(".doc"),
        "{archive}"
    );
    let (out, json) = inspect(&corpus("foreign/status_03_old_integer_ddmmyyyy.edxml"));
    assert!(out.status.success());
    assert_eq!(json["kind"], "status");
    assert_eq!(json["status"], "03");
}

#[test]
fn what_cannot_be_read_is_named_with_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 4] = [
        ("pdf.edxml", b"%PDF-1.4 a file sent by mistake", "not_xml"),
        ("html.edxml", b"<html><body>Bad Gateway</body></html>", "not_edxml"),
        (
            "bomb.edxml",
            b"<?xml version=\"1.0\"?><!DOCTYPE edXML [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><edXML>&b;</edXML>",
            "dtd_not_allowed",
        ),
        (
            "nodoc.edxml",
            b"<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\"><edXMLEnvelope><edXMLHeader><MessageHeader><From><OrganId>000.00.00.G22</OrganId></From></MessageHeader></edXMLHeader></edXMLEnvelope></edXML>",
            "missing_document_id",
        ),
    ];
    for (name, bytes, code) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let (out, json) = inspect(&path);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert_eq!(json["error"]["code"], code, "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(code), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
    let missing = egov()
        .args(["exchange", "inspect", "/nonexistent/packet.edxml"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
}

#[test]
fn the_operators_commands_say_what_they_need() {
    let dir = tempfile::tempdir().unwrap();
    // Without the exchange configured, polling and sending say so.
    for cmd in ["poll", "send"] {
        let out = egov()
            .arg("--data-dir")
            .arg(dir.path())
            .args(["exchange", cmd])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("[exchange] enabled = true"), "{cmd}: {err}");
    }
    // The message log of a fresh deployment is empty, and searching it works.
    let out = egov()
        .arg("--data-dir")
        .arg(dir.path())
        .args(["exchange", "log", "--state", "failed", "--limit", "10"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}
