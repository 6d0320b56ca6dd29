//! Documents and work records: documents (drafted here or registered from outside), their
//! attachments and recipients, incoming copies per recipient agency with their direction,
//! events, reserved numbers and work files. Lists and search are scoped by permission in SQL.

use time::{Date, OffsetDateTime};

use crate::db::{Arg, Dialect, Exec};
use crate::{StoreError, args};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DocumentRow {
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
    #[sqlx(try_from = "String")]
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
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

const DOC_COLS: &str = "d.id, d.origin, d.agency_id, d.issuer_name, d.issuer_code, d.kind, d.legal, d.series, \
     d.year, d.number, d.notation, d.issued_on, d.subject, d.urgency, d.secrecy, d.state, d.drafter_id, \
     d.drafting_unit_id, d.signer_id, d.signer_name, d.signer_mark, d.signer_position, d.main_sha, \
     d.recipients_text, d.replaces_id, d.copies, d.version, d.created_at, d.updated_at";

pub struct NewDocument<'a> {
    pub origin: &'a str,
    pub agency_id: Option<i64>,
    pub issuer_name: &'a str,
    pub issuer_code: Option<&'a str>,
    pub kind: &'a str,
    pub legal: bool,
    pub subject: &'a str,
    pub urgency: &'a str,
    pub secrecy: Option<&'a str>,
    pub state: &'a str,
    pub drafter_id: Option<i64>,
    pub drafting_unit_id: Option<i64>,
    pub recipients_text: &'a str,
    pub replaces_id: Option<i64>,
    pub copies: i64,
    pub search_fold: &'a str,
    /// The agencies that may see it, as index words ([`crate::fts::agency_words`]).
    pub access_fold: &'a str,
}

/// Adds agencies that may now see the document (a delivery, a registration).
pub async fn add_access(ex: &mut impl Exec, id: i64, agencies: &[i64]) -> Result<(), StoreError> {
    if agencies.is_empty() {
        return Ok(());
    }
    ex.execute(
        "UPDATE documents SET access_fold = TRIM(access_fold || ' ' || $1) WHERE id = $2",
        args![crate::fts::agency_words(agencies), id],
    )
    .await?;
    Ok(())
}

pub async fn insert_document(
    ex: &mut impl Exec,
    d: &NewDocument<'_>,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    ex.scalar(
        "INSERT INTO documents (origin, agency_id, issuer_name, issuer_code, kind, legal, subject, urgency, secrecy, \
         state, drafter_id, drafting_unit_id, recipients_text, replaces_id, copies, search_fold, access_fold, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $18, $17, $17) RETURNING id",
        args![
            d.origin,
            d.agency_id,
            d.issuer_name,
            d.issuer_code,
            d.kind,
            d.legal,
            d.subject,
            d.urgency,
            d.secrecy,
            d.state,
            d.drafter_id,
            d.drafting_unit_id,
            d.recipients_text,
            d.replaces_id,
            d.copies,
            d.search_fold,
            now,
            d.access_fold
        ],
    )
    .await
}

pub async fn get_document(ex: &mut impl Exec, id: i64) -> Result<DocumentRow, StoreError> {
    ex.fetch_one(
        &format!("SELECT {DOC_COLS} FROM documents d WHERE d.id = $1"),
        args![id],
    )
    .await
}

/// Moves a document to `state` if it is still at `version`; false when someone acted first.
pub async fn set_document_state(
    ex: &mut impl Exec,
    id: i64,
    version: i64,
    state: &str,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let n = ex
        .execute(
            "UPDATE documents SET state = $1, version = version + 1, updated_at = $2 \
             WHERE id = $3 AND version = $4",
            args![state, now, id, version],
        )
        .await?;
    Ok(n == 1)
}

/// What sign-off or a paper registration writes: the number, the date and the signer.
pub struct Numbering<'a> {
    pub series: &'a str,
    pub year: i32,
    pub number: i64,
    pub notation: &'a str,
    pub issued_on: Date,
    pub signer_id: Option<i64>,
    pub signer_name: &'a str,
    pub signer_mark: &'a str,
    pub signer_position: &'a str,
    pub search_fold: &'a str,
}

pub async fn set_numbering(
    ex: &mut impl Exec,
    id: i64,
    n: &Numbering<'_>,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE documents SET series = $1, year = $2, number = $3, notation = $4, issued_on = $5, signer_id = $6, \
         signer_name = $7, signer_mark = $8, signer_position = $9, search_fold = $10 WHERE id = $11",
        args![
            n.series,
            n.year,
            n.number,
            n.notation,
            n.issued_on,
            n.signer_id,
            n.signer_name,
            n.signer_mark,
            n.signer_position,
            n.search_fold,
            id
        ],
    )
    .await?;
    Ok(())
}

pub async fn set_main_file(
    ex: &mut impl Exec,
    id: i64,
    sha: &str,
    search_fold: &str,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE documents SET main_sha = $1, search_fold = $2 WHERE id = $3",
        args![sha, search_fold, id],
    )
    .await?;
    Ok(())
}

pub async fn set_search_fold(ex: &mut impl Exec, id: i64, fold: &str) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE documents SET search_fold = $1 WHERE id = $2",
        args![fold, id],
    )
    .await?;
    Ok(())
}

pub async fn search_fold_of(ex: &mut impl Exec, id: i64) -> Result<String, StoreError> {
    ex.scalar("SELECT search_fold FROM documents WHERE id = $1", args![id])
        .await
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AttachmentRow {
    pub id: i64,
    pub document_id: i64,
    pub sha256: String,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    /// `main` (the document itself), `draft` (a .docx/.odt source) or `attachment`.
    pub role: String,
    pub added_at: OffsetDateTime,
}

/// Points an attachment at another file: the same file with the agency's signature added at
/// issue (the earlier blob stays stored).
pub async fn replace_attachment_file(
    ex: &mut impl Exec,
    id: i64,
    sha: &str,
    size: i64,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE document_attachments SET sha256 = $1, size = $2 WHERE id = $3",
        args![sha, size, id],
    )
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_attachment(
    ex: &mut impl Exec,
    document_id: i64,
    sha: &str,
    name: &str,
    media_type: &str,
    size: i64,
    role: &str,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    ex.scalar(
        "INSERT INTO document_attachments (document_id, sha256, name, media_type, size, role, added_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        args![document_id, sha, name, media_type, size, role, now],
    )
    .await
}

pub async fn attachments(
    ex: &mut impl Exec,
    document_id: i64,
) -> Result<Vec<AttachmentRow>, StoreError> {
    ex.fetch_all(
        "SELECT id, document_id, sha256, name, media_type, size, role, added_at FROM document_attachments \
         WHERE document_id = $1 ORDER BY id",
        args![document_id],
    )
    .await
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RecipientRow {
    pub id: i64,
    pub document_id: i64,
    pub agency_id: Option<i64>,
    pub external_code: Option<String>,
    pub name: String,
    /// "Kính gửi" (true) or only "Nơi nhận".
    pub addressed: bool,
    pub delivered_at: Option<OffsetDateTime>,
    /// The last status the recipient reported (01–06, 13, 15, 16).
    pub status: Option<String>,
    pub status_at: Option<OffsetDateTime>,
}

pub struct NewRecipient {
    pub agency_id: Option<i64>,
    pub external_code: Option<String>,
    pub name: String,
    pub addressed: bool,
}

/// Rows per multi-row INSERT (PostgreSQL allows 65,535 parameters, SQLite 32,766).
const CHUNK: usize = 500;

pub async fn insert_recipients(
    ex: &mut impl Exec,
    document_id: i64,
    rs: &[NewRecipient],
) -> Result<(), StoreError> {
    for chunk in rs.chunks(CHUNK) {
        let mut sql = String::from(
            "INSERT INTO document_recipients (document_id, agency_id, external_code, name, addressed) VALUES ",
        );
        let mut a: Vec<Arg> = Vec::with_capacity(chunk.len() * 5);
        for (i, r) in chunk.iter().enumerate() {
            let b = i * 5;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5
            ));
            a.extend(args![
                document_id,
                r.agency_id,
                r.external_code.clone(),
                r.name.clone(),
                r.addressed
            ]);
        }
        ex.execute(&sql, a).await?;
    }
    Ok(())
}

pub async fn recipients(
    ex: &mut impl Exec,
    document_id: i64,
) -> Result<Vec<RecipientRow>, StoreError> {
    ex.fetch_all(
        "SELECT id, document_id, agency_id, external_code, name, addressed, delivered_at, status, status_at \
         FROM document_recipients WHERE document_id = $1 ORDER BY id",
        args![document_id],
    )
    .await
}

/// Records the status a recipient agency reported back to the sender.
pub async fn set_recipient_status(
    ex: &mut impl Exec,
    document_id: i64,
    agency_id: i64,
    status: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE document_recipients SET status = $1, status_at = $2 WHERE document_id = $3 AND agency_id = $4",
        args![status, now, document_id, agency_id],
    )
    .await?;
    Ok(())
}

pub async fn mark_delivered(
    ex: &mut impl Exec,
    document_id: i64,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE document_recipients SET delivered_at = $1, status = '01', status_at = $1 \
         WHERE document_id = $2 AND agency_id IS NOT NULL",
        args![now, document_id],
    )
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct IncomingRow {
    pub id: i64,
    pub agency_id: i64,
    pub document_id: i64,
    /// `electronic` or `paper`.
    pub channel: String,
    #[sqlx(try_from = "String")]
    pub state: egov_domain::documents::flow::InState,
    pub arrived_at: OffsetDateTime,
    pub arrival_year: Option<i64>,
    pub arrival_number: Option<i64>,
    pub secret: bool,
    pub registered_at: Option<OffsetDateTime>,
    pub lead_unit_id: Option<i64>,
    pub lead_person_id: Option<i64>,
    pub deadline: Option<OffsetDateTime>,
    pub direction: Option<String>,
    pub directed_by: Option<i64>,
    pub directed_at: Option<OffsetDateTime>,
    pub completed_at: Option<OffsetDateTime>,
    pub reply_document_id: Option<i64>,
    /// `13` while the sender asks for it back, `16` after a refusal.
    pub recall_status: Option<String>,
    /// A likely duplicate: an earlier copy with the same sender, number and date.
    pub duplicate_of: Option<i64>,
    pub version: i64,
    // From the document, for lists.
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

const IN_COLS: &str = "i.id, i.agency_id, i.document_id, i.channel, i.state, i.arrived_at, i.arrival_year, \
     i.arrival_number, i.secret, i.registered_at, i.lead_unit_id, i.lead_person_id, i.deadline, i.direction, \
     i.directed_by, i.directed_at, i.completed_at, i.reply_document_id, i.recall_status, i.duplicate_of, i.version, \
     d.notation, d.issued_on, d.issuer_name, d.subject, d.kind, d.urgency, \
     (SELECT r.status FROM signature_reports r WHERE r.sha256 = d.main_sha) AS signature";

/// Delivers a document to many agencies at once: one incoming copy each, `arrived`.
pub async fn insert_incoming_many(
    ex: &mut impl Exec,
    document_id: i64,
    agencies: &[i64],
    channel: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    for chunk in agencies.chunks(CHUNK) {
        let mut sql = String::from(
            "INSERT INTO incoming (agency_id, document_id, channel, state, arrived_at, updated_at) VALUES ",
        );
        let mut a: Vec<Arg> = args![document_id, channel, now];
        for (i, agency) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, $1, $2, 'arrived', $3, $3)", i + 4));
            a.push(Arg::from(*agency));
        }
        ex.execute(&sql, a).await?;
    }
    Ok(())
}

pub async fn insert_incoming(
    ex: &mut impl Exec,
    agency_id: i64,
    document_id: i64,
    channel: &str,
    secret: bool,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    ex.scalar(
        "INSERT INTO incoming (agency_id, document_id, channel, state, arrived_at, secret, updated_at) \
         VALUES ($1, $2, $3, 'arrived', $4, $5, $4) RETURNING id",
        args![agency_id, document_id, channel, now, secret],
    )
    .await
}

pub async fn get_incoming(ex: &mut impl Exec, id: i64) -> Result<IncomingRow, StoreError> {
    ex.fetch_one(
        &format!(
            "SELECT {IN_COLS} FROM incoming i JOIN documents d ON d.id = i.document_id WHERE i.id = $1"
        ),
        args![id],
    )
    .await
}

/// The copy of a document held by an agency where the person holds one of `roles` for the
/// whole agency (or any copy, for a deployment-wide administrator when `roles` includes it),
/// in one query however many agencies received the document.
pub async fn reader_copy(
    ex: &mut impl Exec,
    document_id: i64,
    person: i64,
    roles: &[&str],
    now: OffsetDateTime,
) -> Result<Option<IncomingRow>, StoreError> {
    let mut a: Vec<Arg> = args![document_id, person, now];
    let list = crate::push_list(&mut a, roles);
    ex.fetch_optional(
        &format!(
            "SELECT {IN_COLS} FROM incoming i JOIN documents d ON d.id = i.document_id \
             WHERE i.document_id = $1 AND EXISTS (SELECT 1 FROM role_grants g WHERE g.person_id = $2 \
             AND g.role IN ({list}) AND g.valid_from <= $3 AND (g.valid_to IS NULL OR g.valid_to > $3) \
             AND ((g.agency_id IS NULL AND g.role = 'administrator') \
                  OR (g.agency_id = i.agency_id AND g.org_unit_id IS NULL))) \
             ORDER BY i.agency_id LIMIT 1"
        ),
        a,
    )
    .await
}

/// The changes an action makes to an incoming copy; `None` leaves a column as it is.
#[derive(Default)]
pub struct IncomingUpdate {
    pub state: Option<String>,
    pub arrival: Option<(i32, i64)>,
    pub registered_by: Option<i64>,
    pub lead_unit_id: Option<Option<i64>>,
    pub lead_person_id: Option<Option<i64>>,
    pub deadline: Option<Option<OffsetDateTime>>,
    pub direction: Option<String>,
    pub directed_by: Option<i64>,
    pub completed: bool,
    pub reply_document_id: Option<i64>,
    pub recall_status: Option<Option<String>>,
    pub duplicate_of: Option<i64>,
}

/// Applies `u` if the copy is still at `version`; false when someone acted first.
pub async fn update_incoming(
    ex: &mut impl Exec,
    id: i64,
    version: i64,
    u: &IncomingUpdate,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let mut sets = vec![
        "version = version + 1".to_owned(),
        "updated_at = $1".to_owned(),
    ];
    let mut a: Vec<Arg> = args![now];
    let mut set = |col: &str, v: Arg, a: &mut Vec<Arg>| {
        a.push(v);
        sets.push(format!("{col} = ${}", a.len()));
    };
    if let Some(s) = &u.state {
        set("state", Arg::from(s.clone()), &mut a);
    }
    if let Some((y, n)) = u.arrival {
        set("arrival_year", Arg::from(y), &mut a);
        set("arrival_number", Arg::from(n), &mut a);
        set("registered_at", Arg::from(now), &mut a);
    }
    if let Some(p) = u.registered_by {
        set("registered_by", Arg::from(p), &mut a);
    }
    if let Some(v) = u.lead_unit_id {
        set("lead_unit_id", Arg::from(v), &mut a);
    }
    if let Some(v) = u.lead_person_id {
        set("lead_person_id", Arg::from(v), &mut a);
    }
    if let Some(v) = u.deadline {
        set("deadline", Arg::from(v), &mut a);
    }
    if let Some(v) = &u.direction {
        set("direction", Arg::from(v.clone()), &mut a);
    }
    if let Some(v) = u.directed_by {
        set("directed_by", Arg::from(v), &mut a);
        set("directed_at", Arg::from(now), &mut a);
    }
    if u.completed {
        set("completed_at", Arg::from(now), &mut a);
    }
    if let Some(v) = u.reply_document_id {
        set("reply_document_id", Arg::from(v), &mut a);
    }
    if let Some(v) = &u.recall_status {
        set("recall_status", Arg::from(v.clone()), &mut a);
    }
    if let Some(v) = u.duplicate_of {
        set("duplicate_of", Arg::from(v), &mut a);
    }
    a.push(Arg::from(id));
    let id_at = a.len();
    a.push(Arg::from(version));
    let sql = format!(
        "UPDATE incoming SET {} WHERE id = ${id_at} AND version = ${}",
        sets.join(", "),
        a.len()
    );
    Ok(ex.execute(&sql, a).await? == 1)
}

/// Sets the recall status of every live copy of a document (the sender asked for it back).
pub async fn request_recall_of_copies(
    ex: &mut impl Exec,
    document_id: i64,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    ex.execute(
        "UPDATE incoming SET recall_status = '13', version = version + 1, updated_at = $1 \
         WHERE document_id = $2 AND state <> 'cancelled' AND state <> 'rejected'",
        args![now, document_id],
    )
    .await
}

pub async fn set_coordinators(
    ex: &mut impl Exec,
    incoming_id: i64,
    units: &[i64],
    people: &[i64],
) -> Result<(), StoreError> {
    ex.execute(
        "DELETE FROM incoming_coordinators WHERE incoming_id = $1",
        args![incoming_id],
    )
    .await?;
    for u in units {
        ex.execute(
            "INSERT INTO incoming_coordinators (incoming_id, unit_id) VALUES ($1, $2)",
            args![incoming_id, *u],
        )
        .await?;
    }
    for p in people {
        ex.execute(
            "INSERT INTO incoming_coordinators (incoming_id, person_id) VALUES ($1, $2)",
            args![incoming_id, *p],
        )
        .await?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CoordinatorRow {
    pub unit_id: Option<i64>,
    pub person_id: Option<i64>,
}

pub async fn coordinators(
    ex: &mut impl Exec,
    incoming_id: i64,
) -> Result<Vec<CoordinatorRow>, StoreError> {
    ex.fetch_all(
        "SELECT unit_id, person_id FROM incoming_coordinators WHERE incoming_id = $1",
        args![incoming_id],
    )
    .await
}

/// An earlier copy in the agency with the same sender, notation and date: a likely duplicate
/// (the same paper document registered twice, or a paper copy of an electronic one).
pub async fn find_duplicate(
    ex: &mut impl Exec,
    agency_id: i64,
    issuer_name: &str,
    notation: &str,
    issued_on: Option<Date>,
) -> Result<Option<i64>, StoreError> {
    ex.scalar_optional(
        "SELECT i.id FROM incoming i JOIN documents d ON d.id = i.document_id \
         WHERE i.agency_id = $1 AND d.issuer_name = $2 AND d.notation = $3 \
         AND (d.issued_on = $4 OR ($4 IS NULL AND d.issued_on IS NULL)) AND i.state <> 'cancelled' \
         ORDER BY i.id LIMIT 1",
        args![agency_id, issuer_name, notation, issued_on],
    )
    .await
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DocEventRow {
    pub id: i64,
    pub document_id: i64,
    pub incoming_id: Option<i64>,
    pub at: OffsetDateTime,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub event: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub data_json: String,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_event(
    ex: &mut impl Exec,
    document_id: i64,
    incoming_id: Option<i64>,
    now: OffsetDateTime,
    actor_id: Option<i64>,
    actor: &str,
    event: &str,
    from: Option<&str>,
    to: &str,
    data: &serde_json::Value,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO document_events (document_id, incoming_id, at, actor_id, actor, event, from_state, to_state, data_json) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        args![
            document_id,
            incoming_id,
            now,
            actor_id,
            actor,
            event,
            from,
            to,
            data.to_string()
        ],
    )
    .await?;
    Ok(())
}

/// The events of a document as `agency` may see them: its own, and those of its copy.
pub async fn events(ex: &mut impl Exec, document_id: i64) -> Result<Vec<DocEventRow>, StoreError> {
    ex.fetch_all(
        "SELECT id, document_id, incoming_id, at, actor_id, actor, event, from_state, to_state, data_json \
         FROM document_events WHERE document_id = $1 ORDER BY id",
        args![document_id],
    )
    .await
}

/// The series mode of an agency: `single` (default) or `per_kind`.
pub async fn series_mode(ex: &mut impl Exec, agency_id: i64) -> Result<String, StoreError> {
    Ok(ex
        .scalar_optional::<String>(
            "SELECT series_mode FROM document_settings WHERE agency_id = $1",
            args![agency_id],
        )
        .await?
        .unwrap_or_else(|| "single".to_owned()))
}

pub async fn set_series_mode(
    ex: &mut impl Exec,
    agency_id: i64,
    mode: &str,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO document_settings (agency_id, series_mode) VALUES ($1, $2) \
         ON CONFLICT (agency_id) DO UPDATE SET series_mode = excluded.series_mode",
        args![agency_id, mode],
    )
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReservationRow {
    pub id: i64,
    pub agency_id: i64,
    pub series: String,
    pub year: i64,
    pub number: i64,
    pub kind: String,
    pub reserved_by: Option<i64>,
    pub reserved_at: OffsetDateTime,
    pub note: String,
    pub document_id: Option<i64>,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_reservation(
    ex: &mut impl Exec,
    agency_id: i64,
    series: &str,
    year: i32,
    number: i64,
    kind: &str,
    by: Option<i64>,
    note: &str,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    ex.scalar(
        "INSERT INTO number_reservations (agency_id, series, year, number, kind, reserved_by, reserved_at, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        args![agency_id, series, year, number, kind, by, now, note],
    )
    .await
}

pub async fn get_reservation(ex: &mut impl Exec, id: i64) -> Result<ReservationRow, StoreError> {
    ex.fetch_one(
        "SELECT id, agency_id, series, year, number, kind, reserved_by, reserved_at, note, document_id \
         FROM number_reservations WHERE id = $1",
        args![id],
    )
    .await
}

/// Marks a reservation used; false if it was used already (two clerks at once).
pub async fn use_reservation(
    ex: &mut impl Exec,
    id: i64,
    document_id: i64,
) -> Result<bool, StoreError> {
    Ok(ex
        .execute(
            "UPDATE number_reservations SET document_id = $1 WHERE id = $2 AND document_id IS NULL",
            args![document_id, id],
        )
        .await?
        == 1)
}

pub async fn open_reservations(
    ex: &mut impl Exec,
    agency_id: i64,
) -> Result<Vec<ReservationRow>, StoreError> {
    ex.fetch_all(
        "SELECT id, agency_id, series, year, number, kind, reserved_by, reserved_at, note, document_id \
         FROM number_reservations WHERE agency_id = $1 AND document_id IS NULL ORDER BY year, series, number",
        args![agency_id],
    )
    .await
}

/// Whether the person holds any role in the agency now (or is a system administrator).
fn in_agency_sql(person: &str, at: &str, agency: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM role_grants g WHERE g.person_id = {person} AND g.valid_from <= {at} \
         AND (g.valid_to IS NULL OR g.valid_to > {at}) \
         AND ((g.agency_id IS NULL AND g.role = 'administrator') OR g.agency_id = {agency}))"
    )
}

/// The condition "the person may see document `d`" at `at`, binding its own arguments into
/// `a`: drafted or issued by an agency they belong to, or received by one (a copy not
/// cancelled by a recall).
pub fn visible(a: &mut Vec<Arg>, person: i64, at: OffsetDateTime) -> String {
    let (person, at) = (crate::bind(a, person), crate::bind(a, at));
    format!(
        "({} OR EXISTS (SELECT 1 FROM incoming v WHERE v.document_id = d.id AND v.state <> 'cancelled' AND {}))",
        in_agency_sql(&person, &at, "d.agency_id"),
        in_agency_sql(&person, &at, "v.agency_id")
    )
}

pub async fn can_see(
    ex: &mut impl Exec,
    person: i64,
    document_id: i64,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let mut a = args![document_id];
    let visible = visible(&mut a, person, now);
    let n: i64 = ex
        .scalar(
            &format!("SELECT COUNT(*) FROM documents d WHERE d.id = $1 AND {visible}"),
            a,
        )
        .await?;
    Ok(n > 0)
}

/// Full-text search over subject, number and notation, sender and attachment text, folded;
/// secret entries are never found; permission is part of the query.
pub async fn search(
    ex: &mut impl Exec,
    person: i64,
    q: &str,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<DocumentRow>, StoreError> {
    let words = egov_domain::text::query_words(q);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let agencies = crate::onestop::visible_agencies(ex, person, now).await?;
    if agencies.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    if ex.dialect() == Dialect::Postgres
        && let Some(ids) = &agencies
        && let Some(rows) = recent_first(ex, person, now, ids, &words, limit).await?
    {
        return Ok(rows);
    }
    let agencies = agencies.unwrap_or_default();
    let mut a: Vec<Arg> = Vec::new();
    let cond = match ex.dialect() {
        Dialect::Sqlite => {
            let mut m = format!("search_fold : ({})", crate::fts::sqlite_all(&words));
            if !agencies.is_empty() {
                m.push_str(&format!(
                    " AND access_fold : ({})",
                    crate::fts::any_agency(&agencies, " OR ")
                ));
            }
            format!(
                "d.id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH {})",
                crate::bind(&mut a, m)
            )
        }
        Dialect::Postgres => {
            let mut m = crate::fts::pg_all(&words);
            if !agencies.is_empty() {
                m.push_str(&format!(
                    " & ({})",
                    crate::fts::any_agency(&agencies, " | ")
                ));
            }
            format!(
                "d.search_tsv @@ to_tsquery('simple', {})",
                crate::bind(&mut a, m)
            )
        }
    };
    // On PostgreSQL, sorting by `id + 0` keeps the planner from walking the primary key
    // backwards through a million rows when the words are rare: the GIN index finds the
    // (already narrowed) candidates, and only those are sorted.
    let order = match ex.dialect() {
        Dialect::Sqlite => "d.id DESC",
        Dialect::Postgres => "d.id + 0 DESC",
    };
    let visible = visible(&mut a, person, now);
    let limit = crate::bind(&mut a, limit);
    let sql = format!(
        "SELECT {DOC_COLS} FROM documents d WHERE {cond} AND d.secrecy IS NULL AND {visible} \
         ORDER BY {order} LIMIT {limit}"
    );
    ex.fetch_all(&sql, a).await
}

/// Candidates examined by [`recent_first`]: the newest copies held by, and documents of, the
/// reader's agencies.
const RECENT_WINDOW: i64 = 2000;

/// PostgreSQL's fast path for words that match often: look through the newest documents the
/// reader's agencies hold (an index walk on `(agency, document)`), newest first. When the window
/// yields a full page whose last row is newer than everything left outside it, that page is
/// exactly what the full search would return; otherwise (rare words) `None`, and the caller
/// sorts what the GIN index finds.
async fn recent_first(
    ex: &mut impl Exec,
    person: i64,
    now: OffsetDateTime,
    agencies: &[i64],
    words: &[String],
    limit: i64,
) -> Result<Option<Vec<DocumentRow>>, StoreError> {
    // The newest copies held by, and documents of, the reader's agencies; `limit` and `list`
    // are the placeholders of the window size and the agencies.
    let windows = |limit: &str, list: &str| {
        format!(
            "WITH wa AS (SELECT v.document_id AS id FROM incoming v WHERE v.agency_id IN ({list}) \
             AND v.state <> 'cancelled' ORDER BY v.document_id DESC LIMIT {limit}), \
             wb AS (SELECT w.id FROM documents w WHERE w.agency_id IN ({list}) ORDER BY w.id DESC LIMIT {limit})"
        )
    };
    // The oldest id both windows still cover (0 when a window holds everything of its source).
    let mut fa: Vec<Arg> = args![RECENT_WINDOW];
    let flist = crate::push_list(&mut fa, agencies);
    let floor: i64 = ex
        .scalar(
            &format!(
                "{} SELECT GREATEST(\
                 (SELECT CASE WHEN COUNT(*) < $1 THEN 0 ELSE MIN(id) END FROM wa), \
                 (SELECT CASE WHEN COUNT(*) < $1 THEN 0 ELSE MIN(id) END FROM wb))",
                windows("$1", &flist)
            ),
            fa,
        )
        .await?;
    // Below, `search_tsv || ''` keeps the planner off the GIN index: checking a few thousand
    // candidates by primary key is the point of this path, not intersecting with every match.
    let mut a: Vec<Arg> = Vec::new();
    let window = crate::bind(&mut a, RECENT_WINDOW);
    let list = crate::push_list(&mut a, agencies);
    let windows = windows(&window, &list);
    let words = crate::bind(&mut a, crate::fts::pg_all(words));
    let visible = visible(&mut a, person, now);
    let page = crate::bind(&mut a, limit);
    let rows: Vec<DocumentRow> = ex
        .fetch_all(
            &format!(
                "{windows} SELECT {DOC_COLS} FROM documents d WHERE d.id IN (SELECT id FROM wa UNION SELECT id FROM wb) \
                 AND (d.search_tsv || ''::tsvector) @@ to_tsquery('simple', {words}) AND d.secrecy IS NULL \
                 AND {visible} ORDER BY d.id DESC LIMIT {page}"
            ),
            a,
        )
        .await?;
    let complete = rows.len() as i64 == limit && rows.last().is_some_and(|r| r.id >= floor);
    Ok(complete.then_some(rows))
}

/// Outgoing documents of an agency in the given states, newest first.
pub async fn outgoing(
    ex: &mut impl Exec,
    agency_id: i64,
    states: &[&str],
    limit: i64,
) -> Result<Vec<DocumentRow>, StoreError> {
    let mut a: Vec<Arg> = args![agency_id];
    let marks = crate::push_list(&mut a, states);
    a.push(Arg::from(limit));
    ex.fetch_all(
        &format!(
            "SELECT {DOC_COLS} FROM documents d WHERE d.agency_id = $1 AND d.origin = 'internal' \
             AND d.state IN ({marks}) ORDER BY d.updated_at DESC, d.id DESC LIMIT ${}",
            a.len()
        ),
        a,
    )
    .await
}

/// Incoming copies of an agency in the given states: urgent first, then oldest first.
pub async fn incoming_of(
    ex: &mut impl Exec,
    agency_id: i64,
    states: &[&str],
    limit: i64,
) -> Result<Vec<IncomingRow>, StoreError> {
    let mut a: Vec<Arg> = args![agency_id];
    let marks = crate::push_list(&mut a, states);
    a.push(Arg::from(limit));
    ex.fetch_all(
        &format!(
            "SELECT {IN_COLS} FROM incoming i JOIN documents d ON d.id = i.document_id \
             WHERE i.agency_id = $1 AND i.state IN ({marks}) \
             ORDER BY CASE d.urgency WHEN 'express' THEN 0 WHEN 'very_urgent' THEN 1 WHEN 'urgent' THEN 2 ELSE 3 END, \
             i.arrived_at, i.id LIMIT ${}",
            a.len()
        ),
        a,
    )
    .await
}

/// Open incoming copies the person leads or coordinates, soonest deadline first.
pub async fn handling_of(
    ex: &mut impl Exec,
    person: i64,
    limit: i64,
) -> Result<Vec<IncomingRow>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT {IN_COLS} FROM incoming i JOIN documents d ON d.id = i.document_id \
             WHERE i.id IN (SELECT x.id FROM incoming x WHERE x.lead_person_id = $1 AND x.state IN ('directed', 'processing') \
             UNION SELECT c.incoming_id FROM incoming_coordinators c JOIN incoming y ON y.id = c.incoming_id \
             WHERE c.person_id = $1 AND y.state IN ('directed', 'processing')) \
             ORDER BY CASE WHEN i.deadline IS NULL THEN 1 ELSE 0 END, i.deadline, i.id LIMIT $2"
        ),
        args![person, limit],
    )
    .await
}

/// Open copies with a deadline before `before` (due soon or overdue), for reminders.
pub async fn due_before(
    ex: &mut impl Exec,
    before: OffsetDateTime,
    limit: i64,
) -> Result<Vec<IncomingRow>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT {IN_COLS} FROM incoming i JOIN documents d ON d.id = i.document_id \
             WHERE i.state IN ('directed', 'processing') AND i.deadline < $1 ORDER BY i.deadline LIMIT $2"
        ),
        args![before, limit],
    )
    .await
}

/// The incoming register (sổ đăng ký văn bản đến) of an agency for a year: registered copies
/// in arrival order, secret ones in their own register.
pub async fn incoming_register(
    ex: &mut impl Exec,
    agency_id: i64,
    year: i32,
    secret: bool,
) -> Result<Vec<IncomingRow>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT {IN_COLS} FROM incoming i JOIN documents d ON d.id = i.document_id \
             WHERE i.agency_id = $1 AND i.arrival_year = $2 AND i.secret = $3 AND i.arrival_number IS NOT NULL \
             ORDER BY i.arrival_number"
        ),
        args![agency_id, year, secret],
    )
    .await
}

/// The outgoing register (sổ đăng ký văn bản đi) of an agency for a year, by series and number.
pub async fn outgoing_register(
    ex: &mut impl Exec,
    agency_id: i64,
    year: i32,
    secret: bool,
) -> Result<Vec<DocumentRow>, StoreError> {
    let secret_cond = if secret {
        "d.secrecy IS NOT NULL"
    } else {
        "d.secrecy IS NULL"
    };
    ex.fetch_all(
        &format!(
            "SELECT {DOC_COLS} FROM documents d WHERE d.agency_id = $1 AND d.origin = 'internal' AND d.year = $2 \
             AND d.number IS NOT NULL AND {secret_cond} ORDER BY d.series, d.number"
        ),
        args![agency_id, year],
    )
    .await
}

/// The recipients of every document in an agency's outgoing register of a year, as (document,
/// recipient name) in the order they were chosen: one query for the whole register.
pub async fn register_recipients(
    ex: &mut impl Exec,
    agency_id: i64,
    year: i32,
) -> Result<Vec<(i64, String)>, StoreError> {
    ex.fetch_all(
        "SELECT r.document_id, r.name FROM document_recipients r JOIN documents d ON d.id = r.document_id \
         WHERE d.agency_id = $1 AND d.origin = 'internal' AND d.year = $2 AND d.number IS NOT NULL \
         ORDER BY r.document_id, r.id",
        args![agency_id, year],
    )
    .await
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct WorkFileRow {
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
    #[sqlx(try_from = "String")]
    pub state: egov_domain::documents::file::FileState,
    pub opened_at: Option<OffsetDateTime>,
    pub closed_at: Option<OffsetDateTime>,
    pub archived_at: Option<OffsetDateTime>,
    pub documents: i64,
}

const FILE_COLS: &str = "f.id, f.agency_id, f.year, f.notation, f.code, f.heading, f.title, f.retention, \
     f.responsible_id, f.state, f.opened_at, f.closed_at, f.archived_at, \
     (SELECT COUNT(*) FROM work_file_documents w WHERE w.file_id = f.id) AS documents";

pub struct NewWorkFile<'a> {
    pub agency_id: i64,
    pub year: i32,
    pub notation: &'a str,
    pub code: &'a str,
    pub heading: &'a str,
    pub title: &'a str,
    pub retention: &'a str,
    pub responsible_id: Option<i64>,
}

pub async fn insert_work_file(
    ex: &mut impl Exec,
    f: &NewWorkFile<'_>,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    ex.scalar(
        "INSERT INTO work_files (agency_id, year, notation, code, heading, title, retention, responsible_id, state, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'planned', $9) RETURNING id",
        args![
            f.agency_id,
            f.year,
            f.notation,
            f.code,
            f.heading,
            f.title,
            f.retention,
            f.responsible_id,
            now
        ],
    )
    .await
}

pub async fn get_work_file(ex: &mut impl Exec, id: i64) -> Result<WorkFileRow, StoreError> {
    ex.fetch_one(
        &format!("SELECT {FILE_COLS} FROM work_files f WHERE f.id = $1"),
        args![id],
    )
    .await
}

pub async fn work_files(
    ex: &mut impl Exec,
    agency_id: i64,
    year: i32,
) -> Result<Vec<WorkFileRow>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT {FILE_COLS} FROM work_files f WHERE f.agency_id = $1 AND f.year = $2 ORDER BY f.notation"
        ),
        args![agency_id, year],
    )
    .await
}

/// Moves a file to `to` if it is in `from`; false otherwise.
pub async fn set_work_file_state(
    ex: &mut impl Exec,
    id: i64,
    from: &str,
    to: &str,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let stamp = match to {
        "open" => ", opened_at = COALESCE(opened_at, $1), closed_at = NULL",
        "closed" => ", closed_at = $1",
        "archived" => ", archived_at = $1",
        _ => "",
    };
    let n = ex
        .execute(
            &format!("UPDATE work_files SET state = $2{stamp} WHERE id = $3 AND state = $4"),
            args![now, to, id, from],
        )
        .await?;
    Ok(n == 1)
}

/// Adds a document to a file (a document may be in several); false if it is there already.
pub async fn add_to_file(
    ex: &mut impl Exec,
    file_id: i64,
    document_id: i64,
    by: Option<i64>,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let n = ex
        .execute(
            "INSERT INTO work_file_documents (file_id, document_id, ordinal, added_by, added_at) \
             SELECT $1, $2, COALESCE(MAX(ordinal), 0) + 1, $3, $4 FROM work_file_documents WHERE file_id = $1 \
             ON CONFLICT (file_id, document_id) DO NOTHING",
            args![file_id, document_id, by, now],
        )
        .await?;
    Ok(n == 1)
}

pub async fn file_documents(
    ex: &mut impl Exec,
    file_id: i64,
) -> Result<Vec<DocumentRow>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT {DOC_COLS} FROM work_file_documents w JOIN documents d ON d.id = w.document_id \
             WHERE w.file_id = $1 ORDER BY w.ordinal"
        ),
        args![file_id],
    )
    .await
}

pub async fn files_of_document(
    ex: &mut impl Exec,
    document_id: i64,
) -> Result<Vec<WorkFileRow>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT {FILE_COLS} FROM work_files f WHERE f.id IN \
             (SELECT file_id FROM work_file_documents WHERE document_id = $1) ORDER BY f.code"
        ),
        args![document_id],
    )
    .await
}
