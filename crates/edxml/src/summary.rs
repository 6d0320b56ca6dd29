//! A packet as the reader understands it, in a few fields: what `egov exchange inspect` prints
//! and what the fixture corpus states each packet must read as.

use serde::{Deserialize, Serialize};

use crate::model::{Packet, StatusCode};
use crate::reader::Reading;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// `document` or `status`.
    pub kind: String,
    /// The document's `DocumentId`; for a status packet the one it reports on.
    pub document_id: String,
    /// `From/OrganId` as written.
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<String>>,
    /// `number/notation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promulgation_date: Option<String>,
    /// `new`, `revocation`, `update`, `replacement`, or the raw value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_document_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_organ_ids: Option<Vec<Option<String>>>,
    /// `01`…`16`, or the raw value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_description: Option<String>,
    /// `YYYY-MM-DDTHH:MM:SS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentSummary>>,
    /// What the reader tolerated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentSummary {
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    pub zip: bool,
}

fn iso_date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn iso_time(t: time::PrimitiveDateTime) -> String {
    format!(
        "{}T{:02}:{:02}:{:02}",
        iso_date(t.date()),
        t.hour(),
        t.minute(),
        t.second()
    )
}

impl Summary {
    pub fn of(reading: &Reading) -> Self {
        let mut s = Summary {
            kind: String::new(),
            document_id: reading.packet.document_id().to_string(),
            from: reading.packet.from().organ_id.clone(),
            to: None,
            code: None,
            subject: None,
            promulgation_date: None,
            business: None,
            business_reason: None,
            replaced_document_ids: None,
            trace_organ_ids: None,
            status: None,
            status_description: None,
            status_timestamp: None,
            attachments: None,
            notes: reading.notes.clone(),
        };
        match &reading.packet {
            Packet::Document(d) => {
                let h = &d.header;
                s.kind = "document".into();
                s.to = Some(h.to.iter().map(|o| o.organ_id.clone()).collect());
                s.code = Some(h.code.joined());
                s.subject = Some(h.subject.clone());
                s.promulgation_date = h.promulgation_date.map(iso_date);
                s.business = Some(d.business.action.name().to_string());
                s.business_reason =
                    (!d.business.reason.is_empty()).then(|| d.business.reason.clone());
                s.replaced_document_ids = Some(
                    d.business
                        .replacements
                        .iter()
                        .map(|r| r.document_id.clone())
                        .collect(),
                );
                s.trace_organ_ids = Some(d.trace.iter().map(|t| t.organ_id.clone()).collect());
                s.attachments = Some(
                    d.attachments
                        .iter()
                        .map(|a| AttachmentSummary {
                            name: a.name.clone(),
                            content_type: a.content_type.clone(),
                            size: a.size,
                            sha256: a.sha256.clone(),
                            zip: a.zip,
                        })
                        .collect(),
                );
            }
            Packet::Status(st) => {
                s.kind = "status".into();
                s.status = Some(match &st.status {
                    StatusCode::Other(raw) => raw.clone(),
                    known => known.wire().to_string(),
                });
                s.status_description = Some(st.description.clone());
                s.status_timestamp = st.timestamp.map(iso_time);
            }
        }
        s
    }
}
