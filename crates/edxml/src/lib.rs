//! edXML packets (QCVN 102:2016) as Vietnamese agencies exchange them through the national
//! document hub and provincial LGSPs: a typed model ([`model`]), a strict writer ([`writer`])
//! that emits the common form real systems accept, and a tolerant, streaming reader
//! ([`reader`]) that takes what they actually send — bounded in what a packet may cost.
//!
//! The crate does no I/O of its own: the reader takes any [`std::io::BufRead`] and hands each
//! attachment's bytes to an [`reader::AttachmentSink`] the caller gives (the file store); the
//! writer writes to any [`std::io::Write`]. `vn-standards.md` §1 (and §1.10 first) is the
//! reference; `docs/edxml.md` says what is read and written and why.

pub mod dates;
pub mod error;
pub mod model;
pub mod reader;
pub mod summary;
pub mod unzip;
pub mod writer;

pub use error::{ReadError, UnzipError, WriteError};
pub use model::*;
pub use reader::{AttachmentSink, DiscardSink, Limits, MemorySink, Reading, read, read_slice};
pub use summary::Summary;
pub use writer::{document_id, document_to_vec, status_to_vec, write_document, write_status};
