//! The Vietnamese working-day calendar and deadline engine: the lunar calendar (for Tết and the
//! Hùng Kings), each year's civil-service calendar as data, office hours, and deadline
//! arithmetic. Every appointment date and handling deadline in egov comes from here.

pub mod deadline;
pub mod hours;
pub mod lunar;
pub mod rules;
pub mod year;

use std::collections::BTreeMap;

use time::Date;

pub use deadline::{DeadlineError, Due, Limit, Pause, Timeliness, classify};
pub use hours::{OfficeHours, Period};
pub use rules::{HolidayRule, RuleDate, RuleSet};
pub use year::{CalendarError, DayEntry, DayKind, YearCalendar};

/// Which days are working days, from 1900 to 2100, built from the years' calendars (confirmed
/// or proposed) and, for years without one, the rule set's proposal.
#[derive(Debug, Clone)]
pub struct WorkCalendar {
    first_jd: i64,
    last_jd: i64,
    /// Bit `jd - first_jd` is set on working days.
    working: Vec<u64>,
    /// Years whose calendar is not confirmed (proposals), by year.
    provisional: BTreeMap<i32, ()>,
    pub hours: OfficeHours,
}

impl WorkCalendar {
    /// Builds the calendar. `years` are the stored calendars; every other year of 1900–2100 is
    /// proposed from `rules` and counts as provisional.
    pub fn new(years: &[YearCalendar], rules: &RuleSet, hours: OfficeHours) -> WorkCalendar {
        let first = Date::from_calendar_date(*lunar::YEARS.start(), time::Month::January, 1)
            .expect("valid date");
        let last = Date::from_calendar_date(*lunar::YEARS.end(), time::Month::December, 31)
            .expect("valid date");
        let first_jd = i64::from(first.to_julian_day());
        let last_jd = i64::from(last.to_julian_day());
        let n = (last_jd - first_jd + 1) as usize;
        let mut working = vec![0u64; n.div_ceil(64)];
        for jd in first_jd..=last_jd {
            // Julian day 0 was a Monday.
            if jd.rem_euclid(7) < 5 {
                let i = (jd - first_jd) as usize;
                working[i / 64] |= 1 << (i % 64);
            }
        }
        let mut cal = WorkCalendar {
            first_jd,
            last_jd,
            working,
            provisional: BTreeMap::new(),
            hours,
        };
        let given: BTreeMap<i32, &YearCalendar> = years.iter().map(|y| (y.year, y)).collect();
        for y in lunar::YEARS {
            match given.get(&y) {
                Some(yc) => {
                    cal.apply(yc);
                    if !yc.confirmed {
                        cal.provisional.insert(y, ());
                    }
                }
                None => {
                    if let Ok(p) = rules.propose(y) {
                        cal.apply(&p);
                    }
                    cal.provisional.insert(y, ());
                }
            }
        }
        cal
    }

    fn apply(&mut self, y: &YearCalendar) {
        for e in &y.days {
            let jd = i64::from(e.date.to_julian_day());
            if jd < self.first_jd || jd > self.last_jd {
                continue;
            }
            let i = (jd - self.first_jd) as usize;
            if e.kind.is_day_off() {
                self.working[i / 64] &= !(1 << (i % 64));
            } else {
                self.working[i / 64] |= 1 << (i % 64);
            }
        }
    }

    /// Whether Julian day `jd` is a working day; None outside 1900–2100.
    #[inline]
    pub fn is_working_jd(&self, jd: i64) -> Option<bool> {
        if jd < self.first_jd || jd > self.last_jd {
            return None;
        }
        let i = (jd - self.first_jd) as usize;
        Some(self.working[i / 64] & (1 << (i % 64)) != 0)
    }

    pub fn is_working(&self, d: Date) -> Option<bool> {
        self.is_working_jd(i64::from(d.to_julian_day()))
    }

    /// True when the year's calendar is confirmed by an administrator.
    pub fn is_confirmed(&self, year: i32) -> bool {
        lunar::YEARS.contains(&year) && !self.provisional.contains_key(&year)
    }

    /// The confirmed-or-not status of the years between two dates.
    pub fn provisional_years(&self, from: Date, to: Date) -> Vec<i32> {
        (from.year()..=to.year())
            .filter(|y| !self.is_confirmed(*y))
            .collect()
    }
}
