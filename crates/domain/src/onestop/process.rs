//! Internal processes (quy trình nội bộ): the ISO 9001 steps of a procedure, each with the unit
//! and role that acts and a time allotment that must fit within the published limit.

use serde::{Deserialize, Serialize};
use time::Date;

use super::procedure::{ProcedureCode, TimeLimit};
use crate::org::Role;

/// Which agency acts in a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "value")]
pub enum StepAgency {
    /// Where the dossier was received (the one-stop counter).
    Receiving,
    /// The agency competent to decide.
    Competent,
    /// A named agency (a commune forwarding to a department …), by identifier.
    Agency(String),
}

/// One step of a process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    pub agency: StepAgency,
    pub role: Role,
    /// The kind of internal unit that acts (`one_stop`, `division` …), when it matters.
    #[serde(default)]
    pub unit_kind: Option<String>,
    pub allotment: TimeLimit,
}

/// A version of a procedure's internal process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Process {
    pub procedure: ProcedureCode,
    pub version: u32,
    /// The limit the province publishes: it sets the appointment; at most the statutory limit.
    pub published_limit: TimeLimit,
    pub steps: Vec<Step>,
    pub effective_from: Date,
    #[serde(default)]
    pub effective_to: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProcessError {
    #[error("a process needs at least a reception step, one processing step and a return step")]
    TooFewSteps,
    #[error(
        "the first step is the reception and the last the return of the result, both at a one-stop counter"
    )]
    EndsNotAtCounter,
    #[error(
        "the published limit ({published} min) is longer than the statutory limit ({statutory} min)"
    )]
    PublishedTooLong { published: f64, statutory: f64 },
    #[error(
        "the step allotments add up to {sum} minutes of office time, more than the published limit of {limit}"
    )]
    AllotmentsTooLong { sum: f64, limit: f64 },
    #[error("step {0} has an invalid allotment")]
    BadAllotment(usize),
    #[error("the published limit is not valid")]
    BadLimit,
}

impl Process {
    /// Checks the process against the procedure's statutory limit.
    pub fn validate(&self, statutory: &TimeLimit) -> Result<(), ProcessError> {
        if self.steps.len() < 3 {
            return Err(ProcessError::TooFewSteps);
        }
        let first = &self.steps[0];
        let last = &self.steps[self.steps.len() - 1];
        if first.role != Role::OneStopOfficer || last.role != Role::OneStopOfficer {
            return Err(ProcessError::EndsNotAtCounter);
        }
        if self.published_limit.to_limit().is_none() {
            return Err(ProcessError::BadLimit);
        }
        let (p, s) = (self.published_limit.minutes(), statutory.minutes());
        if p > s + 1e-9 {
            return Err(ProcessError::PublishedTooLong {
                published: p,
                statutory: s,
            });
        }
        let mut sum = 0.0;
        for (i, step) in self.steps.iter().enumerate() {
            if step.allotment.to_limit().is_none() {
                return Err(ProcessError::BadAllotment(i + 1));
            }
            sum += step.allotment.minutes();
        }
        if sum > p + 1e-9 {
            return Err(ProcessError::AllotmentsTooLong { sum, limit: p });
        }
        Ok(())
    }

    pub fn in_force(&self, d: Date) -> bool {
        self.effective_from <= d && self.effective_to.is_none_or(|t| d <= t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onestop::procedure::LimitUnit;
    use time::macros::date;

    fn step(name: &str, role: Role, hours: f64) -> Step {
        Step {
            name: name.into(),
            agency: StepAgency::Competent,
            role,
            unit_kind: None,
            allotment: TimeLimit {
                value: hours,
                unit: LimitUnit::WorkingHours,
            },
        }
    }

    fn process(published_days: f64) -> Process {
        Process {
            procedure: ProcedureCode::parse("1.001234").unwrap(),
            version: 1,
            published_limit: TimeLimit::working_days(published_days),
            steps: vec![
                step("Tiếp nhận", Role::OneStopOfficer, 4.0),
                step("Thẩm định", Role::Specialist, 16.0),
                step("Phê duyệt", Role::AgencyLeader, 8.0),
                step("Trả kết quả", Role::OneStopOfficer, 4.0),
            ],
            effective_from: date!(2025 - 07 - 01),
            effective_to: None,
        }
    }

    #[test]
    fn allotments_must_fit_the_published_limit() {
        // 32 hours = 1,920 minutes; 5 working days = 2,250.
        process(5.0)
            .validate(&TimeLimit::working_days(7.0))
            .unwrap();
        assert!(matches!(
            process(4.0).validate(&TimeLimit::working_days(7.0)),
            Err(ProcessError::AllotmentsTooLong { .. })
        ));
        assert!(matches!(
            process(8.0).validate(&TimeLimit::working_days(7.0)),
            Err(ProcessError::PublishedTooLong { .. })
        ));
        let mut p = process(5.0);
        p.steps.truncate(2);
        assert_eq!(
            p.validate(&TimeLimit::working_days(7.0)),
            Err(ProcessError::TooFewSteps)
        );
        let mut p = process(5.0);
        p.steps[0].role = Role::Specialist;
        assert_eq!(
            p.validate(&TimeLimit::working_days(7.0)),
            Err(ProcessError::EndsNotAtCounter)
        );
    }
}
