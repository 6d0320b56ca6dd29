//! Identifiers of applicants: citizens (12-digit personal identification number), organisations
//! (tax code) and foreigners (passport).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::birth_provinces::BIRTH_PROVINCES;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

/// Số định danh cá nhân: `PPP S YY NNNNNN` — birth province, sex and century, the last two digits
/// of the birth year, a random serial.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct PersonalId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonalIdError {
    #[error("a personal identification number has exactly 12 digits")]
    Format,
    #[error("{0} is not a birth-province code on the official list")]
    UnknownProvince(String),
    #[error("the sex and century digit and the birth-year digits give {0}, which is in the future")]
    FutureBirthYear(i32),
}

impl PersonalId {
    /// Parses and validates a number; `this_year` bounds the encoded birth year.
    pub fn parse(s: &str, this_year: i32) -> Result<Self, PersonalIdError> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        if s.len() != 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PersonalIdError::Format);
        }
        let province = &s[..3];
        if !BIRTH_PROVINCES.iter().any(|(code, _)| *code == province) {
            return Err(PersonalIdError::UnknownProvince(province.to_owned()));
        }
        let id = PersonalId(s);
        let year = id.birth_year();
        if year > this_year {
            return Err(PersonalIdError::FutureBirthYear(year));
        }
        Ok(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn digit(&self, i: usize) -> u8 {
        self.0.as_bytes()[i] - b'0'
    }

    pub fn birth_province(&self) -> &str {
        &self.0[..3]
    }

    pub fn sex(&self) -> Sex {
        if self.digit(3).is_multiple_of(2) {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Digit 4 encodes the century (0/1: 1900s, 2/3: 2000s, 4/5: 2100s …); digits 5–6 the year.
    pub fn birth_year(&self) -> i32 {
        let century = 1900 + 100 * i32::from(self.digit(3) / 2);
        century + i32::from(self.digit(4)) * 10 + i32::from(self.digit(5))
    }

    /// The number with all but the last three digits hidden, for lists and exports.
    pub fn masked(&self) -> String {
        format!("*********{}", &self.0[9..])
    }
}

impl fmt::Display for PersonalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PersonalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print a full personal number into logs by accident.
        write!(f, "PersonalId({})", self.masked())
    }
}

impl From<PersonalId> for String {
    fn from(p: PersonalId) -> String {
        p.0
    }
}

/// Mã số thuế of an organisation: 10 digits, the 10th a check digit, and a 3-digit branch suffix
/// for dependent units (written `0101234567-001`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct TaxCode {
    main: String,
    branch: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaxCodeError {
    #[error("a tax code has 10 digits, or 13 with a branch suffix (0101234567-001)")]
    Format,
    #[error("the check digit of the tax code is wrong")]
    CheckDigit,
    #[error("the branch suffix must be between 001 and 999")]
    Branch,
}

const TAX_WEIGHTS: [u32; 9] = [31, 29, 23, 19, 17, 13, 7, 5, 3];

impl TaxCode {
    pub fn parse(s: &str) -> Result<Self, TaxCodeError> {
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let (main, branch) = match compact.split_once('-') {
            Some((m, b)) => (m.to_owned(), Some(b.to_owned())),
            None if compact.len() == 13 => {
                (compact[..10].to_owned(), Some(compact[10..].to_owned()))
            }
            None => (compact, None),
        };
        if main.len() != 10 || !main.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TaxCodeError::Format);
        }
        if let Some(b) = &branch {
            if b.len() != 3 || !b.bytes().all(|c| c.is_ascii_digit()) {
                return Err(TaxCodeError::Format);
            }
            if b == "000" {
                return Err(TaxCodeError::Branch);
            }
        }
        let sum: u32 = main
            .bytes()
            .take(9)
            .zip(TAX_WEIGHTS)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        // Circular 105/2020/TT-BTC: check digit = 10 − (Σ dᵢ·wᵢ mod 11); a remainder of 0 would
        // need the digit 10, so such prefixes are never issued.
        let expected = 10 - (sum % 11);
        if expected == 10 || u32::from(main.as_bytes()[9] - b'0') != expected {
            return Err(TaxCodeError::CheckDigit);
        }
        Ok(TaxCode { main, branch })
    }

    pub fn is_branch(&self) -> bool {
        self.branch.is_some()
    }
}

impl fmt::Display for TaxCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.branch {
            Some(b) => write!(f, "{}-{}", self.main, b),
            None => f.write_str(&self.main),
        }
    }
}

impl From<TaxCode> for String {
    fn from(t: TaxCode) -> String {
        t.to_string()
    }
}

/// ISO 3166-1 alpha-3 codes, as ICAO Doc 9303 Part 3 uses them for issuing states and
/// nationalities (sorted).
const ISO_3166_ALPHA3: [&str; 249] = [
    "ABW", "AFG", "AGO", "AIA", "ALA", "ALB", "AND", "ARE", "ARG", "ARM", "ASM", "ATA", "ATF",
    "ATG", "AUS", "AUT", "AZE", "BDI", "BEL", "BEN", "BES", "BFA", "BGD", "BGR", "BHR", "BHS",
    "BIH", "BLM", "BLR", "BLZ", "BMU", "BOL", "BRA", "BRB", "BRN", "BTN", "BVT", "BWA", "CAF",
    "CAN", "CCK", "CHE", "CHL", "CHN", "CIV", "CMR", "COD", "COG", "COK", "COL", "COM", "CPV",
    "CRI", "CUB", "CUW", "CXR", "CYM", "CYP", "CZE", "DEU", "DJI", "DMA", "DNK", "DOM", "DZA",
    "ECU", "EGY", "ERI", "ESH", "ESP", "EST", "ETH", "FIN", "FJI", "FLK", "FRA", "FRO", "FSM",
    "GAB", "GBR", "GEO", "GGY", "GHA", "GIB", "GIN", "GLP", "GMB", "GNB", "GNQ", "GRC", "GRD",
    "GRL", "GTM", "GUF", "GUM", "GUY", "HKG", "HMD", "HND", "HRV", "HTI", "HUN", "IDN", "IMN",
    "IND", "IOT", "IRL", "IRN", "IRQ", "ISL", "ISR", "ITA", "JAM", "JEY", "JOR", "JPN", "KAZ",
    "KEN", "KGZ", "KHM", "KIR", "KNA", "KOR", "KWT", "LAO", "LBN", "LBR", "LBY", "LCA", "LIE",
    "LKA", "LSO", "LTU", "LUX", "LVA", "MAC", "MAF", "MAR", "MCO", "MDA", "MDG", "MDV", "MEX",
    "MHL", "MKD", "MLI", "MLT", "MMR", "MNE", "MNG", "MNP", "MOZ", "MRT", "MSR", "MTQ", "MUS",
    "MWI", "MYS", "MYT", "NAM", "NCL", "NER", "NFK", "NGA", "NIC", "NIU", "NLD", "NOR", "NPL",
    "NRU", "NZL", "OMN", "PAK", "PAN", "PCN", "PER", "PHL", "PLW", "PNG", "POL", "PRI", "PRK",
    "PRT", "PRY", "PSE", "PYF", "QAT", "REU", "ROU", "RUS", "RWA", "SAU", "SDN", "SEN", "SGP",
    "SGS", "SHN", "SJM", "SLB", "SLE", "SLV", "SMR", "SOM", "SPM", "SRB", "SSD", "STP", "SUR",
    "SVK", "SVN", "SWE", "SWZ", "SXM", "SYC", "SYR", "TCA", "TCD", "TGO", "THA", "TJK", "TKL",
    "TKM", "TLS", "TON", "TTO", "TUN", "TUR", "TUV", "TWN", "TZA", "UGA", "UKR", "UMI", "URY",
    "USA", "UZB", "VAT", "VCT", "VEN", "VGB", "VIR", "VNM", "VUT", "WLF", "WSM", "YEM", "ZAF",
    "ZMB", "ZWE",
];

/// The further codes of ICAO Doc 9303 Part 3: Germany's `D`, the European Union, British
/// nationals of other kinds, Kosovo, the United Nations and its agencies, other international
/// organisations, the stateless (`XXA`), refugees (`XXB`, `XXC`) and an unspecified nationality
/// (`XXX`) (sorted).
const ICAO_9303_OTHER: [&str; 26] = [
    "D", "EUE", "GBD", "GBN", "GBO", "GBP", "GBS", "RKS", "UNA", "UNK", "UNO", "XBA", "XCC", "XCE",
    "XCO", "XDC", "XEC", "XES", "XIM", "XMP", "XOM", "XPO", "XXA", "XXB", "XXC", "XXX",
];

/// Whether `code` may stand as the issuer of a travel document (ICAO Doc 9303).
pub fn is_issuer_code(code: &str) -> bool {
    ISO_3166_ALPHA3.binary_search(&code).is_ok() || ICAO_9303_OTHER.binary_search(&code).is_ok()
}

/// A foreigner's passport: issuing state or organisation (ICAO Doc 9303) and number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Passport {
    pub country: String,
    pub number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassportError {
    #[error(
        "the issuing state or organisation is a code of ICAO Doc 9303 such as FRA, JPN or XXA (stateless)"
    )]
    Country,
    #[error("a passport number has 5 to 20 letters and digits")]
    Number,
}

impl Passport {
    pub fn parse(country: &str, number: &str) -> Result<Self, PassportError> {
        let country = country.trim().to_ascii_uppercase();
        if !is_issuer_code(&country) {
            return Err(PassportError::Country);
        }
        let number: String = number
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        if !(5..=20).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(PassportError::Number);
        }
        Ok(Passport { country, number })
    }
}

/// Who an applicant is, with the identifier that proves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApplicantId {
    Citizen { personal_id: PersonalId },
    Organisation { tax_code: TaxCode },
    Foreigner { passport: Passport },
}

impl ApplicantId {
    pub fn kind(&self) -> &'static str {
        match self {
            ApplicantId::Citizen { .. } => "citizen",
            ApplicantId::Organisation { .. } => "organisation",
            ApplicantId::Foreigner { .. } => "foreigner",
        }
    }

    /// The identifier as stored: the number, or `COUNTRY:NUMBER` for a passport.
    pub fn key(&self) -> String {
        match self {
            ApplicantId::Citizen { personal_id } => personal_id.to_string(),
            ApplicantId::Organisation { tax_code } => tax_code.to_string(),
            ApplicantId::Foreigner { passport } => {
                format!("{}:{}", passport.country, passport.number)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_id_decodes() {
        let id = PersonalId::parse("038 0 85 123456", 2026).unwrap();
        assert_eq!(id.birth_province(), "038");
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.birth_year(), 1985);
        assert_eq!(id.masked(), "*********456");
        let id = PersonalId::parse("001305000001", 2026).unwrap();
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.birth_year(), 2005);
        assert!(!format!("{id:?}").contains("001305"));
    }

    #[test]
    fn personal_id_rejects() {
        assert_eq!(
            PersonalId::parse("03808512345", 2026),
            Err(PersonalIdError::Format)
        );
        assert_eq!(
            PersonalId::parse("03808512345a", 2026),
            Err(PersonalIdError::Format)
        );
        // 003 was never a province code (Hà Giang is 002, Cao Bằng 004).
        assert_eq!(
            PersonalId::parse("003085123456", 2026),
            Err(PersonalIdError::UnknownProvince("003".into()))
        );
        // Century digit 2 (born 2000s) with year digits 99 is 2099: in the future.
        assert_eq!(
            PersonalId::parse("038299123456", 2026),
            Err(PersonalIdError::FutureBirthYear(2099))
        );
        // Century digit 4 means the 2100s.
        assert!(PersonalId::parse("038400123456", 2026).is_err());
        assert!(PersonalId::parse("038226123456", 2026).is_ok());
        assert!(PersonalId::parse("038227123456", 2026).is_err());
    }

    #[test]
    fn tax_code_check_digit() {
        // 010010011x: weights give a check digit computed here by hand.
        let nine = "010010011";
        let sum: u32 = nine
            .bytes()
            .zip(TAX_WEIGHTS)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        let check = 10 - sum % 11;
        assert!(check < 10);
        let good = format!("{nine}{check}");
        assert!(TaxCode::parse(&good).is_ok());
        let bad = format!("{nine}{}", (check + 1) % 10);
        assert_eq!(TaxCode::parse(&bad), Err(TaxCodeError::CheckDigit));
        let branch = TaxCode::parse(&format!("{good}-001")).unwrap();
        assert!(branch.is_branch());
        assert_eq!(branch.to_string(), format!("{good}-001"));
        assert_eq!(TaxCode::parse(&format!("{good}001")).unwrap(), branch);
        assert_eq!(
            TaxCode::parse(&format!("{good}-000")),
            Err(TaxCodeError::Branch)
        );
        assert_eq!(TaxCode::parse("12345"), Err(TaxCodeError::Format));
    }

    #[test]
    fn known_tax_code() {
        // The tax code of a well-known state-owned enterprise, as published.
        assert!(TaxCode::parse("0100109106").is_ok());
    }

    #[test]
    fn passport() {
        let p = Passport::parse("fra", "19av 12345").unwrap();
        assert_eq!(p.country, "FRA");
        assert_eq!(p.number, "19AV12345");
        assert_eq!(
            Passport::parse("FR", "19AV12345"),
            Err(PassportError::Country)
        );
        assert_eq!(Passport::parse("FRA", "12"), Err(PassportError::Number));
        assert_eq!(
            Passport::parse("FRA", "12-34-56"),
            Err(PassportError::Number)
        );
        // Codes of ICAO Doc 9303 beyond ISO 3166: the stateless, refugees, the UN, Germany's D.
        for code in ["XXA", "XXB", "XXC", "XXX", "UNO", "D", "GBN", "vnm"] {
            assert!(Passport::parse(code, "C1234567").is_ok(), "{code}");
        }
        // Three letters are not enough: they must name a state or an organisation.
        for code in ["ABC", "QQQ", "XYZ", "UK", "EU", ""] {
            assert_eq!(
                Passport::parse(code, "C1234567"),
                Err(PassportError::Country),
                "{code}"
            );
        }
    }

    #[test]
    fn the_code_lists_are_sorted_and_complete() {
        assert!(ISO_3166_ALPHA3.windows(2).all(|w| w[0] < w[1]));
        assert!(ICAO_9303_OTHER.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            ISO_3166_ALPHA3.len(),
            249,
            "ISO 3166-1 has 249 alpha-3 codes"
        );
    }
}
