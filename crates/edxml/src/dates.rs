//! Dates as packets carry them: the norm is `yyyy/MM/dd` and `yyyy/MM/dd HH:mm:ss`; older
//! packets and some senders write `dd/MM/yyyy` (`vn-standards.md` §1.10). Both are read; only
//! the norm is written. Times are Vietnam's local time, without a zone, as on the wire.

use time::{Date, Month, PrimitiveDateTime, Time};

/// `2018/09/20`.
pub fn format_date(d: Date) -> String {
    format!("{:04}/{:02}/{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `2018/09/26 10:12:10`.
pub fn format_timestamp(t: PrimitiveDateTime) -> String {
    format!(
        "{} {:02}:{:02}:{:02}",
        format_date(t.date()),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Reads a date in either order (`2018/09/20`, `20/09/2018`; dashes and a time after it are
/// tolerated).
pub fn parse_date(s: &str) -> Option<Date> {
    parse_timestamp(s).map(|t| t.date())
}

/// Reads a timestamp in either order; a date alone is midnight.
pub fn parse_timestamp(s: &str) -> Option<PrimitiveDateTime> {
    let s = s.trim();
    let (date, time) = match s.find([' ', 'T']) {
        Some(i) => (&s[..i], Some(s[i + 1..].trim())),
        None => (s, None),
    };
    let parts: Vec<&str> = date.split(['/', '-', '.']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let num = |p: &str| -> Option<u32> {
        (!p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let (y, m, d) = if a.len() == 4 {
        (num(a)?, num(b)?, num(c)?)
    } else if c.len() == 4 {
        (num(c)?, num(b)?, num(a)?)
    } else {
        return None;
    };
    let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
    let date =
        Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?).ok()?;
    let time = match time {
        None | Some("") => Time::MIDNIGHT,
        Some(t) => parse_time(t)?,
    };
    Some(PrimitiveDateTime::new(date, time))
}

fn parse_time(t: &str) -> Option<Time> {
    // Fractions of a second and a zone suffix are dropped: the wire's times are local.
    let t = t.split(['.', '+', 'Z']).next()?;
    let parts: Vec<&str> = t.split(':').collect();
    let n = |p: &str| -> Option<u8> {
        (!p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    match parts.as_slice() {
        [h, m] => Time::from_hms(n(h)?, n(m)?, 0).ok(),
        [h, m, s] => Time::from_hms(n(h)?, n(m)?, n(s)?).ok(),
        _ => None,
    }
}

/// Optional dates in JSON as `2026-12-04` (either order and slashes are read too).
pub mod serde_date {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use time::Date;

    pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&format!(
                "{:04}-{:02}-{:02}",
                d.year(),
                u8::from(d.month()),
                d.day()
            )),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => super::parse_date(&s)
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("{s:?} is not a date"))),
        }
    }
}

/// Optional timestamps in JSON as `2026-12-04T15:30:05` (the wire's forms are read too).
pub mod serde_timestamp {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use time::PrimitiveDateTime;

    pub fn serialize<S: Serializer>(
        t: &Option<PrimitiveDateTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<PrimitiveDateTime>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => super::parse_timestamp(&s)
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("{s:?} is not a time"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn both_orders_and_the_norm_back() {
        assert_eq!(parse_date("2018/09/20"), Some(date!(2018 - 09 - 20)));
        assert_eq!(parse_date("20/09/2018"), Some(date!(2018 - 09 - 20)));
        assert_eq!(parse_date("2018-09-20"), Some(date!(2018 - 09 - 20)));
        assert_eq!(parse_date(" 1/2/2019 "), Some(date!(2019 - 02 - 01)));
        assert_eq!(
            parse_timestamp("26/09/2018 10:12:10"),
            Some(datetime!(2018-09-26 10:12:10))
        );
        assert_eq!(
            parse_timestamp("2018/09/26T10:12:10.123+07:00"),
            Some(datetime!(2018-09-26 10:12:10))
        );
        assert_eq!(format_date(date!(2018 - 09 - 20)), "2018/09/20");
        assert_eq!(
            format_timestamp(datetime!(2018-09-26 08:02:03)),
            "2018/09/26 08:02:03"
        );
    }

    #[test]
    fn what_is_not_a_date() {
        for s in [
            "",
            "null",
            "2018/13/01",
            "31/02/2019",
            "18/09/20",
            "2018/09",
            "a/b/cdef",
            "2018/09/20 25:00",
        ] {
            assert_eq!(parse_timestamp(s), None, "{s}");
        }
    }
}
