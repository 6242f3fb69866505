//! HS256 access tokens: issuing with the injected clock's "now", and strict validation.

mod claims;
mod mail;
mod settings;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use altrion_domain::{Timestamp, User};
use jsonwebtoken::{
    crypto::{rust_crypto, CryptoProvider},
    errors::ErrorKind,
    Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;
use time::Duration;
use uuid::Uuid;

use crate::ConfigError;
use claims::RawClaims;
use mail::MailKeys;

pub use claims::{Claims, IssuedToken, TokenError};
pub use mail::{MailClaims, Purpose};
pub use settings::{TokenSettings, MAX_LEEWAY_SECS, MIN_SECRET_BYTES};

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
    mail: MailKeys,
    /// A one-way digest of the signing secret, for [`TokenService::shares_secret`].
    fingerprint: [u8; 32],
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
                mail: MailKeys::derive(secret, &settings.issuer),
                fingerprint: fingerprint(secret),
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
    /// jsonwebtoken judges time by the system clock, not the injected
    /// [`Clock`](altrion_domain::Clock): tests of expiry issue tokens with a clock set in the
    /// past.
    ///
    /// # Errors
    /// The [`TokenError`] naming the first check that failed.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let data =
            jsonwebtoken::decode::<RawClaims>(token, &self.inner.decoding, &self.inner.validation)
                .map_err(|e| map_error(e.kind()))?;
        data.claims.into_claims()
    }

    /// The configured token lifetime.
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }

    /// Whether `secret` is the signing secret, compared in constant time, so a caller can
    /// refuse to use it for anything else (session cookies, say). Only a digest of the
    /// secret is kept for this.
    pub fn shares_secret(&self, secret: &[u8]) -> bool {
        fingerprint(secret).ct_eq(&self.inner.fingerprint).into()
    }

    /// Signs a token for a mailed link: `purpose`, the user's id, email and token version,
    /// valid from `now` for `ttl`. It is not an access token, and [`verify`](Self::verify)
    /// refuses it.
    ///
    /// # Errors
    /// [`TokenError::Signing`] if the backend fails.
    pub fn issue_mail_token(
        &self,
        purpose: Purpose,
        user: &User,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<String, TokenError> {
        self.inner
            .mail
            .issue(purpose, user, now, ttl, &self.inner.issuer)
    }

    /// Checks a mailed token's signature, expiry (against the system clock), issuer, audience
    /// and purpose. Whether it is still unused is the caller's to check against the user.
    ///
    /// # Errors
    /// The [`TokenError`] naming the first check that failed; [`TokenError::WrongPurpose`] for
    /// a valid token of the other purpose.
    pub fn verify_mail_token(
        &self,
        purpose: Purpose,
        token: &str,
    ) -> Result<MailClaims, TokenError> {
        self.inner.mail.verify(purpose, token)
    }
}

/// SHA-256 over a label and `secret`: equal for equal secrets, different for different labels,
/// and no way back to the secret.
fn labelled_hash(label: &[u8], secret: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(label)
        .chain_update(secret)
        .finalize()
        .into()
}

/// What [`TokenService::shares_secret`] compares: the secret's hash, never the secret.
fn fingerprint(secret: &[u8]) -> [u8; 32] {
    labelled_hash(b"altrion token secret fingerprint v1\0", secret)
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
