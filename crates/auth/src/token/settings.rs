use secrecy::SecretString;
use serde::Deserialize;
use time::Duration;

/// The shortest accepted HMAC secret, in bytes (the SHA-256 output size).
pub const MIN_SECRET_BYTES: usize = 32;
/// The largest accepted clock-skew allowance.
pub const MAX_LEEWAY_SECS: u64 = 30;

/// Signing secret, claims and lifetime of access tokens.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenSettings {
    /// HMAC key, at least 32 bytes; required (no default). Redacted in `Debug`.
    pub secret: SecretString,
    /// The `iss` claim written and required.
    #[serde(default = "default_issuer")]
    pub issuer: String,
    /// The `aud` claim written and required.
    #[serde(default = "default_audience")]
    pub audience: String,
    /// Token lifetime (seconds, or `"24h"`-style text).
    #[serde(
        default = "default_ttl",
        deserialize_with = "crate::duration::deserialize"
    )]
    pub ttl: Duration,
    /// Clock-skew allowance on `exp` and `nbf`, at most 30 s.
    #[serde(default = "default_leeway")]
    pub leeway_secs: u64,
}

fn default_issuer() -> String {
    "altrion".to_owned()
}

fn default_audience() -> String {
    "altrion-web".to_owned()
}

fn default_ttl() -> Duration {
    Duration::hours(24)
}

fn default_leeway() -> u64 {
    MAX_LEEWAY_SECS
}

impl TokenSettings {
    /// Defaults for everything but the secret.
    pub fn with_secret(secret: SecretString) -> Self {
        Self {
            secret,
            issuer: default_issuer(),
            audience: default_audience(),
            ttl: default_ttl(),
            leeway_secs: default_leeway(),
        }
    }
}
