//! Office hours (giờ làm việc): the working periods of each weekday, and the reception-only
//! periods some one-stop offices keep (Saturday mornings) — a reception day is not a working day
//! for deadlines.

use serde::{Deserialize, Serialize};

/// A period of a day, in minutes after midnight (local time), `start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start: u16,
    pub end: u16,
}

impl Period {
    pub const fn new(start: u16, end: u16) -> Period {
        Period { start, end }
    }

    pub fn minutes(&self) -> u32 {
        u32::from(self.end - self.start)
    }
}

/// Working periods per weekday (index 0 = Monday), and reception-only periods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeHours {
    pub working: [Vec<Period>; 7],
    /// Periods when the office receives dossiers without it being a working day (for example
    /// Saturday 7:30–11:30). Receipts then count from the next working period.
    #[serde(default)]
    pub reception: [Vec<Period>; 7],
    /// The periods of a make-up working day (a Saturday or Sunday worked); default: Monday's.
    #[serde(default)]
    pub makeup: Option<Vec<Period>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error("a period must start before it ends, within the day (00:00–24:00)")]
    BadPeriod,
    #[error("the periods of a day must be in order and must not overlap")]
    Overlap,
    #[error("at least one weekday needs working hours")]
    NoWorkingTime,
}

impl Default for OfficeHours {
    /// Monday–Friday 7:30–11:30 and 13:30–17:00.
    fn default() -> Self {
        OfficeHours {
            working: Self::weekdays(vec![Period::new(450, 690), Period::new(810, 1020)]),
            reception: Default::default(),
            makeup: None,
        }
    }
}

fn check(periods: &[Period]) -> Result<(), HoursError> {
    let mut last = 0u16;
    for (i, p) in periods.iter().enumerate() {
        if p.start >= p.end || p.end > 24 * 60 {
            return Err(HoursError::BadPeriod);
        }
        if i > 0 && p.start < last {
            return Err(HoursError::Overlap);
        }
        last = p.end;
    }
    Ok(())
}

impl OfficeHours {
    /// The same periods Monday to Friday, nothing at the weekend.
    pub fn weekdays(day: Vec<Period>) -> [Vec<Period>; 7] {
        [
            day.clone(),
            day.clone(),
            day.clone(),
            day.clone(),
            day,
            vec![],
            vec![],
        ]
    }

    pub fn validate(&self) -> Result<(), HoursError> {
        for d in self.working.iter().chain(self.reception.iter()) {
            check(d)?;
        }
        if let Some(m) = &self.makeup {
            check(m)?;
        }
        if self.working.iter().all(|d| d.is_empty()) {
            return Err(HoursError::NoWorkingTime);
        }
        Ok(())
    }

    /// The working periods of a day that the calendar says is a working day.
    pub fn periods(&self, weekday_index: usize, weekend_makeup: bool) -> &[Period] {
        if weekend_makeup {
            self.makeup.as_deref().unwrap_or(&self.working[0])
        } else {
            &self.working[weekday_index]
        }
    }

    /// Parses `07:30-11:30,13:30-17:00`.
    pub fn parse_periods(s: &str) -> Result<Vec<Period>, HoursError> {
        let hm = |t: &str| -> Result<u16, HoursError> {
            let (h, m) = t.trim().split_once(':').ok_or(HoursError::BadPeriod)?;
            let h: u16 = h.parse().map_err(|_| HoursError::BadPeriod)?;
            let m: u16 = m.parse().map_err(|_| HoursError::BadPeriod)?;
            if h > 24 || m > 59 || (h == 24 && m > 0) {
                return Err(HoursError::BadPeriod);
            }
            Ok(h * 60 + m)
        };
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (a, b) = part.split_once('-').ok_or(HoursError::BadPeriod)?;
            out.push(Period::new(hm(a)?, hm(b)?));
        }
        check(&out)?;
        Ok(out)
    }

    pub fn format_periods(p: &[Period]) -> String {
        p.iter()
            .map(|p| {
                format!(
                    "{:02}:{:02}-{:02}:{:02}",
                    p.start / 60,
                    p.start % 60,
                    p.end / 60,
                    p.end % 60
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_parsing() {
        let h = OfficeHours::default();
        h.validate().unwrap();
        assert_eq!(
            h.working[0].iter().map(Period::minutes).sum::<u32>(),
            450,
            "7.5 hours a day"
        );
        assert_eq!(
            OfficeHours::format_periods(&h.working[0]),
            "07:30-11:30,13:30-17:00"
        );
        assert_eq!(
            OfficeHours::parse_periods("07:30-11:30, 13:30-17:00").unwrap(),
            h.working[0]
        );
        assert_eq!(
            OfficeHours::parse_periods("11:30-07:30"),
            Err(HoursError::BadPeriod)
        );
        assert_eq!(
            OfficeHours::parse_periods("07:30-12:00,11:00-17:00"),
            Err(HoursError::Overlap)
        );
        assert_eq!(
            OfficeHours::parse_periods("7h30-11"),
            Err(HoursError::BadPeriod)
        );
        let none = OfficeHours {
            working: Default::default(),
            reception: Default::default(),
            makeup: None,
        };
        assert_eq!(none.validate(), Err(HoursError::NoWorkingTime));
    }
}
