//! The Vietnamese lunisolar calendar (âm lịch), computed for UTC+7.
//!
//! The method is the one Hồ Ngọc Đức described for the Vietnamese calendar: new moons from
//! Meeus' formulae (Astronomical Formulae for Calculators), the sun's longitude at local
//! midnight, month 11 anchored on the new moon before the winter solstice, and a leap month
//! inserted where a lunar month contains no major solar term. Every quantity is evaluated in
//! Vietnam time (UTC+7); the Chinese calendar uses UTC+8 and so differs in some years (Tết 1985
//! and 2007).
//!
//! Before 1968 the North used UTC+8, so official tables differ from this formula on some days
//! of those years. egov follows the UTC+7 formula for every year (dates before 1968 matter only
//! for birth dates, not for deadlines); see `docs/calendar.md`.
//!
//! The classic form of the algorithm guesses the lunation number from the mean month and can be
//! one off when the true new moon strays from the mean, which yields a "lunar day 0" on a few
//! dates (around 2054-05-07 and 2062-04-09); [`to_lunar`] searches for the lunation that really
//! contains the day instead.

use std::f64::consts::PI;

use serde::Serialize;
use time::Date;

/// Vietnam's offset from UTC, in hours.
pub const VN_TZ: f64 = 7.0;

/// Julian day number (noon-based) of 1 January 1900: the epoch of lunation numbers below.
const EPOCH: f64 = 2415021.076998695;
const SYNODIC_MONTH: f64 = 29.530588853;

/// A date of the lunar calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LunarDate {
    pub day: u8,
    pub month: u8,
    pub year: i32,
    /// A leap month (tháng nhuận) repeats the number of the month before it.
    pub leap: bool,
}

/// The Julian day (a real number, dynamical time corrected to UT) of new moon number `k`,
/// counted from the new moon of January 1900.
pub fn new_moon(k: f64) -> f64 {
    let t = k / 1236.85;
    let (t2, t3) = (t * t, t * t * t);
    let dr = PI / 180.0;
    let mut jd1 = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3;
    jd1 += 0.00033 * ((166.56 + 132.87 * t - 0.009173 * t2) * dr).sin();
    // Mean anomalies of the sun and the moon, and the moon's argument of latitude.
    let m = 359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3;
    let mpr = 306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3;
    let f = 21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3;
    let s = |x: f64| (x * dr).sin();
    let c1 = (0.1734 - 0.000393 * t) * s(m) + 0.0021 * s(2.0 * m) - 0.4068 * s(mpr)
        + 0.0161 * s(2.0 * mpr)
        - 0.0004 * s(3.0 * mpr)
        + 0.0104 * s(2.0 * f)
        - 0.0051 * s(m + mpr)
        - 0.0074 * s(m - mpr)
        + 0.0004 * s(2.0 * f + m)
        - 0.0004 * s(2.0 * f - m)
        - 0.0006 * s(2.0 * f + mpr)
        + 0.0010 * s(2.0 * f - mpr)
        + 0.0005 * s(m + 2.0 * mpr);
    // ΔT: ephemeris time minus universal time, in days.
    let delta_t = if t < -11.0 {
        0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3
    } else {
        -0.000278 + 0.000265 * t + 0.000262 * t2
    };
    jd1 + c1 - delta_t
}

/// The sun's apparent longitude, in radians within [0, 2π), at Julian day `jd` (UT).
pub fn sun_longitude(jd: f64) -> f64 {
    let t = (jd - 2451545.0) / 36525.0;
    let t2 = t * t;
    let dr = PI / 180.0;
    let m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2;
    let l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2;
    let dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * (dr * m).sin()
        + (0.019993 - 0.000101 * t) * (dr * 2.0 * m).sin()
        + 0.000290 * (dr * 3.0 * m).sin();
    let l = (l0 + dl) * dr;
    l - 2.0 * PI * (l / (2.0 * PI)).floor()
}

/// The local day (Julian day number) on which new moon `k` falls.
fn new_moon_day(k: i64, tz: f64) -> i64 {
    (new_moon(k as f64) + 0.5 + tz / 24.0).floor() as i64
}

/// Which 30° sector (0–11) of the ecliptic the sun is in at the start of local day `jdn`.
fn sun_sector(jdn: i64, tz: f64) -> i64 {
    (sun_longitude(jdn as f64 - 0.5 - tz / 24.0) / PI * 6.0).floor() as i64
}

/// The first day of lunar month 11 of solar year `y` (the month holding the winter solstice).
fn month_11(y: i32, tz: f64) -> i64 {
    let dec31 = jdn(y, 12, 31);
    let off = dec31 as f64 - 2415021.0;
    let k = (off / SYNODIC_MONTH).floor() as i64;
    let nm = new_moon_day(k, tz);
    if sun_sector(nm, tz) >= 9 {
        new_moon_day(k - 1, tz)
    } else {
        nm
    }
}

/// In a 13-month lunar year starting at `a11`, the offset of the leap month from month 11.
fn leap_month_offset(a11: i64, tz: f64) -> i64 {
    let k = ((a11 as f64 - EPOCH) / SYNODIC_MONTH + 0.5).floor() as i64;
    let mut i = 1;
    let mut arc = sun_sector(new_moon_day(k + i, tz), tz);
    loop {
        let last = arc;
        i += 1;
        arc = sun_sector(new_moon_day(k + i, tz), tz);
        if arc == last || i >= 14 {
            break;
        }
    }
    i - 1
}

fn jdn(y: i32, m: u8, d: u8) -> i64 {
    time::Date::from_calendar_date(
        y,
        time::Month::try_from(m).unwrap_or(time::Month::January),
        d,
    )
    .map(|dt| i64::from(dt.to_julian_day()))
    .unwrap_or(0)
}

fn from_jdn(j: i64) -> Option<Date> {
    Date::from_julian_day(i32::try_from(j).ok()?).ok()
}

/// The lunar date of a solar date, in time zone `tz` (hours east of UTC).
pub fn to_lunar_tz(date: Date, tz: f64) -> LunarDate {
    let day = i64::from(date.to_julian_day());
    // Find the lunation that contains the day: the estimate from the mean month can be one off.
    let mut k = ((day as f64 - EPOCH) / SYNODIC_MONTH).floor() as i64;
    let mut start = new_moon_day(k, tz);
    while start > day {
        k -= 1;
        start = new_moon_day(k, tz);
    }
    while new_moon_day(k + 1, tz) <= day {
        k += 1;
        start = new_moon_day(k, tz);
    }
    let y = date.year();
    let mut a11 = month_11(y, tz);
    let mut b11 = a11;
    let mut lunar_year;
    if a11 >= start {
        lunar_year = y;
        a11 = month_11(y - 1, tz);
    } else {
        lunar_year = y + 1;
        b11 = month_11(y + 1, tz);
    }
    let lunar_day = day - start + 1;
    let diff = ((start - a11) as f64 / 29.0).floor() as i64;
    let mut leap = false;
    let mut month = diff + 11;
    if b11 - a11 > 365 {
        let leap_diff = leap_month_offset(a11, tz);
        if diff >= leap_diff {
            month = diff + 10;
            leap = diff == leap_diff;
        }
    }
    if month > 12 {
        month -= 12;
    }
    if month >= 11 && diff < 4 {
        lunar_year -= 1;
    }
    LunarDate {
        day: lunar_day as u8,
        month: month as u8,
        year: lunar_year,
        leap,
    }
}

/// The lunar date of a solar date, in Vietnam (UTC+7).
pub fn to_lunar(date: Date) -> LunarDate {
    to_lunar_tz(date, VN_TZ)
}

/// The solar date of a lunar date, or None when it does not exist (a leap month that year
/// does not have, a 30th day of a 29-day month).
pub fn to_solar_tz(l: LunarDate, tz: f64) -> Option<Date> {
    if !(1..=12).contains(&l.month) || !(1..=30).contains(&l.day) {
        return None;
    }
    let (a11, b11) = if l.month < 11 {
        (month_11(l.year - 1, tz), month_11(l.year, tz))
    } else {
        (month_11(l.year, tz), month_11(l.year + 1, tz))
    };
    let k = (0.5 + (a11 as f64 - EPOCH) / SYNODIC_MONTH).floor() as i64;
    let mut off = i64::from(l.month) - 11;
    if off < 0 {
        off += 12;
    }
    if b11 - a11 > 365 {
        let leap_off = leap_month_offset(a11, tz);
        let mut leap_month = leap_off - 2;
        if leap_month < 0 {
            leap_month += 12;
        }
        if l.leap && i64::from(l.month) != leap_month {
            return None;
        }
        if l.leap || off >= leap_off {
            off += 1;
        }
    } else if l.leap {
        return None;
    }
    let start = new_moon_day(k + off, tz);
    let next = new_moon_day(k + off + 1, tz);
    let day = start + i64::from(l.day) - 1;
    if day >= next {
        return None;
    }
    from_jdn(day)
}

/// The solar date of a lunar date in Vietnam (UTC+7).
pub fn to_solar(l: LunarDate) -> Option<Date> {
    to_solar_tz(l, VN_TZ)
}

/// Tết Nguyên Đán (1/1 lunar) of solar year `y`.
pub fn tet(y: i32) -> Option<Date> {
    to_solar(LunarDate {
        day: 1,
        month: 1,
        year: y,
        leap: false,
    })
}

/// Giỗ Tổ Hùng Vương (10/3 lunar) of solar year `y`.
pub fn hung_kings(y: i32) -> Option<Date> {
    to_solar(LunarDate {
        day: 10,
        month: 3,
        year: y,
        leap: false,
    })
}

/// The range of years the conversions are meant for.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2100;

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn tet_and_hung_kings_as_published() {
        // §7.2 of the reference: cross-checked against published dates for 2024–2026.
        let cases = [
            (2024, date!(2024 - 02 - 10), date!(2024 - 04 - 18)),
            (2025, date!(2025 - 01 - 29), date!(2025 - 04 - 07)),
            (2026, date!(2026 - 02 - 17), date!(2026 - 04 - 26)),
            (2027, date!(2027 - 02 - 06), date!(2027 - 04 - 16)),
            (2028, date!(2028 - 01 - 26), date!(2028 - 04 - 04)),
            (2035, date!(2035 - 02 - 08), date!(2035 - 04 - 17)),
        ];
        for (y, t, h) in cases {
            assert_eq!(tet(y), Some(t), "Tết {y}");
            assert_eq!(hung_kings(y), Some(h), "Hùng Kings {y}");
        }
    }

    #[test]
    fn vietnam_differs_from_china_where_it_should() {
        // Tết 1985: 21 January in Vietnam (20 February in China); Tết 2007: 17 February
        // (18 February in China).
        assert_eq!(tet(1985), Some(date!(1985 - 01 - 21)));
        assert_eq!(tet(2007), Some(date!(2007 - 02 - 17)));
        assert_eq!(
            to_solar_tz(
                LunarDate {
                    day: 1,
                    month: 1,
                    year: 2007,
                    leap: false
                },
                8.0
            ),
            Some(date!(2007 - 02 - 18))
        );
    }

    #[test]
    fn known_conversions() {
        assert_eq!(
            to_lunar(date!(2026 - 02 - 17)),
            LunarDate {
                day: 1,
                month: 1,
                year: 2026,
                leap: false
            }
        );
        assert_eq!(
            to_lunar(date!(2026 - 02 - 16)),
            LunarDate {
                day: 29,
                month: 12,
                year: 2025,
                leap: false
            }
        );
        // 2025 has a leap 6th month: 25 July 2025 is 1/6 nhuận.
        assert_eq!(
            to_lunar(date!(2025 - 07 - 25)),
            LunarDate {
                day: 1,
                month: 6,
                year: 2025,
                leap: true
            }
        );
        assert_eq!(
            to_solar(LunarDate {
                day: 1,
                month: 6,
                year: 2025,
                leap: true
            }),
            Some(date!(2025 - 07 - 25))
        );
        assert_eq!(
            to_solar(LunarDate {
                day: 1,
                month: 6,
                year: 2026,
                leap: true
            }),
            None
        );
    }

    #[test]
    fn no_lunar_day_zero() {
        // The classic algorithm's mean-month guess is off by one near these dates.
        for d in [date!(2054 - 05 - 07), date!(2062 - 04 - 09)] {
            for offset in -3..=3 {
                let day = d + time::Duration::days(offset);
                let l = to_lunar(day);
                assert!((1..=30).contains(&l.day), "{day}: {l:?}");
                assert_eq!(to_solar(l), Some(day), "{day} round trip");
            }
        }
    }

    #[test]
    fn every_day_round_trips_and_months_are_well_formed() {
        let mut d = date!(1900 - 02 - 01);
        let end = date!(2100 - 12 - 31);
        let mut prev = to_lunar(d);
        while d < end {
            d = d.next_day().unwrap();
            let l = to_lunar(d);
            assert!((1..=30).contains(&l.day), "{d}: {l:?}");
            if l.day != 1 {
                assert_eq!(
                    (l.month, l.year, l.leap),
                    (prev.month, prev.year, prev.leap),
                    "{d}"
                );
                assert_eq!(l.day, prev.day + 1, "{d}");
            } else {
                assert!(
                    (29..=30).contains(&prev.day),
                    "{d}: month before had {} days",
                    prev.day
                );
            }
            prev = l;
        }
    }
}
