//! HS256 access tokens: issuing with the injected clock's "now", and strict validation.

use std::sync::Arc;

use altrion_domain::{Timestamp, User};
use jsonwebtoken::{
    crypto::{rust_crypto, CryptoProvider},
    errors::ErrorKind,
    Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use time::Duration;
use uuid::Uuid;

use crate::ConfigError;

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

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Not before (Unix seconds); always written, checked when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Expiry (Unix seconds).
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    /// A random UUID v4 naming this token.
    pub jti: String,
    /// The user's `token_version` when issued; "log out everywhere" bumps it.
    pub tv: i64,
}

/// What decoding accepts before the presence of our own claims is checked, so a missing claim
/// is reported by name instead of as a JSON error.
#[derive(Deserialize)]
struct RawClaims {
    sub: Option<String>,
    iat: Option<i64>,
    nbf: Option<i64>,
    exp: Option<i64>,
    iss: Option<String>,
    aud: Option<String>,
    jti: Option<String>,
    tv: Option<i64>,
}

/// A freshly issued access token.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The compact JWT, for `Authorization: Bearer …`.
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Why a token was refused. Every variant means "unauthenticated" to a client; the detail is
/// for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("token signature invalid")]
    BadSignature,
    #[error("token algorithm not accepted")]
    WrongAlgorithm,
    #[error("token issuer not accepted")]
    WrongIssuer,
    #[error("token audience not accepted")]
    WrongAudience,
    #[error("token lacks the `{0}` claim")]
    MissingClaim(String),
    #[error("token malformed")]
    Malformed,
    /// Signing failed (a bug or a broken crypto backend).
    #[error("token signing failed")]
    Signing,
}

/// Issues and verifies access tokens. Cheap to clone.
#[derive(Clone)]
pub struct TokenService {
    inner: Arc<Inner>,
}

struct Inner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("secret", &"<redacted>")
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .field("ttl", &self.inner.ttl)
            .field("leeway_secs", &self.inner.validation.leeway)
            .finish()
    }
}

impl TokenService {
    /// Validates the settings and makes sure jsonwebtoken's RustCrypto backend is installed
    /// and works (jsonwebtoken ≥ 10 panics on first use otherwise).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a short secret, a leeway over 30 s, a non-positive
    /// `ttl`, or an empty issuer/audience; [`ConfigError::CryptoUnavailable`] when signing
    /// cannot work in this process.
    pub fn new(settings: &TokenSettings) -> Result<Self, ConfigError> {
        let secret = settings.secret.expose_secret().as_bytes();
        if secret.len() < MIN_SECRET_BYTES {
            return Err(ConfigError::invalid(
                "secret",
                format!("must be at least {MIN_SECRET_BYTES} bytes"),
            ));
        }
        if settings.leeway_secs > MAX_LEEWAY_SECS {
            return Err(ConfigError::invalid(
                "leeway_secs",
                format!("must be at most {MAX_LEEWAY_SECS}"),
            ));
        }
        if settings.ttl <= Duration::ZERO {
            return Err(ConfigError::invalid("ttl", "must be positive"));
        }
        if settings.issuer.trim().is_empty() {
            return Err(ConfigError::invalid("issuer", "must not be empty"));
        }
        if settings.audience.trim().is_empty() {
            return Err(ConfigError::invalid("audience", "must not be empty"));
        }

        let encoding = EncodingKey::from_secret(secret);
        let decoding = DecodingKey::from_secret(secret);
        ensure_crypto_provider(&encoding, &decoding)?;

        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.leeway = settings.leeway_secs;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;

        Ok(Self {
            inner: Arc::new(Inner {
                encoding,
                decoding,
                validation,
                issuer: settings.issuer.clone(),
                audience: settings.audience.clone(),
                ttl: settings.ttl,
            }),
        })
    }

    /// Signs a token for `user` valid from `now` for the configured lifetime.
    ///
    /// # Errors
    /// [`TokenError::Signing`] if the backend fails.
    pub fn issue(&self, user: &User, now: Timestamp) -> Result<IssuedToken, TokenError> {
        let inner = &self.inner;
        let claims = Claims {
            sub: user.id.as_str().to_owned(),
            iat: now.unix_timestamp(),
            nbf: Some(now.unix_timestamp()),
            exp: (now + inner.ttl).unix_timestamp(),
            iss: inner.issuer.clone(),
            aud: inner.audience.clone(),
            jti: Uuid::new_v4().to_string(),
            tv: user.token_version,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &inner.encoding)
            .map_err(|_| TokenError::Signing)?;
        Ok(IssuedToken {
            token,
            expires_in: u64::try_from(inner.ttl.whole_seconds()).unwrap_or(0),
        })
    }

    /// Checks signature (HS256 only), `exp`/`nbf` against the system clock with the
    /// configured leeway, `iss` and `aud`, and the presence of every claim.
    ///
    /// jsonwebtoken judges time by the system clock, not the injected [`Clock`]
    /// (altrion_domain::Clock): tests of expiry issue tokens with a clock set in the past.
    ///
    /// # Errors
    /// The [`TokenError`] naming the first check that failed.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let data =
            jsonwebtoken::decode::<RawClaims>(token, &self.inner.decoding, &self.inner.validation)
                .map_err(|e| map_error(e.kind()))?;
        let raw = data.claims;
        let missing = |name: &str| TokenError::MissingClaim(name.to_owned());
        Ok(Claims {
            sub: raw.sub.ok_or_else(|| missing("sub"))?,
            iat: raw.iat.ok_or_else(|| missing("iat"))?,
            nbf: raw.nbf,
            exp: raw.exp.ok_or_else(|| missing("exp"))?,
            iss: raw.iss.ok_or_else(|| missing("iss"))?,
            aud: raw.aud.ok_or_else(|| missing("aud"))?,
            jti: raw.jti.ok_or_else(|| missing("jti"))?,
            tv: raw.tv.ok_or_else(|| missing("tv"))?,
        })
    }

    /// The configured token lifetime.
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }
}

fn map_error(kind: &ErrorKind) -> TokenError {
    match kind {
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidSignature => TokenError::BadSignature,
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => TokenError::WrongAlgorithm,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) => TokenError::MissingClaim(claim.clone()),
        _ => TokenError::Malformed,
    }
}

/// Installs the RustCrypto provider as the process default (a no-op if one is installed
/// already) and proves with a sign/verify round trip that the active provider works. The
/// round trip runs under `catch_unwind` because jsonwebtoken panics when no provider can be
/// determined (e.g. when feature unification enabled both backends and nobody installed one).
fn ensure_crypto_provider(
    encoding: &EncodingKey,
    decoding: &DecodingKey,
) -> Result<(), ConfigError> {
    let provider: &'static CryptoProvider = &rust_crypto::DEFAULT_PROVIDER;
    // Err only means a provider was installed first (ours from an earlier call, or the app's
    // explicit choice); the round trip below tells whether it works.
    let _ = provider.install_default();
    let message = b"altrion crypto self-test";
    let round_trip = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let signature = jsonwebtoken::crypto::sign(message, encoding, Algorithm::HS256)?;
        jsonwebtoken::crypto::verify(&signature, message, decoding, Algorithm::HS256)
    }));
    match round_trip {
        Ok(Ok(true)) => Ok(()),
        Ok(Ok(false)) => Err(ConfigError::CryptoUnavailable(
            "HS256 self-test signature did not verify".to_owned(),
        )),
        Ok(Err(e)) => Err(ConfigError::CryptoUnavailable(format!(
            "HS256 self-test failed: {e}"
        ))),
        Err(_) => Err(ConfigError::CryptoUnavailable(
            "no jsonwebtoken CryptoProvider could be determined; install one with \
             jsonwebtoken::crypto::CryptoProvider::install_default"
                .to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn settings() -> TokenSettings {
        TokenSettings::with_secret(SecretString::from(SECRET))
    }

    fn invalid_setting(s: &TokenSettings) -> &'static str {
        match TokenService::new(s) {
            Err(ConfigError::Invalid { setting, .. }) => setting,
            other => panic!("expected an invalid setting, got {other:?}"),
        }
    }

    #[test]
    fn refuses_weak_settings_naming_the_setting() {
        let short = TokenSettings::with_secret(SecretString::from(&SECRET[..31]));
        assert_eq!(invalid_setting(&short), "secret");
        assert!(TokenService::new(&settings()).is_ok(), "32 bytes is enough");

        let leeway = TokenSettings {
            leeway_secs: 31,
            ..settings()
        };
        assert_eq!(invalid_setting(&leeway), "leeway_secs");
        let ttl = TokenSettings {
            ttl: Duration::ZERO,
            ..settings()
        };
        assert_eq!(invalid_setting(&ttl), "ttl");
        let issuer = TokenSettings {
            issuer: " ".into(),
            ..settings()
        };
        assert_eq!(invalid_setting(&issuer), "issuer");
        let audience = TokenSettings {
            audience: String::new(),
            ..settings()
        };
        assert_eq!(invalid_setting(&audience), "audience");
    }

    #[test]
    fn validation_pins_hs256_and_requires_the_claims() {
        let service = TokenService::new(&settings()).unwrap();
        assert_eq!(service.inner.validation.algorithms, vec![Algorithm::HS256]);
        let required = &service.inner.validation.required_spec_claims;
        for claim in ["exp", "sub", "iss", "aud"] {
            assert!(required.contains(claim), "{claim}");
        }
        assert!(service.inner.validation.validate_nbf);
        assert!(service.inner.validation.leeway <= MAX_LEEWAY_SECS);
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let s = settings();
        assert!(!format!("{s:?}").contains(SECRET));
        let service = TokenService::new(&s).unwrap();
        assert!(!format!("{service:?}").contains(SECRET));
    }

    #[test]
    fn settings_deserialize_with_defaults() {
        let s: TokenSettings =
            serde_json::from_str(&format!(r#"{{"secret": "{SECRET}", "ttl": "1h"}}"#)).unwrap();
        assert_eq!(s.secret.expose_secret(), SECRET);
        assert_eq!(s.ttl, Duration::hours(1));
        assert_eq!(s.issuer, "altrion");
        assert_eq!(s.audience, "altrion-web");
        assert_eq!(s.leeway_secs, 30);
        assert!(
            serde_json::from_str::<TokenSettings>("{}").is_err(),
            "secret is required"
        );
    }

    #[test]
    fn issued_token_debug_is_redacted() {
        let issued = IssuedToken {
            token: "eyJ.secret.part".into(),
            expires_in: 5,
        };
        assert!(!format!("{issued:?}").contains("eyJ"));
    }
}
