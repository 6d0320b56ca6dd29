//! What the packet tests share: the corpora and the check that a packet reads as stated.

#![allow(dead_code)]

use std::path::Path;

use egov_edxml::{Limits, MemorySink, Summary, read_slice};
use serde_json::Value;

pub fn corpus(dir: &str) -> Vec<(String, Vec<u8>, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(dir);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("the corpus folder") {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("edxml") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let expect = std::fs::read(dir.join(format!("{name}.expect.json")))
            .unwrap_or_else(|_| panic!("{name} has no .expect.json"));
        out.push((name, bytes, serde_json::from_slice(&expect).unwrap()));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Every key the expectation states must read the same; `null` means absent.
pub fn assert_reads_as(name: &str, bytes: &[u8], expect: &Value) -> Summary {
    let mut sink = MemorySink::default();
    let reading = read_slice(bytes, &Limits::default(), &mut sink)
        .unwrap_or_else(|e| panic!("{name}: {} ({})", e, e.code()));
    let summary = Summary::of(&reading);
    let got = serde_json::to_value(&summary).unwrap();
    for (key, want) in expect.as_object().expect("an object") {
        let have = got.get(key).cloned().unwrap_or(Value::Null);
        let have = match (&have, want) {
            // An empty reason or list and an absent one read the same.
            (Value::String(s), Value::Null) if s.is_empty() => Value::Null,
            _ => have,
        };
        assert_eq!(&have, want, "{name}: {key}");
    }
    // The bytes handed to the sink are the attachments, byte for byte.
    if let Some(list) = summary.attachments.as_ref() {
        assert_eq!(sink.files.len(), list.len(), "{name}: attachments kept");
        for (file, a) in sink.files.iter().zip(list) {
            assert_eq!(file.len() as u64, a.size, "{name}: {}", a.name);
        }
    }
    assert_eq!(reading.size, bytes.len() as u64, "{name}: size");
    summary
}
