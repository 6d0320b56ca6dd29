//! The reader judged by packets it was not written against: `tests/foreign/` holds packets in
//! the shapes different producers send (written blind, by someone who had not seen the reader),
//! each with what it must read as.

mod common;

use common::{assert_reads_as, corpus};

#[test]
fn packets_from_other_producers_read_as_stated() {
    let corpus = corpus("foreign");
    assert!(corpus.len() >= 10, "the foreign corpus is there");
    for (name, bytes, expect) in &corpus {
        let summary = assert_reads_as(name, bytes, expect);
        assert!(
            summary.notes.is_empty(),
            "{name}: nothing to tolerate: {:?}",
            summary.notes
        );
    }
}
