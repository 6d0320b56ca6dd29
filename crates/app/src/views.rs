//! What the use cases hand out: the types the API and the pages show. Each is its own type,
//! mapped by field name from the store's row, so a column renamed in the store cannot change
//! the public API without a change here, and a column is public only when it is listed here
//! (secrets such as a dossier's look-up token or an audit entry's MAC never are).

use egov_domain::onestop::dossier::{Channel, State};
use serde::Serialize;
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

/// Declares a view: the struct as listed (every field public, serialised under its name), and
/// its conversion from the store's row, field by field (`Into`, so a nested row becomes its
/// view; `=> f` converts a field with `f`). A field the row lacks, or of a type that does not convert, does not compile.
macro_rules! view {
    ($(
        $(#[$meta:meta])*
        pub struct $name:ident from $row:path {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty $(=> $conv:expr)? ),* $(,)?
        }
    )*) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty ),*
        }

        impl From<$row> for $name {
            fn from(row: $row) -> Self {
                Self { $( $field: view!(@field row.$field $(, $conv)?) ),* }
            }
        }

        impl AsView for $row {
            type View = $name;
            fn view(&self) -> $name {
                self.clone().into()
            }
            fn into_view(self) -> $name {
                self.into()
            }
        }
    )*};
    (@field $value:expr) => { $value.into() };
    (@field $value:expr, $conv:expr) => { ($conv)($value) };
}

view! {

    // Dossiers.
    /// Procedure.
    pub struct Procedure from egov_store::onestop::ProcedureRow {
        pub id: i64,
        pub code: String,
        pub version: i64,
        pub name: String,
        pub field_code: String,
        pub field_name: String,
        /// Comma-separated implementing levels.
        pub levels: String,
        pub online: String,
        pub effective_from: Date,
        pub effective_to: Option<Date>,
    }
    /// Process.
    pub struct Process from egov_store::onestop::ProcessRow {
        pub id: i64,
        pub procedure_code: String,
        pub version: i64,
        #[schema(value_type = Object)]
        pub data_json: String,
        pub effective_from: Date,
        pub effective_to: Option<Date>,
    }
    /// A dossier with the names officers need.
    pub struct Dossier from egov_store::onestop::DossierRow {
        pub id: i64,
        pub code: String,
        pub national_code: Option<String>,
        pub procedure_id: i64,
        pub process_id: i64,
        pub procedure_code: String,
        pub procedure_name: String,
        pub field_code: String,
        pub receiving_agency_id: i64,
        pub receiving_agency_name: String,
        pub competent_agency_id: i64,
        pub competent_agency_name: String,
        pub applicant_id: i64,
        pub applicant_name: String,
        pub applicant_phone: Option<String>,
        /// 1 counter, 2 online, 3 post.
        #[schema(value_type = i64)]
        pub channel: Channel,
        #[schema(value_type = String)]
        pub state: State,
        pub national_status: i64,
        pub step: i64,
        pub steps: i64,
        pub current_agency_id: Option<i64>,
        pub step_role: Option<String>,
        pub assignee_id: Option<i64>,
        #[serde(with = "time::serde::rfc3339::option")]
        pub step_due: Option<OffsetDateTime>,
        pub supplement_before_receipt: bool,
        pub supplements: i64,
        pub apologies: i64,
        pub counts_late: bool,
        pub subject: String,
        #[serde(with = "time::serde::rfc3339")]
        pub submitted_at: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339::option")]
        pub received_at: Option<OffsetDateTime>,
        #[serde(with = "time::serde::rfc3339::option")]
        pub appointment: Option<OffsetDateTime>,
        #[serde(with = "time::serde::rfc3339::option")]
        pub original_appointment: Option<OffsetDateTime>,
        #[serde(with = "time::serde::rfc3339::option")]
        pub extended_to: Option<OffsetDateTime>,
        #[serde(with = "time::serde::rfc3339::option")]
        pub finished_at: Option<OffsetDateTime>,
        #[serde(with = "time::serde::rfc3339::option")]
        pub returned_at: Option<OffsetDateTime>,
        #[serde(with = "time::serde::rfc3339::option")]
        pub closed_at: Option<OffsetDateTime>,
        pub timeliness: Option<String>,
        pub fee_total: i64,
        pub paid: bool,
        pub digitised: bool,
        /// Submitted on the national portal by an account verified with the national e-ID.
        pub eid_verified: bool,
        /// Its fees were paid on the national payment platform.
        pub paid_online: bool,
        pub reused_data: bool,
        pub result_json: Option<String>,
        pub month: String,
        pub version: i64,
    }
    /// Component.
    pub struct Component from egov_store::onestop::ComponentRow {
        pub id: i64,
        pub code: String,
        pub name: String,
        pub kind: String,
        pub quantity: i64,
        pub required: bool,
        pub provided: bool,
        pub blob_sha: Option<String>,
        pub reused: bool,
        pub note: String,
    }
    /// Step.
    pub struct Step from egov_store::onestop::StepRow {
        pub id: i64,
        pub seq: i64,
        pub name: String,
        pub agency_id: Option<i64>,
        pub agency_name: Option<String>,
        pub role: String,
        pub assignee_id: Option<i64>,
        pub assignee_name: Option<String>,
        #[serde(with = "time::serde::rfc3339::option")]
        pub started_at: Option<OffsetDateTime>,
        #[serde(with = "time::serde::rfc3339::option")]
        pub due_at: Option<OffsetDateTime>,
        #[serde(with = "time::serde::rfc3339::option")]
        pub finished_at: Option<OffsetDateTime>,
        pub handed_by: Option<i64>,
        pub handed_by_name: Option<String>,
        pub timeliness: Option<String>,
    }
    /// Pause.
    pub struct Pause from egov_store::onestop::PauseRow {
        pub id: i64,
        pub kind: String,
        #[serde(with = "time::serde::rfc3339")]
        pub started_at: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339::option")]
        pub ended_at: Option<OffsetDateTime>,
    }
    /// DossierEvent.
    pub struct DossierEvent from egov_store::onestop::EventRow {
        pub id: i64,
        #[serde(with = "time::serde::rfc3339")]
        pub at: OffsetDateTime,
        pub actor_id: Option<i64>,
        pub actor: String,
        pub event: String,
        pub from_state: Option<String>,
        pub to_state: String,
        pub step: i64,
        #[schema(value_type = Object)]
        pub data_json: String,
    }
    /// Monthly figures of an agency (as competent agency), by procedure.
    pub struct ProcedureStats from egov_store::onestop::StatRow {
        pub procedure_code: String,
        pub field_code: String,
        pub received: i64,
        pub online: i64,
        pub counter: i64,
        pub post: i64,
        pub finished_early: i64,
        pub finished_on_time: i64,
        pub finished_late: i64,
        pub open_on_time: i64,
        pub open_overdue: i64,
        pub digitised: i64,
        pub reused_data: i64,
        pub handling_seconds: i64,
        pub finished: i64,
    }

    // Documents.
    /// Document.
    pub struct Document from egov_store::documents::DocumentRow {
        pub id: i64,
        /// `internal` (drafted and issued here) or `external` (registered from outside).
        pub origin: String,
        /// The issuing agency, when it is in this deployment.
        pub agency_id: Option<i64>,
        pub issuer_name: String,
        pub issuer_code: Option<String>,
        pub kind: String,
        pub legal: bool,
        pub series: Option<String>,
        pub year: Option<i64>,
        pub number: Option<i64>,
        /// Number and notation as written (`123/QĐ-UBND`).
        pub notation: Option<String>,
        pub issued_on: Option<Date>,
        pub subject: String,
        pub urgency: String,
        pub secrecy: Option<String>,
        #[schema(value_type = String)]
        pub state: egov_domain::documents::flow::OutState,
        pub drafter_id: Option<i64>,
        pub drafting_unit_id: Option<i64>,
        pub signer_id: Option<i64>,
        pub signer_name: Option<String>,
        pub signer_mark: Option<String>,
        pub signer_position: Option<String>,
        /// SHA-256 of the main file (the PDF that is signed and issued).
        pub main_sha: Option<String>,
        pub recipients_text: String,
        pub replaces_id: Option<i64>,
        pub copies: i64,
        pub version: i64,
        #[serde(with = "time::serde::rfc3339")]
        pub created_at: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        pub updated_at: OffsetDateTime,
    }
    /// Attachment.
    pub struct Attachment from egov_store::documents::AttachmentRow {
        pub id: i64,
        pub document_id: i64,
        pub sha256: String,
        pub name: String,
        pub media_type: String,
        pub size: i64,
        /// `main` (the document itself), `draft` (a .docx/.odt source) or `attachment`.
        pub role: String,
        #[serde(with = "time::serde::rfc3339")]
        pub added_at: OffsetDateTime,
    }
    /// Recipient.
    pub struct Recipient from egov_store::documents::RecipientRow {
        pub id: i64,
        pub document_id: i64,
        pub agency_id: Option<i64>,
        pub external_code: Option<String>,
        pub name: String,
        /// "Kính gửi" (true) or only "Nơi nhận".
        pub addressed: bool,
        #[serde(with = "time::serde::rfc3339::option")]
        pub delivered_at: Option<OffsetDateTime>,
        /// The last status the recipient reported (01–06, 13, 15, 16).
        pub status: Option<String>,
        #[serde(with = "time::serde::rfc3339::option")]
        pub status_at: Option<OffsetDateTime>,
    }
    /// Incoming.
    pub struct Incoming from egov_store::documents::IncomingRow {
        pub id: i64,
        pub agency_id: i64,
        pub document_id: i64,
        /// `electronic` or `paper`.
        pub channel: String,
        #[schema(value_type = String)]
        pub state: egov_domain::documents::flow::InState,
        #[serde(with = "time::serde::rfc3339")]
        pub arrived_at: OffsetDateTime,
        pub arrival_year: Option<i64>,
        pub arrival_number: Option<i64>,
        pub secret: bool,
        #[serde(with = "time::serde::rfc3339::option")]
        pub registered_at: Option<OffsetDateTime>,
        pub lead_unit_id: Option<i64>,
        pub lead_person_id: Option<i64>,
        #[serde(with = "time::serde::rfc3339::option")]
        pub deadline: Option<OffsetDateTime>,
        pub direction: Option<String>,
        pub directed_by: Option<i64>,
        #[serde(with = "time::serde::rfc3339::option")]
        pub directed_at: Option<OffsetDateTime>,
        #[serde(with = "time::serde::rfc3339::option")]
        pub completed_at: Option<OffsetDateTime>,
        pub reply_document_id: Option<i64>,
        /// `13` while the sender asks for it back, `16` after a refusal.
        pub recall_status: Option<String>,
        /// A likely duplicate: an earlier copy with the same sender, number and date.
        pub duplicate_of: Option<i64>,
        pub version: i64,
        pub notation: Option<String>,
        pub issued_on: Option<Date>,
        pub issuer_name: String,
        pub subject: String,
        pub kind: String,
        pub urgency: String,
        /// The verdict on the signatures of the document's file (`valid`, `invalid`,
        /// `indeterminate`, `unsigned`), when it has one.
        pub signature: Option<String>,
    }
    /// Coordinator.
    pub struct Coordinator from egov_store::documents::CoordinatorRow {
        pub unit_id: Option<i64>,
        pub person_id: Option<i64>,
    }
    /// DocumentEvent.
    pub struct DocumentEvent from egov_store::documents::DocEventRow {
        pub id: i64,
        pub document_id: i64,
        pub incoming_id: Option<i64>,
        #[serde(with = "time::serde::rfc3339")]
        pub at: OffsetDateTime,
        pub actor_id: Option<i64>,
        pub actor: String,
        pub event: String,
        pub from_state: Option<String>,
        pub to_state: String,
        pub data_json: String,
    }
    /// Reservation.
    pub struct Reservation from egov_store::documents::ReservationRow {
        pub id: i64,
        pub agency_id: i64,
        pub series: String,
        pub year: i64,
        pub number: i64,
        pub kind: String,
        pub reserved_by: Option<i64>,
        #[serde(with = "time::serde::rfc3339")]
        pub reserved_at: OffsetDateTime,
        pub note: String,
        pub document_id: Option<i64>,
    }
    /// WorkFile.
    pub struct WorkFile from egov_store::documents::WorkFileRow {
        pub id: i64,
        pub agency_id: i64,
        pub year: i64,
        pub notation: String,
        /// `<agency identifier>.<year>.<notation>`.
        pub code: String,
        pub heading: String,
        pub title: String,
        /// `permanent` or a number of years.
        pub retention: String,
        pub responsible_id: Option<i64>,
        #[schema(value_type = String)]
        pub state: egov_domain::documents::file::FileState,
        #[serde(with = "time::serde::rfc3339::option")]
        pub opened_at: Option<OffsetDateTime>,
        #[serde(with = "time::serde::rfc3339::option")]
        pub closed_at: Option<OffsetDateTime>,
        #[serde(with = "time::serde::rfc3339::option")]
        pub archived_at: Option<OffsetDateTime>,
        pub documents: i64,
    }

    // Reminders.
    /// A reminder with what its person needs to recognise the document.
    pub struct Reminder from egov_store::reminders::ReminderRow {
        pub id: i64,
        pub person_id: i64,
        pub incoming_id: i64,
        pub document_id: i64,
        /// The receiving agency.
        pub agency_id: i64,
        /// `due_soon` or `overdue`.
        pub kind: String,
        #[serde(with = "time::serde::rfc3339")]
        pub deadline: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        pub created_at: OffsetDateTime,
        pub notation: Option<String>,
        pub subject: String,
        pub issuer_name: String,
    }

    // Signatures.
    /// SignatureReport.
    pub struct SignatureReport from egov_store::signatures::ReportRow {
        pub sha256: String,
        /// `valid`, `invalid`, `indeterminate` or `unsigned`.
        pub status: String,
        pub signatures: i64,
        /// The full report (JSON).
        pub report: String,
        #[serde(with = "time::serde::rfc3339")]
        pub checked_at: OffsetDateTime,
    }
    /// A signature waiting for a person, with what the signer needs to recognise the document.
    pub struct WaitingSignature from egov_store::signatures::WaitingRow {
        pub id: i64,
        pub document_id: i64,
        pub state: String,
        pub purpose: String,
        pub subject: String,
        pub kind: String,
        pub notation: Option<String>,
        #[serde(with = "time::serde::rfc3339")]
        pub created_at: OffsetDateTime,
    }

    // Signature images.
    /// SignatureImage.
    pub struct SignatureImage from egov_store::signature_images::ImageRow {
        pub id: i64,
        /// `signature` (a person's) or `seal` (an agency's).
        pub kind: String,
        /// The owner of a signature image; none for a seal.
        pub person_id: Option<i64>,
        /// The agency whose administrator approves it (a seal's owner).
        pub agency_id: i64,
        pub sha256: String,
        pub width_px: i64,
        pub height_px: i64,
        /// The printed width (a seal's real diameter).
        pub width_mm: f64,
        #[serde(with = "time::serde::rfc3339")]
        pub valid_from: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339::option")]
        pub valid_to: Option<OffsetDateTime>,
        /// `pending`, `approved`, `rejected` or `withdrawn`.
        pub state: String,
        pub uploaded_by: Option<i64>,
        #[serde(with = "time::serde::rfc3339")]
        pub uploaded_at: OffsetDateTime,
        pub decided_by: Option<i64>,
        #[serde(with = "time::serde::rfc3339::option")]
        pub decided_at: Option<OffsetDateTime>,
        pub note: String,
    }

    // Agencies.
    /// Agency.
    pub struct Agency from egov_store::agencies::Agency {
        pub id: i64,
        /// Agency identifier, QCVN 102:2016 (`000.00.00.H56`).
        pub code: String,
        /// `official`, `derived` or `local` (allocated by egov's scheme).
        pub code_source: String,
        pub name: String,
        pub short_name: String,
        /// `people_committee`, `department` or `other`.
        #[schema(value_type = String)]
        pub kind: egov_domain::org::AgencyKind,
        /// `collective` or `head`.
        #[schema(value_type = String)]
        pub governance: egov_domain::org::Governance,
        pub admin_unit_id: Option<i64>,
        pub parent_id: Option<i64>,
        pub valid_from: Option<Date>,
        pub valid_to: Option<Date>,
    }
    /// A row of the agency tree: the agency and how many children it has on the same date.
    pub struct TreeNode from egov_store::agencies::TreeNode {
        #[serde(flatten)]
        pub agency: Agency,
        pub child_count: i64,
    }
    /// A search hit with the name of the parent, to tell apart agencies of the same name.
    pub struct SearchHit from egov_store::agencies::SearchHit {
        #[serde(flatten)]
        pub agency: Agency,
        pub parent_name: Option<String>,
    }
    /// AgencyLink.
    pub struct AgencyLink from egov_store::agencies::AgencyLink {
        /// `merged` or `split` (the agency's own kind is `agency.kind`).
        #[schema(value_type = String)]
        pub succession: egov_domain::admin_unit::SuccessionKind,
        pub is_default: bool,
        #[serde(flatten)]
        pub agency: Agency,
    }

    // Administrative units.
    /// One administrative unit of one structure.
    pub struct AdminUnit from egov_store::units::AdminUnit {
        pub id: i64,
        pub structure: String,
        pub code: String,
        #[schema(value_type = String)]
        pub level: egov_domain::admin_unit::UnitLevel,
        pub name: String,
        pub division_type: String,
        pub parent_id: Option<i64>,
        pub province_code: String,
        pub valid_from: Option<Date>,
        pub valid_to: Option<Date>,
    }
    /// One succession link between an old unit and a new one.
    pub struct UnitLink from egov_store::units::UnitLink {
        #[schema(value_type = String)]
        pub kind: egov_domain::admin_unit::SuccessionKind,
        pub is_default: bool,
        #[serde(flatten)]
        pub unit: AdminUnit,
    }

    // Organisation.
    /// An internal unit (phòng, văn phòng, bộ phận một cửa).
    pub struct OrgUnit from egov_store::org::OrgUnit {
        pub id: i64,
        pub agency_id: i64,
        pub parent_id: Option<i64>,
        pub name: String,
        /// `office`, `division`, `one_stop` or `other`.
        #[schema(value_type = String)]
        pub kind: egov_domain::org::OrgUnitKind,
        pub valid_from: Option<Date>,
        pub valid_to: Option<Date>,
    }
    /// A position (chức vụ) from the catalogue.
    pub struct Position from egov_store::org::Position {
        pub key: String,
        pub name_vi: String,
        pub name_en: String,
        /// `head`, `deputy`, `unit_head`, `unit_deputy` or `staff`.
        pub rank: String,
        pub sort: i64,
    }
    /// A person's posting: the position they hold in an agency (and unit) from one time to another.
    pub struct Posting from egov_store::org::Posting {
        pub id: i64,
        pub person_id: i64,
        pub person_name: String,
        pub agency_id: i64,
        pub agency_name: String,
        pub org_unit_id: Option<i64>,
        pub org_unit_name: Option<String>,
        pub position_key: String,
        pub position_name: String,
        pub rank: String,
        #[schema(value_type = String)]
        pub governance: egov_domain::org::Governance,
        /// An acting head (Q.).
        pub acting: bool,
        #[serde(with = "time::serde::rfc3339")]
        pub valid_from: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339::option")]
        pub valid_to: Option<OffsetDateTime>,
    }
    /// A role granted to a person in an agency or an internal unit.
    pub struct RoleGrant from egov_store::org::RoleGrant {
        pub id: i64,
        pub person_id: i64,
        pub role: String,
        /// None for a deployment-wide administrator.
        pub agency_id: Option<i64>,
        pub agency_name: Option<String>,
        pub org_unit_id: Option<i64>,
        pub org_unit_name: Option<String>,
        #[serde(with = "time::serde::rfc3339")]
        pub valid_from: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339::option")]
        pub valid_to: Option<OffsetDateTime>,
        pub granted_by: Option<i64>,
        pub revoked_by: Option<i64>,
        pub reason: String,
    }
    /// A delegation of signing authority (TL. or TUQ.).
    pub struct Delegation from egov_store::org::Delegation {
        pub id: i64,
        pub agency_id: i64,
        /// `by_order` (TL.) or `authorised` (TUQ.).
        pub kind: String,
        pub delegator_id: i64,
        pub delegator_name: String,
        pub delegate_id: i64,
        pub delegate_name: String,
        #[serde(with = "time::serde::rfc3339")]
        pub valid_from: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        pub valid_to: OffsetDateTime,
        pub scope: String,
        pub reference: String,
        #[serde(with = "time::serde::rfc3339::option")]
        pub revoked_at: Option<OffsetDateTime>,
    }

    // People.
    /// An official. The password hash and TOTP secret never leave the store through this type.
    pub struct Person from egov_store::people::Person {
        pub id: i64,
        pub username: String,
        pub full_name: String,
        pub email: Option<String>,
        pub phone: Option<String>,
        pub totp_enabled: bool,
        pub active: bool,
        #[serde(with = "time::serde::rfc3339::option")]
        pub locked_until: Option<OffsetDateTime>,
        #[serde(with = "time::serde::rfc3339")]
        pub created_at: OffsetDateTime,
    }

    // Applicants.
    /// Applicant.
    pub struct Applicant from egov_store::applicants::Applicant {
        pub id: i64,
        /// `citizen`, `organisation` or `foreigner`.
        pub kind: String,
        /// Personal number, tax code, or `COUNTRY:PASSPORT`.
        pub identifier: String,
        pub name: String,
        pub birth_date: Option<Date>,
        pub phone: Option<String>,
        pub email: Option<String>,
        pub address: Option<String>,
        #[serde(with = "time::serde::rfc3339")]
        pub created_at: OffsetDateTime,
    }

    // Jobs.
    /// Job.
    pub struct Job from egov_store::jobs::Job {
        pub id: i64,
        pub kind: String,
        pub payload: String,
        pub idempotency_key: String,
        /// `queued`, `running`, `done` or `dead`.
        pub state: String,
        pub attempts: i64,
        pub max_attempts: i64,
        #[serde(with = "time::serde::rfc3339")]
        pub run_at: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339::option")]
        pub locked_until: Option<OffsetDateTime>,
        pub locked_by: Option<String>,
        pub last_error: Option<String>,
        #[serde(with = "time::serde::rfc3339")]
        pub created_at: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        pub updated_at: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339::option")]
        pub finished_at: Option<OffsetDateTime>,
    }
    /// StateCount.
    pub struct StateCount from egov_store::jobs::StateCount {
        pub state: String,
        pub count: i64,
    }

    // Calendar.
    /// CalendarYear.
    pub struct CalendarYear from egov_store::calendar::YearRow {
        pub year: i64,
        pub confirmed: bool,
        /// Raised by every change, so caches and recomputations know.
        pub version: i64,
        #[serde(with = "time::serde::rfc3339::option")]
        pub confirmed_at: Option<OffsetDateTime>,
        pub confirmed_by: Option<i64>,
    }
    /// CalendarDay.
    pub struct CalendarDay from egov_store::calendar::DayRow {
        pub date: Date,
        pub year: i64,
        pub kind: String,
        pub name: String,
        pub confirmed: bool,
        pub source: String,
    }
    /// A deadline computed and kept, so that a change of the calendar can find it.
    pub struct Deadline from egov_store::calendar::DeadlineRow {
        pub id: i64,
        pub owner_type: String,
        pub owner_id: String,
        pub label: String,
        /// `appointment` (printed on a receipt: never recomputed) or `step`.
        pub kind: String,
        pub agency_id: Option<i64>,
        #[serde(with = "time::serde::rfc3339")]
        pub received: OffsetDateTime,
        pub limit_json: String,
        pub pauses_json: String,
        #[serde(with = "time::serde::rfc3339")]
        pub due: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339::option")]
        pub finished_at: Option<OffsetDateTime>,
    }
    /// DeadlineReview.
    pub struct DeadlineReview from egov_store::calendar::ReviewRow {
        pub id: i64,
        pub deadline_id: i64,
        pub owner_type: String,
        pub owner_id: String,
        pub label: String,
        pub year: i64,
        #[serde(with = "time::serde::rfc3339")]
        pub old_due: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        pub new_due: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        pub created_at: OffsetDateTime,
    }

    // Audit.
    /// One entry of the audit log (without its MAC).
    pub struct AuditEntry from egov_store::audit::Entry {
        pub id: i64,
        #[serde(with = "time::serde::rfc3339")]
        pub at: OffsetDateTime,
        pub actor_id: Option<i64>,
        pub actor: String,
        pub action: String,
        pub object_type: String,
        pub object_id: String,
        pub agency_id: Option<i64>,
        pub before_json: Option<String>,
        pub after_json: Option<String>,
        pub ip: Option<String>,
        pub request_id: Option<String>,
        pub seq: Option<i64>,
        pub prev_hash: Option<String>,
        pub hash: Option<String>,
    }
    /// The first place the chain does not hold.
    pub struct BrokenLink from egov_store::audit::BrokenLink {
        /// The chain position where the break was found.
        pub seq: i64,
        /// The entry found there, if any.
        pub entry_id: Option<i64>,
        pub reason: String,
    }
    /// VerifyReport.
    pub struct VerifyReport from egov_store::audit::VerifyReport {
        /// Entries checked in the chain.
        pub sealed: i64,
        /// Entries not yet sealed (not covered by this check).
        pub unsealed: i64,
        pub head_seq: i64,
        pub head_hash: String,
        pub broken: Option<BrokenLink> => |b: Option<_>| b.map(BrokenLink::from),
        /// Checkpoints of the head kept outside the database that the chain was held against.
        pub checkpoints: i64,
    }

}

/// A row that has a view: what the audit log records of it, and what the pages show.
pub trait AsView {
    type View: Serialize;
    /// The view of a copy of the row.
    fn view(&self) -> Self::View;
    /// The row as its view.
    fn into_view(self) -> Self::View;
}

/// Maps a list of rows to their views.
pub fn all<R, V: From<R>>(rows: Vec<R>) -> Vec<V> {
    rows.into_iter().map(V::from).collect()
}
