//! Agency identifiers (mã định danh điện tử, QCVN 102:2016): `V1V2V3.Z1Z2.Y1Y2.X1X2X3`.
//!
//! Read right to left: `X1X2X3` is the level-1 unit (a letter and two digits, `H56` is Thanh Hóa),
//! `Y1Y2` the level-2 unit under it, `Z1Z2` level 3, `V1V2V3` level 4; zeros where a level is not
//! used. `000.00.00.H56` is the Thanh Hóa People's Committee, `000.00.18.G12` a level-2 unit of the
//! Ministry of Finance.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AgencyCode {
    letter: u8,
    l1: u8,
    l2: u8,
    l3: u8,
    l4: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgencyCodeError {
    #[error("an agency identifier has 13 characters, like 000.00.00.H56; got {0}")]
    Length(usize),
    #[error("character {0} of the agency identifier is not what QCVN 102:2016 allows there")]
    Format(usize),
    #[error("the level-1 number must be between 01 and 99")]
    LevelOneZero,
    #[error("a lower level is set while a higher one is 00")]
    Hierarchy,
}

impl AgencyCode {
    /// A level-1 code such as `000.00.00.H56`.
    pub fn level_one(letter: char, number: u8) -> Result<Self, AgencyCodeError> {
        if !letter.is_ascii_uppercase() {
            return Err(AgencyCodeError::Format(10));
        }
        if number == 0 || number > 99 {
            return Err(AgencyCodeError::LevelOneZero);
        }
        Ok(AgencyCode {
            letter: letter as u8,
            l1: number,
            l2: 0,
            l3: 0,
            l4: 0,
        })
    }

    /// The level of the unit this code names: 1 (province, ministry) to 4.
    pub fn level(&self) -> u8 {
        if self.l4 != 0 {
            4
        } else if self.l3 != 0 {
            3
        } else if self.l2 != 0 {
            2
        } else {
            1
        }
    }

    /// The code of the unit one level up, if any.
    pub fn parent(&self) -> Option<AgencyCode> {
        let mut p = *self;
        match self.level() {
            4 => p.l4 = 0,
            3 => p.l3 = 0,
            2 => p.l2 = 0,
            _ => return None,
        }
        Some(p)
    }

    /// The level-1 code this one sits under (itself for a level-1 code).
    pub fn root(&self) -> AgencyCode {
        AgencyCode {
            letter: self.letter,
            l1: self.l1,
            l2: 0,
            l3: 0,
            l4: 0,
        }
    }

    /// The child code with `slot` at the next level down (1..=99, or 1..=999 for level 4).
    pub fn child(&self, slot: u16) -> Option<AgencyCode> {
        let mut c = *self;
        match self.level() {
            1 if (1..=99).contains(&slot) => c.l2 = slot as u8,
            2 if (1..=99).contains(&slot) => c.l3 = slot as u8,
            3 if (1..=999).contains(&slot) => c.l4 = slot,
            _ => return None,
        }
        Some(c)
    }

    /// The two-digit slot of this code at `level` (2 or 3).
    pub fn slot(&self, level: u8) -> u16 {
        match level {
            1 => u16::from(self.l1),
            2 => u16::from(self.l2),
            3 => u16::from(self.l3),
            _ => self.l4,
        }
    }
}

fn digits(b: &[u8], start: usize, n: usize) -> Result<u16, AgencyCodeError> {
    let mut v: u16 = 0;
    for (i, &c) in b.iter().enumerate().skip(start).take(n) {
        if !c.is_ascii_digit() {
            return Err(AgencyCodeError::Format(i + 1));
        }
        v = v * 10 + u16::from(c - b'0');
    }
    Ok(v)
}

impl FromStr for AgencyCode {
    type Err = AgencyCodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Some(i) = s.chars().position(|c| !c.is_ascii()) {
            return Err(AgencyCodeError::Format(i + 1));
        }
        let b = s.as_bytes();
        if b.len() != 13 {
            return Err(AgencyCodeError::Length(s.chars().count()));
        }
        for &i in &[3usize, 6, 9] {
            if b[i] != b'.' {
                return Err(AgencyCodeError::Format(i + 1));
            }
        }
        let l4 = digits(b, 0, 3)?;
        let l3 = digits(b, 4, 2)? as u8;
        let l2 = digits(b, 7, 2)? as u8;
        let letter = b[10];
        if !letter.is_ascii_uppercase() {
            return Err(AgencyCodeError::Format(11));
        }
        let l1 = digits(b, 11, 2)? as u8;
        if l1 == 0 {
            return Err(AgencyCodeError::LevelOneZero);
        }
        // A level may be set only under a set level: no level-3 unit without a level-2 one.
        let gap_under_two = l2 == 0 && (l3 != 0 || l4 != 0);
        let gap_under_three = l3 == 0 && l4 != 0;
        if gap_under_two || gap_under_three {
            return Err(AgencyCodeError::Hierarchy);
        }
        Ok(AgencyCode {
            letter,
            l1,
            l2,
            l3,
            l4,
        })
    }
}

impl fmt::Display for AgencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:03}.{:02}.{:02}.{}{:02}",
            self.l4, self.l3, self.l2, self.letter as char, self.l1
        )
    }
}

impl fmt::Debug for AgencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgencyCode({self})")
    }
}

impl TryFrom<String> for AgencyCode {
    type Error = AgencyCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<AgencyCode> for String {
    fn from(c: AgencyCode) -> String {
        c.to_string()
    }
}

/// Where an identifier came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeSource {
    /// Published by the competent authority and imported from its list.
    Official,
    /// Taken from the pattern of the published lists but not yet checked against the official
    /// annex (the provincial letters of §2.2 of the reference).
    Derived,
    /// Allocated by egov's scheme because the province has not published one.
    Local,
}

impl CodeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeSource::Official => "official",
            CodeSource::Derived => "derived",
            CodeSource::Local => "local",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "official" => Some(CodeSource::Official),
            "derived" => Some(CodeSource::Derived),
            "local" => Some(CodeSource::Local),
            _ => None,
        }
    }
}

/// An inclusive range of two-digit slots at one level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotRange {
    pub first: u8,
    pub last: u8,
}

impl SlotRange {
    pub fn len(&self) -> usize {
        usize::from(self.last.saturating_sub(self.first)) + 1
    }

    pub fn is_empty(&self) -> bool {
        self.last < self.first
    }

    fn overlaps(&self, o: &SlotRange) -> bool {
        self.first <= o.last && o.first <= self.last
    }
}

/// How egov allocates identifiers a province has not published.
///
/// A level holds only 99 two-digit slots, while a two-tier province has about 20 departments
/// and up to 168 communes directly under it. The default scheme splits the level-2 slots:
///
/// | level-2 slots | what | capacity |
/// |---|---|---|
/// | 01–59 | departments and other province-level bodies (`000.00.NN.H56`) | 59 |
/// | 60–89 | district People's Committees of the three-tier structure (`000.00.NN.H56`), their communes at level 3 (`000.CC.NN.H56`) | 30 districts × 99 communes |
/// | 90–99 | commune groups of the two-tier structure: commune *i* (0-based, by statistical code) is `000.CC.GG.H56` with `GG = 90 + i / 99`, `CC = i % 99 + 1` | 10 × 99 = 990 communes |
///
/// The largest province has 30 districts and 168 two-tier communes; no district has more than 49
/// communes. Identifiers are never reused, so an old district's code keeps naming it in history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentifierScheme {
    pub departments: SlotRange,
    pub districts: SlotRange,
    pub commune_groups: SlotRange,
}

impl Default for IdentifierScheme {
    fn default() -> Self {
        IdentifierScheme {
            departments: SlotRange { first: 1, last: 59 },
            districts: SlotRange {
                first: 60,
                last: 89,
            },
            commune_groups: SlotRange {
                first: 90,
                last: 99,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemeError {
    #[error("slot ranges must lie within 01–99 and not be empty")]
    OutOfRange,
    #[error("the slot ranges of the identifier scheme overlap")]
    Overlap,
    #[error("no free identifier slot left for {what} (capacity {capacity})")]
    Exhausted { what: &'static str, capacity: usize },
    #[error("{0} is not a code at the level this allocation needs")]
    WrongParent(AgencyCode),
}

impl IdentifierScheme {
    pub fn validate(&self) -> Result<(), SchemeError> {
        let ranges = [self.departments, self.districts, self.commune_groups];
        for r in &ranges {
            if r.first == 0 || r.last > 99 || r.is_empty() {
                return Err(SchemeError::OutOfRange);
            }
        }
        for (i, a) in ranges.iter().enumerate() {
            for b in &ranges[i + 1..] {
                if a.overlaps(b) {
                    return Err(SchemeError::Overlap);
                }
            }
        }
        Ok(())
    }

    fn level_two(
        province: AgencyCode,
        range: SlotRange,
        n: usize,
        what: &'static str,
    ) -> Result<AgencyCode, SchemeError> {
        if province.level() != 1 {
            return Err(SchemeError::WrongParent(province));
        }
        if n >= range.len() {
            return Err(SchemeError::Exhausted {
                what,
                capacity: range.len(),
            });
        }
        province
            .child(u16::from(range.first) + n as u16)
            .ok_or(SchemeError::OutOfRange)
    }

    /// The `n`-th (0-based) department or province-level body.
    pub fn department(&self, province: AgencyCode, n: usize) -> Result<AgencyCode, SchemeError> {
        Self::level_two(province, self.departments, n, "departments")
    }

    /// The `n`-th district People's Committee of the three-tier structure.
    pub fn district(&self, province: AgencyCode, n: usize) -> Result<AgencyCode, SchemeError> {
        Self::level_two(province, self.districts, n, "districts")
    }

    /// The `n`-th commune of a district in the three-tier structure.
    pub fn district_commune(
        &self,
        district: AgencyCode,
        n: usize,
    ) -> Result<AgencyCode, SchemeError> {
        if district.level() != 2 {
            return Err(SchemeError::WrongParent(district));
        }
        if n >= 99 {
            return Err(SchemeError::Exhausted {
                what: "communes of a district",
                capacity: 99,
            });
        }
        district.child(n as u16 + 1).ok_or(SchemeError::OutOfRange)
    }

    /// The `n`-th commune of the two-tier structure, directly under the province.
    pub fn commune(&self, province: AgencyCode, n: usize) -> Result<AgencyCode, SchemeError> {
        let capacity = self.commune_groups.len() * 99;
        if n >= capacity {
            return Err(SchemeError::Exhausted {
                what: "communes",
                capacity,
            });
        }
        let group = Self::level_two(province, self.commune_groups, n / 99, "commune groups")?;
        group
            .child((n % 99) as u16 + 1)
            .ok_or(SchemeError::OutOfRange)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let c: AgencyCode = "000.00.00.H56".parse().unwrap();
        assert_eq!(c.to_string(), "000.00.00.H56");
        assert_eq!(c.level(), 1);
        assert_eq!(c.parent(), None);
        let d: AgencyCode = "000.00.18.G12".parse().unwrap();
        assert_eq!(d.level(), 2);
        assert_eq!(d.parent().unwrap().to_string(), "000.00.00.G12");
        let e: AgencyCode = "000.01.01.H08".parse().unwrap();
        assert_eq!(e.level(), 3);
        assert_eq!(e.root().to_string(), "000.00.00.H08");
        assert_eq!("012.01.01.H08".parse::<AgencyCode>().unwrap().level(), 4);
    }

    #[test]
    fn rejects_malformed() {
        use AgencyCodeError::*;
        assert_eq!("000.00.00.H5".parse::<AgencyCode>(), Err(Length(12)));
        assert_eq!("000.00.00.h56".parse::<AgencyCode>(), Err(Format(11)));
        assert_eq!("000-00.00.H56".parse::<AgencyCode>(), Err(Format(4)));
        assert_eq!("000.0a.00.H56".parse::<AgencyCode>(), Err(Format(6)));
        assert_eq!("000.00.00.H00".parse::<AgencyCode>(), Err(LevelOneZero));
        assert_eq!("000.05.00.H56".parse::<AgencyCode>(), Err(Hierarchy));
        assert_eq!("001.00.05.H56".parse::<AgencyCode>(), Err(Hierarchy));
        assert_eq!("000.00.00.H5é".parse::<AgencyCode>(), Err(Format(13)));
    }

    #[test]
    fn serde_round_trip() {
        let c: AgencyCode = "000.00.03.H56".parse().unwrap();
        let j = serde_json::to_string(&c).unwrap();
        assert_eq!(j, "\"000.00.03.H56\"");
        let back: AgencyCode = serde_json::from_str(&j).unwrap();
        assert_eq!(back, c);
        assert!(serde_json::from_str::<AgencyCode>("\"bad\"").is_err());
    }

    #[test]
    fn default_scheme_fits_the_largest_province() {
        let s = IdentifierScheme::default();
        s.validate().unwrap();
        let p = AgencyCode::level_one('H', 56).unwrap();
        assert_eq!(s.department(p, 0).unwrap().to_string(), "000.00.01.H56");
        assert_eq!(s.district(p, 29).unwrap().to_string(), "000.00.89.H56");
        assert!(s.district(p, 30).is_err());
        let d = s.district(p, 0).unwrap();
        assert_eq!(
            s.district_commune(d, 48).unwrap().to_string(),
            "000.49.60.H56"
        );
        assert_eq!(s.commune(p, 0).unwrap().to_string(), "000.01.90.H56");
        assert_eq!(s.commune(p, 98).unwrap().to_string(), "000.99.90.H56");
        assert_eq!(s.commune(p, 99).unwrap().to_string(), "000.01.91.H56");
        assert_eq!(s.commune(p, 167).unwrap().to_string(), "000.69.91.H56");
        assert!(matches!(
            s.commune(p, 990),
            Err(SchemeError::Exhausted { .. })
        ));
    }

    #[test]
    fn all_allocations_are_distinct_and_parse() {
        let s = IdentifierScheme::default();
        let p = AgencyCode::level_one('H', 56).unwrap();
        let mut seen = std::collections::HashSet::new();
        for n in 0..59 {
            assert!(seen.insert(s.department(p, n).unwrap()));
        }
        for n in 0..30 {
            let d = s.district(p, n).unwrap();
            assert!(seen.insert(d));
            for m in 0..99 {
                assert!(seen.insert(s.district_commune(d, m).unwrap()));
            }
        }
        for n in 0..990 {
            let c = s.commune(p, n).unwrap();
            assert_eq!(c.to_string().parse::<AgencyCode>().unwrap(), c);
            assert!(seen.insert(c));
        }
    }

    #[test]
    fn overlapping_scheme_is_rejected() {
        let overlapping = IdentifierScheme {
            districts: SlotRange {
                first: 50,
                last: 89,
            },
            ..IdentifierScheme::default()
        };
        assert_eq!(overlapping.validate(), Err(SchemeError::Overlap));
        let too_high = IdentifierScheme {
            districts: SlotRange {
                first: 60,
                last: 100,
            },
            ..IdentifierScheme::default()
        };
        assert_eq!(too_high.validate(), Err(SchemeError::OutOfRange));
    }
}
