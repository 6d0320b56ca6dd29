//! Fuzzing the reader on the stable toolchain: property tests drive structured mutations of the
//! fixture and foreign packets — elements moved, dropped, doubled, renamed and re-prefixed,
//! text swapped for hostile text, bytes flipped, packets cut short — and the reader must answer
//! every one with a reading or a clear error: never a panic, never more than a bounded amount
//! of memory held (the sink is told what the reader keeps, and the limits are small here).
//!
//! The bounded run in CI takes `EGOV_FUZZ_CASES` cases (default 400); the long run outside CI
//! (`scripts/fuzz-edxml.sh`) sets `EGOV_FUZZ_SECONDS` and keeps drawing new batches until the
//! time is up. Its result is recorded in `docs/edxml.md`.

mod common;

use std::time::{Duration, Instant};

use egov_edxml::{AttachmentSink, Limits, Packet, read_slice};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn seeds() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = common::corpus("fixtures")
        .into_iter()
        .chain(common::corpus("foreign"))
        .map(|(_, bytes, _)| bytes)
        .collect();
    assert!(out.len() >= 25, "the corpora seed the fuzzer");
    out.sort();
    out
}

/// Where elements start and end in a packet: spans `<Name …>…</Name>` found textually (good
/// enough to move whole elements about; the mutations need not stay well-formed).
fn element_spans(s: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    while let Some(p) = s[i..].iter().position(|&b| b == b'<') {
        let start = i + p;
        i = start + 1;
        let Some(end_name) = s[i..]
            .iter()
            .position(|&b| b == b'>' || b == b' ' || b == b'/')
        else {
            break;
        };
        let name = &s[i..i + end_name];
        if name.is_empty() || matches!(name[0], b'/' | b'?' | b'!') {
            continue;
        }
        let mut close = b"</".to_vec();
        close.extend_from_slice(name);
        close.push(b'>');
        if let Some(q) = s[start..].windows(close.len()).position(|w| w == close) {
            spans.push((start, start + q + close.len()));
        }
    }
    spans
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Drop an element.
    Drop(usize),
    /// Repeat an element in place (n times).
    Repeat(usize, u8),
    /// Move an element before another.
    Move(usize, usize),
    /// Replace an element's inner text with something hostile.
    Hostile(usize, u8),
    /// Swap spellings and prefixes.
    Respell(u8),
    /// Overwrite a byte.
    Flip(usize, u8),
    /// Cut the packet short.
    Truncate(usize),
    /// Insert raw bytes somewhere.
    Insert(usize, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Drop),
        (any::<usize>(), 1u8..40).prop_map(|(i, n)| Mutation::Repeat(i, n)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Move(a, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, k)| Mutation::Hostile(i, k)),
        any::<u8>().prop_map(Mutation::Respell),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..64))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
    ]
}

const HOSTILE: &[&str] = &[
    "",
    "null",
    "&amp;&lt;&#x1F600;&#0;",
    "&undefined;",
    "<![CDATA[ ]]> <!-- x --> <?pi x?>",
    "99/99/9999",
    "2026/02/30 25:61:61",
    "-1",
    "18446744073709551616",
    "QUJD====QUJD",
    "%%%%",
    "\u{0}\u{FFFE}",
    "<a><b><c><d><e><f><g><h><i><j>",
    "</edXML>",
    "<!DOCTYPE x [<!ENTITY e \"e\">]>",
    "AAAA\r\n\tAAAA&#13;&#10;",
    "PK\u{3}\u{4}",
    "x]]>y",
];

fn apply(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut s = seed.to_vec();
    for m in mutations {
        let spans = element_spans(&s);
        let pick = |i: usize| spans.get(i % spans.len().max(1)).copied();
        match m {
            Mutation::Drop(i) => {
                if let Some((a, b)) = pick(*i) {
                    s.drain(a..b);
                }
            }
            Mutation::Repeat(i, n) => {
                if let Some((a, b)) = pick(*i) {
                    let el = s[a..b].to_vec();
                    if el.len() * (*n as usize) < 1 << 20 {
                        for _ in 0..*n {
                            s.splice(b..b, el.iter().copied());
                        }
                    }
                }
            }
            Mutation::Move(i, j) => {
                if let (Some((a, b)), Some((c, _))) = (pick(*i), pick(*j))
                    && (c < a || c >= b)
                {
                    let el: Vec<u8> = s[a..b].to_vec();
                    if c < a {
                        s.drain(a..b);
                        s.splice(c..c, el);
                    } else {
                        s.splice(c..c, el);
                        s.drain(a..b);
                    }
                }
            }
            Mutation::Hostile(i, k) => {
                if let Some((a, b)) = pick(*i)
                    && let Some(gt) = s[a..b].iter().position(|&x| x == b'>')
                    && let Some(lt) = s[a..b].iter().rposition(|&x| x == b'<')
                    && a + gt < a + lt
                {
                    let text = HOSTILE[*k as usize % HOSTILE.len()].as_bytes();
                    s.splice(a + gt + 1..a + lt, text.iter().copied());
                }
            }
            Mutation::Respell(k) => {
                let (from, to): (&[u8], &[u8]) = match k % 6 {
                    0 => (b"Bussiness", b"Business"),
                    1 => (b"edXML:", b""),
                    2 => (b"<", b"<ns9:"),
                    3 => (b"OrganizationInCharge", b"OrganInCharge"),
                    4 => (b"QCVN_102_2016", b"QCVN_102_2016/other"),
                    _ => (b"xmlns", b"xmlnz"),
                };
                s = replace_all(&s, from, to);
            }
            Mutation::Flip(i, b) => {
                if !s.is_empty() {
                    let i = i % s.len();
                    s[i] = *b;
                }
            }
            Mutation::Truncate(i) => {
                if !s.is_empty() {
                    s.truncate(i % s.len());
                }
            }
            Mutation::Insert(i, bytes) => {
                let i = if s.is_empty() { 0 } else { i % s.len() };
                s.splice(i..i, bytes.iter().copied());
            }
        }
    }
    s
}

fn replace_all(s: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// Counts what the reader hands on and holds it to the limit.
#[derive(Default)]
struct Bounded {
    held: u64,
    began: usize,
    finished: usize,
}

impl AttachmentSink for Bounded {
    fn begin(&mut self, _index: usize) -> std::io::Result<()> {
        self.began += 1;
        Ok(())
    }
    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        assert!(chunk.len() <= 64 * 1024, "chunks stay small");
        self.held += chunk.len() as u64;
        Ok(())
    }
    fn finish(&mut self) -> std::io::Result<String> {
        self.finished += 1;
        Ok(String::new())
    }
    fn abort(&mut self) {
        self.held = 0;
    }
}

fn limits() -> Limits {
    Limits {
        max_packet: 2 << 20,
        max_token: 64 * 1024,
        max_depth: 24,
        max_elements: 5_000,
        max_attachments: 20,
        max_attachment: 1 << 20,
        max_metadata: 256 * 1024,
    }
}

fn check_one(seed: &[u8], mutations: &[Mutation]) -> Result<(), TestCaseError> {
    let packet = apply(seed, mutations);
    let limits = limits();
    let mut sink = Bounded::default();
    // A panic inside the reader fails the property (proptest catches it and shrinks).
    match read_slice(&packet, &limits, &mut sink) {
        Ok(reading) => {
            prop_assert!(!reading.packet.document_id().is_empty());
            prop_assert!(!reading.packet.from().organ_id.is_empty());
            prop_assert_eq!(reading.size, packet.len() as u64);
            if let Packet::Document(d) = &reading.packet {
                prop_assert!(d.attachments.len() <= limits.max_attachments);
                prop_assert!(
                    d.attachments
                        .iter()
                        .all(|a| a.size <= limits.max_attachment)
                );
            }
            prop_assert_eq!(sink.began, sink.finished);
        }
        Err(e) => {
            prop_assert!(!e.code().is_empty());
            prop_assert!(!e.to_string().is_empty());
            prop_assert_eq!(sink.held, 0, "a refused packet leaves nothing kept");
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("EGOV_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400)
}

#[test]
fn the_reader_survives_structured_mutations_of_real_shapes() {
    let seeds = seeds();
    let deadline = std::env::var("EGOV_FUZZ_SECONDS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(|s| Instant::now() + Duration::from_secs(s));
    let strategy = (
        prop::sample::select(seeds),
        prop::collection::vec(mutation(), 1..6),
    );
    let mut batch = 0u64;
    let mut total = 0u64;
    loop {
        // Each batch its own seed, so a long run keeps finding new cases; a failure names it.
        let mut seed = [0xE7u8; 32];
        seed[..8].copy_from_slice(&batch.to_le_bytes());
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases: cases(),
                failure_persistence: None,
                ..Config::default()
            },
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        );
        let result = runner.run(&strategy, |(seed, mutations)| check_one(&seed, &mutations));
        if let Err(e) = result {
            panic!("fuzz batch {batch}: {e}");
        }
        total += u64::from(cases());
        batch += 1;
        match deadline {
            Some(d) if Instant::now() < d => continue,
            _ => break,
        }
    }
    eprintln!("edXML fuzz: {total} mutated packets in {batch} batch(es), no panic");
}
