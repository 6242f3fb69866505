//! Per-client-IP rate limits with `actix-governor`, keyed by [`ClientIp`], whose memory follows
//! the clients seen recently rather than every address ever seen.

use std::{sync::Arc, time::Duration};

use actix_governor::{
    governor::{clock::QuantaInstant, middleware::NoOpMiddleware, DefaultKeyedRateLimiter},
    GovernorConfig, GovernorConfigBuilder,
};

use crate::client_ip::ClientIp;

/// A per-IP limiter: `.wrap(Governor::new(&limit))` on the routes it guards. Over the quota a
/// client gets `429 rate_limited` with `Retry-After`.
pub type IpLimit = GovernorConfig<ClientIp, NoOpMiddleware<QuantaInstant>>;

/// How often idle per-IP buckets are dropped.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// The quota is zero.
#[derive(Debug, thiserror::Error)]
#[error("a per-IP limit needs a rate and a burst greater than 0")]
pub struct ZeroRate;

/// A limiter allowing each client `per_minute` requests a minute on average and bursts of
/// `burst`, with buckets of its own (one per call). Any `u32` rate is representable (the period
/// is computed in nanoseconds). Inside a Tokio runtime, buckets that have refilled — idle
/// clients — are dropped every minute until every clone of the limiter is gone.
///
/// # Errors
/// [`ZeroRate`] when `per_minute` or `burst` is 0.
pub fn ip_limit(per_minute: u32, burst: u32, client_ip: ClientIp) -> Result<IpLimit, ZeroRate> {
    if per_minute == 0 || burst == 0 {
        return Err(ZeroRate);
    }
    let config = GovernorConfigBuilder::default()
        .period(Duration::from_nanos(60_000_000_000 / u64::from(per_minute)))
        .burst_size(burst)
        .key_extractor(client_ip)
        .finish()
        .ok_or(ZeroRate)?;
    let limiter = config.limiter();
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        let limiter = Arc::downgrade(&limiter);
        runtime.spawn(async move {
            let mut every = tokio::time::interval(PRUNE_EVERY);
            every.tick().await;
            loop {
                every.tick().await;
                // Every clone of the config is gone: nothing left to prune.
                let Some(limiter) = limiter.upgrade() else {
                    return;
                };
                prune(&limiter);
            }
        });
    }
    Ok(config)
}

/// Drops the buckets of clients whose quota has fully refilled: they hold no state worth keeping.
fn prune(limiter: &DefaultKeyedRateLimiter<std::net::IpAddr>) {
    limiter.retain_recent();
    limiter.shrink_to_fit();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// 100,000 distinct addresses, each seen once: once their buckets have refilled, pruning
    /// leaves nothing behind, so the limiter's memory follows recent clients only.
    #[test]
    fn pruning_forgets_addresses_whose_quota_refilled() {
        // A bucket refills in about 14 ns at this rate: by the time 100,000 keys are in, the
        // first ones are full again, and after the last one is checked all are.
        let config = ip_limit(u32::MAX, 1, ClientIp::default()).unwrap();
        let limiter = config.limiter().clone();
        for n in 0..100_000_u32 {
            let ip = std::net::IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n));
            assert!(limiter.check_key(&ip).is_ok());
        }
        assert_eq!(limiter.len(), 100_000);
        prune(&limiter);
        assert!(limiter.is_empty());
    }

    #[test]
    fn per_minute_rates_above_60000_are_representable_and_zero_is_refused() {
        for rate in [60_001, 120_000, u32::MAX] {
            assert!(
                ip_limit(rate, 10, ClientIp::default()).is_ok(),
                "{rate} per minute"
            );
        }
        assert!(ip_limit(0, 10, ClientIp::default()).is_err());
        assert!(ip_limit(10, 0, ClientIp::default()).is_err());
    }

    #[test]
    fn the_burst_is_the_quota_before_the_first_refill() {
        let config = ip_limit(1, 3, ClientIp::default()).unwrap();
        let ip = std::net::IpAddr::from([10, 0, 0, 1]);
        let granted = (0..10)
            .filter(|_| config.limiter().check_key(&ip).is_ok())
            .count();
        assert_eq!(granted, 3);
    }
}
