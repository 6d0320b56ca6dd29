//! Citizens' ratings of dossiers and their feedback about agencies and procedures, as pulled
//! from the National Public Service Portal. See migration 0020.

use time::OffsetDateTime;

use crate::db::Exec;
use crate::{StoreError, args};

/// Keeps a rating of the dossier known to the portal as `dossier_code` (attached to egov's
/// dossier by its national code or its own); a later rating of the same dossier replaces it.
pub async fn keep_rating(
    ex: &mut impl Exec,
    dossier_code: &str,
    score: i64,
    comment: &str,
    rated_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO national_ratings (dossier_code, dossier_id, score, comment, rated_at, pulled_at) \
         VALUES ($1, (SELECT id FROM dossiers WHERE national_code = $1 OR code = $1 LIMIT 1), \
         $2, $3, $4, $5) ON CONFLICT (dossier_code) DO UPDATE SET dossier_id = excluded.dossier_id, \
         score = excluded.score, comment = excluded.comment, rated_at = excluded.rated_at, \
         pulled_at = excluded.pulled_at",
        args![dossier_code, score, comment, rated_at, now],
    )
    .await?;
    Ok(())
}

/// A piece of feedback as pulled.
#[derive(Debug, Clone, Default)]
pub struct PulledFeedback {
    pub national_id: String,
    pub agency_code: String,
    pub procedure_code: String,
    pub content: String,
    /// How the portal classified it (empty: not yet).
    pub category: String,
    /// Whether the citizen was satisfied with its handling (`None`: not said).
    pub satisfied: Option<bool>,
    pub handled_at: Option<OffsetDateTime>,
}

/// Keeps a piece of feedback (attached to the agency by its identifier); pulled again, its
/// handling date, classification and the citizen's satisfaction are brought up to date.
pub async fn keep_feedback(
    ex: &mut impl Exec,
    f: &PulledFeedback,
    sent_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO national_feedback (national_id, agency_id, agency_code, procedure_code, content, \
         sent_at, handled_at, pulled_at, category, satisfied) VALUES ($1, \
         (SELECT id FROM agencies WHERE code = $2), $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (national_id) DO UPDATE SET handled_at = excluded.handled_at, \
         pulled_at = excluded.pulled_at, category = excluded.category, satisfied = excluded.satisfied",
        args![
            f.national_id.as_str(),
            f.agency_code.as_str(),
            f.procedure_code.as_str(),
            f.content.as_str(),
            sent_at,
            f.handled_at,
            now,
            f.category.as_str(),
            f.satisfied
        ],
    )
    .await?;
    Ok(())
}

/// A dossier's rating: (score, comment, when), found by the dossier or by either of its codes
/// (a rating pulled before the dossier was taken in is not attached yet).
pub async fn rating_of(
    ex: &mut impl Exec,
    dossier_id: i64,
    codes: &[&str],
) -> Result<Option<(i64, String, OffsetDateTime)>, StoreError> {
    let code = |i: usize| codes.get(i).copied().unwrap_or_default().to_owned();
    ex.fetch_optional(
        "SELECT score, comment, rated_at FROM national_ratings \
         WHERE dossier_id = $1 OR dossier_code = $2 OR dossier_code = $3 \
         ORDER BY rated_at DESC LIMIT 1",
        args![dossier_id, code(0), code(1)],
    )
    .await
}

/// The ratings of an agency's dossiers received in `month` (`YYYY-MM`): (how many, the sum
/// of their scores, how many scored 1 or 2).
pub async fn agency_ratings(
    ex: &mut impl Exec,
    agency_id: i64,
    month: &str,
) -> Result<(i64, i64, i64), StoreError> {
    ex.fetch_one(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(r.score), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN r.score <= 2 THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM national_ratings r JOIN dossiers d \
         ON d.id = r.dossier_id OR (r.dossier_id IS NULL AND (d.national_code = r.dossier_code OR d.code = r.dossier_code)) \
         WHERE d.competent_agency_id = $1 AND d.month = $2",
        args![agency_id, month],
    )
    .await
}

/// A piece of feedback as an agency sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FeedbackRow {
    pub national_id: String,
    pub procedure_code: String,
    pub content: String,
    pub sent_at: OffsetDateTime,
    pub handled_at: Option<OffsetDateTime>,
}

/// Feedback about an agency sent within `[from, to)`, newest first.
pub async fn agency_feedback(
    ex: &mut impl Exec,
    agency_id: i64,
    from: OffsetDateTime,
    to: OffsetDateTime,
    limit: i64,
) -> Result<Vec<FeedbackRow>, StoreError> {
    ex.fetch_all(
        "SELECT national_id, procedure_code, content, sent_at, handled_at FROM national_feedback \
         WHERE agency_id = $1 AND sent_at >= $2 AND sent_at < $3 ORDER BY sent_at DESC, national_id LIMIT $4",
        args![agency_id, from, to, limit],
    )
    .await
}

/// Ratings by score (1–5): how many of each; and how many were of dossiers egov does not hold.
pub async fn rating_counts(ex: &mut impl Exec) -> Result<Vec<(i64, i64)>, StoreError> {
    ex.fetch_all(
        "SELECT score, CAST(COUNT(*) AS BIGINT) FROM national_ratings GROUP BY score ORDER BY score",
        args![],
    )
    .await
}

/// Feedback: (received, handled, about an agency egov does not know).
pub async fn feedback_counts(ex: &mut impl Exec) -> Result<(i64, i64, i64), StoreError> {
    ex.fetch_one(
        "SELECT CAST(COUNT(*) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN handled_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN agency_id IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM national_feedback",
        args![],
    )
    .await
}

/// Feedback about an agency sent within `[from, to)`: (received, handled).
pub async fn agency_feedback_counts(
    ex: &mut impl Exec,
    agency_id: i64,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<(i64, i64), StoreError> {
    ex.fetch_one(
        "SELECT CAST(COUNT(*) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN handled_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM national_feedback WHERE agency_id = $1 AND sent_at >= $2 AND sent_at < $3",
        args![agency_id, from, to],
    )
    .await
}
