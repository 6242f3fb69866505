use std::sync::{Arc, Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

use crate::Timestamp;

/// The source of "now". Injected everywhere expiry or lockout is judged, so tests never sleep.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant, UTC, truncated to milliseconds.
    fn now(&self) -> Timestamp;
}

/// Truncates to the millisecond, the precision MongoDB keeps for dates.
fn to_millis(t: OffsetDateTime) -> OffsetDateTime {
    let nanos = t.nanosecond();
    t.replace_nanosecond(nanos - nanos % 1_000_000).unwrap_or(t)
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        to_millis(OffsetDateTime::now_utc())
    }
}

/// A clock that only moves when told to; clones share the same instant.
#[derive(Debug, Clone)]
pub struct TestClock {
    now: Arc<Mutex<Timestamp>>,
}

impl TestClock {
    /// A clock frozen at `start` (truncated to milliseconds).
    pub fn at(start: Timestamp) -> Self {
        Self {
            now: Arc::new(Mutex::new(to_millis(start))),
        }
    }

    /// A clock frozen at the current wall-clock instant.
    pub fn starting_now() -> Self {
        Self::at(OffsetDateTime::now_utc())
    }

    /// Moves the clock to `instant`.
    pub fn set(&self, instant: Timestamp) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = to_millis(instant);
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = to_millis(*now + by);
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_has_millisecond_precision() {
        assert_eq!(SystemClock.now().nanosecond() % 1_000_000, 0);
    }

    #[test]
    fn test_clock_moves_only_when_told_and_clones_share_time() {
        let start = time::macros::datetime!(2026-01-01 00:00:00.123_456_789 UTC);
        let clock = TestClock::at(start);
        let other = clock.clone();
        assert_eq!(
            clock.now(),
            time::macros::datetime!(2026-01-01 00:00:00.123 UTC)
        );

        clock.advance(Duration::seconds(90));
        assert_eq!(
            other.now(),
            time::macros::datetime!(2026-01-01 00:01:30.123 UTC)
        );

        other.set(start + Duration::days(1));
        assert_eq!(
            clock.now(),
            time::macros::datetime!(2026-01-02 00:00:00.123 UTC)
        );
    }
}
