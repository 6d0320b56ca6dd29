//! The procedure catalogue (thủ tục hành chính): versioned, with components, time limits, fees,
//! result type and online service level.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::calendar::Limit;
use crate::org::AgencyKind;

/// A national procedure code, `1.001234`: one digit, a dot, six digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProcedureCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a procedure code is a digit, a dot and six digits (1.001234); got {0:?}")]
pub struct BadProcedureCode(pub String);

impl ProcedureCode {
    pub fn parse(s: &str) -> Result<Self, BadProcedureCode> {
        let s = s.trim();
        let b = s.as_bytes();
        let ok = b.len() == 8
            && b[0].is_ascii_digit()
            && b[1] == b'.'
            && b[2..].iter().all(u8::is_ascii_digit);
        if ok {
            Ok(ProcedureCode(s.to_owned()))
        } else {
            Err(BadProcedureCode(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProcedureCode {
    type Error = BadProcedureCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ProcedureCode::parse(&s)
    }
}

impl From<ProcedureCode> for String {
    fn from(c: ProcedureCode) -> String {
        c.0
    }
}

impl std::fmt::Display for ProcedureCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The unit of a time limit (DonViTinh).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitUnit {
    WorkingDays,
    WorkingHours,
    CalendarDays,
    Months,
}

/// A time limit as a procedure states it: a value (halves allowed for working days) and a unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimeLimit {
    pub value: f64,
    pub unit: LimitUnit,
}

/// Minutes of office time in a standard working day, for comparing limits in different units.
pub const DAY_MINUTES: u32 = 450;

impl TimeLimit {
    pub fn working_days(n: f64) -> TimeLimit {
        TimeLimit {
            value: n,
            unit: LimitUnit::WorkingDays,
        }
    }

    /// The limit for the deadline engine.
    pub fn to_limit(&self) -> Option<Limit> {
        if self.value.is_nan() || self.value <= 0.0 {
            return None;
        }
        Some(match self.unit {
            LimitUnit::WorkingDays => {
                let h = self.value * 2.0;
                if h.fract() != 0.0 {
                    return None;
                }
                Limit::WorkingDays { halves: h as u32 }
            }
            LimitUnit::WorkingHours => {
                let m = self.value * 60.0;
                if m.fract() != 0.0 {
                    return None;
                }
                Limit::WorkingHours { minutes: m as u32 }
            }
            LimitUnit::CalendarDays if self.value.fract() == 0.0 => Limit::CalendarDays {
                days: self.value as u32,
            },
            LimitUnit::Months if self.value.fract() == 0.0 => Limit::Months {
                months: self.value as u32,
            },
            _ => return None,
        })
    }

    /// The limit in working minutes, counting a calendar day as a working day and a month as 22
    /// (for checking that step allotments fit).
    pub fn minutes(&self) -> f64 {
        match self.unit {
            LimitUnit::WorkingDays | LimitUnit::CalendarDays => self.value * f64::from(DAY_MINUTES),
            LimitUnit::WorkingHours => self.value * 60.0,
            LimitUnit::Months => self.value * 22.0 * f64::from(DAY_MINUTES),
        }
    }
}

/// What form a component must be in (bản chính, bản sao, bản sao chứng thực).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CopyKind {
    Original,
    Copy,
    CertifiedCopy,
}

/// A component of the dossier (thành phần hồ sơ).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    /// Stable within the procedure version (`TP1`, or the national MaThanhPhanHoSo).
    pub code: String,
    pub name: String,
    pub kind: CopyKind,
    #[serde(default = "one")]
    pub quantity: u16,
    #[serde(default = "yes")]
    pub required: bool,
    /// The name of the blank form to fill in, if the procedure has one (mẫu đơn, tờ khai).
    #[serde(default)]
    pub form: Option<String>,
}

fn one() -> u16 {
    1
}

fn yes() -> bool {
    true
}

/// How a fee is charged. Amounts are in đồng.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum FeeRule {
    Fixed {
        amount: i64,
    },
    /// So much per unit (page, copy …), optionally capped per dossier.
    PerUnit {
        amount: i64,
        unit: String,
        cap: Option<i64>,
    },
    Free,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    pub code: String,
    pub name: String,
    /// `fee` (phí) or `charge` (lệ phí).
    #[serde(default = "fee_kind")]
    pub kind: String,
    pub rule: FeeRule,
    /// Who is exempt (người có công, hộ nghèo …), as text.
    #[serde(default)]
    pub exemptions: Vec<String>,
}

fn fee_kind() -> String {
    "charge".into()
}

impl Fee {
    /// The amount for `units` units (pages, copies), exempt or not.
    pub fn amount(&self, units: u32, exempt: bool) -> i64 {
        if exempt {
            return 0;
        }
        match &self.rule {
            FeeRule::Fixed { amount } => *amount,
            FeeRule::PerUnit { amount, cap, .. } => {
                let total = amount.saturating_mul(i64::from(units.max(1)));
                cap.map_or(total, |c| total.min(c))
            }
            FeeRule::Free => 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultType {
    Paper,
    Electronic,
    Both,
}

/// The online service level: the current classification (Decree 42/2022) and, derived, the
/// classic level 2/3/4 of Decree 43/2011.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnlineService {
    /// Not online (information, forms only): classic level 2 at most.
    None,
    /// Một phần: some step must be in person (classic level 3).
    Partial,
    /// Toàn trình: end to end online, payment and result included (classic level 4).
    Full,
}

impl OnlineService {
    pub fn classic_level(self) -> u8 {
        match self {
            OnlineService::None => 2,
            OnlineService::Partial => 3,
            OnlineService::Full => 4,
        }
    }
}

/// At which administrative level a procedure is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImplementingLevel {
    /// A provincial department (sở, ban, ngành).
    Department,
    /// The provincial People's Committee.
    Province,
    /// A commune or ward People's Committee.
    Commune,
}

impl ImplementingLevel {
    /// Whether an agency of `kind` carries out procedures of this level: the province's People's
    /// Committee has no parent, a commune's has one, and anything else is a department.
    pub fn is_carried_out_by(self, kind: AgencyKind, has_parent: bool) -> bool {
        let committee = kind == AgencyKind::PeopleCommittee;
        match self {
            ImplementingLevel::Commune => committee && has_parent,
            ImplementingLevel::Province => committee && !has_parent,
            ImplementingLevel::Department => !committee,
        }
    }

    /// Whether a counter of `receiving` may receive for a department `competent` under the same
    /// province: the province's public administration centre (not a People's Committee) does.
    pub fn centre_receives_for(receiving: AgencyKind, competent: AgencyKind) -> bool {
        receiving != AgencyKind::PeopleCommittee && competent == AgencyKind::Department
    }
}

/// After a supplement during processing, the clock resumes (the paused time is added back) or
/// restarts from the day the complete dossier comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SupplementRule {
    #[default]
    Resume,
    Restart,
}

/// One version of a procedure, in force from `effective_from`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcedureVersion {
    pub code: ProcedureCode,
    pub version: u32,
    pub name: String,
    pub field_code: String,
    pub field_name: String,
    pub levels: Vec<ImplementingLevel>,
    /// The abbreviation of the department that carries it out, for department-level procedures
    /// (`STP`, `SXD` …).
    #[serde(default)]
    pub department: Option<String>,
    pub components: Vec<Component>,
    pub statutory_limit: TimeLimit,
    /// Same-day procedures: received after this cut-off (minutes after midnight, e.g. 900 for
    /// 15:00) → next working day.
    #[serde(default)]
    pub same_day_cutoff: Option<u16>,
    #[serde(default)]
    pub fees: Vec<Fee>,
    pub result_type: ResultType,
    pub online: OnlineService,
    #[serde(default)]
    pub supplement_rule: SupplementRule,
    /// Received regardless of administrative boundary (Decree 118/2025).
    #[serde(default)]
    pub receivable_anywhere: bool,
    pub effective_from: Date,
    #[serde(default)]
    pub effective_to: Option<Date>,
    /// What the national catalogue announces about the procedure beyond what egov runs it by.
    #[serde(default)]
    pub announcement: Announcement,
}

/// What the national procedure catalogue publishes about a procedure besides what egov runs
/// it by: the facts Decision 766's indicators 1.1–1.3 (announced and published on time, with
/// every mandatory part) and 3.5 (fees payable online) read. Empty for a procedure the
/// province defined itself, or one imported before the catalogue carried them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Announcement {
    /// The number of the decision announcing the procedure (`QUYETDINHCONGBO`).
    pub decision: Option<String>,
    /// The day that decision was issued (`NGAYBANHANHQD`).
    pub decision_date: Option<Date>,
    /// The day the legal text behind the procedure takes effect (`NGAYHIEULUC`).
    pub legal_effective: Option<Date>,
    /// The day it was published in the national database (`NGAYCAPNHAT`).
    pub published_nationally: Option<Date>,
    /// The steps of carrying it out, in order (`TRINHTUTHUCHIEN`).
    pub steps: Vec<String>,
    /// The ways it can be carried out: in person, online, by post (`CACHTHUCTHUCHIEN[].KENH`).
    pub channels: Vec<String>,
    /// Who may apply (`DOITUONGTHUCHIEN`).
    pub applicant_types: Vec<String>,
    /// Its fees can be paid online through the national payment platform
    /// (`THANHTOANTRUCTUYEN`).
    pub online_payment: bool,
}

impl Announcement {
    /// The mandatory parts of a published procedure (indicator 1.3) that the national catalogue
    /// gave no value for; name, dossier composition and time limit are checked on the version.
    pub fn missing_parts(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.steps.is_empty() {
            out.push("steps");
        }
        if self.channels.is_empty() {
            out.push("channels");
        }
        if self.applicant_types.is_empty() {
            out.push("applicant_types");
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcedureError {
    #[error("the procedure needs a name, a field and at least one implementing level")]
    Incomplete,
    #[error("component codes must be unique and every component needs a name")]
    BadComponents,
    #[error(
        "the time limit is not valid (working days in halves, hours in minutes, whole days or months)"
    )]
    BadLimit,
    #[error("a fee amount cannot be negative")]
    BadFee,
    #[error("the version ends before it starts")]
    BadPeriod,
}

impl ProcedureVersion {
    pub fn validate(&self) -> Result<(), ProcedureError> {
        if self.name.trim().is_empty()
            || self.field_code.trim().is_empty()
            || self.levels.is_empty()
        {
            return Err(ProcedureError::Incomplete);
        }
        let mut codes = std::collections::BTreeSet::new();
        for c in &self.components {
            if c.name.trim().is_empty()
                || c.code.trim().is_empty()
                || !codes.insert(c.code.as_str())
                || c.quantity == 0
            {
                return Err(ProcedureError::BadComponents);
            }
        }
        if self.same_day_cutoff.is_none() && self.statutory_limit.to_limit().is_none() {
            return Err(ProcedureError::BadLimit);
        }
        for f in &self.fees {
            let negative = match &f.rule {
                FeeRule::Fixed { amount } => *amount < 0,
                FeeRule::PerUnit { amount, cap, .. } => *amount < 0 || cap.is_some_and(|c| c < 0),
                FeeRule::Free => false,
            };
            if negative {
                return Err(ProcedureError::BadFee);
            }
        }
        if self.effective_to.is_some_and(|t| t < self.effective_from) {
            return Err(ProcedureError::BadPeriod);
        }
        Ok(())
    }

    pub fn in_force(&self, d: Date) -> bool {
        self.effective_from <= d && self.effective_to.is_none_or(|t| d <= t)
    }

    /// The required components missing from `provided` (codes).
    pub fn missing<'a>(&'a self, provided: &[&str]) -> Vec<&'a Component> {
        self.components
            .iter()
            .filter(|c| c.required && !provided.contains(&c.code.as_str()))
            .collect()
    }

    /// Whether any fee is charged.
    pub fn has_fees(&self) -> bool {
        self.fees.iter().any(|f| !matches!(f.rule, FeeRule::Free))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_carried_out_by_the_agencies_of_their_kind() {
        use AgencyKind::*;
        use ImplementingLevel as L;
        assert!(L::Commune.is_carried_out_by(PeopleCommittee, true));
        assert!(!L::Commune.is_carried_out_by(PeopleCommittee, false));
        assert!(L::Province.is_carried_out_by(PeopleCommittee, false));
        assert!(!L::Province.is_carried_out_by(Department, false));
        assert!(L::Department.is_carried_out_by(Department, true));
        assert!(L::Department.is_carried_out_by(Other, true));
        assert!(!L::Department.is_carried_out_by(PeopleCommittee, true));
        // The province's centre receives for departments; a commune's counter does not.
        assert!(L::centre_receives_for(Other, Department));
        assert!(!L::centre_receives_for(PeopleCommittee, Department));
        assert!(!L::centre_receives_for(Other, PeopleCommittee));
    }
    use time::macros::date;

    pub(crate) fn certified_copy() -> ProcedureVersion {
        ProcedureVersion {
            code: ProcedureCode::parse("2.000815").unwrap(),
            version: 1,
            name: "Chứng thực bản sao từ bản chính giấy tờ, văn bản".into(),
            field_code: "CT".into(),
            field_name: "Chứng thực".into(),
            levels: vec![ImplementingLevel::Commune],
            department: None,
            components: vec![Component {
                code: "TP1".into(),
                name: "Bản chính giấy tờ cần chứng thực".into(),
                kind: CopyKind::Original,
                quantity: 1,
                required: true,
                form: None,
            }],
            statutory_limit: TimeLimit::working_days(1.0),
            same_day_cutoff: Some(900),
            fees: vec![Fee {
                code: "LP1".into(),
                name: "Phí chứng thực bản sao".into(),
                kind: "fee".into(),
                rule: FeeRule::PerUnit {
                    amount: 2_000,
                    unit: "trang".into(),
                    cap: Some(200_000),
                },
                exemptions: vec![],
            }],
            result_type: ResultType::Paper,
            online: OnlineService::Partial,
            supplement_rule: SupplementRule::Resume,
            receivable_anywhere: true,
            effective_from: date!(2025 - 07 - 01),
            effective_to: None,
            announcement: Announcement::default(),
        }
    }

    #[test]
    fn codes() {
        assert!(ProcedureCode::parse("1.001234").is_ok());
        assert!(ProcedureCode::parse("1.00123").is_err());
        assert!(ProcedureCode::parse("12.00123").is_err());
        assert!(ProcedureCode::parse("1-001234").is_err());
    }

    #[test]
    fn fees_and_validation() {
        let p = certified_copy();
        p.validate().unwrap();
        assert_eq!(p.fees[0].amount(3, false), 6_000);
        assert_eq!(p.fees[0].amount(300, false), 200_000, "capped");
        assert_eq!(p.fees[0].amount(3, true), 0);
        assert_eq!(p.missing(&[]).len(), 1);
        assert!(p.missing(&["TP1"]).is_empty());
        assert_eq!(OnlineService::Full.classic_level(), 4);
        let mut bad = p.clone();
        bad.components.push(bad.components[0].clone());
        assert_eq!(bad.validate(), Err(ProcedureError::BadComponents));
        let mut bad = p.clone();
        bad.same_day_cutoff = None;
        bad.statutory_limit = TimeLimit {
            value: 1.3,
            unit: LimitUnit::WorkingDays,
        };
        assert_eq!(bad.validate(), Err(ProcedureError::BadLimit));
        assert!(p.in_force(date!(2025 - 07 - 01)) && !p.in_force(date!(2025 - 06 - 30)));
    }
}
