//! Stored calendars: years and their days, the rule set and office hours (as JSON), and the
//! deadlines computed from them.

use time::{Date, OffsetDateTime};

use crate::db::Exec;
use crate::{StoreError, args};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct YearRow {
    pub year: i64,
    pub confirmed: bool,
    /// Raised by every change, so caches and recomputations know.
    pub version: i64,
    pub confirmed_at: Option<OffsetDateTime>,
    pub confirmed_by: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DayRow {
    pub date: Date,
    pub year: i64,
    pub kind: String,
    pub name: String,
    pub confirmed: bool,
    pub source: String,
}

pub async fn years(ex: &mut impl Exec) -> Result<Vec<YearRow>, StoreError> {
    ex.fetch_all("SELECT year, confirmed, version, confirmed_at, confirmed_by FROM calendar_years ORDER BY year", args![])
        .await
}

pub async fn year(ex: &mut impl Exec, year: i32) -> Result<Option<YearRow>, StoreError> {
    ex.fetch_optional(
        "SELECT year, confirmed, version, confirmed_at, confirmed_by FROM calendar_years WHERE year = $1",
        args![i64::from(year)],
    )
    .await
}

pub async fn days(ex: &mut impl Exec, year: Option<i32>) -> Result<Vec<DayRow>, StoreError> {
    ex.fetch_all(
        "SELECT date, year, kind, name, confirmed, source FROM calendar_days \
         WHERE ($1 IS NULL OR year = $1) ORDER BY date",
        args![year.map(i64::from)],
    )
    .await
}

/// Creates a year (unconfirmed) if it does not exist.
pub async fn ensure_year(
    ex: &mut impl Exec,
    year: i32,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO calendar_years (year, confirmed, version, updated_at) VALUES ($1, FALSE, 1, $2) \
         ON CONFLICT (year) DO NOTHING",
        args![i64::from(year), now],
    )
    .await?;
    Ok(())
}

pub async fn upsert_day(
    ex: &mut impl Exec,
    date: Date,
    kind: &str,
    name: &str,
    confirmed: bool,
    source: &str,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO calendar_days (date, year, kind, name, confirmed, source) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
         confirmed = excluded.confirmed, source = excluded.source",
        args![date, i64::from(date.year()), kind, name, confirmed, source],
    )
    .await?;
    Ok(())
}

pub async fn delete_day(ex: &mut impl Exec, date: Date) -> Result<u64, StoreError> {
    ex.execute("DELETE FROM calendar_days WHERE date = $1", args![date])
        .await
}

/// Marks a change of a year: a new version, and (when `confirm`) the year and all its days
/// confirmed by `by`.
pub async fn touch_year(
    ex: &mut impl Exec,
    year: i32,
    confirm: bool,
    by: Option<i64>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    if confirm {
        ex.execute(
            "UPDATE calendar_days SET confirmed = TRUE WHERE year = $1",
            args![i64::from(year)],
        )
        .await?;
        ex.execute(
            "UPDATE calendar_years SET confirmed = TRUE, confirmed_at = $2, confirmed_by = $3, \
             version = version + 1, updated_at = $2 WHERE year = $1",
            args![i64::from(year), now, by],
        )
        .await?;
    } else {
        ex.execute(
            "UPDATE calendar_years SET version = version + 1, updated_at = $2 WHERE year = $1",
            args![i64::from(year), now],
        )
        .await?;
    }
    Ok(())
}

/// A number that changes whenever any calendar data changes (years, days, rules, hours).
pub async fn stamp(ex: &mut impl Exec) -> Result<String, StoreError> {
    let v: Option<String> = ex
        .scalar_optional(
            "SELECT value FROM settings WHERE key = 'calendar.stamp'",
            args![],
        )
        .await?;
    Ok(v.unwrap_or_default())
}

/// The calendar's stamp and the catalogue's (bumped by triggers on every change to procedures,
/// processes and agencies), in one read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stamps {
    pub calendar: String,
    pub catalogue: String,
}

pub async fn stamps(ex: &mut impl Exec) -> Result<Stamps, StoreError> {
    let rows: Vec<(String, String)> = ex
        .fetch_all(
            "SELECT key, value FROM settings WHERE key IN ('calendar.stamp', 'catalogue.stamp')",
            args![],
        )
        .await?;
    let mut s = Stamps::default();
    for (k, v) in rows {
        if k == "calendar.stamp" {
            s.calendar = v;
        } else {
            s.catalogue = v;
        }
    }
    Ok(s)
}

pub async fn bump_stamp(ex: &mut impl Exec, now: OffsetDateTime) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO settings (key, value) VALUES ('calendar.stamp', $1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        args![crate::ts_text(now)],
    )
    .await?;
    Ok(())
}

pub async fn setting(ex: &mut impl Exec, key: &str) -> Result<Option<String>, StoreError> {
    ex.scalar_optional("SELECT value FROM settings WHERE key = $1", args![key])
        .await
}

pub async fn set_setting(ex: &mut impl Exec, key: &str, value: &str) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        args![key, value],
    )
    .await?;
    Ok(())
}

pub async fn office_hours(
    ex: &mut impl Exec,
    agency_id: i64,
) -> Result<Option<String>, StoreError> {
    ex.scalar_optional(
        "SELECT hours_json FROM office_hours WHERE agency_id = $1",
        args![agency_id],
    )
    .await
}

pub async fn set_office_hours(
    ex: &mut impl Exec,
    agency_id: i64,
    json: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    match json {
        Some(j) => {
            ex.execute(
                "INSERT INTO office_hours (agency_id, hours_json, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (agency_id) DO UPDATE SET hours_json = excluded.hours_json, updated_at = excluded.updated_at",
                args![agency_id, j, now],
            )
            .await?
        }
        None => ex.execute("DELETE FROM office_hours WHERE agency_id = $1", args![agency_id]).await?,
    };
    Ok(())
}

/// A deadline computed and kept, so that a change of the calendar can find it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DeadlineRow {
    pub id: i64,
    pub owner_type: String,
    pub owner_id: String,
    pub label: String,
    /// `appointment` (printed on a receipt: never recomputed) or `step`.
    pub kind: String,
    pub agency_id: Option<i64>,
    pub received: OffsetDateTime,
    pub limit_json: String,
    pub pauses_json: String,
    pub due: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
}

const DL_COLS: &str = "id, owner_type, owner_id, label, kind, agency_id, received, limit_json, \
                       pauses_json, due, finished_at";

pub struct NewDeadline<'a> {
    pub owner_type: &'a str,
    pub owner_id: &'a str,
    pub label: &'a str,
    pub kind: &'a str,
    pub agency_id: Option<i64>,
    pub received: OffsetDateTime,
    pub limit_json: &'a str,
    pub pauses_json: &'a str,
    pub due: OffsetDateTime,
}

pub async fn insert_deadline(
    ex: &mut impl Exec,
    d: &NewDeadline<'_>,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    ex.scalar(
        &format!(
            "{INSERT_DEADLINE} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id"
        ),
        deadline_args(d, now),
    )
    .await
}

/// Adds a deadline to a batch.
pub fn add_deadline(b: &mut crate::Batch, d: &NewDeadline<'_>, now: OffsetDateTime) {
    b.insert(INSERT_DEADLINE, [deadline_args(d, now)]);
}

const INSERT_DEADLINE: &str = "INSERT INTO deadlines (owner_type, owner_id, label, kind, agency_id, \
                               received, limit_json, pauses_json, due, created_at, updated_at)";

fn deadline_args(d: &NewDeadline<'_>, now: OffsetDateTime) -> Vec<crate::Arg> {
    args![
        d.owner_type,
        d.owner_id,
        d.label,
        d.kind,
        d.agency_id,
        d.received,
        d.limit_json,
        d.pauses_json,
        d.due,
        now,
        now
    ]
}

/// Open step deadlines whose due date or receipt falls in [from, to).
pub async fn open_steps_between(
    ex: &mut impl Exec,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<DeadlineRow>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT {DL_COLS} FROM deadlines WHERE kind = 'step' AND finished_at IS NULL \
             AND due >= $1 AND received < $2 ORDER BY id"
        ),
        args![from, to],
    )
    .await
}

pub async fn get_deadline(ex: &mut impl Exec, id: i64) -> Result<DeadlineRow, StoreError> {
    ex.fetch_one(
        &format!("SELECT {DL_COLS} FROM deadlines WHERE id = $1"),
        args![id],
    )
    .await
}

pub async fn set_due(
    ex: &mut impl Exec,
    id: i64,
    due: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE deadlines SET due = $2, updated_at = $3 WHERE id = $1",
        args![id, due, now],
    )
    .await?;
    Ok(())
}

pub async fn finish_deadline(
    ex: &mut impl Exec,
    id: i64,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE deadlines SET finished_at = $2, updated_at = $2 WHERE id = $1",
        args![id, at],
    )
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReviewRow {
    pub id: i64,
    pub deadline_id: i64,
    pub owner_type: String,
    pub owner_id: String,
    pub label: String,
    pub year: i64,
    pub old_due: OffsetDateTime,
    pub new_due: OffsetDateTime,
    pub created_at: OffsetDateTime,
}

pub async fn insert_review(
    ex: &mut impl Exec,
    deadline_id: i64,
    year: i32,
    old_due: OffsetDateTime,
    new_due: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO deadline_reviews (deadline_id, year, old_due, new_due, created_at) VALUES ($1, $2, $3, $4, $5)",
        args![deadline_id, i64::from(year), old_due, new_due, now],
    )
    .await?;
    Ok(())
}

pub async fn open_reviews(ex: &mut impl Exec, limit: i64) -> Result<Vec<ReviewRow>, StoreError> {
    ex.fetch_all(
        "SELECT r.id, r.deadline_id, d.owner_type, d.owner_id, d.label, r.year, r.old_due, r.new_due, r.created_at \
         FROM deadline_reviews r JOIN deadlines d ON d.id = r.deadline_id WHERE r.reviewed_at IS NULL \
         ORDER BY r.id DESC LIMIT $1",
        args![limit],
    )
    .await
}

pub async fn mark_reviewed(
    ex: &mut impl Exec,
    id: i64,
    by: Option<i64>,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    ex.execute(
        "UPDATE deadline_reviews SET reviewed_at = $2, reviewed_by = $3 WHERE id = $1 AND reviewed_at IS NULL",
        args![id, now, by],
    )
    .await
}
