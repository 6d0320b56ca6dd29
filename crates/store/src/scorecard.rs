//! What the Decision 766 scorecard counts in the database: dossiers of a period and a scope by
//! named conditions (one definition serves the counts and the lists behind them, so a list
//! always has as many rows as its count), the procedure catalogue, feedback, and the
//! definitions an administrator saved. See migration 0023.

use time::OffsetDateTime;

use crate::db::{Arg, Dialect, Exec};
use crate::onestop::ProcedureRow;
use crate::{StoreError, args};

/// Which dossiers a count is taken over: those whose period day (of receipt, else of
/// submission) lies in `[from, to)`, not refused at reception, of the competent agencies given
/// (all when `None`).
#[derive(Debug, Clone, Copy)]
pub struct Selection<'a> {
    pub from: OffsetDateTime,
    pub to: OffsetDateTime,
    pub agencies: Option<&'a [i64]>,
    /// "Now", for dossiers still open: overdue when their appointment is before it.
    pub now: OffsetDateTime,
}

/// The dossier's period day: its receipt, else its submission.
const PERIOD_DAY: &str = "COALESCE(d.received_at, d.submitted_at)";

impl Selection<'_> {
    /// The base condition, binding its arguments into `a`.
    fn base(&self, a: &mut Vec<Arg>) -> String {
        let (from, to) = (crate::bind(a, self.from), crate::bind(a, self.to));
        let mut sql =
            format!("{PERIOD_DAY} >= {from} AND {PERIOD_DAY} < {to} AND d.state <> 'rejected'");
        if let Some(ids) = self.agencies {
            if ids.is_empty() {
                sql.push_str(" AND 1 = 0");
            } else {
                sql.push_str(&format!(
                    " AND d.competent_agency_id IN ({})",
                    crate::push_list(a, ids)
                ));
            }
        }
        sql
    }
}

/// Late: finished after the appointment (or counted late), or open past it. Every condition
/// is true or false, never NULL (a dossier without an appointment yet is not late), so that
/// "not late" holds exactly the others.
fn late(now: &str) -> String {
    format!(
        "(d.finished_at IS NOT NULL AND d.timeliness IS NOT NULL AND d.timeliness = 'late' \
         OR d.finished_at IS NULL AND d.closed_at IS NULL \
         AND (d.counts_late OR d.appointment IS NOT NULL AND d.appointment < {now}))"
    )
}

const CITIZEN: &str =
    "EXISTS (SELECT 1 FROM applicants ap WHERE ap.id = d.applicant_id AND ap.kind = 'citizen')";

/// The dossier counts the scorecard names, each a condition over `d` (see `docs/scorecard.md`);
/// `None` for a name that is not a dossier count, or one egov has no data for.
pub fn condition(count: &str, now: &str) -> Option<String> {
    let late = late(now);
    Some(match count {
        "dossiers.received" => "1 = 1".to_owned(),
        "dossiers.received_individuals" => CITIZEN.to_owned(),
        "dossiers.synchronised" => {
            "EXISTS (SELECT 1 FROM national_dossiers n WHERE n.dossier_id = d.id AND n.created)"
                .to_owned()
        }
        "dossiers.late" => late,
        "dossiers.on_time" => format!("NOT {late}"),
        "dossiers.finished" | "dossiers.handling_hours" => "d.finished_at IS NOT NULL".to_owned(),
        "dossiers.online" => "d.channel = 2".to_owned(),
        "dossiers.with_fee" => "d.fee_total > 0".to_owned(),
        "dossiers.paid_online" => "d.fee_total > 0 AND d.paid_online".to_owned(),
        "dossiers.e_result" => "d.finished_at IS NOT NULL AND d.result_json IS NOT NULL \
             AND d.result_json LIKE '%\"file\"%'"
            .to_owned(),
        "dossiers.digitised" => "d.digitised".to_owned(),
        "dossiers.reused_data" => "d.reused_data".to_owned(),
        "dossiers.vneid" => format!("d.eid_verified AND {CITIZEN}"),
        "dossiers.satisfactory" => format!(
            "NOT {late} AND NOT EXISTS (SELECT 1 FROM national_ratings r \
             WHERE r.dossier_id = d.id AND r.score <= 2)"
        ),
        _ => return None,
    })
}

/// The dossier counts computed by [`dossier_counts`], in this order.
pub const DOSSIER_COUNTS: &[&str] = &[
    "dossiers.received",
    "dossiers.received_individuals",
    "dossiers.synchronised",
    "dossiers.late",
    "dossiers.on_time",
    "dossiers.finished",
    "dossiers.online",
    "dossiers.with_fee",
    "dossiers.paid_online",
    "dossiers.e_result",
    "dossiers.digitised",
    "dossiers.reused_data",
    "dossiers.vneid",
    "dossiers.satisfactory",
];

/// Seconds from receipt to result, summed over finished dossiers.
fn handling_seconds(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => {
            "CAST(ROUND((julianday(d.finished_at) - julianday(COALESCE(d.received_at, d.submitted_at))) * 86400) AS INTEGER)"
        }
        Dialect::Postgres => {
            "CAST(EXTRACT(EPOCH FROM (d.finished_at - COALESCE(d.received_at, d.submitted_at))) AS BIGINT)"
        }
    }
}

/// How [`dossier_counts`] groups its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// One row for the whole selection.
    Total,
    /// A row per competent agency.
    Agency,
    /// A row per month of the period day (`YYYY-MM`, Vietnam's time).
    Month,
    /// A row per agency and month.
    AgencyMonth,
}

/// The counts of a group: every count of [`DOSSIER_COUNTS`] in its order, and the seconds
/// from receipt to result summed over the finished dossiers.
#[derive(Debug, Clone, PartialEq)]
pub struct Counts {
    pub agency_id: Option<i64>,
    pub month: Option<String>,
    pub counts: Vec<i64>,
    pub handling_seconds: i64,
}

impl Counts {
    /// A count by name (0 for a name that is not a dossier count).
    pub fn get(&self, name: &str) -> i64 {
        DOSSIER_COUNTS
            .iter()
            .position(|c| *c == name)
            .and_then(|i| self.counts.get(i).copied())
            .unwrap_or(0)
    }
}

/// The month of the period day in Vietnam's time.
fn period_month(dialect: Dialect) -> String {
    match dialect {
        Dialect::Sqlite => format!("strftime('%Y-%m', {PERIOD_DAY}, '+7 hours')"),
        Dialect::Postgres => {
            format!("to_char({PERIOD_DAY} AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM')")
        }
    }
}

/// A dossier that is settled — finished or closed — and so counted in the daily summaries:
/// none of its conditions depends on "now" any more.
const SETTLED: &str = "(d.finished_at IS NOT NULL OR d.closed_at IS NOT NULL)";
/// A dossier still open, counted live (the partial indexes of migration 0024 find them).
const OPEN: &str = "d.finished_at IS NULL AND d.closed_at IS NULL";

/// The period day in Vietnam's time (`YYYY-MM-DD`), as the summaries key it.
fn period_date(dialect: Dialect) -> String {
    match dialect {
        Dialect::Sqlite => format!("date({PERIOD_DAY}, '+7 hours')"),
        Dialect::Postgres => format!("scorecard_day({PERIOD_DAY})"),
    }
}

/// The columns of `scorecard_days` after its key, in the order of [`count_columns`]: each
/// dossier count's name without its `dossiers.` prefix, then the handling seconds.
fn summary_columns() -> impl Iterator<Item = &'static str> {
    DOSSIER_COUNTS
        .iter()
        .map(|c| c.strip_prefix("dossiers.").unwrap_or(c))
        .chain(["handling_seconds"])
}

/// The summed columns over `d`: every count of [`DOSSIER_COUNTS`], then the handling seconds.
fn count_columns(dialect: Dialect, now: &str) -> Vec<String> {
    let mut cols: Vec<String> = DOSSIER_COUNTS
        .iter()
        .map(|c| {
            let cond = condition(c, now).unwrap_or_else(|| "1 = 0".into());
            format!("CAST(COALESCE(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), 0) AS BIGINT)")
        })
        .collect();
    cols.push(format!(
        "CAST(COALESCE(SUM(CASE WHEN d.finished_at IS NOT NULL THEN {} END), 0) AS BIGINT)",
        handling_seconds(dialect)
    ));
    cols
}

impl Selection<'_> {
    /// The period as Vietnam days `[from, to)` when both bounds are midnights in Vietnam (the
    /// summaries hold whole days), else `None`.
    fn whole_days(&self) -> Option<(String, String)> {
        let day = |t: OffsetDateTime| {
            let local = t.to_offset(egov_domain::VN_OFFSET);
            (local.time() == time::Time::MIDNIGHT).then(|| local.date().to_string())
        };
        Some((day(self.from)?, day(self.to)?))
    }
}

/// Every count of [`DOSSIER_COUNTS`] over the selection, grouped as asked (a group without
/// dossiers has no row; [`Grouping::Total`] always has one). A period of whole days reads the
/// daily summaries for the settled dossiers and counts the open ones live: call
/// [`refresh_summaries`] first for figures that include the latest writes.
pub async fn dossier_counts(
    ex: &mut impl Exec,
    sel: &Selection<'_>,
    grouping: Grouping,
) -> Result<Vec<Counts>, StoreError> {
    let Some((from_day, to_day)) = sel.whole_days() else {
        return live_counts(ex, sel, grouping, None).await;
    };
    let settled = summary_counts(ex, sel, &from_day, &to_day, grouping).await?;
    let open = live_counts(ex, sel, grouping, Some(OPEN)).await?;
    let mut merged: std::collections::BTreeMap<(Option<i64>, Option<String>), Counts> =
        std::collections::BTreeMap::new();
    for c in settled.into_iter().chain(open) {
        match merged.entry((c.agency_id, c.month.clone())) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(c);
            }
            std::collections::btree_map::Entry::Occupied(mut o) => {
                let sum = o.get_mut();
                for (a, b) in sum.counts.iter_mut().zip(&c.counts) {
                    *a += b;
                }
                sum.handling_seconds += c.handling_seconds;
            }
        }
    }
    Ok(merged.into_values().collect())
}

/// [`dossier_counts`] straight from the dossiers, in one pass, without the summaries (what
/// the summaries must always equal).
pub async fn dossier_counts_live(
    ex: &mut impl Exec,
    sel: &Selection<'_>,
    grouping: Grouping,
) -> Result<Vec<Counts>, StoreError> {
    live_counts(ex, sel, grouping, None).await
}

/// The group columns of a grouping: the agency's and the month's expressions.
fn group_columns(grouping: Grouping, agency: &str, month: &str) -> (String, String, Vec<String>) {
    let by_agency = matches!(grouping, Grouping::Agency | Grouping::AgencyMonth);
    let by_month = matches!(grouping, Grouping::Month | Grouping::AgencyMonth);
    let mut group = Vec::new();
    let a = if by_agency {
        group.push(agency.to_owned());
        agency.to_owned()
    } else {
        "CAST(NULL AS BIGINT)".to_owned()
    };
    let m = if by_month {
        group.push(month.to_owned());
        month.to_owned()
    } else {
        "CAST(NULL AS TEXT)".to_owned()
    };
    (a, m, group)
}

fn group_by(group: &[String]) -> String {
    if group.is_empty() {
        String::new()
    } else {
        format!(" GROUP BY {0} ORDER BY {0}", group.join(", "))
    }
}

/// The counts straight from the dossiers of the selection (and of `extra`, a condition on `d`).
async fn live_counts(
    ex: &mut impl Exec,
    sel: &Selection<'_>,
    grouping: Grouping,
    extra: Option<&str>,
) -> Result<Vec<Counts>, StoreError> {
    let mut a = Vec::new();
    let now = crate::bind(&mut a, sel.now);
    let mut cond = sel.base(&mut a);
    if let Some(extra) = extra {
        cond.push_str(&format!(" AND {extra}"));
    }
    let month = period_month(ex.dialect());
    let (agency, month, group) = group_columns(grouping, "d.competent_agency_id", &month);
    let mut cols = vec![agency, month];
    cols.extend(count_columns(ex.dialect(), &now));
    let sql = format!(
        "SELECT {} FROM dossiers d WHERE {cond}{}",
        cols.join(", "),
        group_by(&group)
    );
    let rows: Vec<CountsRow> = ex.fetch_all(&sql, a).await?;
    Ok(rows.into_iter().map(CountsRow::into_counts).collect())
}

/// The settled dossiers' counts from the daily summaries of `[from_day, to_day)`.
async fn summary_counts(
    ex: &mut impl Exec,
    sel: &Selection<'_>,
    from_day: &str,
    to_day: &str,
    grouping: Grouping,
) -> Result<Vec<Counts>, StoreError> {
    let mut a = Vec::new();
    let (from, to) = (
        crate::bind(&mut a, from_day.to_owned()),
        crate::bind(&mut a, to_day.to_owned()),
    );
    let mut cond = format!("s.day >= {from} AND s.day < {to}");
    if let Some(ids) = sel.agencies {
        if ids.is_empty() {
            cond.push_str(" AND 1 = 0");
        } else {
            cond.push_str(&format!(
                " AND s.agency_id IN ({})",
                crate::push_list(&mut a, ids)
            ));
        }
    }
    let (agency, month, group) = group_columns(grouping, "s.agency_id", "substr(s.day, 1, 7)");
    let mut cols = vec![agency, month];
    cols.extend(summary_columns().map(|c| format!("CAST(COALESCE(SUM(s.{c}), 0) AS BIGINT)")));
    let sql = format!(
        "SELECT {} FROM scorecard_days s WHERE {cond}{}",
        cols.join(", "),
        group_by(&group)
    );
    let rows: Vec<CountsRow> = ex.fetch_all(&sql, a).await?;
    Ok(rows.into_iter().map(CountsRow::into_counts).collect())
}

/// Brings the daily summaries up to date: takes every agency-day the writes marked since the
/// last refresh and recomputes, for each agency, its summaries from its first to its last
/// marked day, in one transaction. Refreshes take turns (an advisory lock on PostgreSQL, the
/// one writer on SQLite), so an older computation never overwrites a newer one. Returns how
/// many marks it took.
pub async fn refresh_summaries(db: &crate::Db) -> Result<usize, StoreError> {
    let pending: Option<i64> = (&mut &*db)
        .scalar_optional("SELECT id FROM scorecard_dirty LIMIT 1", vec![])
        .await?;
    if pending.is_none() {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    if tx.dialect() == Dialect::Postgres {
        tx.execute("SELECT pg_advisory_xact_lock(766002401)", vec![])
            .await?;
    }
    // Exactly the marks this statement deletes are recomputed below, by statements that see
    // at least what it saw; a mark committed meanwhile stays for the next refresh.
    let marks: Vec<(i64, String)> = tx
        .fetch_all(
            "DELETE FROM scorecard_dirty RETURNING agency_id, day",
            vec![],
        )
        .await?;
    let mut ranges: std::collections::BTreeMap<i64, (String, String)> =
        std::collections::BTreeMap::new();
    for (agency, day) in &marks {
        let r = ranges
            .entry(*agency)
            .or_insert_with(|| (day.clone(), day.clone()));
        if *day < r.0 {
            r.0 = day.clone();
        }
        if *day > r.1 {
            r.1 = day.clone();
        }
    }
    let dialect = tx.dialect();
    let day = period_date(dialect);
    let columns = summary_columns().collect::<Vec<_>>().join(", ");
    for (agency, (first, last)) in ranges {
        let (Some(from), Some(to)) = (vn_midnight(&first, 0), vn_midnight(&last, 1)) else {
            continue;
        };
        tx.execute(
            "DELETE FROM scorecard_days WHERE agency_id = $1 AND day >= $2 AND day <= $3",
            args![agency, first.clone(), last.clone()],
        )
        .await?;
        let ids = [agency];
        let sel = Selection {
            from,
            to,
            agencies: Some(&ids),
            now: crate::now(),
        };
        let mut a = Vec::new();
        let now = crate::bind(&mut a, sel.now);
        let cond = sel.base(&mut a);
        let sql = format!(
            "INSERT INTO scorecard_days (agency_id, day, {columns}) \
             SELECT d.competent_agency_id, {day}, {} FROM dossiers d \
             WHERE {cond} AND {SETTLED} GROUP BY d.competent_agency_id, {day}",
            count_columns(dialect, &now).join(", ")
        );
        tx.execute(&sql, a).await?;
    }
    tx.commit().await?;
    Ok(marks.len())
}

/// Marks every settled agency-day for recomputation (after a bulk load, or to check the
/// summaries against the dossiers); the next [`refresh_summaries`] rebuilds them all.
pub async fn mark_all_summaries(db: &crate::Db) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let day = period_date(tx.dialect());
    tx.execute("DELETE FROM scorecard_days", vec![]).await?;
    tx.execute(
        &format!(
            "INSERT INTO scorecard_dirty (agency_id, day) \
             SELECT DISTINCT d.competent_agency_id, {day} FROM dossiers d WHERE {SETTLED}"
        ),
        vec![],
    )
    .await?;
    tx.commit().await
}

/// Midnight in Vietnam at the start of the day `days` after the date `day` (`YYYY-MM-DD`).
fn vn_midnight(day: &str, days: i64) -> Option<OffsetDateTime> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(day, &format).ok()? + time::Duration::days(days);
    Some(date.midnight().assume_offset(egov_domain::VN_OFFSET))
}

/// A row of a group (agency, month) followed by BIGINT columns.
struct CountsRow {
    agency_id: Option<i64>,
    month: Option<String>,
    counts: Vec<i64>,
}

impl CountsRow {
    fn into_counts(self) -> Counts {
        let mut counts = self.counts;
        let handling_seconds = counts.pop().unwrap_or(0);
        Counts {
            agency_id: self.agency_id,
            month: self.month,
            counts,
            handling_seconds,
        }
    }
}

macro_rules! counts_row {
    ($row:ty) => {
        impl<'r> sqlx::FromRow<'r, $row> for CountsRow {
            fn from_row(row: &'r $row) -> Result<Self, sqlx::Error> {
                use sqlx::Row;
                Ok(CountsRow {
                    agency_id: row.try_get(0)?,
                    month: row.try_get(1)?,
                    counts: (2..row.len())
                        .map(|i| row.try_get::<i64, _>(i))
                        .collect::<Result<_, _>>()?,
                })
            }
        }
    };
}
counts_row!(sqlx::sqlite::SqliteRow);
counts_row!(sqlx::postgres::PgRow);

/// A dossier in a list behind a figure: what a leader needs to recognise it, and no more of
/// the applicant than their name.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct ListedDossier {
    pub id: i64,
    pub code: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub competent_agency_id: i64,
    pub agency_name: String,
    pub applicant_name: String,
    pub channel: i64,
    pub state: String,
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub received_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub appointment: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    pub timeliness: Option<String>,
}

/// Narrowing a list further: a procedure code, an agency, text in the code or the name.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub procedure_code: Option<String>,
    pub agency_id: Option<i64>,
}

/// The dossiers of the selection that meet `include` and do not meet `exclude` (count names),
/// oldest period day first, from `offset`, at most `limit`; and how many there are in all.
pub async fn list_dossiers(
    ex: &mut impl Exec,
    sel: &Selection<'_>,
    include: &str,
    exclude: Option<&str>,
    filter: &ListFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<ListedDossier>, i64), StoreError> {
    let mut a = Vec::new();
    let now = crate::bind(&mut a, sel.now);
    let mut cond = sel.base(&mut a);
    let inc = condition(include, &now).ok_or_else(|| unknown(include))?;
    cond.push_str(&format!(" AND {inc}"));
    if let Some(out) = exclude {
        let exc = condition(out, &now).ok_or_else(|| unknown(out))?;
        cond.push_str(&format!(" AND NOT ({exc})"));
    }
    if let Some(p) = &filter.procedure_code {
        cond.push_str(&format!(
            " AND d.procedure_code = {}",
            crate::bind(&mut a, p.clone())
        ));
    }
    if let Some(ag) = filter.agency_id {
        cond.push_str(&format!(
            " AND d.competent_agency_id = {}",
            crate::bind(&mut a, ag)
        ));
    }
    let total: i64 = ex
        .scalar(
            &format!("SELECT COUNT(*) FROM dossiers d WHERE {cond}"),
            a.clone(),
        )
        .await?;
    let (off, lim) = (crate::bind(&mut a, offset), crate::bind(&mut a, limit));
    let sql = format!(
        "SELECT d.id, d.code, d.procedure_code, p.name AS procedure_name, d.competent_agency_id, \
         ca.name AS agency_name, d.applicant_name, d.channel, d.state, d.submitted_at, \
         d.received_at, d.appointment, d.finished_at, d.timeliness \
         FROM dossiers d JOIN procedures p ON p.id = d.procedure_id \
         JOIN agencies ca ON ca.id = d.competent_agency_id WHERE {cond} \
         ORDER BY {PERIOD_DAY}, d.id LIMIT {lim} OFFSET {off}"
    );
    Ok((ex.fetch_all(&sql, a).await?, total))
}

fn unknown(count: &str) -> StoreError {
    StoreError::Invalid(format!("{count} is not a dossier count"))
}

/// The distinct procedures with a dossier in the selection.
pub async fn procedures_used(
    ex: &mut impl Exec,
    sel: &Selection<'_>,
) -> Result<Vec<String>, StoreError> {
    let mut a = Vec::new();
    let base = sel.base(&mut a);
    ex.fetch_all::<(String,)>(
        &format!("SELECT DISTINCT d.procedure_code FROM dossiers d WHERE {base}"),
        a,
    )
    .await
    .map(|v| v.into_iter().map(|(c,)| c).collect())
}

/// Every version of every procedure (the catalogue is a few thousand rows).
pub async fn procedure_versions(ex: &mut impl Exec) -> Result<Vec<ProcedureRow>, StoreError> {
    ex.fetch_all(
        "SELECT id, code, version, name, field_code, field_name, levels, online, data_json, \
         effective_from, effective_to FROM procedures ORDER BY code, version",
        args![],
    )
    .await
}

/// A piece of feedback as the scorecard reads it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FeedbackRow {
    pub national_id: String,
    pub agency_id: Option<i64>,
    pub agency_code: String,
    pub procedure_code: String,
    pub content: String,
    pub category: String,
    pub satisfied: Option<bool>,
    pub sent_at: OffsetDateTime,
    pub handled_at: Option<OffsetDateTime>,
}

/// The feedback sent in `[from, to)` about the agencies given (all when `None`), oldest first.
pub async fn feedback(
    ex: &mut impl Exec,
    sel: &Selection<'_>,
) -> Result<Vec<FeedbackRow>, StoreError> {
    let mut a = Vec::new();
    let (from, to) = (crate::bind(&mut a, sel.from), crate::bind(&mut a, sel.to));
    let scope = match sel.agencies {
        None => String::new(),
        Some([]) => " AND 1 = 0".to_owned(),
        Some(ids) => format!(" AND f.agency_id IN ({})", crate::push_list(&mut a, ids)),
    };
    ex.fetch_all(
        &format!(
            "SELECT f.national_id, f.agency_id, f.agency_code, f.procedure_code, f.content, \
             f.category, f.satisfied, f.sent_at, f.handled_at FROM national_feedback f \
             WHERE f.sent_at >= {from} AND f.sent_at < {to}{scope} ORDER BY f.sent_at, f.national_id"
        ),
        a,
    )
    .await
}

/// The definitions an administrator saved last, if any.
pub async fn saved_definitions(ex: &mut impl Exec) -> Result<Option<String>, StoreError> {
    ex.scalar_optional(
        "SELECT definitions FROM scorecard_definitions ORDER BY id DESC LIMIT 1",
        args![],
    )
    .await
}

/// Saves definitions (already checked) in place of those in force.
pub async fn save_definitions(
    ex: &mut impl Exec,
    definitions: &str,
    saved_by: Option<i64>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO scorecard_definitions (definitions, saved_by, saved_at) VALUES ($1, $2, $3)",
        args![definitions, saved_by, now],
    )
    .await?;
    Ok(())
}

/// The operations dashboard's figures of the moment for the agencies given (all when `None`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Operations {
    /// Dossiers received today by channel: counter, online, post.
    pub today_by_channel: [i64; 3],
    /// Open dossiers whose appointment falls today.
    pub due_today: i64,
    /// Per competent agency: (id, name, open dossiers, of which overdue), most overdue first.
    pub overdue_by_agency: Vec<(i64, String, i64, i64)>,
    /// Documents issued today, incoming documents arrived today, incoming documents being
    /// handled past their deadline.
    pub issued_today: i64,
    pub arrived_today: i64,
    pub incoming_overdue: i64,
    /// Records owed to the national portal and since when the oldest is owed.
    pub national_owed: i64,
    pub national_oldest: Option<OffsetDateTime>,
    /// Exchange packets waiting to be sent and those that failed.
    pub exchange_waiting: i64,
    pub exchange_failed: i64,
    /// Background jobs given up on (dead letters).
    pub dead_jobs: i64,
}

/// The dashboard's figures; `today` is `[start, end)` of Vietnam's day.
pub async fn operations(
    ex: &mut impl Exec,
    agencies: Option<&[i64]>,
    today: (OffsetDateTime, OffsetDateTime),
    now: OffsetDateTime,
) -> Result<Operations, StoreError> {
    let scope = |a: &mut Vec<Arg>, col: &str| match agencies {
        None => String::new(),
        Some([]) => " AND 1 = 0".to_owned(),
        Some(ids) => format!(" AND {col} IN ({})", crate::push_list(a, ids)),
    };
    let mut o = Operations::default();
    let sel = Selection {
        from: today.0,
        to: today.1,
        agencies,
        now,
    };
    let mut a = Vec::new();
    let base = sel.base(&mut a);
    let rows: Vec<(i64, i64)> = ex
        .fetch_all(
            &format!(
                "SELECT d.channel, CAST(COUNT(*) AS BIGINT) FROM dossiers d WHERE {base} \
                 GROUP BY d.channel"
            ),
            a,
        )
        .await?;
    for (channel, n) in rows {
        if let Some(slot) = usize::try_from(channel - 1)
            .ok()
            .and_then(|i| o.today_by_channel.get_mut(i))
        {
            *slot = n;
        }
    }
    let mut a = Vec::new();
    let (from, to) = (crate::bind(&mut a, today.0), crate::bind(&mut a, today.1));
    let s = scope(&mut a, "d.competent_agency_id");
    let open = "d.finished_at IS NULL AND d.closed_at IS NULL AND d.state <> 'rejected'";
    o.due_today = ex
        .scalar(
            &format!(
                "SELECT COUNT(*) FROM dossiers d WHERE {open} AND d.appointment >= {from} \
                 AND d.appointment < {to}{s}"
            ),
            a,
        )
        .await?;
    let mut a = Vec::new();
    let at = crate::bind(&mut a, now);
    let s = scope(&mut a, "d.competent_agency_id");
    o.overdue_by_agency = ex
        .fetch_all(
            &format!(
                "SELECT d.competent_agency_id, ag.name, CAST(COUNT(*) AS BIGINT), \
                 CAST(SUM(CASE WHEN d.counts_late OR d.appointment < {at} THEN 1 ELSE 0 END) AS BIGINT) \
                 FROM dossiers d JOIN agencies ag ON ag.id = d.competent_agency_id \
                 WHERE {open}{s} GROUP BY d.competent_agency_id, ag.name \
                 ORDER BY 4 DESC, 3 DESC, ag.name"
            ),
            a,
        )
        .await?;
    let mut a = Vec::new();
    let d = crate::bind(&mut a, egov_domain::vn_date(today.0));
    let s = scope(&mut a, "agency_id");
    o.issued_today = ex
        .scalar(
            &format!("SELECT COUNT(*) FROM documents WHERE issued_on = {d}{s}"),
            a,
        )
        .await?;
    let mut a = Vec::new();
    let (from, to) = (crate::bind(&mut a, today.0), crate::bind(&mut a, today.1));
    let s = scope(&mut a, "agency_id");
    o.arrived_today = ex
        .scalar(
            &format!(
                "SELECT COUNT(*) FROM incoming WHERE arrived_at >= {from} AND arrived_at < {to}{s}"
            ),
            a,
        )
        .await?;
    let mut a = Vec::new();
    let at = crate::bind(&mut a, now);
    let s = scope(&mut a, "agency_id");
    o.incoming_overdue = ex
        .scalar(
            &format!(
                "SELECT COUNT(*) FROM incoming WHERE state IN ('directed', 'processing') \
                 AND deadline < {at}{s}"
            ),
            a,
        )
        .await?;
    let mut a = Vec::new();
    let s = scope(&mut a, "agency_id");
    let (owed, oldest): (i64, Option<OffsetDateTime>) = ex
        .fetch_one(
            &format!(
                "SELECT CAST(COUNT(*) AS BIGINT), MIN(first_due_at) FROM national_dossiers \
                 WHERE state IN ('pending', 'uncertain') AND due_version > sent_version{s}"
            ),
            a,
        )
        .await?;
    (o.national_owed, o.national_oldest) = (owed, oldest);
    let (waiting, failed): (i64, i64) = ex
        .fetch_one(
            "SELECT CAST(COALESCE(SUM(CASE WHEN state = 'sending' THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM exchange_messages",
            args![],
        )
        .await?;
    (o.exchange_waiting, o.exchange_failed) = (waiting, failed);
    o.dead_jobs = ex
        .scalar("SELECT COUNT(*) FROM jobs WHERE state = 'dead'", args![])
        .await?;
    Ok(o)
}

/// An open dossier of the selection due before `until` (or already overdue), soonest first, and
/// whether its applicant disliked it (a rating of 1 or 2).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct OpenDossier {
    pub id: i64,
    pub code: String,
    pub procedure_code: String,
    pub competent_agency_id: i64,
    pub agency_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub appointment: OffsetDateTime,
    pub counts_late: bool,
    pub disliked: bool,
}

/// The open dossiers of the selection whose appointment is before `until`, soonest first (at
/// most `limit`).
pub async fn open_due(
    ex: &mut impl Exec,
    sel: &Selection<'_>,
    until: OffsetDateTime,
    limit: i64,
) -> Result<Vec<OpenDossier>, StoreError> {
    let mut a = Vec::new();
    let base = sel.base(&mut a);
    let (until, limit) = (crate::bind(&mut a, until), crate::bind(&mut a, limit));
    ex.fetch_all(
        &format!(
            "SELECT d.id, d.code, d.procedure_code, d.competent_agency_id, ag.name AS agency_name, \
             d.appointment, d.counts_late, EXISTS (SELECT 1 FROM national_ratings r \
             WHERE r.dossier_id = d.id AND r.score <= 2) AS disliked \
             FROM dossiers d JOIN agencies ag ON ag.id = d.competent_agency_id \
             WHERE {base} AND d.finished_at IS NULL AND d.closed_at IS NULL \
             AND d.appointment IS NOT NULL AND d.appointment < {until} \
             ORDER BY d.appointment, d.id LIMIT {limit}"
        ),
        a,
    )
    .await
}
