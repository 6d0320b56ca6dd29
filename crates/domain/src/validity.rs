//! Validity periods: agencies, units, roles and delegations are true from one date to another.

use serde::{Deserialize, Serialize};
use time::Date;

/// A closed date interval; `None` means open on that side. `to` is the last day still valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Validity {
    pub from: Option<Date>,
    pub to: Option<Date>,
}

impl Validity {
    pub const ALWAYS: Validity = Validity {
        from: None,
        to: None,
    };

    pub fn new(from: Option<Date>, to: Option<Date>) -> Result<Self, InvalidPeriod> {
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            return Err(InvalidPeriod { from: f, to: t });
        }
        Ok(Validity { from, to })
    }

    pub fn contains(&self, d: Date) -> bool {
        self.from.is_none_or(|f| f <= d) && self.to.is_none_or(|t| d <= t)
    }

    pub fn overlaps(&self, other: &Validity) -> bool {
        let starts_before_other_ends = match (self.from, other.to) {
            (Some(f), Some(t)) => f <= t,
            _ => true,
        };
        let other_starts_before_self_ends = match (other.from, self.to) {
            (Some(f), Some(t)) => f <= t,
            _ => true,
        };
        starts_before_other_ends && other_starts_before_self_ends
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the period ends ({to}) before it starts ({from})")]
pub struct InvalidPeriod {
    pub from: Date,
    pub to: Date,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn contains_is_inclusive() {
        let v = Validity::new(Some(date!(2025 - 07 - 01)), Some(date!(2025 - 12 - 31))).unwrap();
        assert!(v.contains(date!(2025 - 07 - 01)));
        assert!(v.contains(date!(2025 - 12 - 31)));
        assert!(!v.contains(date!(2025 - 06 - 30)));
        assert!(!v.contains(date!(2026 - 01 - 01)));
        assert!(Validity::ALWAYS.contains(date!(1900 - 01 - 01)));
    }

    #[test]
    fn overlap() {
        let a = Validity::new(None, Some(date!(2025 - 06 - 30))).unwrap();
        let b = Validity::new(Some(date!(2025 - 07 - 01)), None).unwrap();
        let c = Validity::new(Some(date!(2025 - 06 - 30)), None).unwrap();
        assert!(!a.overlaps(&b));
        assert!(a.overlaps(&c));
        assert!(b.overlaps(&c));
    }

    #[test]
    fn rejects_backwards_period() {
        assert!(Validity::new(Some(date!(2025 - 07 - 02)), Some(date!(2025 - 07 - 01))).is_err());
    }
}
