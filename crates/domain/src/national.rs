//! The National Public Service Portal's (DVCQG) vocabulary as data: the status table a
//! province's states map to, the two date styles its services use, and the JSON envelope of its
//! calls and answers. What may differ between deployments or change without notice (service
//! names, the status mapping, date styles) is configuration, validated here when it is read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::onestop::dossier::State;

/// The national dossier status (`TrangThaiHoSo` / `TrangThai`), 1–10.
pub const STATUSES: [(u8, &str); 10] = [
    (1, "mới đăng ký"),
    (2, "được tiếp nhận"),
    (3, "không được tiếp nhận"),
    (4, "đang xử lý"),
    (5, "yêu cầu bổ sung giấy tờ"),
    (6, "yêu cầu thực hiện nghĩa vụ tài chính"),
    (7, "công dân yêu cầu rút hồ sơ"),
    (8, "dừng xử lý"),
    (9, "đã xử lý xong"),
    (10, "đã trả kết quả"),
];

/// Which national status each of egov's dossier states is reported as. Every state must be
/// mapped, to a status that exists; the default is the table common to the national portal's
/// integrators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StatusMap(BTreeMap<String, u8>);

/// A status mapping that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("the state {0:?} has no national status")]
    Unmapped(&'static str),
    #[error("{0:?} is not a dossier state")]
    UnknownState(String),
    #[error("{1} is not a national status (1–10), given for {0:?}")]
    UnknownStatus(String, u8),
}

impl Default for StatusMap {
    fn default() -> Self {
        StatusMap(
            State::ALL
                .iter()
                .map(|s| (s.as_str().to_owned(), s.national_code()))
                .collect(),
        )
    }
}

impl StatusMap {
    /// Checks that every state is mapped, every key is a state and every value a status.
    pub fn validate(&self) -> Result<(), MappingError> {
        for (k, v) in &self.0 {
            if State::parse(k).is_none() {
                return Err(MappingError::UnknownState(k.clone()));
            }
            if !(1..=10).contains(v) {
                return Err(MappingError::UnknownStatus(k.clone(), *v));
            }
        }
        match State::ALL.iter().find(|s| !self.0.contains_key(s.as_str())) {
            Some(s) => Err(MappingError::Unmapped(s.as_str())),
            None => Ok(()),
        }
    }

    /// The national status of `state` (a validated map has every state).
    pub fn status(&self, state: State) -> u8 {
        self.0
            .get(state.as_str())
            .copied()
            .unwrap_or_else(|| state.national_code())
    }

    /// The rows of the mapping, in the order of egov's states: (state, status, its meaning).
    pub fn rows(&self) -> Vec<(State, u8, &'static str)> {
        State::ALL
            .iter()
            .map(|s| {
                let code = self.status(*s);
                let meaning = STATUSES
                    .iter()
                    .find(|(c, _)| *c == code)
                    .map_or("", |(_, m)| m);
                (*s, code, meaning)
            })
            .collect()
    }
}

/// Whether `code` has the shape of a procedure's code in the national catalogue: a digit, a
/// dot and six digits (`1.001234`). A procedure a province defined for itself has none.
pub fn is_procedure_code(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 8 && b[0].is_ascii_digit() && b[1] == b'.' && b[2..].iter().all(u8::is_ascii_digit)
}

/// How a service writes dates: the older services `yyyyMMddHHmmss` in Vietnam's time, the
/// newer ones ISO 8601 with the offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DateStyle {
    #[default]
    Compact,
    Iso8601,
}

impl DateStyle {
    pub fn format(self, at: OffsetDateTime) -> String {
        let t = at.to_offset(crate::VN_OFFSET);
        let (y, mo, d) = (t.year(), u8::from(t.month()), t.day());
        let (h, mi, s) = (t.hour(), t.minute(), t.second());
        match self {
            DateStyle::Compact => format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}"),
            DateStyle::Iso8601 => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}+07:00"),
        }
    }

    /// Reads a date written in this style (what the national side answers with).
    pub fn parse(self, s: &str) -> Option<OffsetDateTime> {
        let s = s.trim();
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        let n = |r: std::ops::Range<usize>| digits.get(r).and_then(|d| d.parse::<u32>().ok());
        let ok = match self {
            DateStyle::Compact => digits.len() == 14 && digits.len() == s.len(),
            DateStyle::Iso8601 => digits.len() >= 14 && s.contains('T'),
        };
        if !ok {
            return None;
        }
        let month = time::Month::try_from(n(4..6)? as u8).ok()?;
        let date = time::Date::from_calendar_date(n(0..4)? as i32, month, n(6..8)? as u8).ok()?;
        let clock =
            time::Time::from_hms(n(8..10)? as u8, n(10..12)? as u8, n(12..14)? as u8).ok()?;
        let offset = match self {
            DateStyle::Compact => crate::VN_OFFSET,
            DateStyle::Iso8601 => iso_offset(s)?,
        };
        Some(date.with_time(clock).assume_offset(offset))
    }
}

/// The offset at the end of an ISO 8601 time: `Z`, `+07:00`, `+0700`.
fn iso_offset(s: &str) -> Option<time::UtcOffset> {
    if s.ends_with('Z') {
        return Some(time::UtcOffset::UTC);
    }
    let at = s.rfind(['+', '-']).filter(|i| *i > 10)?;
    let sign: i8 = if s[at..].starts_with('-') { -1 } else { 1 };
    let hm: String = s[at + 1..].chars().filter(char::is_ascii_digit).collect();
    if hm.len() != 4 {
        return None;
    }
    let (h, m) = (hm[..2].parse::<i8>().ok()?, hm[2..].parse::<i8>().ok()?);
    time::UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

/// A call to one of the portal's services: `{"service": …, "isUpdating": "True"|"False",
/// "data": [ … ]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub service: String,
    #[serde(rename = "isUpdating", with = "true_false")]
    pub is_updating: bool,
    pub data: Vec<serde_json::Value>,
}

mod true_false {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if *v { "True" } else { "False" })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        match v {
            serde_json::Value::Bool(b) => Ok(b),
            serde_json::Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
            serde_json::Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
            other => Err(serde::de::Error::custom(format!(
                "isUpdating is True or False, not {other}"
            ))),
        }
    }
}

/// What the portal answered, read from its envelope (`error_code` `"00"` or 0 is success).
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Accepted(serde_json::Value),
    /// Refused: the code and message the portal gave (a field's name when it named one).
    Rejected {
        code: String,
        message: String,
        field: Option<String>,
    },
}

/// An answer whose envelope is not the portal's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the answer is not the national portal's envelope: {0}")]
pub struct UnexpectedAnswer(pub String);

impl Answer {
    pub fn read(body: &[u8]) -> Result<Answer, UnexpectedAnswer> {
        let v: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| UnexpectedAnswer(e.to_string()))?;
        let code = match v.get("error_code") {
            Some(serde_json::Value::String(s)) => s.trim().to_owned(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => return Err(UnexpectedAnswer("no error_code".into())),
        };
        if code == "0" || code == "00" {
            return Ok(Answer::Accepted(v));
        }
        let text = |k: &str| v.get(k).and_then(|m| m.as_str()).map(str::to_owned);
        Ok(Answer::Rejected {
            code,
            message: text("message")
                .or_else(|| text("error_message"))
                .unwrap_or_default(),
            field: text("field"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn procedure_codes_of_the_national_catalogue() {
        for ok in ["1.001234", "2.000815", "9.000004"] {
            assert!(is_procedure_code(ok), "{ok}");
        }
        for bad in [
            "",
            "TH.0001",
            "1.00123",
            "1.0012345",
            "1,001234",
            "a.001234",
            "1.00123x",
        ] {
            assert!(!is_procedure_code(bad), "{bad}");
        }
    }

    #[test]
    fn the_default_map_is_the_national_table_and_every_state_is_mapped() {
        let m = StatusMap::default();
        m.validate().unwrap();
        let rows = m.rows();
        assert_eq!(rows.len(), State::ALL.len());
        assert_eq!(m.status(State::Submitted), 1);
        assert_eq!(m.status(State::Received), 2);
        assert_eq!(m.status(State::Rejected), 3);
        assert_eq!(m.status(State::Processing), 4);
        assert_eq!(m.status(State::AwaitingSupplement), 5);
        assert_eq!(m.status(State::AwaitingPayment), 6);
        assert_eq!(m.status(State::Withdrawn), 7);
        assert_eq!(m.status(State::Stopped), 8);
        assert_eq!(m.status(State::ResultReady), 9);
        assert_eq!(m.status(State::Returned), 10);
        assert!(rows.iter().all(|(_, _, meaning)| !meaning.is_empty()));
    }

    #[test]
    fn a_map_with_a_hole_or_a_stranger_is_refused() {
        let json = serde_json::to_string(&StatusMap::default()).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v.as_object_mut().unwrap().remove("stopped");
        let m: StatusMap = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(m.validate(), Err(MappingError::Unmapped("stopped")));
        v["stopped"] = 11.into();
        let m: StatusMap = serde_json::from_value(v.clone()).unwrap();
        assert!(matches!(
            m.validate(),
            Err(MappingError::UnknownStatus(_, 11))
        ));
        v["stopped"] = 8.into();
        v["archived"] = 10.into();
        let m: StatusMap = serde_json::from_value(v).unwrap();
        assert!(matches!(m.validate(), Err(MappingError::UnknownState(_))));
    }

    #[test]
    fn dates_are_written_in_vietnams_time_in_either_style() {
        let at = datetime!(2026-12-06 23:05:09 UTC);
        assert_eq!(DateStyle::Compact.format(at), "20261207060509");
        assert_eq!(DateStyle::Iso8601.format(at), "2026-12-07T06:05:09+07:00");
        for style in [DateStyle::Compact, DateStyle::Iso8601] {
            assert_eq!(style.parse(&style.format(at)), Some(at));
        }
        assert_eq!(DateStyle::Iso8601.parse("2026-12-06T23:05:09Z"), Some(at));
        assert_eq!(DateStyle::Compact.parse("2026120706050"), None);
        assert_eq!(DateStyle::Compact.parse("20261307060509"), None);
        assert_eq!(DateStyle::Iso8601.parse("20261207060509"), None);
    }

    #[test]
    fn envelopes_and_answers_read_as_the_portal_writes_them() {
        let e: Envelope = serde_json::from_str(
            r#"{"service":"DongBoHoSoMC","isUpdating":"False","data":[{"MaHoSo":"X"}]}"#,
        )
        .unwrap();
        assert!(!e.is_updating);
        let back = serde_json::to_value(&e).unwrap();
        assert_eq!(back["isUpdating"], "False");
        assert!(
            serde_json::from_str::<Envelope>(r#"{"service":"x","isUpdating":"maybe","data":[]}"#)
                .is_err()
        );
        assert!(matches!(
            Answer::read(br#"{"error_code":"00","message":"OK"}"#),
            Ok(Answer::Accepted(_))
        ));
        assert!(matches!(
            Answer::read(br#"{"error_code":0}"#),
            Ok(Answer::Accepted(_))
        ));
        assert_eq!(
            Answer::read(br#"{"error_code":"-1","message":"Sai MaTTHC","field":"MaTTHC"}"#),
            Ok(Answer::Rejected {
                code: "-1".into(),
                message: "Sai MaTTHC".into(),
                field: Some("MaTTHC".into())
            })
        );
        assert!(Answer::read(b"<html>bad gateway</html>").is_err());
        assert!(Answer::read(br#"{"status":"ok"}"#).is_err());
    }
}
