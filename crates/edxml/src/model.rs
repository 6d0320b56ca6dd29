//! The typed packet: what an edXML document packet and a status packet carry (QCVN 102:2016,
//! as real systems write it: `vn-standards.md` §1.10).
//!
//! Codes the tables do not list are kept raw ([`Code::Other`] and its kin), so that nothing a
//! sender wrote is lost on the way in; the writer only emits the known ones.

use serde::{Deserialize, Serialize};
use time::{Date, PrimitiveDateTime};

/// The namespace of QCVN 102:2016.
pub const NAMESPACE: &str = "http://www.mic.gov.vn/TBT/QCVN_102_2016";
/// A legacy namespace one vendor library binds to the `edXML` prefix beside the QCVN one.
pub const LEGACY_NAMESPACE: &str = "http://www.e-doc.vn/Schema/";

/// A packet: a document, or a status report on a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Packet {
    Document(Box<DocumentPacket>),
    Status(Box<StatusPacket>),
}

impl Packet {
    /// The `DocumentId` the packet is about: the document's own, or for a status packet the
    /// one it reports on.
    pub fn document_id(&self) -> &str {
        match self {
            Packet::Document(d) => &d.header.document_id,
            Packet::Status(s) => &s.response_for.document_id,
        }
    }

    /// The sender (`From`).
    pub fn from(&self) -> &Organ {
        match self {
            Packet::Document(d) => &d.header.from,
            Packet::Status(s) => &s.from,
        }
    }
}

/// An organisation as `From`, `To` and the status packet's `From` describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Organ {
    /// The electronic identifier (§2) as written. On receipt it may have another shape (a
    /// 12-digit number, a short code, even the text `null`): it is kept as it came.
    pub organ_id: String,
    /// The governing body (`OrganizationInCharge`; one vendor writes `OrganInCharge`).
    pub organization_in_charge: String,
    pub organ_name: String,
    pub organ_add: String,
    pub email: String,
    pub telephone: String,
    pub fax: String,
    pub website: String,
}

impl Organ {
    /// An organisation known by its identifier and name only.
    pub fn new(organ_id: impl Into<String>, organ_name: impl Into<String>) -> Self {
        Organ {
            organ_id: organ_id.into(),
            organ_name: organ_name.into(),
            ..Organ::default()
        }
    }

    /// Whether the identifier is a QCVN 102 identifier of 13 characters (`000.00.00.H56`).
    pub fn has_standard_id(&self) -> bool {
        self.organ_id
            .parse::<egov_domain::agency_code::AgencyCode>()
            .is_ok()
    }
}

/// The document's number and notation (`7816` and `VPCP-TTĐT`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DocumentCode {
    pub number: String,
    pub notation: String,
}

impl DocumentCode {
    /// `7816/VPCP-TTĐT`, as the document's number and notation are read out.
    pub fn joined(&self) -> String {
        match (self.number.is_empty(), self.notation.is_empty()) {
            (true, true) => String::new(),
            (false, true) => self.number.clone(),
            (true, false) => self.notation.clone(),
            (false, false) => format!("{}/{}", self.number, self.notation),
        }
    }
}

/// Urgency (`OtherInfo/Priority`): 0 normal, 1 urgent, 2 very urgent, 3 express. In JSON as
/// on the wire (`"0"`…`"3"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum Priority {
    #[default]
    Normal,
    Urgent,
    VeryUrgent,
    Express,
    /// A value outside the table, as written.
    Other(String),
}

impl Priority {
    pub fn from_wire(s: &str) -> Self {
        match s.trim() {
            "" | "0" => Priority::Normal,
            "1" => Priority::Urgent,
            "2" => Priority::VeryUrgent,
            "3" => Priority::Express,
            other => Priority::Other(other.to_string()),
        }
    }

    pub fn wire(&self) -> &str {
        match self {
            Priority::Normal => "0",
            Priority::Urgent => "1",
            Priority::VeryUrgent => "2",
            Priority::Express => "3",
            Priority::Other(s) => s,
        }
    }
}

/// `DocumentType`: the type code (1, 2, 18, 71 are all seen; kept as written) and its name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DocumentType {
    /// `Type`, as written.
    pub code: String,
    /// `TypeName`: Quyết định, Công văn, …
    pub name: String,
    /// `TypeDetail`, which some libraries write.
    pub detail: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SignerInfo {
    /// The signing authority (TM., KT., …, or free text).
    pub competence: String,
    pub position: String,
    pub full_name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OtherInfo {
    pub priority: Priority,
    pub sphere_of_promulgation: String,
    pub typer_notation: String,
    pub promulgation_amount: Option<u32>,
    pub page_amount: Option<u32>,
    pub appendixes: Vec<String>,
    /// `Direction`, which the most used library writes and the hub adds.
    pub direction: Option<bool>,
}

/// `ResponseFor`: the document a reply (or a status) answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResponseFor {
    pub organ_id: String,
    /// One string, `7816/VPCP-TTĐT`.
    pub code: String,
    #[serde(with = "crate::dates::serde_date")]
    pub promulgation_date: Option<Date>,
    pub document_id: String,
}

impl ResponseFor {
    /// The empty `ResponseFor` the hub adds carries nothing.
    pub fn is_empty(&self) -> bool {
        self.organ_id.is_empty()
            && self.code.is_empty()
            && self.promulgation_date.is_none()
            && self.document_id.is_empty()
    }
}

/// The fourteen parts of a document packet's `MessageHeader`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageHeader {
    pub from: Organ,
    pub to: Vec<Organ>,
    pub code: DocumentCode,
    pub promulgation_place: String,
    #[serde(with = "crate::dates::serde_date")]
    pub promulgation_date: Option<Date>,
    pub document_type: DocumentType,
    pub subject: String,
    pub content: String,
    pub signer: SignerInfo,
    #[serde(with = "crate::dates::serde_date")]
    pub due_date: Option<Date>,
    pub to_places: Vec<String>,
    pub other_info: OtherInfo,
    pub response_for: Vec<ResponseFor>,
    /// `SteeringType` as written (0, 1, 2, 10 are seen).
    pub steering_type: String,
    /// The globally unique id: `<sender OrganId>,<yyyy/MM/dd>,<number>/<notation>`.
    pub document_id: String,
}

/// One hop of the trace: who handled the packet, when. The hub appends some without `OrganId`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TraceHeader {
    pub organ_id: Option<String>,
    #[serde(with = "crate::dates::serde_timestamp")]
    pub timestamp: Option<PrimitiveDateTime>,
}

/// The business action of a document packet (`BussinessDocType`). In JSON by name (`new`,
/// `revocation`, `update`, `replacement`); the wire's digits are read too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum BusinessAction {
    #[default]
    New,
    Revocation,
    Update,
    Replacement,
    /// A value outside the table, as written.
    Other(String),
}

impl BusinessAction {
    pub fn from_wire(s: &str) -> Self {
        match s.trim() {
            "" | "0" => BusinessAction::New,
            "1" => BusinessAction::Revocation,
            "2" => BusinessAction::Update,
            "3" => BusinessAction::Replacement,
            other => BusinessAction::Other(other.to_string()),
        }
    }

    pub fn wire(&self) -> &str {
        match self {
            BusinessAction::New => "0",
            BusinessAction::Revocation => "1",
            BusinessAction::Update => "2",
            BusinessAction::Replacement => "3",
            BusinessAction::Other(s) => s,
        }
    }

    /// `new`, `revocation`, …, or the raw value.
    pub fn name(&self) -> &str {
        match self {
            BusinessAction::New => "new",
            BusinessAction::Revocation => "revocation",
            BusinessAction::Update => "update",
            BusinessAction::Replacement => "replacement",
            BusinessAction::Other(s) => s,
        }
    }
}

/// The person responsible at the sender (`StaffInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StaffInfo {
    pub department: String,
    pub staff: String,
    pub mobile: String,
    pub email: String,
}

impl StaffInfo {
    pub fn is_empty(&self) -> bool {
        self.department.is_empty()
            && self.staff.is_empty()
            && self.mobile.is_empty()
            && self.email.is_empty()
    }
}

/// A recipient added or removed by an update (`ReceiverList/Receiver`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Receiver {
    /// `ReceiverType`, as written (its integer meaning is not public).
    pub receiver_type: String,
    pub organ_id: String,
}

/// What an update changes (`BussinessDocumentInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DocumentInfo {
    /// `DocumentInfo`: what changed (an integer whose meaning is not public), as written.
    pub document_info: String,
    /// `DocumentReceiver`, as written.
    pub document_receiver: String,
    pub receivers: Vec<Receiver>,
}

/// A document replaced by this one, and the recipients concerned (`ReplacementInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReplacementInfo {
    pub document_id: String,
    pub organ_ids: Vec<String>,
}

/// The business block (`Bussiness`, also spelt `Business`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Business {
    pub action: BusinessAction,
    /// `BussinessDocReason`: why a document is revoked, updated or replaced.
    pub reason: String,
    pub document_info: Option<DocumentInfo>,
    /// The document the action applies to.
    pub document_id: String,
    pub staff: StaffInfo,
    /// `Paper`: whether a paper copy follows.
    pub paper: Option<bool>,
    pub replacements: Vec<ReplacementInfo>,
}

/// What the packet's XML signature block held. The legally relevant signature is the PAdES
/// signature on the document's file; this one is transport integrity, often empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PacketSignature {
    /// The namespace the block was in (XML-DSig, the QCVN default one, …).
    pub namespace: String,
    /// Whether it held a `SignatureValue` with content.
    pub signed: bool,
    /// The signer's certificate (`X509Certificate`, base64), when given.
    pub certificate: String,
}

/// An attachment: its description from the manifest and the attachment block, and what its
/// bytes turned out to be.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Attachment {
    pub name: String,
    /// The content type as labelled (which may be wrong: see [`Attachment::zip`]).
    pub content_type: String,
    /// The content id, without the `cid:` some senders put before it.
    pub content_id: String,
    pub description: String,
    /// Decoded size in bytes.
    pub size: u64,
    /// SHA-256 of the decoded bytes, in hex.
    pub sha256: String,
    /// Whether the decoded bytes are a ZIP archive (by their magic bytes, whatever the label).
    pub zip: bool,
    /// What the caller's sink answered for the bytes (for example a blob's hash).
    pub stored: String,
}

/// A document packet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DocumentPacket {
    pub header: MessageHeader,
    pub trace: Vec<TraceHeader>,
    pub business: Business,
    pub signature: Option<PacketSignature>,
    pub attachments: Vec<Attachment>,
}

/// A status code of a status packet (§1.5); codes outside the table are kept raw. In JSON as
/// on the wire (`"03"`; `"3"` is read too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum StatusCode {
    /// 01: arrived at the recipient's system.
    Arrived,
    /// 02: refused on receipt (also: refusal of a recall).
    Refused,
    /// 03: accepted, registered.
    Registered,
    /// 04: assigned by a leader for handling.
    Assigned,
    /// 05: being processed.
    InProgress,
    /// 06: completed.
    Completed,
    /// 13: the sender asks to take the document back.
    RecallRequested,
    /// 15: the recipient agrees to the recall or update.
    ChangeAccepted,
    /// 16: the recipient refuses the recall or update.
    ChangeRefused,
    /// A value outside the table, as written.
    Other(String),
}

impl StatusCode {
    /// Reads `03` and also `3` (some systems write integers).
    pub fn from_wire(s: &str) -> Self {
        let t = s.trim();
        match t.parse::<u32>() {
            Ok(1) => StatusCode::Arrived,
            Ok(2) => StatusCode::Refused,
            Ok(3) => StatusCode::Registered,
            Ok(4) => StatusCode::Assigned,
            Ok(5) => StatusCode::InProgress,
            Ok(6) => StatusCode::Completed,
            Ok(13) => StatusCode::RecallRequested,
            Ok(15) => StatusCode::ChangeAccepted,
            Ok(16) => StatusCode::ChangeRefused,
            _ => StatusCode::Other(t.to_string()),
        }
    }

    /// The two-digit code (`01`…`16`), or the raw value.
    pub fn wire(&self) -> &str {
        match self {
            StatusCode::Arrived => "01",
            StatusCode::Refused => "02",
            StatusCode::Registered => "03",
            StatusCode::Assigned => "04",
            StatusCode::InProgress => "05",
            StatusCode::Completed => "06",
            StatusCode::RecallRequested => "13",
            StatusCode::ChangeAccepted => "15",
            StatusCode::ChangeRefused => "16",
            StatusCode::Other(s) => s,
        }
    }

    /// Every code the table knows.
    pub const KNOWN: [StatusCode; 9] = [
        StatusCode::Arrived,
        StatusCode::Refused,
        StatusCode::Registered,
        StatusCode::Assigned,
        StatusCode::InProgress,
        StatusCode::Completed,
        StatusCode::RecallRequested,
        StatusCode::ChangeAccepted,
        StatusCode::ChangeRefused,
    ];
}

/// A status packet: one organisation reports where a document stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusPacket {
    pub from: Organ,
    pub response_for: ResponseFor,
    #[serde(default)]
    pub staff: StaffInfo,
    pub status: StatusCode,
    #[serde(default)]
    pub description: String,
    #[serde(default, with = "crate::dates::serde_timestamp")]
    pub timestamp: Option<PrimitiveDateTime>,
}

impl From<Priority> for String {
    fn from(p: Priority) -> String {
        p.wire().to_string()
    }
}

impl From<String> for Priority {
    fn from(s: String) -> Self {
        Priority::from_wire(&s)
    }
}

impl From<BusinessAction> for String {
    fn from(a: BusinessAction) -> String {
        a.name().to_string()
    }
}

impl From<String> for BusinessAction {
    fn from(s: String) -> Self {
        match s.trim() {
            "new" => BusinessAction::New,
            "revocation" => BusinessAction::Revocation,
            "update" => BusinessAction::Update,
            "replacement" => BusinessAction::Replacement,
            wire => BusinessAction::from_wire(wire),
        }
    }
}

impl From<StatusCode> for String {
    fn from(c: StatusCode) -> String {
        c.wire().to_string()
    }
}

impl From<String> for StatusCode {
    fn from(s: String) -> Self {
        StatusCode::from_wire(&s)
    }
}
