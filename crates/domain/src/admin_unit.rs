//! Administrative units (đơn vị hành chính) and the two structures that coexist in history.

use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::date;

/// An administrative structure: the set of units valid over one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Structure {
    /// Province → district → commune, valid until 30 June 2025.
    ThreeTier,
    /// Province → commune, valid from 1 July 2025.
    TwoTier,
}

impl Structure {
    pub const ALL: [Structure; 2] = [Structure::ThreeTier, Structure::TwoTier];

    pub fn as_str(self) -> &'static str {
        match self {
            Structure::ThreeTier => "three_tier",
            Structure::TwoTier => "two_tier",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "three_tier" => Some(Structure::ThreeTier),
            "two_tier" => Some(Structure::TwoTier),
            _ => None,
        }
    }

    /// The first day of the two-tier structure (Law 72/2025/QH15).
    pub const REFORM_DAY: Date = date!(2025 - 07 - 01);

    pub fn valid_from(self) -> Option<Date> {
        match self {
            Structure::ThreeTier => None,
            Structure::TwoTier => Some(Self::REFORM_DAY),
        }
    }

    pub fn valid_to(self) -> Option<Date> {
        match self {
            Structure::ThreeTier => Self::REFORM_DAY.previous_day(),
            Structure::TwoTier => None,
        }
    }

    /// The structure in force on a date.
    pub fn as_of(d: Date) -> Structure {
        if d < Self::REFORM_DAY {
            Structure::ThreeTier
        } else {
            Structure::TwoTier
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    Province,
    District,
    Commune,
}

names!(UnitLevel { Province = "province", District = "district", Commune = "commune" });

impl UnitLevel {
    /// The statistical code length at this level.
    pub fn code_len(self) -> usize {
        match self {
            UnitLevel::Province => 2,
            UnitLevel::District => 3,
            UnitLevel::Commune => 5,
        }
    }
}

/// How an old unit went into a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuccessionKind {
    /// The whole old unit went into the new one.
    Merged,
    /// The old unit was divided between several new ones.
    Split,
}

names!(SuccessionKind { Merged = "merged", Split = "split" });

/// The name of the People's Committee of a unit: "Phường Hạc Thành" → "Ủy ban nhân dân phường
/// Hạc Thành", "Tỉnh Thanh Hóa" → "Ủy ban nhân dân tỉnh Thanh Hóa".
pub fn people_committee_name(unit_name: &str) -> String {
    const PREFIXES: [&str; 9] = [
        "Thành phố ",
        "Tỉnh ",
        "Quận ",
        "Huyện ",
        "Thị xã ",
        "Thị trấn ",
        "Phường ",
        "Xã ",
        "Đặc khu ",
    ];
    let name = unit_name.trim();
    for p in PREFIXES {
        if let Some(rest) = name.strip_prefix(p) {
            return format!("Ủy ban nhân dân {}{}", p.to_lowercase(), rest);
        }
    }
    format!("Ủy ban nhân dân {name}")
}

/// Checks a statistical code for a level: digits only, of the level's length.
pub fn valid_stat_code(level: UnitLevel, code: &str) -> bool {
    code.len() == level.code_len() && code.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structures_meet_at_the_reform() {
        assert_eq!(
            Structure::as_of(date!(2025 - 06 - 30)),
            Structure::ThreeTier
        );
        assert_eq!(Structure::as_of(date!(2025 - 07 - 01)), Structure::TwoTier);
        assert_eq!(Structure::ThreeTier.valid_to(), Some(date!(2025 - 06 - 30)));
        for s in Structure::ALL {
            assert_eq!(Structure::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn committee_names() {
        assert_eq!(
            people_committee_name("Tỉnh Thanh Hóa"),
            "Ủy ban nhân dân tỉnh Thanh Hóa"
        );
        assert_eq!(
            people_committee_name("Phường Hạc Thành"),
            "Ủy ban nhân dân phường Hạc Thành"
        );
        assert_eq!(
            people_committee_name("Thị trấn Rừng Thông"),
            "Ủy ban nhân dân thị trấn Rừng Thông"
        );
        assert_eq!(
            people_committee_name("Đặc khu Phú Quốc"),
            "Ủy ban nhân dân đặc khu Phú Quốc"
        );
        assert_eq!(people_committee_name("Côn Đảo"), "Ủy ban nhân dân Côn Đảo");
    }

    #[test]
    fn stat_codes() {
        assert!(valid_stat_code(UnitLevel::Province, "38"));
        assert!(valid_stat_code(UnitLevel::Commune, "14797"));
        assert!(!valid_stat_code(UnitLevel::Commune, "1479"));
        assert!(!valid_stat_code(UnitLevel::District, "38a"));
    }
}
