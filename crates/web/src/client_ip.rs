//! Per-client-IP rate limiting keyed on the real client address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use actix_governor::{
    governor::{
        clock::{Clock, DefaultClock, QuantaInstant},
        NotUntil,
    },
    KeyExtractor, SimpleKeyExtractionError,
};
use actix_web::{
    dev::ServiceRequest, http::header, HttpResponse, HttpResponseBuilder, ResponseError,
};

use crate::error::ApiError;

/// Keys requests by client IP. With `trusted_hops = n > 0`, the client is the `n`-th address
/// from the right of `X-Forwarded-For` (each trusted proxy appends the address it saw);
/// otherwise, or when the header is shorter, the TCP peer. Never the leftmost entry, which any
/// client can forge. An IPv6 client is keyed by its first `ipv6_prefix_len` bits (a /64 by
/// default: one subscriber usually holds a whole /64, so keying by address would hand it 2^64
/// buckets).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp {
    pub trusted_hops: usize,
    /// Bits of an IPv6 address that name one client (1 to 128).
    pub ipv6_prefix_len: u8,
}

impl Default for ClientIp {
    /// The TCP peer (no trusted proxy), IPv6 clients keyed by their /64.
    fn default() -> Self {
        Self {
            trusted_hops: 0,
            ipv6_prefix_len: 64,
        }
    }
}

impl ClientIp {
    /// The rate-limit key of `ip`: an IPv4 address as is (also when it is given IPv4-mapped,
    /// `::ffff:a.b.c.d`), an IPv6 one cut to its prefix.
    pub fn key_of(&self, ip: IpAddr) -> IpAddr {
        match ip.to_canonical() {
            ip @ IpAddr::V4(_) => ip,
            IpAddr::V6(v6) => {
                let bits = u32::from(self.ipv6_prefix_len.clamp(1, 128));
                let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
            }
        }
    }

    /// The client address of `req` under this policy.
    pub fn of(&self, req: &ServiceRequest) -> IpAddr {
        self.client_of(req.peer_addr(), req.headers())
    }

    /// The client address of a request a handler sees.
    pub fn of_request(&self, req: &actix_web::HttpRequest) -> IpAddr {
        self.client_of(req.peer_addr(), req.headers())
    }

    /// The client address, IPv4-mapped addresses (`::ffff:a.b.c.d`, from a dual-stack listener
    /// or a proxy) written as IPv4, so one client has one spelling in logs, limits and the
    /// sessions list.
    fn client_of(
        &self,
        peer: Option<std::net::SocketAddr>,
        headers: &actix_web::http::header::HeaderMap,
    ) -> IpAddr {
        let peer = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        let Some(nth_from_right) = self.trusted_hops.checked_sub(1) else {
            return peer.to_canonical();
        };
        // The entry is chosen from the raw list and only then parsed: dropping entries that do
        // not parse first (`unknown`, an address with a port) would shift the count onto one
        // the client wrote. An unreadable header, or an entry that is no address, is the peer.
        let values = headers.get_all(header::X_FORWARDED_FOR);
        if values.clone().any(|v| v.to_str().is_err()) {
            return peer.to_canonical();
        }
        values
            .flat_map(|v| v.to_str().unwrap_or_default().split(','))
            .rev()
            .nth(nth_from_right)
            .and_then(parse_entry)
            .unwrap_or(peer)
            .to_canonical()
    }
}

/// One `X-Forwarded-For` entry: an address, `1.2.3.4:5678`, `[::1]` or `[::1]:5678`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| entry.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

impl KeyExtractor for ClientIp {
    type Key = IpAddr;
    type KeyExtractionError = SimpleKeyExtractionError<&'static str>;

    fn extract(&self, req: &ServiceRequest) -> Result<Self::Key, Self::KeyExtractionError> {
        Ok(self.key_of(self.of(req)))
    }

    fn exceed_rate_limit_response(
        &self,
        negative: &NotUntil<QuantaInstant>,
        _response: HttpResponseBuilder,
    ) -> HttpResponse {
        let wait = negative.wait_time_from(DefaultClock::default().now());
        metrics::counter!("altrion_rate_limited_total").increment(1);
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        ApiError::rate_limited(secs).error_response()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use actix_web::test::TestRequest;

    use super::*;

    fn request(forwarded: Option<&str>) -> ServiceRequest {
        let mut req = TestRequest::default().peer_addr("10.0.0.9:4000".parse().unwrap());
        if let Some(value) = forwarded {
            req = req.insert_header(("x-forwarded-for", value));
        }
        req.to_srv_request()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let ip = ClientIp {
            trusted_hops: 0,
            ipv6_prefix_len: 64,
        }
        .of(&request(Some("1.2.3.4")));
        assert_eq!(ip, "10.0.0.9".parse::<IpAddr>().unwrap());
    }

    /// One client, one spelling: an IPv4-mapped peer or forwarded entry is its IPv4 address
    /// wherever the address is shown (logs, the sessions list), not only in the limiter's key.
    #[test]
    fn an_ipv4_mapped_address_is_the_ipv4_one() {
        let mapped = TestRequest::default()
            .peer_addr("[::ffff:10.0.0.9]:4000".parse().unwrap())
            .insert_header(("x-forwarded-for", "::ffff:1.2.3.4"))
            .to_srv_request();
        let ip = |trusted_hops| {
            ClientIp {
                trusted_hops,
                ipv6_prefix_len: 64,
            }
            .of(&mapped)
        };
        assert_eq!(ip(0), "10.0.0.9".parse::<IpAddr>().unwrap());
        assert_eq!(ip(1), "1.2.3.4".parse::<IpAddr>().unwrap());
        assert_eq!(
            ip(2),
            "10.0.0.9".parse::<IpAddr>().unwrap(),
            "header too short"
        );
    }

    #[test]
    fn one_trusted_proxy_means_the_rightmost_entry() {
        let req = request(Some("6.6.6.6, 1.2.3.4"));
        assert_eq!(
            ClientIp {
                trusted_hops: 1,
                ipv6_prefix_len: 64
            }
            .of(&req),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            ClientIp {
                trusted_hops: 2,
                ipv6_prefix_len: 64
            }
            .of(&req),
            "6.6.6.6".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn two_addresses_in_one_ipv6_prefix_share_a_key() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let policy = ClientIp {
            trusted_hops: 0,
            ipv6_prefix_len: 64,
        };
        let a = policy.key_of(ip("2001:db8:1:2:aaaa::1"));
        assert_eq!(a, policy.key_of(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")));
        assert_eq!(a, ip("2001:db8:1:2::"));
        assert_ne!(a, policy.key_of(ip("2001:db8:1:3::1")));
        let per_address = ClientIp {
            ipv6_prefix_len: 128,
            ..policy
        };
        assert_ne!(
            per_address.key_of(ip("2001:db8:1:2::1")),
            per_address.key_of(ip("2001:db8:1:2::2"))
        );
        // IPv4 addresses are keyed as they are, also IPv4-mapped: each its own bucket, not all
        // of them in the /64 `::`.
        assert_eq!(policy.key_of(ip("10.0.0.9")), ip("10.0.0.9"));
        assert_eq!(policy.key_of(ip("::ffff:10.0.0.9")), ip("10.0.0.9"));
        assert_ne!(
            policy.key_of(ip("::ffff:10.0.0.9")),
            policy.key_of(ip("::ffff:10.0.0.10"))
        );
    }

    /// The trusted proxy's entry is found by position before parsing: an entry that is no
    /// address (`unknown`), or an address with a port, must not shift the count onto an entry
    /// the client wrote.
    #[test]
    fn entries_that_are_not_addresses_never_hand_the_client_the_choice() {
        let one = ClientIp {
            trusted_hops: 1,
            ipv6_prefix_len: 64,
        };
        let peer: IpAddr = "10.0.0.9".parse().unwrap();
        assert_eq!(one.of(&request(Some("6.6.6.6, unknown"))), peer);
        assert_eq!(
            one.of(&request(Some("6.6.6.6, 1.2.3.4:5678"))),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            one.of(&request(Some("6.6.6.6, [2001:db8::1]:443"))),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            one.of(&request(Some("6.6.6.6, [2001:db8::2]"))),
            "2001:db8::2".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn a_short_or_garbled_header_falls_back_to_the_peer() {
        let peer: IpAddr = "10.0.0.9".parse().unwrap();
        // A second header line that is not text: the whole list is unreadable.
        let unreadable = TestRequest::default()
            .peer_addr("10.0.0.9:4000".parse().unwrap())
            .append_header(("x-forwarded-for", "6.6.6.6"))
            .append_header((
                "x-forwarded-for",
                actix_web::http::header::HeaderValue::from_bytes(b"1.2.3.4\xff").unwrap(),
            ))
            .to_srv_request();
        let one = ClientIp {
            trusted_hops: 1,
            ipv6_prefix_len: 64,
        };
        assert_eq!(one.of(&unreadable), peer);
        // Readable lines count as one list.
        let two_lines = TestRequest::default()
            .peer_addr("10.0.0.9:4000".parse().unwrap())
            .append_header(("x-forwarded-for", "6.6.6.6"))
            .append_header(("x-forwarded-for", "1.2.3.4, 5.5.5.5"))
            .to_srv_request();
        assert_eq!(
            ClientIp {
                trusted_hops: 2,
                ipv6_prefix_len: 64
            }
            .of(&two_lines),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            ClientIp {
                trusted_hops: 2,
                ipv6_prefix_len: 64
            }
            .of(&request(Some("1.2.3.4"))),
            peer
        );
        assert_eq!(
            ClientIp {
                trusted_hops: 1,
                ipv6_prefix_len: 64
            }
            .of(&request(Some("not-an-ip"))),
            peer
        );
        assert_eq!(
            ClientIp {
                trusted_hops: 1,
                ipv6_prefix_len: 64
            }
            .of(&request(None)),
            peer
        );
    }
}
