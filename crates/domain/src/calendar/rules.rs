//! The holiday rule set, as data, and the calendar it proposes for a year.
//!
//! The Labour Code gives: New Year (1/1), five days of Tết, the Hùng Kings' commemoration (10/3
//! lunar), 30/4, 1/5, 2/9 and a day adjacent to it; a holiday that falls on a weekly rest day
//! gives a compensatory day off on the next working day. The government fixes the exact Tết days,
//! the adjacent day of 2/9 and any swapped days by annual notice, so egov only *proposes* a year
//! from these rules; an administrator reviews, edits and confirms it. A new holiday is a new rule
//! (data), not a release.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, Weekday};

use super::lunar::{LunarDate, to_solar};
use super::year::{CalendarError, DayEntry, DayKind, YearCalendar, is_weekend};

/// Where a holiday falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleDate {
    Solar { month: u8, day: u8 },
    Lunar { month: u8, day: u8 },
}

/// One holiday of the rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayRule {
    pub name: String,
    pub date: RuleDate,
    /// The first day off relative to the date (-1: the day before).
    #[serde(default)]
    pub offset: i8,
    /// How many consecutive days off, from the first.
    #[serde(default = "one")]
    pub days: u8,
    /// For a holiday with one adjacent day chosen by weekday: the offset of that day for each
    /// weekday of the date, Monday first (for example +1 or -1).
    #[serde(default)]
    pub adjacent: Option<[i8; 7]>,
    /// The rule applies to dates in this range.
    #[serde(default)]
    pub from: Option<Date>,
    #[serde(default)]
    pub to: Option<Date>,
    /// False when the rule itself is reported but not yet confirmed: its days are proposals.
    #[serde(default = "yes")]
    pub confirmed: bool,
}

fn one() -> u8 {
    1
}

fn yes() -> bool {
    true
}

/// The whole rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSet {
    pub rules: Vec<HolidayRule>,
    /// Give a compensatory day off for a holiday on a Saturday or Sunday.
    #[serde(default = "yes")]
    pub compensate_weekends: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("rule {0:?}: the date does not exist")]
    BadDate(String),
    #[error("rule {0:?}: between 1 and 15 days off")]
    BadDays(String),
    #[error("the rule set has no rule")]
    Empty,
}

impl RuleSet {
    pub fn validate(&self) -> Result<(), RuleError> {
        if self.rules.is_empty() {
            return Err(RuleError::Empty);
        }
        for r in &self.rules {
            let (m, d) = match r.date {
                RuleDate::Solar { month, day } | RuleDate::Lunar { month, day } => (month, day),
            };
            let max = if matches!(r.date, RuleDate::Lunar { .. }) {
                30
            } else {
                31
            };
            if !(1..=12).contains(&m) || !(1..=max).contains(&d) || r.name.trim().is_empty() {
                return Err(RuleError::BadDate(r.name.clone()));
            }
            if !(1..=15).contains(&r.days) {
                return Err(RuleError::BadDays(r.name.clone()));
            }
        }
        Ok(())
    }

    /// The calendar the rules propose for `year` (nothing confirmed).
    pub fn propose(&self, year: i32) -> Result<YearCalendar, CalendarError> {
        if !super::lunar::YEARS.contains(&year) {
            return Err(CalendarError::YearOutOfRange(year));
        }
        let mut days: Vec<DayEntry> = Vec::new();
        let add = |d: Date, kind: DayKind, name: &str, days: &mut Vec<DayEntry>| {
            if d.year() == year && !days.iter().any(|e| e.date == d) {
                days.push(DayEntry {
                    date: d,
                    kind,
                    name: name.to_owned(),
                    confirmed: false,
                });
            }
        };
        for r in &self.rules {
            let base = match r.date {
                RuleDate::Solar { month, day } => Month::try_from(month)
                    .ok()
                    .and_then(|m| Date::from_calendar_date(year, m, day).ok()),
                RuleDate::Lunar { month, day } => to_solar(LunarDate {
                    day,
                    month,
                    year,
                    leap: false,
                }),
            };
            let Some(base) = base else { continue };
            if r.from.is_some_and(|f| base < f) || r.to.is_some_and(|t| base > t) {
                continue;
            }
            for i in 0..r.days {
                let d = base + Duration::days(i64::from(r.offset) + i64::from(i));
                add(d, DayKind::Holiday, &r.name, &mut days);
            }
            if let Some(adj) = r.adjacent {
                let off = adj[base.weekday().number_days_from_monday() as usize];
                if off != 0 {
                    add(
                        base + Duration::days(i64::from(off)),
                        DayKind::Holiday,
                        &format!("{} (ngày liền kề)", r.name),
                        &mut days,
                    );
                }
            }
        }
        days.sort_by_key(|e| e.date);
        if self.compensate_weekends {
            let on_weekends: Vec<DayEntry> = days
                .iter()
                .filter(|e| e.kind == DayKind::Holiday && is_weekend(e.date))
                .cloned()
                .collect();
            for h in on_weekends {
                let mut d = h.date;
                loop {
                    d = d.next_day().unwrap_or(d);
                    let taken = days.iter().any(|e| e.date == d);
                    if !is_weekend(d) && !taken {
                        break;
                    }
                }
                add(
                    d,
                    DayKind::CompensatoryDayOff,
                    &format!("Nghỉ bù {}", h.name),
                    &mut days,
                );
            }
            days.sort_by_key(|e| e.date);
        }
        Ok(YearCalendar {
            year,
            confirmed: false,
            days,
        })
    }
}

/// The weekday table for the day adjacent to National Day that recent notices followed: Monday →
/// the day after, Tuesday and Wednesday → the day before, Thursday → after, Friday and Saturday
/// → before, Sunday → after.
pub const NATIONAL_DAY_ADJACENT: [i8; 7] = [1, -1, -1, 1, -1, -1, 1];

#[doc(hidden)]
pub fn weekday_index(w: Weekday) -> usize {
    w.number_days_from_monday() as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn labour_code() -> RuleSet {
        let r = |name: &str, date: RuleDate, offset: i8, days: u8| HolidayRule {
            name: name.into(),
            date,
            offset,
            days,
            adjacent: None,
            from: None,
            to: None,
            confirmed: true,
        };
        let mut national = r("Quốc khánh", RuleDate::Solar { month: 9, day: 2 }, 0, 1);
        national.adjacent = Some(NATIONAL_DAY_ADJACENT);
        RuleSet {
            rules: vec![
                r("Tết Dương lịch", RuleDate::Solar { month: 1, day: 1 }, 0, 1),
                r(
                    "Tết Nguyên đán",
                    RuleDate::Lunar { month: 1, day: 1 },
                    -1,
                    5,
                ),
                r(
                    "Giỗ Tổ Hùng Vương",
                    RuleDate::Lunar { month: 3, day: 10 },
                    0,
                    1,
                ),
                r(
                    "Ngày Giải phóng miền Nam",
                    RuleDate::Solar { month: 4, day: 30 },
                    0,
                    1,
                ),
                r(
                    "Quốc tế Lao động",
                    RuleDate::Solar { month: 5, day: 1 },
                    0,
                    1,
                ),
                national,
            ],
            compensate_weekends: true,
        }
    }

    fn off(y: &YearCalendar) -> Vec<(Date, DayKind)> {
        y.days.iter().map(|e| (e.date, e.kind)).collect()
    }

    #[test]
    fn proposes_2026_like_the_notice_for_the_fixed_days() {
        let y = labour_code().propose(2026).unwrap();
        y.validate().unwrap();
        let got = off(&y);
        // Tết: the day before 1/1 (16 Feb) to 4/1 (20 Feb); Hùng Kings on Sunday 26 April gives
        // Monday 27 April; 2 September is a Wednesday, so 1 September is its adjacent day.
        for (d, k) in [
            (date!(2026 - 01 - 01), DayKind::Holiday),
            (date!(2026 - 02 - 16), DayKind::Holiday),
            (date!(2026 - 02 - 20), DayKind::Holiday),
            (date!(2026 - 04 - 26), DayKind::Holiday),
            (date!(2026 - 04 - 27), DayKind::CompensatoryDayOff),
            (date!(2026 - 04 - 30), DayKind::Holiday),
            (date!(2026 - 05 - 01), DayKind::Holiday),
            (date!(2026 - 09 - 01), DayKind::Holiday),
            (date!(2026 - 09 - 02), DayKind::Holiday),
        ] {
            assert!(got.contains(&(d, k)), "{d} {k:?} in {got:?}");
        }
        assert!(y.days.iter().all(|e| !e.confirmed));
        assert!(!y.is_working(date!(2026 - 02 - 18)));
    }

    #[test]
    fn weekend_holidays_give_compensatory_days() {
        // 2027: Tết (6 Feb) is a Saturday: 5–9 Feb off, the Saturday and Sunday give 10 and 11 Feb.
        let y = labour_code().propose(2027).unwrap();
        let comp: Vec<Date> = y
            .days
            .iter()
            .filter(|e| e.kind == DayKind::CompensatoryDayOff)
            .map(|e| e.date)
            .collect();
        assert!(
            comp.contains(&date!(2027 - 02 - 10)) && comp.contains(&date!(2027 - 02 - 11)),
            "{comp:?}"
        );
        // 2023-style: 2 September on a Saturday → 1 September before it, compensatory Monday 4th.
        let y = labour_code().propose(2029).unwrap();
        // 2 September 2029 is a Sunday: adjacent Monday 3rd, compensatory Tuesday 4th.
        assert!(off(&y).contains(&(date!(2029 - 09 - 03), DayKind::Holiday)));
        assert!(off(&y).contains(&(date!(2029 - 09 - 04), DayKind::CompensatoryDayOff)));
    }

    #[test]
    fn a_new_holiday_is_data() {
        let mut rules = labour_code();
        rules.rules.push(HolidayRule {
            name: "Ngày Văn hóa Việt Nam".into(),
            date: RuleDate::Solar { month: 11, day: 24 },
            offset: 0,
            days: 1,
            adjacent: None,
            from: Some(date!(2026 - 07 - 01)),
            to: None,
            confirmed: false,
        });
        rules.validate().unwrap();
        let proposes = |r: &RuleSet, d: Date| {
            r.propose(d.year())
                .unwrap()
                .days
                .iter()
                .any(|e| e.date == d)
        };
        assert!(!proposes(&labour_code(), date!(2027 - 11 - 24)));
        assert!(proposes(&rules, date!(2027 - 11 - 24)));
        assert!(
            !proposes(&rules, date!(2025 - 11 - 24)),
            "not before it applies"
        );
        let json = serde_json::to_string(&rules).unwrap();
        assert_eq!(serde_json::from_str::<RuleSet>(&json).unwrap(), rules);
    }

    #[test]
    fn rule_validation() {
        let mut rules = labour_code();
        rules.rules[0].date = RuleDate::Solar { month: 13, day: 1 };
        assert!(matches!(rules.validate(), Err(RuleError::BadDate(_))));
        let mut rules = labour_code();
        rules.rules[0].days = 0;
        assert!(matches!(rules.validate(), Err(RuleError::BadDays(_))));
        assert!(labour_code().propose(2101).is_err());
    }
}
