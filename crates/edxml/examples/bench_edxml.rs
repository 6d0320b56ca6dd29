//! The edXML packet benchmark for `docs/performance.md` (run by `scripts/bench-edxml.sh`, not
//! in CI): packets written and read per second, with a 5 MB attachment and with none, and the
//! throughput and peak memory of reading a packet with a very large attachment from a file.
//!
//! Usage: bench_edxml [seconds per measure] [MB of the large attachment]

use std::io::{BufReader, Read};
use std::time::{Duration, Instant};

use egov_edxml::*;
use time::macros::{date, datetime};

fn packet(attachments: usize) -> DocumentPacket {
    let code = DocumentCode {
        number: "1234".into(),
        notation: "UBND-VP".into(),
    };
    DocumentPacket {
        header: MessageHeader {
            from: Organ::new("000.00.00.H56", "Ủy ban nhân dân tỉnh Thanh Hóa"),
            to: vec![
                Organ::new("000.00.00.G09", "Bộ Nội vụ"),
                Organ::new("000.00.00.G22", "Văn phòng Chính phủ"),
            ],
            document_id: document_id("000.00.00.H56", date!(2026 - 12 - 07), &code),
            code,
            promulgation_place: "Thanh Hóa".into(),
            promulgation_date: Some(date!(2026 - 12 - 07)),
            document_type: DocumentType {
                code: "2".into(),
                name: "Công văn".into(),
                detail: String::new(),
            },
            subject: "V/v báo cáo tình hình tiếp nhận hồ sơ trực tuyến năm 2026".into(),
            content: "Ủy ban nhân dân tỉnh Thanh Hóa báo cáo …".into(),
            steering_type: "0".into(),
            ..MessageHeader::default()
        },
        trace: vec![TraceHeader {
            organ_id: Some("000.00.00.H56".into()),
            timestamp: Some(datetime!(2026-12-07 09:00:00)),
        }],
        business: Business::default(),
        signature: None,
        attachments: (0..attachments)
            .map(|i| Attachment {
                name: format!("1234-UBND-VP-{i}.pdf"),
                content_type: "application/pdf".into(),
                content_id: format!("part-{i}"),
                ..Attachment::default()
            })
            .collect(),
    }
}

/// Bytes that do not compress: a xorshift stream.
struct Noise {
    state: u64,
    left: u64,
}

impl Read for Noise {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        for b in &mut buf[..n] {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            *b = self.state as u8;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn noise(bytes: u64) -> Noise {
    Noise {
        state: 0x9E37_79B9_7F4A_7C15,
        left: bytes,
    }
}

fn per_second(seconds: f64, mut f: impl FnMut()) -> (f64, u64) {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs_f64(seconds) {
        f();
        n += 1;
    }
    (n as f64 / start.elapsed().as_secs_f64(), n)
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: f64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let big_mb: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200);
    let limits = Limits::default();

    let empty = packet(0);
    let five = packet(1);
    let mut pdf = Vec::new();
    noise(5 << 20).read_to_end(&mut pdf).unwrap();
    for (label, doc, files) in [
        ("no attachment", &empty, vec![]),
        ("one 5 MB attachment", &five, vec![pdf.as_slice()]),
    ] {
        let bytes = document_to_vec(doc, &files).unwrap();
        let (written, _) = per_second(seconds, || {
            std::hint::black_box(document_to_vec(doc, &files).unwrap());
        });
        let (read_per_s, _) = per_second(seconds, || {
            std::hint::black_box(read_slice(&bytes, &limits, &mut DiscardSink).unwrap());
        });
        println!(
            "{label}: packet {} bytes; written {written:.0}/s, read {read_per_s:.0}/s",
            bytes.len()
        );
    }

    // A packet with one very large attachment, on disk, read in a stream.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.edxml");
    let big = packet(1);
    {
        let out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut src = noise(big_mb << 20);
        let mut contents: [&mut dyn Read; 1] = [&mut src];
        write_document(&big, &mut contents, out).unwrap();
    }
    let size = std::fs::metadata(&path).unwrap().len();
    // Reset the peak (VmHWM) to what the process holds now, then read.
    let before = status_kib("VmHWM:");
    std::fs::write("/proc/self/clear_refs", "5").expect("resetting the peak (Linux)");
    let after_reset = status_kib("VmHWM:");
    assert!(after_reset <= before, "the peak was reset");
    let idle = status_kib("VmRSS:");
    let start = Instant::now();
    let file = BufReader::with_capacity(64 * 1024, std::fs::File::open(&path).unwrap());
    let reading = read(file, &Limits::default(), &mut DiscardSink).unwrap();
    let took = start.elapsed().as_secs_f64();
    let peak = status_kib("VmHWM:");
    let Packet::Document(d) = reading.packet else {
        unreachable!()
    };
    assert_eq!(d.attachments[0].size, big_mb << 20);
    println!(
        "{big_mb} MB attachment ({:.0} MB packet): read in {took:.2} s = {:.0} MB/s of packet, \
         {:.0} MB/s of attachment; peak memory {:.1} MiB above idle ({:.1} MiB idle; the \
         earlier measures had peaked at {:.1} MiB, reset to {:.1} MiB)",
        size as f64 / 1e6,
        size as f64 / 1e6 / took,
        (big_mb << 20) as f64 / 1e6 / took,
        peak.saturating_sub(idle) as f64 / 1024.0,
        idle as f64 / 1024.0,
        before as f64 / 1024.0,
        after_reset as f64 / 1024.0
    );
}
