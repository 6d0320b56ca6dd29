//! Stored verdicts on the signatures of PDF blobs.

use crate::{Exec, StoreError, args};
use serde::Serialize;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ReportRow {
    pub sha256: String,
    /// `valid`, `invalid`, `indeterminate` or `unsigned`.
    pub status: String,
    pub signatures: i64,
    /// The full report (JSON).
    pub report: String,
    #[serde(with = "time::serde::rfc3339")]
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
