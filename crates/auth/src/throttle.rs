//! Per-account lockout after consecutive failed logins, with exponential back-off.
//!
//! From the `threshold`-th consecutive failure the account waits `base_delay`, doubling with
//! each further failure up to `max_delay`. Attempts made while locked are refused before the
//! password is checked and are not counted, so hammering a locked account neither extends the
//! lock nor keeps the victim out for longer than `max_delay` after the last counted failure.

use altrion_domain::Timestamp;
use time::Duration;

use crate::ConfigError;

/// When and for how long an account stops accepting password logins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// The consecutive failure that first locks the account.
    pub threshold: u32,
    /// The lock after the `threshold`-th failure; doubles with each further failure.
    pub base_delay: Duration,
    /// The longest lock.
    pub max_delay: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            threshold: 5,
            base_delay: Duration::seconds(1),
            max_delay: Duration::minutes(15),
        }
    }
}

/// Whether a password login may proceed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockoutStatus {
    /// Check the password.
    Open,
    /// Refuse without checking; the lock ends after `retry_after`.
    Locked { retry_after: Duration },
}

impl LockoutPolicy {
    /// Checks the policy is usable.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming `threshold`, `base_delay` or `max_delay`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.threshold == 0 {
            return Err(ConfigError::invalid("threshold", "must be at least 1"));
        }
        if self.base_delay <= Duration::ZERO {
            return Err(ConfigError::invalid("base_delay", "must be positive"));
        }
        if self.max_delay < self.base_delay {
            return Err(ConfigError::invalid(
                "max_delay",
                "must be at least base_delay",
            ));
        }
        Ok(())
    }

    /// Whether an account locked until `locked_until` may try a password at `now`.
    pub fn status(&self, locked_until: Option<Timestamp>, now: Timestamp) -> LockoutStatus {
        match locked_until {
            Some(until) if until > now => LockoutStatus::Locked {
                retry_after: until - now,
            },
            _ => LockoutStatus::Open,
        }
    }

    /// The lock earned by reaching `failures` consecutive failures, if any.
    pub fn delay_after(&self, failures: u32) -> Option<Duration> {
        let doublings = failures.checked_sub(self.threshold)?;
        let mut delay = self.base_delay;
        for _ in 0..doublings {
            if delay >= self.max_delay {
                break;
            }
            delay = delay.saturating_mul(2);
        }
        Some(delay.min(self.max_delay))
    }

    /// Until when the account is locked after the failure that brought the count to
    /// `failures` at `now`, if that failure locks it.
    pub fn lock_until(&self, failures: u32, now: Timestamp) -> Option<Timestamp> {
        self.delay_after(failures).map(|delay| now + delay)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use altrion_domain::{Clock, TestClock};

    use super::*;

    #[test]
    fn no_lock_below_threshold_then_doubling_to_the_cap() {
        let policy = LockoutPolicy::default();
        for failures in 0..5 {
            assert_eq!(policy.delay_after(failures), None, "{failures}");
        }
        let expected = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900];
        for (i, secs) in expected.into_iter().enumerate() {
            let failures = 5 + u32::try_from(i).unwrap();
            assert_eq!(
                policy.delay_after(failures),
                Some(Duration::seconds(secs)),
                "after {failures} failures"
            );
        }
        assert_eq!(policy.delay_after(u32::MAX), Some(Duration::minutes(15)));
    }

    #[test]
    fn locked_until_expiry_with_the_remaining_time() {
        let policy = LockoutPolicy::default();
        let clock = TestClock::starting_now();
        let until = policy.lock_until(6, clock.now()).unwrap();
        assert_eq!(
            policy.status(Some(until), clock.now()),
            LockoutStatus::Locked {
                retry_after: Duration::seconds(2)
            }
        );
        clock.advance(Duration::milliseconds(1_500));
        assert_eq!(
            policy.status(Some(until), clock.now()),
            LockoutStatus::Locked {
                retry_after: Duration::milliseconds(500)
            }
        );
        clock.advance(Duration::milliseconds(500));
        assert_eq!(policy.status(Some(until), clock.now()), LockoutStatus::Open);
        assert_eq!(policy.status(None, clock.now()), LockoutStatus::Open);
    }

    #[test]
    fn validation_names_the_setting() {
        let bad = |p: LockoutPolicy| match p.validate() {
            Err(ConfigError::Invalid { setting, .. }) => setting,
            other => panic!("{other:?}"),
        };
        let base = LockoutPolicy::default();
        assert_eq!(
            bad(LockoutPolicy {
                threshold: 0,
                ..base
            }),
            "threshold"
        );
        assert_eq!(
            bad(LockoutPolicy {
                base_delay: Duration::ZERO,
                ..base
            }),
            "base_delay"
        );
        assert_eq!(
            bad(LockoutPolicy {
                max_delay: Duration::milliseconds(10),
                ..base
            }),
            "max_delay"
        );
        assert!(base.validate().is_ok());
    }
}
