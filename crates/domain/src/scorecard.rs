//! The Decision 766 scorecard's definitions as data (`data/indicators-766.json`): groups with
//! their maximum points, indicators with the counts their numerator and denominator are, the
//! points each is worth and the rate that earns them all; and the scoring conventions the
//! national portal applies (a rate in percent rounded to two decimals, full points at or above
//! the threshold and proportional below, a zero denominator shown as N/A by default).
//!
//! Definitions are checked when loaded — an unknown count, points that do not add up to their
//! group's or the total, a duplicated or misplaced id — so that an administrator correcting a
//! weight cannot save a scorecard that does not hold.

use serde::{Deserialize, Serialize};

/// The counts egov computes, by name: what an indicator's numerator and denominator may be.
/// Each is documented in `docs/scorecard.md` with the fields of egov it counts.
pub const COUNTS: &[&str] = &[
    "procedures.announced",
    "procedures.announced_on_time",
    "procedures.to_publish",
    "procedures.published_on_time",
    "procedures.published",
    "procedures.published_complete",
    "procedures.in_force",
    "procedures.online",
    "procedures.online_used",
    "procedures.with_fee",
    "procedures.fee_paid_online",
    "dossiers.received",
    "dossiers.received_individuals",
    "dossiers.synchronised",
    "dossiers.on_time",
    "dossiers.finished",
    "dossiers.handling_hours",
    "dossiers.online",
    "dossiers.with_fee",
    "dossiers.paid_online",
    "dossiers.e_result",
    "dossiers.digitised",
    "dossiers.reused_data",
    "dossiers.in_citizen_store",
    "dossiers.vneid",
    "dossiers.satisfactory",
    "feedback.received",
    "feedback.classified",
    "feedback.handled_on_time",
    "feedback.satisfied",
];

/// How a zero denominator is shown and scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZeroDenominator {
    /// Not applicable: no value, no points (the default).
    Na,
    /// A rate of 0 %.
    Zero,
    /// Full points (nothing was owed).
    Full,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub id: u8,
    pub name: String,
    /// The group's maximum points.
    pub max: f64,
}

/// What an indicator's value is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// numerator ÷ denominator, in percent.
    #[default]
    Rate,
    /// numerator ÷ denominator as it is (an average, e.g. hours per dossier).
    Average,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    /// `1.4`, `2.1` …: the group, a dot, the indicator's number.
    pub id: String,
    pub name: String,
    pub numerator: String,
    pub denominator: String,
    /// The points it is worth.
    pub weight: f64,
    /// The rate (percent) at or above which it earns all its points; below, a share in
    /// proportion. 100 when not given.
    #[serde(default)]
    pub threshold: Option<f64>,
    #[serde(default)]
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definitions {
    /// Where the weights and thresholds come from, as the file cites it.
    pub source: String,
    pub total: f64,
    pub zero_denominator: ZeroDenominator,
    pub groups: Vec<Group>,
    pub indicators: Vec<Indicator>,
}

/// Why definitions are refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DefinitionError {
    #[error("the definitions cannot be read: {0}")]
    Unreadable(String),
    #[error("indicator {0} is defined twice")]
    Duplicate(String),
    #[error("indicator {id} names group {group}, which is not defined")]
    NoSuchGroup { id: String, group: String },
    #[error("indicator {id} counts {count:?}, which egov does not compute")]
    UnknownCount { id: String, count: String },
    #[error("indicator {id}: {what} must be a number from 0 to 100")]
    OutOfRange { id: String, what: &'static str },
    #[error("group {group}'s indicators are worth {sum} points, not its {max}")]
    GroupSum { group: u8, sum: f64, max: f64 },
    #[error("the groups are worth {sum} points, not the total {total}")]
    TotalSum { sum: f64, total: f64 },
}

impl DefinitionError {
    /// A stable code for the error.
    pub fn code(&self) -> &'static str {
        match self {
            DefinitionError::Unreadable(_) => "scorecard_unreadable",
            DefinitionError::Duplicate(_) => "scorecard_duplicate",
            DefinitionError::NoSuchGroup { .. } => "scorecard_no_such_group",
            DefinitionError::UnknownCount { .. } => "scorecard_unknown_count",
            DefinitionError::OutOfRange { .. } => "scorecard_out_of_range",
            DefinitionError::GroupSum { .. } => "scorecard_group_sum",
            DefinitionError::TotalSum { .. } => "scorecard_total_sum",
        }
    }
}

/// The definitions egov ships.
pub const SHIPPED: &str = include_str!("../../../data/indicators-766.json");

const EPSILON: f64 = 0.005;

impl Definitions {
    /// Reads and checks definitions (see the module).
    pub fn parse(json: &str) -> Result<Definitions, DefinitionError> {
        let d: Definitions =
            serde_json::from_str(json).map_err(|e| DefinitionError::Unreadable(e.to_string()))?;
        d.check()?;
        Ok(d)
    }

    /// The definitions egov ships.
    pub fn shipped() -> Definitions {
        Definitions::parse(SHIPPED).expect("the shipped scorecard definitions hold")
    }

    fn check(&self) -> Result<(), DefinitionError> {
        let mut seen = std::collections::BTreeSet::new();
        for i in &self.indicators {
            if !seen.insert(i.id.as_str()) {
                return Err(DefinitionError::Duplicate(i.id.clone()));
            }
            let group = i.id.split('.').next().unwrap_or_default();
            if !self.groups.iter().any(|g| g.id.to_string() == group) {
                return Err(DefinitionError::NoSuchGroup {
                    id: i.id.clone(),
                    group: group.to_string(),
                });
            }
            for count in [&i.numerator, &i.denominator] {
                if !COUNTS.contains(&count.as_str()) {
                    return Err(DefinitionError::UnknownCount {
                        id: i.id.clone(),
                        count: count.clone(),
                    });
                }
            }
            let bad = |v: f64| !(0.0..=100.0).contains(&v) || v.is_nan();
            if bad(i.weight) {
                return Err(DefinitionError::OutOfRange {
                    id: i.id.clone(),
                    what: "its weight",
                });
            }
            if i.threshold.is_some_and(|t| bad(t) || t == 0.0) {
                return Err(DefinitionError::OutOfRange {
                    id: i.id.clone(),
                    what: "its threshold",
                });
            }
        }
        for g in &self.groups {
            let sum: f64 = self
                .indicators
                .iter()
                .filter(|i| i.id.split('.').next() == Some(g.id.to_string().as_str()))
                .map(|i| i.weight)
                .sum();
            if (sum - g.max).abs() > EPSILON {
                return Err(DefinitionError::GroupSum {
                    group: g.id,
                    sum: round2(sum),
                    max: g.max,
                });
            }
        }
        let sum: f64 = self.groups.iter().map(|g| g.max).sum();
        if (sum - self.total).abs() > EPSILON {
            return Err(DefinitionError::TotalSum {
                sum: round2(sum),
                total: self.total,
            });
        }
        Ok(())
    }
}

/// Rounded to two decimals, as the portal shows figures.
pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// An indicator's figure: its counts, its value and its points.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    pub id: String,
    pub numerator: f64,
    pub denominator: f64,
    /// The rate in percent (or the average), two decimals; `None`: not applicable.
    pub value: Option<f64>,
    /// The points earned, two decimals; `None`: not applicable.
    pub points: Option<f64>,
}

impl Indicator {
    /// The figure for these counts, under the definitions' conventions.
    pub fn figure(&self, numerator: f64, denominator: f64, zero: ZeroDenominator) -> Figure {
        let (value, points) = if denominator == 0.0 {
            match (self.kind, zero) {
                (_, ZeroDenominator::Na) | (Kind::Average, _) => (None, None),
                (Kind::Rate, ZeroDenominator::Zero) => (Some(0.0), Some(0.0)),
                (Kind::Rate, ZeroDenominator::Full) => (Some(100.0), Some(self.weight)),
            }
        } else {
            match self.kind {
                Kind::Average => (Some(round2(numerator / denominator)), None),
                Kind::Rate => {
                    let rate = round2(100.0 * numerator / denominator);
                    let threshold = self.threshold.unwrap_or(100.0);
                    let share = (rate / threshold).min(1.0);
                    (Some(rate), Some(round2(self.weight * share)))
                }
            }
        };
        Figure {
            id: self.id.clone(),
            numerator,
            denominator,
            value,
            points: points.map(round2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indicator(id: &str) -> Indicator {
        Definitions::shipped()
            .indicators
            .into_iter()
            .find(|i| i.id == id)
            .unwrap()
    }

    #[test]
    fn the_shipped_definitions_hold_and_add_up_to_a_hundred() {
        let d = Definitions::shipped();
        assert_eq!(d.indicators.len(), 20);
        assert_eq!(d.total, 100.0);
        assert_eq!(
            d.groups.iter().map(|g| g.max).collect::<Vec<_>>(),
            vec![18.0, 20.0, 22.0, 22.0, 18.0]
        );
        assert_eq!(d.zero_denominator, ZeroDenominator::Na);
    }

    #[test]
    fn a_rate_earns_its_points_at_the_threshold_and_a_share_below() {
        // 3.3: online dossiers, full points (4.4) from 50 %.
        let online = indicator("3.3");
        let f = online.figure(30.0, 120.0, ZeroDenominator::Na);
        assert_eq!((f.value, f.points), (Some(25.0), Some(2.2)));
        let f = online.figure(61.0, 120.0, ZeroDenominator::Na);
        assert_eq!((f.value, f.points), (Some(50.83), Some(4.4)));
        // 2.1: on time, proportional up to 100 % (20 points): 97 of 113 is 85.84 %.
        let f = indicator("2.1").figure(97.0, 113.0, ZeroDenominator::Na);
        assert_eq!((f.value, f.points), (Some(85.84), Some(17.17)));
        // 1.4: two decimals, 2 of 3 synchronised.
        let f = indicator("1.4").figure(2.0, 3.0, ZeroDenominator::Na);
        assert_eq!((f.value, f.points), (Some(66.67), Some(3.0)));
    }

    #[test]
    fn a_zero_denominator_follows_the_convention_and_an_average_is_not_scored() {
        let i = indicator("3.6");
        assert_eq!(i.figure(0.0, 0.0, ZeroDenominator::Na).value, None);
        assert_eq!(i.figure(0.0, 0.0, ZeroDenominator::Zero).points, Some(0.0));
        assert_eq!(i.figure(0.0, 0.0, ZeroDenominator::Full).points, Some(4.4));
        // 2.2: 1,234 hours over 40 dossiers.
        let f = indicator("2.2").figure(1234.0, 40.0, ZeroDenominator::Na);
        assert_eq!((f.value, f.points), (Some(30.85), None));
    }

    #[test]
    fn definitions_that_do_not_hold_are_refused_with_a_reason() {
        let shipped: serde_json::Value = serde_json::from_str(SHIPPED).unwrap();
        let refused = |change: &dyn Fn(&mut serde_json::Value)| {
            let mut v = shipped.clone();
            change(&mut v);
            Definitions::parse(&v.to_string()).unwrap_err().code()
        };
        assert_eq!(
            refused(&|v| v["indicators"][0]["numerator"] = "dossiers.nonexistent".into()),
            "scorecard_unknown_count"
        );
        assert_eq!(
            refused(&|v| v["indicators"][4]["weight"] = 19.0.into()),
            "scorecard_group_sum"
        );
        assert_eq!(
            refused(&|v| v["groups"][0]["max"] = 19.0.into()),
            "scorecard_group_sum"
        );
        assert_eq!(
            refused(&|v| v["total"] = 90.0.into()),
            "scorecard_total_sum"
        );
        assert_eq!(
            refused(&|v| v["indicators"][1]["id"] = "1.1".into()),
            "scorecard_duplicate"
        );
        assert_eq!(
            refused(&|v| v["indicators"][0]["id"] = "7.1".into()),
            "scorecard_no_such_group"
        );
        assert_eq!(
            refused(&|v| v["indicators"][6]["threshold"] = 0.0.into()),
            "scorecard_out_of_range"
        );
        assert_eq!(
            refused(&|v| v["indicators"][0]["formula"] = "x".into()),
            "scorecard_unreadable"
        );
    }
}
