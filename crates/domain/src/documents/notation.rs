//! Number and notation (số, ký hiệu) of documents — Decree 30/2020, Appendix I.
//!
//! What we issue is generated strictly: `123/QĐ-UBND` for a document with a kind name,
//! `45/UBND-VX` for a công văn (issuing body, then the drafting unit or field), `15/2025/QĐ-UBND`
//! for a legal normative document; numbers below 10 get a leading zero. What arrives from
//! elsewhere is kept exactly as written and parsed only as far as it can be, for search.

use std::fmt;

use super::kind::DocKind;

/// The number and notation of a document we issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notation {
    pub number: u32,
    /// Legal normative documents carry the year of issue.
    pub year: Option<i32>,
    /// The kind's abbreviation; `None` for a công văn or thư công.
    pub kind_abbr: Option<String>,
    /// The issuing body's abbreviation (`UBND`, `SNV`).
    pub issuer: String,
    /// For a công văn: the drafting unit's or the field's abbreviation (`VX`).
    pub unit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotationError {
    #[error("a document number is a whole number from 1")]
    BadNumber,
    #[error(
        "an abbreviation is letters and digits only, without spaces, slashes or hyphens: {0:?}"
    )]
    BadAbbreviation(String),
    #[error("a công văn's notation needs the drafting unit's or the field's abbreviation")]
    UnitRequired,
    #[error("a document with a kind name has the notation <kind>-<issuer>, without a unit")]
    UnitNotAllowed,
    #[error("only resolutions and decisions can be legal normative documents here")]
    NotLegalKind,
    #[error(
        "{0:?} is not a number and notation we would issue (123/QĐ-UBND, 45/UBND-VX, 15/2025/QĐ-UBND)"
    )]
    Unparsable(String),
    #[error("the notation's kind ({found}) is not the document's kind ({expected})")]
    KindMismatch { expected: String, found: String },
}

fn check_abbr(s: &str) -> Result<(), NotationError> {
    if s.is_empty() || s.chars().count() > 20 || !s.chars().all(char::is_alphanumeric) {
        return Err(NotationError::BadAbbreviation(s.to_owned()));
    }
    Ok(())
}

/// Formats a document number: at least two digits (`01` … `09`, `10`, `123`).
pub fn format_number(n: u32) -> String {
    format!("{n:02}")
}

impl Notation {
    /// The notation of a document of `kind` issued by `issuer` (drafted by `unit`), checked.
    pub fn new(
        kind: &DocKind,
        legal_year: Option<i32>,
        number: u32,
        issuer: &str,
        unit: Option<&str>,
    ) -> Result<Notation, NotationError> {
        if number == 0 {
            return Err(NotationError::BadNumber);
        }
        check_abbr(issuer)?;
        if legal_year.is_some() && !kind.may_be_legal {
            return Err(NotationError::NotLegalKind);
        }
        let unit = unit.map(str::trim).filter(|u| !u.is_empty());
        match (kind.abbr, unit) {
            (None, None) => return Err(NotationError::UnitRequired),
            (Some(_), Some(_)) => return Err(NotationError::UnitNotAllowed),
            (None, Some(u)) => check_abbr(u)?,
            (Some(_), None) => {}
        }
        Ok(Notation {
            number,
            year: legal_year,
            kind_abbr: kind.abbr.map(str::to_owned),
            issuer: issuer.to_owned(),
            unit: unit.map(str::to_owned),
        })
    }

    /// Parses a notation written the way we issue them (a paper-signed document registered in
    /// our series, a reserved number being used). Anything else is refused.
    pub fn parse(s: &str) -> Result<Notation, NotationError> {
        let bad = || NotationError::Unparsable(s.to_owned());
        let parts: Vec<&str> = s.trim().split('/').collect();
        let (num, year, rest) = match parts.as_slice() {
            [n, rest] => (*n, None, *rest),
            [n, y, rest] => {
                let y: i32 = y.parse().map_err(|_| bad())?;
                if !(1945..=2200).contains(&y) || y.to_string().len() != 4 {
                    return Err(bad());
                }
                (*n, Some(y), *rest)
            }
            _ => return Err(bad()),
        };
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let number: u32 = num.parse().map_err(|_| bad())?;
        // Two digits at least, and no other leading zeros: "5" and "005" are not ours.
        if format_number(number) != num {
            return Err(bad());
        }
        let segs: Vec<&str> = rest.split('-').collect();
        let [a, b] = segs.as_slice() else {
            return Err(bad());
        };
        let n = match DocKind::by_abbr(a) {
            Some(kind) => Notation::new(kind, year, number, b, None)?,
            None => {
                let cv = DocKind::by_key("official_letter").ok_or_else(bad)?;
                if year.is_some() {
                    return Err(NotationError::NotLegalKind);
                }
                Notation::new(cv, None, number, a, Some(b))?
            }
        };
        Ok(n)
    }

    /// The notation without the number (`QĐ-UBND`, `2025/QĐ-UBND`, `UBND-VX`).
    pub fn suffix(&self) -> String {
        let mut s = String::new();
        if let Some(y) = self.year {
            s.push_str(&format!("{y}/"));
        }
        match (&self.kind_abbr, &self.unit) {
            (Some(k), _) => s.push_str(&format!("{k}-{}", self.issuer)),
            (None, Some(u)) => s.push_str(&format!("{}-{u}", self.issuer)),
            (None, None) => s.push_str(&self.issuer),
        }
        s
    }
}

impl fmt::Display for Notation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", format_number(self.number), self.suffix())
    }
}

/// A copy mark in a notation: bản sao y, trích sao, sao lục.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyMark {
    /// SY
    True,
    /// TrS
    Extract,
    /// SL
    Transcript,
}

/// What can be read out of a notation written elsewhere. Every field is a guess; the text as
/// written is what the register keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LooseNotation {
    pub number: Option<u32>,
    pub year: Option<i32>,
    pub kind: Option<&'static str>,
    pub issuer: Option<String>,
    pub copy: Option<CopyMark>,
}

/// Best-effort reading of any notation: ours, Party documents (`57-NQ/TW`), copies
/// (`12/SY-UBND`), ministries (`09/2025/TT-BTC`), foreign or odd ones (whatever is found).
pub fn parse_loose(s: &str) -> LooseNotation {
    let mut out = LooseNotation::default();
    let tokens: Vec<&str> = s
        .split(|c: char| c == '/' || c == '-' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .collect();
    let mut rest = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let digits = t.bytes().all(|b| b.is_ascii_digit());
        if digits && out.number.is_none() && i == 0 {
            out.number = t.parse().ok();
        } else if digits && t.len() == 4 && out.year.is_none() {
            out.year = t.parse().ok().filter(|y| (1945..=2200).contains(y));
        } else if out.copy.is_none() && matches!(*t, "SY" | "TrS" | "SL") {
            out.copy = Some(match *t {
                "SY" => CopyMark::True,
                "TrS" => CopyMark::Extract,
                _ => CopyMark::Transcript,
            });
        } else if out.kind.is_none()
            && let Some(k) = DocKind::by_abbr(t)
                .map(|k| k.key)
                .or_else(|| national_kind(t))
        {
            out.kind = Some(k);
        } else {
            rest.push(*t);
        }
    }
    out.issuer = rest.first().map(|s| (*s).to_owned());
    out
}

/// Kinds of the central government's legal documents that arrive from ministries and the
/// Government (not among the 29 administrative kinds).
fn national_kind(abbr: &str) -> Option<&'static str> {
    match abbr {
        "NĐ" | "ND" => Some("government_decree"),
        "TT" => Some("circular"),
        "TTLT" => Some("joint_circular"),
        _ => None,
    }
}

/// The words a notation is found by: its folded text, and the number without leading zeros,
/// so "123 qd ubnd" and "5 ubnd" find `123/QĐ-UBND` and `05/UBND-VX`.
pub fn search_words(notation: &str) -> String {
    let mut s = crate::text::fold(notation);
    if let Some(n) = parse_loose(notation).number {
        let plain = n.to_string();
        if !s.split(' ').any(|w| w == plain) {
            s.push(' ');
            s.push_str(&plain);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(key: &str) -> &'static DocKind {
        DocKind::by_key(key).unwrap()
    }

    #[test]
    fn notations_we_issue() {
        let n = Notation::new(kind("decision"), None, 123, "UBND", None).unwrap();
        assert_eq!(n.to_string(), "123/QĐ-UBND");
        let n = Notation::new(kind("official_letter"), None, 45, "UBND", Some("VX")).unwrap();
        assert_eq!(n.to_string(), "45/UBND-VX");
        let n = Notation::new(kind("decision"), Some(2025), 15, "UBND", None).unwrap();
        assert_eq!(n.to_string(), "15/2025/QĐ-UBND");
        let n = Notation::new(kind("notice"), None, 7, "SNV", None).unwrap();
        assert_eq!(n.to_string(), "07/TB-SNV", "leading zero below 10");
        assert_eq!(format_number(10), "10");
    }

    #[test]
    fn bad_notations_are_refused() {
        let cv = kind("official_letter");
        assert_eq!(
            Notation::new(cv, None, 1, "UBND", None),
            Err(NotationError::UnitRequired)
        );
        assert_eq!(
            Notation::new(kind("decision"), None, 1, "UBND", Some("VX")),
            Err(NotationError::UnitNotAllowed)
        );
        assert_eq!(
            Notation::new(kind("plan"), Some(2025), 1, "UBND", None),
            Err(NotationError::NotLegalKind)
        );
        assert_eq!(
            Notation::new(kind("plan"), None, 0, "UBND", None),
            Err(NotationError::BadNumber)
        );
        assert!(matches!(
            Notation::new(kind("plan"), None, 1, "UB ND", None),
            Err(NotationError::BadAbbreviation(_))
        ));
    }

    #[test]
    fn strict_parsing_round_trips() {
        for s in [
            "123/QĐ-UBND",
            "45/UBND-VX",
            "15/2025/QĐ-UBND",
            "07/TB-SNV",
            "10/TTr-UBND",
        ] {
            assert_eq!(Notation::parse(s).unwrap().to_string(), s);
        }
        for s in [
            "7/TB-SNV",
            "007/TB-SNV",
            "57-NQ/TW",
            "12/QĐ",
            "12/QĐ-UBND-VX",
            "abc/QĐ-UBND",
            "15/2025/UBND-VX",
            "15/25/QĐ-UBND",
            "",
        ] {
            assert!(Notation::parse(s).is_err(), "{s} is refused");
        }
    }

    #[test]
    fn loose_parsing_reads_what_it_can() {
        let p = parse_loose("57-NQ/TW");
        assert_eq!(
            (p.number, p.kind, p.issuer.as_deref()),
            (Some(57), Some("resolution"), Some("TW"))
        );
        let p = parse_loose("12/SY-UBND");
        assert_eq!(
            (p.number, p.copy, p.issuer.as_deref()),
            (Some(12), Some(CopyMark::True), Some("UBND"))
        );
        let p = parse_loose("09/2025/TT-BTC");
        assert_eq!(
            (p.number, p.year, p.issuer.as_deref()),
            (Some(9), Some(2025), Some("BTC"))
        );
        let p = parse_loose("Ref. ABC");
        assert_eq!(p.number, None);
        assert_eq!(parse_loose("").issuer, None);
    }

    #[test]
    fn notations_are_found_without_diacritics_or_zeros() {
        assert_eq!(search_words("123/QĐ-UBND"), "123 qd ubnd");
        assert_eq!(search_words("05/UBND-VX"), "05 ubnd vx 5");
    }
}
