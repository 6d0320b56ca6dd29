//! Deadline arithmetic.
//!
//! Default rules (per deployment and per procedure where noted):
//! - A receipt outside office hours or on a day off counts as received at the start of the next
//!   working period. Working days count from the working day after receipt; working hours from
//!   the (effective) receipt instant.
//! - "N working days" ends at the close of office hours on the Nth working day; half a day is
//!   the first period (the morning) of the next working day. "N working hours" counts office
//!   time only.
//! - A limit in calendar days or months that ends on a day off moves to the close of the next
//!   working day.
//! - "Same day; after the cut-off → next working day" for procedures that say so.
//! - Paused intervals do not count: the working time they cover (calendar time, in whole days,
//!   for calendar limits) is added back, so a pause never shortens a deadline.
//! - Finishes are early (on a day before the appointment's day), on time (on its day, at or
//!   before it) or late.
//!
//! Instants are kept in UTC and computed in Asia/Ho_Chi_Minh (UTC+7, no daylight saving).

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, OffsetDateTime, Time};

use super::WorkCalendar;
use super::hours::Period;
use crate::VN_OFFSET;

/// A time limit, as procedures state them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// Working days in halves: `WorkingDays { halves: 5 }` is 2.5 working days.
    WorkingDays {
        halves: u32,
    },
    WorkingHours {
        minutes: u32,
    },
    CalendarDays {
        days: u32,
    },
    Months {
        months: u32,
    },
    /// Done the same day; received after `cutoff` (minutes after midnight) → next working day.
    SameDay {
        cutoff: u16,
    },
}

impl Limit {
    pub fn working_days(n: u32) -> Limit {
        Limit::WorkingDays { halves: n * 2 }
    }
}

/// An interval during which the clock is stopped (waiting for a supplement or for fees).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub to: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Due {
    /// The deadline, in Vietnam time.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// When the receipt counts as received (the start of the next working period if it came
    /// outside office hours or on a day off).
    #[serde(with = "time::serde::rfc3339")]
    pub counted_from: OffsetDateTime,
    /// Working seconds (or, for calendar limits, whole days in seconds) added for pauses.
    pub paused_seconds: i64,
    /// Years whose calendar is only proposed (not confirmed) that the computation relied on.
    pub provisional_years: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineError {
    #[error("the calendar covers 1900–2100; this deadline falls outside it")]
    OutOfRange,
    #[error("a pause ends before it starts")]
    PauseEndsBeforeStart,
    #[error("two pauses overlap")]
    PausesOverlap,
    #[error("a limit must be greater than zero")]
    ZeroLimit,
    #[error("a same-day cut-off must be within the day")]
    BadCutoff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timeliness {
    Early,
    OnTime,
    Late,
}

/// Early, on time or late: a finish on a day before the appointment's day is early; on that
/// day at or before the appointment, on time; otherwise late. (A finish on a day off before the
/// appointment's day also counts as early.)
pub fn classify(finished: OffsetDateTime, appointment: OffsetDateTime) -> Timeliness {
    if finished > appointment {
        return Timeliness::Late;
    }
    let fd = finished.to_offset(VN_OFFSET).date();
    let ad = appointment.to_offset(VN_OFFSET).date();
    if fd < ad {
        Timeliness::Early
    } else {
        Timeliness::OnTime
    }
}

const DAY: i64 = 86_400;

/// Local time as seconds since Julian day 0 (midnight starting day 0, Vietnam time).
fn local_secs(t: OffsetDateTime) -> i64 {
    let l = t.to_offset(VN_OFFSET);
    i64::from(l.date().to_julian_day()) * DAY
        + i64::from(l.hour()) * 3600
        + i64::from(l.minute()) * 60
        + i64::from(l.second())
}

fn from_local_secs(s: i64) -> Result<OffsetDateTime, DeadlineError> {
    let jd = s.div_euclid(DAY);
    let sec = s.rem_euclid(DAY);
    let date = Date::from_julian_day(i32::try_from(jd).map_err(|_| DeadlineError::OutOfRange)?)
        .map_err(|_| DeadlineError::OutOfRange)?;
    let time = Time::from_hms(
        (sec / 3600) as u8,
        ((sec % 3600) / 60) as u8,
        (sec % 60) as u8,
    )
    .map_err(|_| DeadlineError::OutOfRange)?;
    Ok(date.with_time(time).assume_offset(VN_OFFSET))
}

struct Walker<'a> {
    cal: &'a WorkCalendar,
    hours: &'a super::OfficeHours,
    min_jd: i64,
    max_jd: i64,
}

impl<'a> Walker<'a> {
    fn periods(&mut self, jd: i64) -> Result<&'a [Period], DeadlineError> {
        self.min_jd = self.min_jd.min(jd);
        self.max_jd = self.max_jd.max(jd);
        if !self
            .cal
            .is_working_jd(jd)
            .ok_or(DeadlineError::OutOfRange)?
        {
            return Ok(&[]);
        }
        let wd = jd.rem_euclid(7) as usize;
        let hours: &'a super::OfficeHours = self.hours;
        Ok(hours.periods(wd, wd >= 5))
    }

    fn is_working(&mut self, jd: i64) -> Result<bool, DeadlineError> {
        Ok(!self.periods(jd)?.is_empty())
    }

    /// The first instant at or after `t` inside a working period.
    fn normalize(&mut self, t: i64) -> Result<i64, DeadlineError> {
        let first = t.div_euclid(DAY);
        let mut sec = t.rem_euclid(DAY);
        // A working day comes within a few weeks; 800 days is far beyond any break.
        for jd in first..first + 800 {
            for p in self.periods(jd)? {
                let (s, e) = (i64::from(p.start) * 60, i64::from(p.end) * 60);
                if sec < e {
                    return Ok(jd * DAY + sec.max(s));
                }
            }
            sec = 0;
        }
        Err(DeadlineError::OutOfRange)
    }

    /// `t` plus `secs` of working time. A result at the end of a period stays there.
    fn add_working(&mut self, t: i64, secs: i64) -> Result<i64, DeadlineError> {
        if secs <= 0 {
            return Ok(t);
        }
        let mut t = self.normalize(t)?;
        let mut left = secs;
        loop {
            let jd = t.div_euclid(DAY);
            let sec = t.rem_euclid(DAY);
            for p in self.periods(jd)? {
                let (s, e) = (i64::from(p.start) * 60, i64::from(p.end) * 60);
                if sec >= e {
                    continue;
                }
                let from = sec.max(s);
                let avail = e - from;
                if left <= avail {
                    return Ok(jd * DAY + from + left);
                }
                left -= avail;
            }
            t = self.normalize((jd + 1) * DAY)?;
        }
    }

    /// Working seconds within [a, b).
    fn working_between(&mut self, a: i64, b: i64) -> Result<i64, DeadlineError> {
        if b <= a {
            return Ok(0);
        }
        let mut total = 0;
        let (mut jd, last) = (a.div_euclid(DAY), (b - 1).div_euclid(DAY));
        if last - jd > 80_000 {
            return Err(DeadlineError::OutOfRange);
        }
        while jd <= last {
            let day0 = jd * DAY;
            for p in self.periods(jd)? {
                let s = (day0 + i64::from(p.start) * 60).max(a);
                let e = (day0 + i64::from(p.end) * 60).min(b);
                if e > s {
                    total += e - s;
                }
            }
            jd += 1;
        }
        Ok(total)
    }

    fn nth_working_day_after(&mut self, jd: i64, n: u32) -> Result<i64, DeadlineError> {
        let mut d = jd;
        let mut left = n;
        while left > 0 {
            d += 1;
            if d - jd > 40_000 {
                return Err(DeadlineError::OutOfRange);
            }
            if self.is_working(d)? {
                left -= 1;
            }
        }
        Ok(d)
    }

    fn first_working_on_or_after(&mut self, jd: i64) -> Result<i64, DeadlineError> {
        let mut d = jd;
        while !self.is_working(d)? {
            d += 1;
        }
        Ok(d)
    }

    fn close_of(&mut self, jd: i64) -> Result<i64, DeadlineError> {
        let end = self
            .periods(jd)?
            .last()
            .map(|p| i64::from(p.end) * 60)
            .ok_or(DeadlineError::OutOfRange)?;
        Ok(jd * DAY + end)
    }

    fn end_of_first_period(&mut self, jd: i64) -> Result<i64, DeadlineError> {
        let ps = self.periods(jd)?;
        let end = match ps {
            [] => return Err(DeadlineError::OutOfRange),
            [only] => i64::from(only.start) * 60 + i64::from(only.minutes()) * 30,
            [first, ..] => i64::from(first.end) * 60,
        };
        Ok(jd * DAY + end)
    }
}

fn add_months(d: Date, months: u32) -> Option<Date> {
    let total = i64::from(d.year()) * 12 + i64::from(u8::from(d.month()) - 1) + i64::from(months);
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = Month::try_from((total.rem_euclid(12) + 1) as u8).ok()?;
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, d.day().min(last)).ok()
}

/// Checks pauses: each ends after it starts, none overlaps another. Returns them sorted.
pub fn check_pauses(pauses: &[Pause]) -> Result<Vec<Pause>, DeadlineError> {
    let mut v = pauses.to_vec();
    if v.iter().any(|p| p.to < p.from) {
        return Err(DeadlineError::PauseEndsBeforeStart);
    }
    v.sort_by_key(|p| p.from);
    if v.windows(2).any(|w| w[1].from < w[0].to) {
        return Err(DeadlineError::PausesOverlap);
    }
    Ok(v)
}

impl WorkCalendar {
    /// The deadline of a limit for a receipt at `received`, with the clock stopped during
    /// `pauses`.
    pub fn due(
        &self,
        received: OffsetDateTime,
        limit: Limit,
        pauses: &[Pause],
    ) -> Result<Due, DeadlineError> {
        self.due_with(&self.hours, received, limit, pauses)
    }

    /// [`WorkCalendar::due`] with an agency's own office hours.
    pub fn due_with(
        &self,
        hours: &super::OfficeHours,
        received: OffsetDateTime,
        limit: Limit,
        pauses: &[Pause],
    ) -> Result<Due, DeadlineError> {
        let pauses = check_pauses(pauses)?;
        let r = local_secs(received);
        let mut w = Walker {
            cal: self,
            hours,
            min_jd: r.div_euclid(DAY),
            max_jd: r.div_euclid(DAY),
        };
        let eff = w.normalize(r)?;
        let d0 = eff.div_euclid(DAY);
        let clip = |p: &Pause| (local_secs(p.from).max(eff), local_secs(p.to));
        let (base, paused) = match limit {
            Limit::WorkingDays { halves } => {
                if halves == 0 {
                    return Err(DeadlineError::ZeroLimit);
                }
                let (full, half) = (halves / 2, halves % 2 == 1);
                let mut day = d0;
                let mut due = None;
                if full > 0 {
                    day = w.nth_working_day_after(d0, full)?;
                    due = Some(w.close_of(day)?);
                }
                if half {
                    day = w.nth_working_day_after(day, 1)?;
                    due = Some(w.end_of_first_period(day)?);
                }
                let mut p = 0;
                for x in &pauses {
                    let (a, b) = clip(x);
                    p += w.working_between(a, b)?;
                }
                (due.ok_or(DeadlineError::ZeroLimit)?, p)
            }
            Limit::WorkingHours { minutes } => {
                if minutes == 0 {
                    return Err(DeadlineError::ZeroLimit);
                }
                let mut p = 0;
                for x in &pauses {
                    let (a, b) = clip(x);
                    p += w.working_between(a, b)?;
                }
                (w.add_working(eff, i64::from(minutes) * 60)?, p)
            }
            Limit::SameDay { cutoff } => {
                if cutoff > 24 * 60 {
                    return Err(DeadlineError::BadCutoff);
                }
                let (rd, rs) = (r.div_euclid(DAY), r.rem_euclid(DAY));
                let day = if d0 == rd && rs > i64::from(cutoff) * 60 {
                    w.nth_working_day_after(d0, 1)?
                } else {
                    d0
                };
                let mut p = 0;
                for x in &pauses {
                    let (a, b) = clip(x);
                    p += w.working_between(a, b)?;
                }
                (w.close_of(day)?, p)
            }
            Limit::CalendarDays { days } | Limit::Months { months: days } => {
                if days == 0 {
                    return Err(DeadlineError::ZeroLimit);
                }
                let start = Date::from_julian_day(
                    i32::try_from(r.div_euclid(DAY)).map_err(|_| DeadlineError::OutOfRange)?,
                )
                .map_err(|_| DeadlineError::OutOfRange)?;
                let paused_secs: i64 = pauses
                    .iter()
                    .map(|p| (local_secs(p.to) - local_secs(p.from).max(r)).max(0))
                    .sum();
                let shift = (paused_secs + DAY - 1) / DAY;
                let end = match limit {
                    Limit::Months { months } => {
                        add_months(start, months).ok_or(DeadlineError::OutOfRange)?
                    }
                    _ => start
                        .checked_add(Duration::days(i64::from(days)))
                        .ok_or(DeadlineError::OutOfRange)?,
                };
                let end_jd = i64::from(end.to_julian_day()) + shift;
                let day = w.first_working_on_or_after(end_jd)?;
                let due = w.close_of(day)?;
                let due_local = from_local_secs(due)?;
                return Ok(Due {
                    at: due_local,
                    counted_from: from_local_secs(eff)?,
                    paused_seconds: shift * DAY,
                    provisional_years: self.provisional_between(w.min_jd, w.max_jd),
                });
            }
        };
        let at = if paused > 0 {
            w.add_working(base, paused)?
        } else {
            base
        };
        Ok(Due {
            at: from_local_secs(at)?,
            counted_from: from_local_secs(eff)?,
            paused_seconds: paused,
            provisional_years: self.provisional_between(w.min_jd, w.max_jd),
        })
    }

    fn provisional_between(&self, a: i64, b: i64) -> Vec<i32> {
        let year = |jd: i64| {
            Date::from_julian_day(jd as i32)
                .map(|d| d.year())
                .unwrap_or(0)
        };
        (year(a)..=year(b))
            .filter(|y| !self.is_confirmed(*y))
            .collect()
    }

    /// How many working days lie after `from`'s day up to and including `to`'s day.
    pub fn working_days_between(&self, from: Date, to: Date) -> Result<u32, DeadlineError> {
        let (a, b) = (
            i64::from(from.to_julian_day()),
            i64::from(to.to_julian_day()),
        );
        let mut n = 0;
        for jd in a + 1..=b {
            if self.is_working_jd(jd).ok_or(DeadlineError::OutOfRange)? {
                n += 1;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::calendar::{DayEntry, DayKind, OfficeHours, RuleSet, YearCalendar};
    use proptest::prelude::*;
    use time::macros::{date, datetime};

    /// The shipped rule set and the 2025–2026 calendar from `data/`, as the app seeds them
    /// (2026 counted as confirmed for the worked examples).
    pub(crate) fn calendar() -> WorkCalendar {
        let rules: RuleSet =
            serde_json::from_str(include_str!("../../../../data/holiday-rules.json")).unwrap();
        let mut years: Vec<YearCalendar> = vec![];
        for line in include_str!("../../../../data/holidays-vn-2025-2026.csv")
            .lines()
            .skip(1)
        {
            let f: Vec<&str> = line.splitn(5, ',').collect();
            let d = Date::parse(
                f[0],
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .unwrap();
            if years.last().is_none_or(|y| y.year != d.year()) {
                years.push(YearCalendar {
                    year: d.year(),
                    confirmed: true,
                    days: vec![],
                });
            }
            let y = years.last_mut().unwrap();
            y.days.push(DayEntry {
                date: d,
                kind: DayKind::parse(f[1]).unwrap(),
                name: f[2].into(),
                confirmed: f[3] == "confirmed",
            });
        }
        for y in &years {
            y.validate().unwrap();
        }
        WorkCalendar::new(&years, &rules, OfficeHours::default())
    }

    fn vn(t: OffsetDateTime) -> OffsetDateTime {
        t.to_offset(VN_OFFSET)
    }

    fn due(
        cal: &WorkCalendar,
        received: OffsetDateTime,
        limit: Limit,
        pauses: &[Pause],
    ) -> OffsetDateTime {
        cal.due(received, limit, pauses).unwrap().at
    }

    #[test]
    fn worked_examples_of_the_issue() {
        let cal = calendar();
        let wd = Limit::working_days;
        let cases = [
            (
                datetime!(2026-02-12 09:00 +7),
                wd(5),
                datetime!(2026-02-26 17:00 +7),
            ),
            (
                datetime!(2026-04-24 09:00 +7),
                wd(3),
                datetime!(2026-05-04 17:00 +7),
            ),
            (
                datetime!(2026-04-29 16:00 +7),
                wd(2),
                datetime!(2026-05-05 17:00 +7),
            ),
            (
                datetime!(2026-02-07 10:00 +7),
                wd(2),
                datetime!(2026-02-11 17:00 +7),
            ),
            (
                datetime!(2026-03-02 10:00 +7),
                Limit::WorkingHours { minutes: 8 * 60 },
                datetime!(2026-03-03 10:30 +7),
            ),
            (
                datetime!(2026-03-03 15:30 +7),
                Limit::SameDay { cutoff: 15 * 60 },
                datetime!(2026-03-04 17:00 +7),
            ),
            (
                datetime!(2026-03-03 14:00 +7),
                Limit::SameDay { cutoff: 15 * 60 },
                datetime!(2026-03-03 17:00 +7),
            ),
            (
                datetime!(2026-08-24 09:00 +7),
                wd(5),
                datetime!(2026-09-03 17:00 +7),
            ),
        ];
        for (received, limit, want) in cases {
            assert_eq!(
                due(&cal, received, limit, &[]),
                want,
                "{received} {limit:?}"
            );
        }
        let pause = Pause {
            from: datetime!(2026-03-04 10:00 +7),
            to: datetime!(2026-03-06 10:00 +7),
        };
        assert_eq!(
            due(&cal, datetime!(2026-03-02 09:00 +7), wd(5), &[pause]),
            datetime!(2026-03-11 17:00 +7)
        );
        // The same inputs given in UTC give the same instant.
        assert_eq!(
            due(&cal, datetime!(2026-02-12 02:00 UTC), wd(5), &[]),
            datetime!(2026-02-26 10:00 UTC)
        );
    }

    #[test]
    fn other_limits() {
        let cal = calendar();
        // Half days end with the morning.
        assert_eq!(
            due(
                &cal,
                datetime!(2026-03-02 09:00 +7),
                Limit::WorkingDays { halves: 3 },
                &[]
            ),
            datetime!(2026-03-04 11:30 +7)
        );
        assert_eq!(
            due(
                &cal,
                datetime!(2026-03-02 09:00 +7),
                Limit::WorkingDays { halves: 1 },
                &[]
            ),
            datetime!(2026-03-03 11:30 +7)
        );
        // Calendar days ending on a day off move to the close of the next working day.
        assert_eq!(
            due(
                &cal,
                datetime!(2026-03-02 09:00 +7),
                Limit::CalendarDays { days: 10 },
                &[]
            ),
            datetime!(2026-03-12 17:00 +7)
        );
        assert_eq!(
            due(
                &cal,
                datetime!(2026-03-02 09:00 +7),
                Limit::CalendarDays { days: 12 },
                &[]
            ),
            datetime!(2026-03-16 17:00 +7)
        );
        assert_eq!(
            due(
                &cal,
                datetime!(2026-01-31 09:00 +7),
                Limit::Months { months: 1 },
                &[]
            ),
            datetime!(2026-03-02 17:00 +7),
            "28 Feb is a Saturday"
        );
        // Received during lunch or before opening counts from the next period.
        let d = cal
            .due(
                datetime!(2026-03-02 12:00 +7),
                Limit::WorkingHours { minutes: 60 },
                &[],
            )
            .unwrap();
        assert_eq!(vn(d.counted_from), datetime!(2026-03-02 13:30 +7));
        assert_eq!(vn(d.at), datetime!(2026-03-02 14:30 +7));
        // Hours that run to the close stay at the close.
        assert_eq!(
            due(
                &cal,
                datetime!(2026-03-02 13:30 +7),
                Limit::WorkingHours { minutes: 210 },
                &[]
            ),
            datetime!(2026-03-02 17:00 +7)
        );
        // Crossing New Year.
        assert_eq!(
            due(
                &cal,
                datetime!(2025-12-30 10:00 +7),
                Limit::working_days(3),
                &[]
            ),
            datetime!(2026-01-05 17:00 +7)
        );
    }

    #[test]
    fn bad_input() {
        let cal = calendar();
        let t = datetime!(2026-03-02 09:00 +7);
        let p = |a: OffsetDateTime, b: OffsetDateTime| Pause { from: a, to: b };
        assert_eq!(
            cal.due(t, Limit::working_days(2), &[p(t + Duration::hours(2), t)]),
            Err(DeadlineError::PauseEndsBeforeStart)
        );
        assert_eq!(
            cal.due(
                t,
                Limit::working_days(2),
                &[
                    p(t, t + Duration::hours(5)),
                    p(t + Duration::hours(4), t + Duration::hours(9))
                ]
            ),
            Err(DeadlineError::PausesOverlap)
        );
        assert_eq!(
            cal.due(t, Limit::working_days(0), &[]),
            Err(DeadlineError::ZeroLimit)
        );
        assert_eq!(
            cal.due(datetime!(2100-12-30 09:00 +7), Limit::working_days(5), &[]),
            Err(DeadlineError::OutOfRange)
        );
        assert_eq!(
            cal.due(datetime!(1899-12-30 09:00 +7), Limit::working_days(5), &[]),
            Err(DeadlineError::OutOfRange)
        );
        assert_eq!(
            cal.due(t, Limit::SameDay { cutoff: 2000 }, &[]),
            Err(DeadlineError::BadCutoff)
        );
    }

    #[test]
    fn provisional_years_are_reported() {
        let cal = calendar();
        assert!(
            cal.due(datetime!(2026-03-02 09:00 +7), Limit::working_days(5), &[])
                .unwrap()
                .provisional_years
                .is_empty()
        );
        let d = cal
            .due(datetime!(2026-12-28 09:00 +7), Limit::working_days(5), &[])
            .unwrap();
        assert_eq!(
            d.provisional_years,
            vec![2027],
            "the 2027 calendar is only proposed"
        );
    }

    #[test]
    fn classification() {
        let appt = datetime!(2026-03-09 17:00 +7);
        assert_eq!(
            classify(datetime!(2026-03-06 16:00 +7), appt),
            Timeliness::Early
        );
        assert_eq!(
            classify(datetime!(2026-03-09 08:00 +7), appt),
            Timeliness::OnTime
        );
        assert_eq!(
            classify(datetime!(2026-03-09 17:00 +7), appt),
            Timeliness::OnTime
        );
        assert_eq!(
            classify(datetime!(2026-03-09 17:01 +7), appt),
            Timeliness::Late
        );
        assert_eq!(
            classify(datetime!(2026-03-08 10:00 +7), appt),
            Timeliness::Early,
            "a Sunday before the day"
        );
    }

    fn instant() -> impl Strategy<Value = OffsetDateTime> {
        // Any minute from 2025 to 2027, Vietnam time.
        (0i64..(3 * 365 * 24 * 60))
            .prop_map(|m| datetime!(2025-01-01 00:00 +7) + Duration::minutes(m))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn never_lands_on_a_day_off(t in instant(), n in 1u32..60, cal_days in 1u32..90) {
            let cal = calendar();
            for limit in [Limit::working_days(n), Limit::CalendarDays { days: cal_days }, Limit::WorkingHours { minutes: n * 37 }, Limit::SameDay { cutoff: 900 }] {
                let d = cal.due(t, limit, &[]).unwrap();
                prop_assert_eq!(cal.is_working(vn(d.at).date()), Some(true), "{:?} from {}", limit, t);
                prop_assert!(d.at >= t);
            }
        }

        #[test]
        fn adding_working_days_then_counting_them_round_trips(t in instant(), n in 1u32..80) {
            let cal = calendar();
            let d = cal.due(t, Limit::working_days(n), &[]).unwrap();
            let counted = cal.working_days_between(vn(d.counted_from).date(), vn(d.at).date()).unwrap();
            prop_assert_eq!(counted, n);
            prop_assert_eq!(vn(d.at).time(), time::macros::time!(17:00));
        }

        #[test]
        fn a_pause_never_shortens(t in instant(), n in 1u32..30, start in 0i64..(40 * 24 * 60), len in 0i64..(20 * 24 * 60)) {
            let cal = calendar();
            let pause = Pause { from: t + Duration::minutes(start), to: t + Duration::minutes(start + len) };
            for limit in [Limit::working_days(n), Limit::WorkingHours { minutes: n * 60 }, Limit::CalendarDays { days: n }] {
                let plain = cal.due(t, limit, &[]).unwrap().at;
                let paused = cal.due(t, limit, &[pause]).unwrap().at;
                prop_assert!(paused >= plain, "{:?}: {} < {}", limit, paused, plain);
            }
        }

        #[test]
        fn later_receipt_never_gives_an_earlier_deadline(t in instant(), gap in 0i64..(5 * 24 * 60), n in 1u32..20) {
            let cal = calendar();
            let a = cal.due(t, Limit::working_days(n), &[]).unwrap().at;
            let b = cal.due(t + Duration::minutes(gap), Limit::working_days(n), &[]).unwrap().at;
            prop_assert!(b >= a);
        }
    }

    #[test]
    fn tet_breaks_are_skipped_every_year() {
        // Whatever the year's calendar (confirmed or proposed), 5 working days from the last
        // working day before Tết end after the break, on a working day.
        let cal = calendar();
        for y in 2025..=2040 {
            let tet = crate::calendar::lunar::tet(y).unwrap();
            let before = (1..15)
                .map(|i| tet - Duration::days(i))
                .find(|d| cal.is_working(*d) == Some(true))
                .unwrap();
            let received = before.with_hms(9, 0, 0).unwrap().assume_offset(VN_OFFSET);
            let d = cal.due(received, Limit::working_days(5), &[]).unwrap();
            let due_day = vn(d.at).date();
            assert!(due_day > tet + Duration::days(3), "{y}: {due_day}");
            assert_eq!(cal.working_days_between(before, due_day).unwrap(), 5);
        }
    }

    #[test]
    fn makeup_days_are_working_days() {
        let cal = calendar();
        assert_eq!(
            cal.is_working(date!(2026 - 08 - 22)),
            Some(true),
            "Saturday 22 August 2026 is worked"
        );
        // Received Friday 21 August at 16:00, 1 working day: the Saturday make-up day.
        assert_eq!(
            due(
                &cal,
                datetime!(2026-08-21 16:00 +7),
                Limit::working_days(1),
                &[]
            ),
            datetime!(2026-08-22 17:00 +7)
        );
    }
}
