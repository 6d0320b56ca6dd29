//! Signature and seal images for visible signatures (Decree 30 Appendix I): a person's
//! handwritten signature and an agency's seal, each uploaded by its owner, approved by an
//! administrator of the agency and used only within its validity.

use crate::{Exec, StoreError, args};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ImageRow {
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
    pub valid_from: OffsetDateTime,
    pub valid_to: Option<OffsetDateTime>,
    /// `pending`, `approved`, `rejected` or `withdrawn`.
    pub state: String,
    pub uploaded_by: Option<i64>,
    pub uploaded_at: OffsetDateTime,
    pub decided_by: Option<i64>,
    pub decided_at: Option<OffsetDateTime>,
    pub note: String,
}

const COLUMNS: &str = "id, kind, person_id, agency_id, sha256, width_px, height_px, width_mm, \
     valid_from, valid_to, state, uploaded_by, uploaded_at, decided_by, decided_at, note";

/// What an upload records (always `pending`).
#[derive(Debug, Clone)]
pub struct NewImage<'a> {
    pub kind: &'a str,
    pub person_id: Option<i64>,
    pub agency_id: i64,
    pub sha256: &'a str,
    pub width_px: i64,
    pub height_px: i64,
    pub width_mm: f64,
    pub valid_from: OffsetDateTime,
    pub valid_to: Option<OffsetDateTime>,
    pub uploaded_by: Option<i64>,
    pub now: OffsetDateTime,
}

pub async fn insert(ex: &mut impl Exec, n: &NewImage<'_>) -> Result<i64, StoreError> {
    ex.scalar(
        "INSERT INTO signature_images (kind, person_id, agency_id, sha256, width_px, height_px, width_mm, \
         valid_from, valid_to, state, uploaded_by, uploaded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11) RETURNING id",
        args![
            n.kind,
            n.person_id,
            n.agency_id,
            n.sha256,
            n.width_px,
            n.height_px,
            n.width_mm,
            n.valid_from,
            n.valid_to,
            n.uploaded_by,
            n.now
        ],
    )
    .await
}

pub async fn get(ex: &mut impl Exec, id: i64) -> Result<Option<ImageRow>, StoreError> {
    ex.fetch_optional(
        &format!("SELECT {COLUMNS} FROM signature_images WHERE id = $1"),
        args![id],
    )
    .await
}

/// Moves an image out of `from` (approval, rejection, withdrawal); false when someone else
/// decided first.
pub async fn set_state(
    ex: &mut impl Exec,
    id: i64,
    from: &str,
    to: &str,
    by: Option<i64>,
    note: &str,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let n = ex
        .execute(
            "UPDATE signature_images SET state = $1, decided_by = $2, decided_at = $3, note = $4 \
             WHERE id = $5 AND state = $6",
            args![to, by, now, note, id, from],
        )
        .await?;
    Ok(n == 1)
}

/// The images a person uploaded or owns, and those of the given agencies (seals of a records
/// office, or what an administrator decides on), newest first.
pub async fn list(
    ex: &mut impl Exec,
    person_id: Option<i64>,
    agencies: &[i64],
) -> Result<Vec<ImageRow>, StoreError> {
    let mut sql =
        format!("SELECT {COLUMNS} FROM signature_images WHERE person_id = $1 OR uploaded_by = $1");
    let mut a = args![person_id.unwrap_or(-1)];
    if !agencies.is_empty() {
        let list = crate::push_list(&mut a, agencies);
        sql.push_str(&format!(" OR agency_id IN ({list})"));
    }
    sql.push_str(" ORDER BY id DESC LIMIT 200");
    ex.fetch_all(&sql, a).await
}

/// The image in use at `at`: the newest approved one of the owner whose validity covers it.
/// A signature image is the person's (whatever agency approved it); a seal is the agency's.
pub async fn in_use(
    ex: &mut impl Exec,
    kind: &str,
    person_id: Option<i64>,
    agency_id: i64,
    at: OffsetDateTime,
) -> Result<Option<ImageRow>, StoreError> {
    let owner = match person_id {
        Some(_) => "person_id = $2",
        None => "agency_id = $2 AND person_id IS NULL",
    };
    ex.fetch_optional(
        &format!(
            "SELECT {COLUMNS} FROM signature_images WHERE kind = $1 AND {owner} AND state = 'approved' \
             AND valid_from <= $3 AND (valid_to IS NULL OR valid_to > $3) ORDER BY id DESC LIMIT 1"
        ),
        args![kind, person_id.unwrap_or(agency_id), at],
    )
    .await
}
