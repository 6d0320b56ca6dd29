//! What makes a packet unreadable or unwritable: each with a stable code (for logs, the
//! message log and `egov exchange inspect`) and a message that names what is wrong.

/// Why a packet could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the packet is not well-formed XML: {0}")]
    NotXml(String),
    #[error("the packet is XML but not an edXML packet: {0}")]
    NotEdxml(String),
    #[error(
        "the packet is in the older go.vn/eDoc format, which is not read (only QCVN 102:2016 edXML)"
    )]
    LegacyFormat,
    #[error("the packet declares a DTD; DTDs and entities are not allowed in a packet")]
    Dtd,
    #[error("the packet is larger than the {0} bytes allowed")]
    TooLarge(u64),
    #[error("a single element or text in the packet is longer than the {0} bytes allowed")]
    TokenTooLong(u64),
    #[error("the packet nests elements deeper than {0} levels")]
    TooDeep(usize),
    #[error("the packet has more than {0} elements")]
    TooManyElements(usize),
    #[error("the packet has more than {0} attachments")]
    TooManyAttachments(usize),
    #[error("the packet's texts (names, subjects, places …) add up to more than {0} bytes")]
    TooMuchText(u64),
    #[error("the packet has no DocumentId")]
    MissingDocumentId,
    #[error("the packet has no From/OrganId")]
    MissingFrom,
    #[error("the status packet has no StatusCode")]
    MissingStatusCode,
    #[error("attachment {index} is not base64: {reason}")]
    AttachmentNotBase64 { index: usize, reason: String },
    #[error("attachment {0} has its content twice")]
    AttachmentContentTwice(usize),
    #[error("attachment {index} is larger than the {max} bytes allowed")]
    AttachmentTooLarge { index: usize, max: u64 },
    #[error("the attachment's bytes could not be kept: {0}")]
    Sink(std::io::Error),
    #[error("reading the packet failed: {0}")]
    Io(std::io::Error),
}

impl ReadError {
    /// A stable code for machines and logs.
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::NotXml(_) => "not_xml",
            ReadError::NotEdxml(_) => "not_edxml",
            ReadError::LegacyFormat => "legacy_edoc_format",
            ReadError::Dtd => "dtd_not_allowed",
            ReadError::TooLarge(_) => "packet_too_large",
            ReadError::TokenTooLong(_) => "token_too_long",
            ReadError::TooDeep(_) => "too_deep",
            ReadError::TooManyElements(_) => "too_many_elements",
            ReadError::TooManyAttachments(_) => "too_many_attachments",
            ReadError::TooMuchText(_) => "too_much_text",
            ReadError::MissingDocumentId => "missing_document_id",
            ReadError::MissingFrom => "missing_from",
            ReadError::MissingStatusCode => "missing_status_code",
            ReadError::AttachmentNotBase64 { .. } => "attachment_not_base64",
            ReadError::AttachmentContentTwice(_) => "attachment_content_twice",
            ReadError::AttachmentTooLarge { .. } => "attachment_too_large",
            ReadError::Sink(_) => "attachment_not_kept",
            ReadError::Io(_) => "io",
        }
    }
}

/// Why a packet could not be written. The writer is strict: it refuses rather than emit
/// something a receiving system may reject.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("attachment {index} gave {given} of its content, not one per attachment")]
    AttachmentCount { index: usize, given: usize },
    #[error("writing the packet failed: {0}")]
    Io(#[from] std::io::Error),
}

impl WriteError {
    pub fn code(&self) -> &'static str {
        match self {
            WriteError::Invalid { .. } => "invalid_packet",
            WriteError::AttachmentCount { .. } => "attachment_count",
            WriteError::Io(_) => "io",
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        WriteError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Why an archive attachment could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum UnzipError {
    #[error("the archive is not a readable ZIP: {0}")]
    NotZip(String),
    #[error("the archive has more than {0} entries")]
    TooManyEntries(usize),
    #[error("entry {name} unpacks to more than {max} bytes")]
    EntryTooLarge { name: String, max: u64 },
    #[error("the archive unpacks to more than {0} bytes in all")]
    TotalTooLarge(u64),
    #[error("entry {name} expands more than {ratio} times (a ZIP bomb?)")]
    Ratio { name: String, ratio: u64 },
    #[error("entry {0} is encrypted")]
    Encrypted(String),
    #[error("the entry's bytes could not be kept: {0}")]
    Sink(std::io::Error),
}

impl UnzipError {
    pub fn code(&self) -> &'static str {
        match self {
            UnzipError::NotZip(_) => "not_zip",
            UnzipError::TooManyEntries(_) => "zip_too_many_entries",
            UnzipError::EntryTooLarge { .. } => "zip_entry_too_large",
            UnzipError::TotalTooLarge(_) => "zip_too_large",
            UnzipError::Ratio { .. } => "zip_ratio",
            UnzipError::Encrypted(_) => "zip_encrypted",
            UnzipError::Sink(_) => "zip_entry_not_kept",
        }
    }
}
