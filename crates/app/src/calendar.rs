//! The working-day calendar as a service: seeded years, proposals, administrator edits and
//! confirmation (audited), office hours per agency, deadline computation, and the review list
//! of step deadlines a change of a confirmed year moves.

use crate::Code;
use std::collections::HashMap;
use std::sync::Arc;

use egov_domain::calendar::{
    DayEntry, DayKind, DeadlineError, Limit, OfficeHours, Pause, RuleSet, WorkCalendar,
    YearCalendar,
};
use egov_store::calendar::{self as cal_store, DeadlineRow, NewDeadline, ReviewRow};
use egov_store::{Exec, Tx};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::{Actor, App, AppError, audit, authz, data};

const RULES_KEY: &str = "calendar.rules";
const HOURS_KEY: &str = "calendar.office_hours";

/// A year as shown and served: stored (confirmed or not) or proposed from the rules.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct YearView {
    pub year: i32,
    /// `confirmed`, `draft` (stored, awaiting confirmation) or `proposed` (computed from the rules,
    /// nothing stored).
    pub status: String,
    pub version: i64,
    #[schema(value_type = Vec<Object>)]
    pub days: Vec<DayEntry>,
    /// Tết (1/1 lunar) and the Hùng Kings' day (10/3 lunar) of the year, for reference.
    pub tet: Option<Date>,
    pub hung_kings: Option<Date>,
}

/// A limit as clients give it: exactly one field.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct LimitSpec {
    /// Working days, in steps of 0.5.
    pub working_days: Option<f64>,
    /// Working hours, in steps of one minute.
    pub working_hours: Option<f64>,
    pub calendar_days: Option<u32>,
    pub months: Option<u32>,
    /// Same day, with this cut-off (`15:00`): after it, the next working day.
    pub same_day_cutoff: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct DeadlineRequest {
    #[serde(with = "time::serde::rfc3339")]
    pub received: OffsetDateTime,
    pub limit: LimitSpec,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub pauses: Vec<Pause>,
    /// Use this agency's office hours (default: the deployment's).
    pub agency_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DueView {
    #[serde(with = "time::serde::rfc3339")]
    pub due: OffsetDateTime,
    /// The deadline as people read it, in Asia/Ho_Chi_Minh: `2026-02-26 17:00`.
    pub due_local: String,
    #[serde(with = "time::serde::rfc3339")]
    pub counted_from: OffsetDateTime,
    pub paused_seconds: i64,
    /// Years whose calendar is not confirmed that the answer relied on.
    pub provisional_years: Vec<i32>,
    /// Human warnings (in English; the code `calendar_provisional` is stable).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct DaySpec {
    /// `holiday`, `compensatory_day_off`, `swapped_day_off` or `makeup_workday`.
    pub kind: String,
    pub name: String,
}

fn bad_limit(msg: &str) -> AppError {
    AppError::invalid(Code::BadLimit, msg.to_owned())
}

impl LimitSpec {
    pub fn to_limit(&self) -> Result<Limit, AppError> {
        let given = [
            self.working_days.is_some(),
            self.working_hours.is_some(),
            self.calendar_days.is_some(),
            self.months.is_some(),
            self.same_day_cutoff.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if given != 1 {
            return Err(AppError::invalid(
                Code::LimitRequired,
                "Give exactly one limit: working days, working hours, calendar days, months or a same-day cut-off.",
            ));
        }
        if let Some(d) = self.working_days {
            let halves = d * 2.0;
            if !(0.5..=730.0).contains(&d) || halves.fract() != 0.0 {
                return Err(bad_limit("Working days go in steps of 0.5, up to 730."));
            }
            return Ok(Limit::WorkingDays {
                halves: halves as u32,
            });
        }
        if let Some(h) = self.working_hours {
            let minutes = h * 60.0;
            if !(1.0 / 60.0..=2000.0).contains(&h) || minutes.fract() != 0.0 {
                return Err(bad_limit(
                    "Working hours go in whole minutes, up to 2000 hours.",
                ));
            }
            return Ok(Limit::WorkingHours {
                minutes: minutes as u32,
            });
        }
        if let Some(d) = self.calendar_days {
            if !(1..=3650).contains(&d) {
                return Err(bad_limit("Calendar days go from 1 to 3650."));
            }
            return Ok(Limit::CalendarDays { days: d });
        }
        if let Some(m) = self.months {
            if !(1..=120).contains(&m) {
                return Err(bad_limit("Months go from 1 to 120."));
            }
            return Ok(Limit::Months { months: m });
        }
        let c = self.same_day_cutoff.as_deref().unwrap_or_default();
        let p = OfficeHours::parse_periods(&format!("00:00-{c}"))
            .map_err(|_| bad_limit("A cut-off is a time such as 15:00."))?;
        Ok(Limit::SameDay { cutoff: p[0].end })
    }
}

fn deadline_error(e: DeadlineError) -> AppError {
    let code = match e {
        DeadlineError::OutOfRange => Code::DateOutOfRange,
        DeadlineError::PauseEndsBeforeStart => Code::PauseEndsBeforeStart,
        DeadlineError::PausesOverlap => Code::PausesOverlap,
        DeadlineError::ZeroLimit => Code::BadLimit,
        DeadlineError::BadCutoff => Code::BadLimit,
    };
    AppError::invalid(code, e.to_string()).arg("value", "")
}

fn parse_csv_year_days(text: &str) -> Result<Vec<(DayEntry, String)>, AppError> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let mut out = Vec::new();
    for (i, r) in rdr.records().enumerate() {
        let r = r.map_err(|e| {
            AppError::invalid(Code::ImportBadRow, e.to_string())
                .arg("line", i + 2)
                .arg("reason", e)
        })?;
        let bad = |why: &str| {
            AppError::invalid(Code::ImportBadRow, why.to_owned())
                .arg("line", i + 2)
                .arg("reason", why)
        };
        let date = Date::parse(r.get(0).unwrap_or(""), &fmt).map_err(|_| bad("bad date"))?;
        let kind = DayKind::parse(r.get(1).unwrap_or("")).ok_or_else(|| bad("unknown kind"))?;
        let entry = DayEntry {
            date,
            kind,
            name: r.get(2).unwrap_or("").to_owned(),
            confirmed: r.get(3) == Some("confirmed"),
        };
        out.push((entry, r.get(4).unwrap_or("").to_owned()));
    }
    Ok(out)
}

fn view_of(year: i32, status: &str, version: i64, mut days: Vec<DayEntry>) -> YearView {
    days.sort_by_key(|d| d.date);
    YearView {
        year,
        status: status.into(),
        version,
        days,
        tet: egov_domain::calendar::lunar::tet(year),
        hung_kings: egov_domain::calendar::lunar::hung_kings(year),
    }
}

fn check_year(year: i32) -> Result<(), AppError> {
    if egov_domain::calendar::lunar::YEARS.contains(&year) {
        Ok(())
    } else {
        Err(
            AppError::invalid(Code::DateOutOfRange, "The calendar covers 1900–2100.")
                .arg("value", year),
        )
    }
}

async fn stored_year(ex: &mut impl Exec, year: i32) -> Result<Option<YearCalendar>, AppError> {
    let Some(row) = cal_store::year(ex, year).await? else {
        return Ok(None);
    };
    let days = cal_store::days(ex, Some(year)).await?;
    Ok(Some(YearCalendar {
        year,
        confirmed: row.confirmed,
        days: days
            .into_iter()
            .filter_map(|d| {
                Some(DayEntry {
                    date: d.date,
                    kind: DayKind::parse(&d.kind)?,
                    name: d.name,
                    confirmed: d.confirmed,
                })
            })
            .collect(),
    }))
}

async fn all_years(ex: &mut impl Exec) -> Result<Vec<YearCalendar>, AppError> {
    let rows = cal_store::years(ex).await?;
    let days = cal_store::days(ex, None).await?;
    Ok(rows
        .iter()
        .map(|r| YearCalendar {
            year: r.year as i32,
            confirmed: r.confirmed,
            days: days
                .iter()
                .filter(|d| d.year == r.year)
                .filter_map(|d| {
                    Some(DayEntry {
                        date: d.date,
                        kind: DayKind::parse(&d.kind)?,
                        name: d.name.clone(),
                        confirmed: d.confirmed,
                    })
                })
                .collect(),
        })
        .collect())
}

/// A deadline to keep: whose it is, and what it was computed from.
pub(crate) struct Deadline<'a> {
    pub owner_type: &'a str,
    pub owner_id: &'a str,
    pub label: &'a str,
    /// `appointment` or `step`.
    pub kind: &'a str,
    pub agency_id: Option<i64>,
    pub received: OffsetDateTime,
    pub limit: Limit,
    pub pauses: &'a [Pause],
}

impl<'a> Deadline<'a> {
    fn json(&self) -> Result<(String, String), AppError> {
        let limit =
            serde_json::to_string(&self.limit).map_err(|e| AppError::internal(e.to_string()))?;
        let pauses =
            serde_json::to_string(self.pauses).map_err(|e| AppError::internal(e.to_string()))?;
        Ok((limit, pauses))
    }

    fn row<'b>(
        &'b self,
        limit_json: &'b str,
        pauses_json: &'b str,
        due: OffsetDateTime,
    ) -> NewDeadline<'b> {
        NewDeadline {
            owner_type: self.owner_type,
            owner_id: self.owner_id,
            label: self.label,
            kind: self.kind,
            agency_id: self.agency_id,
            received: self.received,
            limit_json,
            pauses_json,
            due,
        }
    }

    /// Adds the deadline, due at `due`, to a batch of the caller's transaction.
    pub fn add_to(&self, b: &mut egov_store::Batch, due: OffsetDateTime) -> Result<(), AppError> {
        let (limit_json, pauses_json) = self.json()?;
        cal_store::add_deadline(
            b,
            &self.row(&limit_json, &pauses_json, due),
            egov_store::now(),
        );
        Ok(())
    }
}

/// Office hours by agency for one calendar stamp.
#[derive(Default)]
pub(crate) struct HoursCache(std::sync::Mutex<(String, HashMap<Option<i64>, OfficeHours>)>);

impl HoursCache {
    fn get(&self, stamp: &str, agency: Option<i64>) -> Option<OfficeHours> {
        let g = self.0.lock().ok()?;
        if g.0 != stamp {
            return None;
        }
        g.1.get(&agency).cloned()
    }

    fn put(&self, stamp: &str, agency: Option<i64>, hours: OfficeHours) {
        if let Ok(mut g) = self.0.lock() {
            if g.0 != stamp {
                *g = (stamp.to_owned(), HashMap::new());
            }
            g.1.insert(agency, hours);
        }
    }
}

impl App {
    /// Seeds the shipped calendars (2025, 2026) and rule set the first time. Returns the
    /// calendar's stamp.
    pub async fn ensure_calendar_seeded(&self) -> Result<String, AppError> {
        // The common case is a plain read: callers may hold a write transaction (SQLite allows
        // one writer), and computing a deadline must not wait for it.
        let stamp = cal_store::stamp(&mut &self.db).await?;
        if !stamp.is_empty() {
            return Ok(stamp);
        }
        let mut tx = self.db.begin().await?;
        let stamp = cal_store::stamp(&mut tx).await?;
        if !stamp.is_empty() {
            return Ok(stamp);
        }
        let now = self.now();
        let rows = parse_csv_year_days(data::HOLIDAYS_2025_2026)?;
        let mut years: Vec<i32> = rows.iter().map(|(d, _)| d.date.year()).collect();
        years.dedup();
        for y in &years {
            cal_store::ensure_year(&mut tx, *y, now).await?;
        }
        for (d, source) in &rows {
            cal_store::upsert_day(
                &mut tx,
                d.date,
                d.kind.as_str(),
                &d.name,
                d.confirmed,
                source,
            )
            .await?;
        }
        // A year counts as confirmed only when all of its lines are.
        for y in years {
            if rows
                .iter()
                .filter(|(d, _)| d.date.year() == y)
                .all(|(d, _)| d.confirmed)
            {
                cal_store::touch_year(&mut tx, y, true, None, now).await?;
            }
        }
        if cal_store::setting(&mut tx, RULES_KEY).await?.is_none() {
            cal_store::set_setting(&mut tx, RULES_KEY, data::HOLIDAY_RULES).await?;
        }
        cal_store::bump_stamp(&mut tx, now).await?;
        audit::event("calendar.seed", "calendar", "2025-2026")
            .write(&mut tx, &Actor::system("calendar"))
            .await?;
        let stamp = cal_store::stamp(&mut tx).await?;
        tx.commit().await?;
        Ok(stamp)
    }

    /// A connection for a request's reads, and the calendar's and the catalogue's stamps read
    /// through it in one query (the calendar seeded first if it never was).
    pub(crate) async fn reader_with_stamps(
        &self,
    ) -> Result<(egov_store::Conn, cal_store::Stamps), AppError> {
        let mut c = self.db.acquire().await?;
        let s = cal_store::stamps(&mut c).await?;
        if !s.calendar.is_empty() {
            return Ok((c, s));
        }
        // Seeding takes a connection of its own.
        drop(c);
        self.ensure_calendar_seeded().await?;
        let mut c = self.db.acquire().await?;
        let s = cal_store::stamps(&mut c).await?;
        Ok((c, s))
    }

    pub async fn holiday_rules(&self) -> Result<RuleSet, AppError> {
        holiday_rules_in(&mut &self.db).await
    }

    async fn default_hours(&self, ex: &mut impl Exec) -> Result<OfficeHours, AppError> {
        match cal_store::setting(ex, HOURS_KEY).await? {
            Some(j) => serde_json::from_str(&j)
                .map_err(|e| AppError::internal(format!("stored office hours: {e}"))),
            None => Ok(OfficeHours::default()),
        }
    }

    /// The office hours of an agency (its own, or the deployment's default).
    pub async fn office_hours(&self, agency_id: Option<i64>) -> Result<OfficeHours, AppError> {
        self.office_hours_in(&mut &self.db, agency_id).await
    }

    /// [`App::office_hours`], read through the caller's executor (inside a transaction, a use
    /// case must not take a second connection: under load the pool would run dry).
    pub async fn office_hours_in(
        &self,
        ex: &mut impl Exec,
        agency_id: Option<i64>,
    ) -> Result<OfficeHours, AppError> {
        if let Some(a) = agency_id
            && let Some(j) = cal_store::office_hours(ex, a).await?
        {
            return serde_json::from_str(&j)
                .map_err(|e| AppError::internal(format!("stored office hours: {e}")));
        }
        self.default_hours(ex).await
    }

    /// The working-day calendar, rebuilt only when the stored calendar data changed.
    pub async fn work_calendar(&self) -> Result<Arc<WorkCalendar>, AppError> {
        self.ensure_calendar_seeded().await?;
        self.work_calendar_in(&mut &self.db).await
    }

    /// [`App::work_calendar`] through the caller's executor; the calendar must be seeded.
    pub async fn work_calendar_in(
        &self,
        ex: &mut impl Exec,
    ) -> Result<Arc<WorkCalendar>, AppError> {
        let stamp = cal_store::stamp(ex).await?;
        self.work_calendar_at(ex, &stamp).await
    }

    async fn work_calendar_at(
        &self,
        ex: &mut impl Exec,
        stamp: &str,
    ) -> Result<Arc<WorkCalendar>, AppError> {
        if let Ok(guard) = self.calendar_cache.read()
            && let Some((s, c)) = guard.as_ref()
            && s == stamp
        {
            return Ok(c.clone());
        }
        let years = all_years(ex).await?;
        let rules = holiday_rules_in(ex).await?;
        let hours = self.default_hours(ex).await?;
        let built = tokio::task::spawn_blocking(move || WorkCalendar::new(&years, &rules, hours))
            .await
            .map_err(|e| AppError::internal(format!("building the calendar: {e}")))?;
        let built = Arc::new(built);
        if let Ok(mut guard) = self.calendar_cache.write() {
            *guard = Some((stamp.to_owned(), built.clone()));
        }
        Ok(built)
    }

    /// What a deadline at an agency is computed with: the working calendar and the agency's
    /// office hours. One read (the calendar stamp) when both are cached.
    pub(crate) async fn deadline_clock_in(
        &self,
        ex: &mut impl Exec,
        agency_id: Option<i64>,
    ) -> Result<(Arc<WorkCalendar>, OfficeHours), AppError> {
        let stamp = cal_store::stamp(ex).await?;
        self.deadline_clock_at(ex, &stamp, agency_id).await
    }

    /// [`App::deadline_clock_in`] for a calendar stamp the caller has just read.
    pub(crate) async fn deadline_clock_at(
        &self,
        ex: &mut impl Exec,
        stamp: &str,
        agency_id: Option<i64>,
    ) -> Result<(Arc<WorkCalendar>, OfficeHours), AppError> {
        let cal = self.work_calendar_at(ex, stamp).await?;
        if let Some(h) = self.hours_cache.get(stamp, agency_id) {
            return Ok((cal, h));
        }
        let hours = self.office_hours_in(ex, agency_id).await?;
        self.hours_cache.put(stamp, agency_id, hours.clone());
        Ok((cal, hours))
    }

    /// A year's calendar: as stored, or as the rules propose it.
    pub async fn calendar_year(&self, year: i32) -> Result<YearView, AppError> {
        check_year(year)?;
        self.ensure_calendar_seeded().await?;
        let mut ex = &self.db;
        if let Some(y) = stored_year(&mut ex, year).await? {
            let row = cal_store::year(&mut ex, year)
                .await?
                .ok_or_else(|| AppError::internal("year vanished"))?;
            let status = if y.confirmed { "confirmed" } else { "draft" };
            return Ok(view_of(year, status, row.version, y.days));
        }
        let p = self.holiday_rules().await?.propose(year).map_err(|e| {
            AppError::invalid(Code::DateOutOfRange, e.to_string()).arg("value", year)
        })?;
        Ok(view_of(year, "proposed", 0, p.days))
    }

    /// Computes a deadline. Years without a confirmed calendar are used as proposed, and the
    /// answer says so.
    pub async fn compute_deadline(&self, req: &DeadlineRequest) -> Result<DueView, AppError> {
        let limit = req.limit.to_limit()?;
        let cal = self.work_calendar().await?;
        let hours = self.office_hours(req.agency_id).await?;
        let due = cal
            .due_with(&hours, req.received, limit, &req.pauses)
            .map_err(deadline_error)?;
        let local = due.at.to_offset(egov_domain::VN_OFFSET);
        let warnings = due
            .provisional_years
            .iter()
            .map(|y| format!("The {y} calendar is not confirmed by an administrator: this deadline uses its proposal and may change."))
            .collect();
        Ok(DueView {
            due: local,
            due_local: format!("{} {:02}:{:02}", local.date(), local.hour(), local.minute()),
            counted_from: due.counted_from,
            paused_seconds: due.paused_seconds,
            provisional_years: due.provisional_years,
            warnings,
        })
    }

    /// Adds or changes a day of a year (creating the year as a draft from the rules' proposal
    /// when it has none yet).
    pub async fn set_calendar_day(
        &self,
        actor: &Actor,
        date: Date,
        spec: &DaySpec,
    ) -> Result<YearView, AppError> {
        let kind = DayKind::parse(&spec.kind)
            .ok_or_else(|| AppError::invalid(Code::BadDayKind, "Unknown kind of day."))?;
        let name = crate::people::check_name(&spec.name, Code::BadDayName)?;
        self.change_year(actor, date.year(), "calendar.day_set", |y| {
            y.days.retain(|d| d.date != date);
            y.days.push(DayEntry {
                date,
                kind,
                name: name.clone(),
                confirmed: y.confirmed,
            });
        })
        .await
    }

    pub async fn remove_calendar_day(
        &self,
        actor: &Actor,
        date: Date,
    ) -> Result<YearView, AppError> {
        let mut missing = false;
        let v = self
            .change_year(actor, date.year(), "calendar.day_removed", |y| {
                let before = y.days.len();
                y.days.retain(|d| d.date != date);
                missing = before == y.days.len();
            })
            .await;
        if missing {
            return Err(AppError::not_found("calendar day"));
        }
        v
    }

    /// Stores the rules' proposal as the year's draft (when the year has nothing stored).
    pub async fn propose_calendar_year(
        &self,
        actor: &Actor,
        year: i32,
    ) -> Result<YearView, AppError> {
        self.change_year(actor, year, "calendar.year_proposed", |_| {})
            .await
    }

    /// Confirms a year: it and all its days become confirmed.
    pub async fn confirm_calendar_year(
        &self,
        actor: &Actor,
        year: i32,
    ) -> Result<(YearView, u64), AppError> {
        check_year(year)?;
        self.ensure_calendar_seeded().await?;
        let mut tx = self.db.begin().await?;
        self.require_system_admin(&mut tx, actor).await?;
        let now = self.now();
        let y = match stored_year(&mut tx, year).await? {
            Some(y) => y,
            None => {
                self.store_proposal(&mut tx, year, now).await?;
                stored_year(&mut tx, year)
                    .await?
                    .ok_or_else(|| AppError::internal("year vanished"))?
            }
        };
        y.validate().map_err(calendar_error)?;
        cal_store::touch_year(&mut tx, year, true, actor.person_id, now).await?;
        cal_store::bump_stamp(&mut tx, now).await?;
        let moved = self.review_steps(&mut tx, year, now).await?;
        audit::event("calendar.year_confirmed", "calendar_year", year)
            .after(&serde_json::json!({"days": y.days.len(), "step_deadlines_moved": moved}))
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok((self.calendar_year(year).await?, moved))
    }

    async fn store_proposal(
        &self,
        tx: &mut Tx,
        year: i32,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        let p = self
            .holiday_rules()
            .await?
            .propose(year)
            .map_err(calendar_error)?;
        cal_store::ensure_year(tx, year, now).await?;
        for d in &p.days {
            cal_store::upsert_day(
                tx,
                d.date,
                d.kind.as_str(),
                &d.name,
                false,
                "proposed from the rules",
            )
            .await?;
        }
        Ok(())
    }

    /// Applies a change to a year's days in one transaction: validate, store, audit, and — for a
    /// confirmed year — recompute open step deadlines and list those that move.
    async fn change_year(
        &self,
        actor: &Actor,
        year: i32,
        action: &str,
        change: impl FnOnce(&mut YearCalendar),
    ) -> Result<YearView, AppError> {
        check_year(year)?;
        self.ensure_calendar_seeded().await?;
        let mut tx = self.db.begin().await?;
        self.require_system_admin(&mut tx, actor).await?;
        let now = self.now();
        if stored_year(&mut tx, year).await?.is_none() {
            self.store_proposal(&mut tx, year, now).await?;
        }
        let before = stored_year(&mut tx, year)
            .await?
            .ok_or_else(|| AppError::internal("year vanished"))?;
        let mut after = before.clone();
        change(&mut after);
        after.sort();
        after.validate().map_err(calendar_error)?;
        for d in &before.days {
            if !after.days.iter().any(|a| a.date == d.date) {
                cal_store::delete_day(&mut tx, d.date).await?;
            }
        }
        for d in &after.days {
            if !before.days.contains(d) {
                cal_store::upsert_day(
                    &mut tx,
                    d.date,
                    d.kind.as_str(),
                    &d.name,
                    d.confirmed,
                    "administrator",
                )
                .await?;
            }
        }
        cal_store::touch_year(&mut tx, year, false, actor.person_id, now).await?;
        cal_store::bump_stamp(&mut tx, now).await?;
        let moved = if after.confirmed {
            self.review_steps(&mut tx, year, now).await?
        } else {
            0
        };
        audit::event(action, "calendar_year", year)
            .before(&before.days)
            .after(&serde_json::json!({"days": after.days, "step_deadlines_moved": moved}))
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        self.calendar_year(year).await
    }

    /// Recomputes the open step deadlines that touch `year` with the calendar as it now stands
    /// in `tx`; each that moves is updated and listed for review. Appointments printed on
    /// receipts are never recomputed.
    async fn review_steps(
        &self,
        tx: &mut Tx,
        year: i32,
        now: OffsetDateTime,
    ) -> Result<u64, AppError> {
        let start = Date::from_calendar_date(year, time::Month::January, 1)
            .map_err(|e| AppError::internal(e.to_string()))?;
        let from = start.midnight().assume_offset(egov_domain::VN_OFFSET);
        let to = Date::from_calendar_date(year + 1, time::Month::January, 1)
            .map(|d| d.midnight().assume_offset(egov_domain::VN_OFFSET))
            .unwrap_or(from);
        let steps = cal_store::open_steps_between(tx, from, to).await?;
        if steps.is_empty() {
            return Ok(0);
        }
        let years = all_years(tx).await?;
        let rules = self.holiday_rules().await?;
        let hours = self.default_hours(tx).await?;
        let cal = WorkCalendar::new(&years, &rules, hours);
        let mut moved = 0;
        for s in steps {
            let Ok(limit) = serde_json::from_str::<Limit>(&s.limit_json) else {
                continue;
            };
            let pauses: Vec<Pause> = serde_json::from_str(&s.pauses_json).unwrap_or_default();
            let hours = match s.agency_id {
                Some(a) => match cal_store::office_hours(tx, a).await? {
                    Some(j) => serde_json::from_str(&j).unwrap_or_else(|_| cal.hours.clone()),
                    None => cal.hours.clone(),
                },
                None => cal.hours.clone(),
            };
            let Ok(new) = cal.due_with(&hours, s.received, limit, &pauses) else {
                continue;
            };
            if new.at != s.due {
                cal_store::set_due(tx, s.id, new.at, now).await?;
                cal_store::insert_review(tx, s.id, year, s.due, new.at, now).await?;
                moved += 1;
            }
        }
        Ok(moved)
    }

    /// Keeps a computed deadline so that calendar changes can find it (`kind` is `appointment`
    /// or `step`).
    #[allow(clippy::too_many_arguments)]
    pub async fn register_deadline(
        &self,
        ex: &mut impl Exec,
        owner_type: &str,
        owner_id: &str,
        label: &str,
        kind: &str,
        agency_id: Option<i64>,
        received: OffsetDateTime,
        limit: Limit,
        pauses: &[Pause],
    ) -> Result<DeadlineRow, AppError> {
        let d = Deadline {
            owner_type,
            owner_id,
            label,
            kind,
            agency_id,
            received,
            limit,
            pauses,
        };
        let id = self.keep_deadline(ex, &d, None).await?;
        Ok(cal_store::get_deadline(ex, id).await?)
    }

    /// [`App::register_deadline`] without reading the row back, with the due time when the
    /// caller has computed it already.
    pub(crate) async fn keep_deadline(
        &self,
        ex: &mut impl Exec,
        d: &Deadline<'_>,
        due: Option<OffsetDateTime>,
    ) -> Result<i64, AppError> {
        let due = match due {
            Some(at) => at,
            None => {
                let (cal, hours) = self.deadline_clock_in(ex, d.agency_id).await?;
                cal.due_with(&hours, d.received, d.limit, d.pauses)
                    .map_err(deadline_error)?
                    .at
            }
        };
        let (limit_json, pauses_json) = d.json()?;
        Ok(
            cal_store::insert_deadline(ex, &d.row(&limit_json, &pauses_json, due), self.now())
                .await?,
        )
    }

    pub async fn deadline_reviews(&self, actor: &Actor) -> Result<Vec<ReviewRow>, AppError> {
        let mut ex = &self.db;
        self.require_system_admin(&mut ex, actor).await?;
        Ok(cal_store::open_reviews(&mut ex, 500).await?)
    }

    pub async fn set_holiday_rules(&self, actor: &Actor, rules: &RuleSet) -> Result<(), AppError> {
        rules
            .validate()
            .map_err(|e| AppError::invalid(Code::BadRules, e.to_string()).arg("reason", e))?;
        let json =
            serde_json::to_string_pretty(rules).map_err(|e| AppError::internal(e.to_string()))?;
        let mut tx = self.db.begin().await?;
        self.require_system_admin(&mut tx, actor).await?;
        let before = cal_store::setting(&mut tx, RULES_KEY).await?;
        cal_store::set_setting(&mut tx, RULES_KEY, &json).await?;
        cal_store::bump_stamp(&mut tx, self.now()).await?;
        audit::event("calendar.rules_set", "calendar_rules", "rules")
            .before(&before)
            .after(rules)
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets the office hours of an agency (its administrator), or the deployment's default
    /// (`agency_id` None, system administrator). `None` hours remove an agency's own.
    pub async fn set_office_hours(
        &self,
        actor: &Actor,
        agency_id: Option<i64>,
        hours: Option<&OfficeHours>,
    ) -> Result<(), AppError> {
        if let Some(h) = hours {
            h.validate().map_err(|e| {
                AppError::invalid(Code::BadOfficeHours, e.to_string()).arg("reason", e)
            })?;
        }
        let json = hours
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| AppError::internal(e.to_string()))?;
        let mut tx = self.db.begin().await?;
        let now = self.now();
        match agency_id {
            Some(a) => {
                authz::require_admin_of(&mut tx, actor, a, self.now()).await?;
                cal_store::set_office_hours(&mut tx, a, json.as_deref(), now).await?;
            }
            None => {
                self.require_system_admin(&mut tx, actor).await?;
                let j = json.unwrap_or_else(|| {
                    serde_json::to_string(&OfficeHours::default()).unwrap_or_default()
                });
                cal_store::set_setting(&mut tx, HOURS_KEY, &j).await?;
            }
        }
        cal_store::bump_stamp(&mut tx, now).await?;
        audit::event(
            "calendar.office_hours_set",
            "office_hours",
            agency_id
                .map(|a| a.to_string())
                .unwrap_or_else(|| "default".into()),
        )
        .agency(agency_id)
        .after(&hours)
        .write(&mut tx, actor)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn calendar_error(e: egov_domain::calendar::CalendarError) -> AppError {
    use egov_domain::calendar::CalendarError as E;
    let (code, value) = match &e {
        E::YearOutOfRange(y) => (Code::DateOutOfRange, y.to_string()),
        E::DateOutsideYear { date, .. } => (Code::DayOutsideYear, date.to_string()),
        E::MakeupNotWeekend(d) => (Code::MakeupNotWeekend, d.to_string()),
        E::DuplicateDate(d) => (Code::DuplicateDay, d.to_string()),
        E::EmptyName => (Code::BadDayName, String::new()),
    };
    AppError::invalid(code, e.to_string()).arg("value", value)
}

async fn holiday_rules_in(ex: &mut impl Exec) -> Result<RuleSet, AppError> {
    let json = cal_store::setting(ex, RULES_KEY)
        .await?
        .unwrap_or_else(|| data::HOLIDAY_RULES.to_owned());
    serde_json::from_str(&json)
        .map_err(|e| AppError::internal(format!("stored holiday rules: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_specs() {
        let l = |s: LimitSpec| s.to_limit();
        assert_eq!(
            l(LimitSpec {
                working_days: Some(2.5),
                ..Default::default()
            })
            .unwrap(),
            Limit::WorkingDays { halves: 5 }
        );
        assert_eq!(
            l(LimitSpec {
                working_hours: Some(1.5),
                ..Default::default()
            })
            .unwrap(),
            Limit::WorkingHours { minutes: 90 }
        );
        assert_eq!(
            l(LimitSpec {
                same_day_cutoff: Some("15:00".into()),
                ..Default::default()
            })
            .unwrap(),
            Limit::SameDay { cutoff: 900 }
        );
        assert_eq!(l(LimitSpec::default()).unwrap_err().code, "limit_required");
        assert_eq!(
            l(LimitSpec {
                working_days: Some(1.0),
                months: Some(1),
                ..Default::default()
            })
            .unwrap_err()
            .code,
            "limit_required"
        );
        assert_eq!(
            l(LimitSpec {
                working_days: Some(1.3),
                ..Default::default()
            })
            .unwrap_err()
            .code,
            "bad_limit"
        );
        assert_eq!(
            l(LimitSpec {
                working_days: Some(-1.0),
                ..Default::default()
            })
            .unwrap_err()
            .code,
            "bad_limit"
        );
        assert_eq!(
            l(LimitSpec {
                same_day_cutoff: Some("25:00".into()),
                ..Default::default()
            })
            .unwrap_err()
            .code,
            "bad_limit"
        );
    }

    #[test]
    fn shipped_data_parses() {
        let rows = parse_csv_year_days(data::HOLIDAYS_2025_2026).unwrap();
        assert!(rows.len() > 30);
        let rules: RuleSet = serde_json::from_str(data::HOLIDAY_RULES).unwrap();
        rules.validate().unwrap();
    }
}
