use secrecy::SecretString;
use time::Duration;

pub use altrion_domain::MIN_SECRET_BYTES;
/// The largest accepted clock-skew allowance.
pub const MAX_LEEWAY_SECS: u64 = 30;

/// Signing secret, claims and lifetime of access tokens.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// HMAC key, at least [`MIN_SECRET_BYTES`]; required (no default). Redacted in `Debug`.
    pub secret: SecretString,
    /// The `iss` claim written and required.
    pub issuer: String,
    /// The `aud` claim written and required.
    pub audience: String,
    /// Token lifetime.
    pub ttl: Duration,
    /// Clock-skew allowance on `exp` and `nbf`, at most [`MAX_LEEWAY_SECS`].
    pub leeway_secs: u64,
}

impl TokenSettings {
    /// Defaults for everything but the secret: issuer `altrion`, audience `altrion-web`,
    /// 24-hour tokens, the largest leeway.
    pub fn with_secret(secret: SecretString) -> Self {
        Self {
            secret,
            issuer: "altrion".to_owned(),
            audience: "altrion-web".to_owned(),
            ttl: Duration::hours(24),
            leeway_secs: MAX_LEEWAY_SECS,
        }
    }
}
