//! Stored verdicts on the signatures of PDF blobs.

use crate::{Exec, StoreError, args};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReportRow {
    pub sha256: String,
    /// `valid`, `invalid`, `indeterminate` or `unsigned`.
    pub status: String,
    pub signatures: i64,
    /// The full report (JSON).
    pub report: String,
    pub checked_at: OffsetDateTime,
}

/// Records (or replaces) the verdict on a blob.
pub async fn save(ex: &mut impl Exec, row: &ReportRow) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO signature_reports (sha256, status, signatures, report, checked_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (sha256) DO UPDATE SET status = excluded.status, signatures = excluded.signatures, \
         report = excluded.report, checked_at = excluded.checked_at",
        args![
            row.sha256.clone(),
            row.status.clone(),
            row.signatures,
            row.report.clone(),
            row.checked_at
        ],
    )
    .await?;
    Ok(())
}

pub async fn get(ex: &mut impl Exec, sha256: &str) -> Result<Option<ReportRow>, StoreError> {
    ex.fetch_optional(
        "SELECT sha256, status, signatures, report, checked_at FROM signature_reports WHERE sha256 = $1",
        args![sha256.to_string()],
    )
    .await
}

/// The verdicts on the files of a document: (attachment id, status, number of signatures).
pub async fn for_document(
    ex: &mut impl Exec,
    document_id: i64,
) -> Result<Vec<(i64, String, i64)>, StoreError> {
    ex.fetch_all(
        "SELECT a.id, r.status, r.signatures FROM document_attachments a \
         JOIN signature_reports r ON r.sha256 = a.sha256 WHERE a.document_id = $1 ORDER BY a.id",
        args![document_id],
    )
    .await
}

/// A signature a person owes a document (see migration 0009).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SigningRequestRow {
    pub id: i64,
    pub document_id: i64,
    pub person_id: i64,
    /// `signer`: the competent person's signature at sign-off.
    pub purpose: String,
    /// `waiting` (for the signer's certificate), `prepared` (for the signature value),
    /// `signed`, or `cancelled`.
    pub state: String,
    pub source_sha: String,
    pub prepared_sha: Option<String>,
    pub chain_pem: Option<String>,
    pub signed_sha: Option<String>,
    pub created_at: OffsetDateTime,
    pub prepared_at: Option<OffsetDateTime>,
    pub signed_at: Option<OffsetDateTime>,
}

const REQUEST_COLUMNS: &str = "id, document_id, person_id, purpose, state, source_sha, prepared_sha, \
     chain_pem, signed_sha, created_at, prepared_at, signed_at";

pub async fn insert_request(
    ex: &mut impl Exec,
    document_id: i64,
    person_id: i64,
    purpose: &str,
    source_sha: &str,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    ex.scalar(
        "INSERT INTO signing_requests (document_id, person_id, purpose, state, source_sha, created_at) \
         VALUES ($1, $2, $3, 'waiting', $4, $5) RETURNING id",
        args![document_id, person_id, purpose, source_sha, now],
    )
    .await
}

pub async fn get_request(
    ex: &mut impl Exec,
    id: i64,
) -> Result<Option<SigningRequestRow>, StoreError> {
    ex.fetch_optional(
        &format!("SELECT {REQUEST_COLUMNS} FROM signing_requests WHERE id = $1"),
        args![id],
    )
    .await
}

/// The requests of a document, oldest first.
pub async fn requests_of_document(
    ex: &mut impl Exec,
    document_id: i64,
) -> Result<Vec<SigningRequestRow>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT {REQUEST_COLUMNS} FROM signing_requests WHERE document_id = $1 ORDER BY id"
        ),
        args![document_id],
    )
    .await
}

/// A signature waiting for a person, with what the signer needs to recognise the document.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct WaitingRow {
    pub id: i64,
    pub document_id: i64,
    pub state: String,
    pub purpose: String,
    pub subject: String,
    pub kind: String,
    pub notation: Option<String>,
    pub created_at: OffsetDateTime,
}

pub async fn waiting_for(
    ex: &mut impl Exec,
    person_id: i64,
) -> Result<Vec<WaitingRow>, StoreError> {
    ex.fetch_all(
        "SELECT r.id, r.document_id, r.state, r.purpose, d.subject, d.kind, d.notation, r.created_at \
         FROM signing_requests r JOIN documents d ON d.id = r.document_id \
         WHERE r.person_id = $1 AND r.state IN ('waiting', 'prepared') ORDER BY r.id",
        args![person_id],
    )
    .await
}

/// Keeps the prepared file and the chain; true when the request was still open and unchanged.
pub async fn set_prepared(
    ex: &mut impl Exec,
    id: i64,
    from_state: &str,
    prepared_sha: &str,
    chain_pem: &str,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let n = ex
        .execute(
            "UPDATE signing_requests SET state = 'prepared', prepared_sha = $1, chain_pem = $2, prepared_at = $3 \
             WHERE id = $4 AND state = $5",
            args![prepared_sha, chain_pem, now, id, from_state],
        )
        .await?;
    Ok(n == 1)
}

/// Closes a prepared request with the signed file; false when it was closed or re-prepared
/// meanwhile (a second client, a double click).
pub async fn set_signed(
    ex: &mut impl Exec,
    id: i64,
    prepared_sha: &str,
    signed_sha: &str,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let n = ex
        .execute(
            "UPDATE signing_requests SET state = 'signed', signed_sha = $1, signed_at = $2 \
             WHERE id = $3 AND state = 'prepared' AND prepared_sha = $4",
            args![signed_sha, now, id, prepared_sha],
        )
        .await?;
    Ok(n == 1)
}

/// Cancels what a document still waits for (its draft went back, or it was cancelled).
pub async fn cancel_open(ex: &mut impl Exec, document_id: i64) -> Result<u64, StoreError> {
    ex.execute(
        "UPDATE signing_requests SET state = 'cancelled' WHERE document_id = $1 AND state IN ('waiting', 'prepared')",
        args![document_id],
    )
    .await
}

/// The documents an agency issued in a year: (issue date, verdict on the issued file).
pub async fn sent_in_year(
    ex: &mut impl Exec,
    agency_id: i64,
    year: i32,
) -> Result<Vec<(time::Date, Option<String>)>, StoreError> {
    ex.fetch_all(
        "SELECT d.issued_on, r.status FROM documents d LEFT JOIN signature_reports r ON r.sha256 = d.main_sha \
         WHERE d.agency_id = $1 AND d.origin = 'internal' AND d.year = $2 AND d.state IN ('issued', 'recalled') \
         AND d.issued_on IS NOT NULL AND d.secrecy IS NULL",
        args![agency_id, i64::from(year)],
    )
    .await
}

/// The copies an agency received in `[from, until)`: (arrival time, verdict on the file).
pub async fn received_between(
    ex: &mut impl Exec,
    agency_id: i64,
    from: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<Vec<(OffsetDateTime, Option<String>)>, StoreError> {
    ex.fetch_all(
        "SELECT i.arrived_at, r.status FROM incoming i JOIN documents d ON d.id = i.document_id \
         LEFT JOIN signature_reports r ON r.sha256 = d.main_sha \
         WHERE i.agency_id = $1 AND i.arrived_at >= $2 AND i.arrived_at < $3 AND i.secret = $4",
        args![agency_id, from, until, false],
    )
    .await
}
