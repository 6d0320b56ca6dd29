//! The civil-service calendar of one year, as data: days off (holidays, compensatory days,
//! swapped days) and make-up working days, each confirmed or proposed.

use serde::{Deserialize, Serialize};
use time::{Date, Weekday};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A public holiday (Labour Code Art. 112), including weekend days inside a holiday break.
    Holiday,
    /// Nghỉ bù: a holiday fell on a weekly rest day.
    CompensatoryDayOff,
    /// Nghỉ hoán đổi: a working day given off in exchange for a make-up working day.
    SwappedDayOff,
    /// Làm bù: a weekend day worked in exchange for a swapped day off.
    MakeupWorkday,
}

impl DayKind {
    pub const ALL: [DayKind; 4] = [
        DayKind::Holiday,
        DayKind::CompensatoryDayOff,
        DayKind::SwappedDayOff,
        DayKind::MakeupWorkday,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::CompensatoryDayOff => "compensatory_day_off",
            DayKind::SwappedDayOff => "swapped_day_off",
            DayKind::MakeupWorkday => "makeup_workday",
        }
    }

    pub fn parse(s: &str) -> Option<DayKind> {
        DayKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn is_day_off(self) -> bool {
        self != DayKind::MakeupWorkday
    }
}

/// One dated line of a year's calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayEntry {
    pub date: Date,
    pub kind: DayKind,
    pub name: String,
    /// False for a proposal an administrator has not confirmed.
    pub confirmed: bool,
}

/// A year's calendar. `confirmed` is set when an administrator confirms the whole year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearCalendar {
    pub year: i32,
    pub confirmed: bool,
    pub days: Vec<DayEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("years from 1900 to 2100 are supported; {0} is not")]
    YearOutOfRange(i32),
    #[error("{date} is not in {year}")]
    DateOutsideYear { date: Date, year: i32 },
    #[error("{0} is a weekday: a make-up working day must be a Saturday or Sunday")]
    MakeupNotWeekend(Date),
    #[error("{0} appears twice in the calendar")]
    DuplicateDate(Date),
    #[error("the name of the day is empty")]
    EmptyName,
}

pub fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

impl YearCalendar {
    /// Checks the rules a year's calendar must keep.
    pub fn validate(&self) -> Result<(), CalendarError> {
        if !super::lunar::YEARS.contains(&self.year) {
            return Err(CalendarError::YearOutOfRange(self.year));
        }
        let mut seen = std::collections::BTreeSet::new();
        for e in &self.days {
            if e.date.year() != self.year {
                return Err(CalendarError::DateOutsideYear {
                    date: e.date,
                    year: self.year,
                });
            }
            if e.kind == DayKind::MakeupWorkday && !is_weekend(e.date) {
                return Err(CalendarError::MakeupNotWeekend(e.date));
            }
            if e.name.trim().is_empty() {
                return Err(CalendarError::EmptyName);
            }
            if !seen.insert(e.date) {
                return Err(CalendarError::DuplicateDate(e.date));
            }
        }
        Ok(())
    }

    /// Whether the day is a working day under this calendar (Monday–Friday unless given off;
    /// a weekend day only when it is a make-up working day).
    pub fn is_working(&self, d: Date) -> bool {
        match self.days.iter().find(|e| e.date == d) {
            Some(e) => !e.kind.is_day_off(),
            None => !is_weekend(d),
        }
    }

    pub fn sort(&mut self) {
        self.days.sort_by_key(|e| e.date);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn entry(d: Date, kind: DayKind) -> DayEntry {
        DayEntry {
            date: d,
            kind,
            name: "x".into(),
            confirmed: true,
        }
    }

    #[test]
    fn validation() {
        let mut y = YearCalendar {
            year: 2026,
            confirmed: false,
            days: vec![entry(date!(2026 - 08 - 22), DayKind::MakeupWorkday)],
        };
        assert_eq!(y.validate(), Ok(()));
        y.days
            .push(entry(date!(2026 - 08 - 21), DayKind::MakeupWorkday));
        assert_eq!(
            y.validate(),
            Err(CalendarError::MakeupNotWeekend(date!(2026 - 08 - 21)))
        );
        y.days.pop();
        y.days.push(entry(date!(2026 - 08 - 22), DayKind::Holiday));
        assert_eq!(
            y.validate(),
            Err(CalendarError::DuplicateDate(date!(2026 - 08 - 22)))
        );
        y.days.pop();
        y.days.push(entry(date!(2027 - 01 - 01), DayKind::Holiday));
        assert!(matches!(
            y.validate(),
            Err(CalendarError::DateOutsideYear { .. })
        ));
        assert!(
            YearCalendar {
                year: 1800,
                confirmed: false,
                days: vec![]
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn working_days() {
        let y = YearCalendar {
            year: 2026,
            confirmed: true,
            days: vec![
                entry(date!(2026 - 08 - 22), DayKind::MakeupWorkday),
                entry(date!(2026 - 08 - 31), DayKind::SwappedDayOff),
            ],
        };
        assert!(y.is_working(date!(2026 - 08 - 22)), "a Saturday worked");
        assert!(!y.is_working(date!(2026 - 08 - 23)));
        assert!(!y.is_working(date!(2026 - 08 - 31)), "a Monday given off");
        assert!(y.is_working(date!(2026 - 08 - 28)));
    }
}
