//! The one clock of the application: the system's in production, a settable one in tests (a
//! receipt on a Sunday at 11:43, an appointment an hour later, a retry after the back-off).
//!
//! Use cases ask `App::now()`; nothing in the use cases reads the system time itself. The
//! instant is kept to the microsecond, as the database stores it.

use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

/// Where the application reads the time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> OffsetDateTime;

    /// Whether this is a machine's clock (which may drift from the database server's and is
    /// checked against it), rather than a test's chosen instant.
    fn is_machine_clock(&self) -> bool {
        true
    }
}

/// The system's clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        egov_store::now()
    }
}

/// The system's clock off by a fixed amount: a node whose clock was set wrong (tests of what
/// such a node does).
#[derive(Debug)]
pub struct OffClock(pub Duration);

impl Clock for OffClock {
    fn now(&self) -> OffsetDateTime {
        egov_store::now() + self.0
    }
}

/// A clock that says what it is told: fixed at an instant, moved on by the test.
#[derive(Debug)]
pub struct TestClock(Mutex<OffsetDateTime>);

impl TestClock {
    pub fn at(t: OffsetDateTime) -> Self {
        TestClock(Mutex::new(egov_store::db_time(t)))
    }

    pub fn set(&self, t: OffsetDateTime) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = egov_store::db_time(t);
    }

    pub fn advance(&self, by: Duration) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *g += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_machine_clock(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_clock_stands_still_until_moved() {
        let t0 = time::macros::datetime!(2026-12-06 11:43 +7);
        let c = TestClock::at(t0);
        assert_eq!(c.now(), t0);
        c.advance(Duration::hours(1));
        assert_eq!(c.now(), t0 + Duration::hours(1));
        c.set(t0);
        assert_eq!(c.now(), t0);
        let s = SystemClock.now();
        assert!((s - OffsetDateTime::now_utc()).abs() < Duration::seconds(5));
    }
}
