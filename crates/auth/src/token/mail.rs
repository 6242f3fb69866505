//! Single-use tokens mailed in links: password reset and email verification.
//!
//! They are JWTs like access tokens, but signed with a key of their own (derived from the
//! access-token secret with a purpose label, so neither kind verifies as the other), with their
//! own audience and a `purpose` claim checked on use. Nothing is stored: a reset token carries
//! the user's `token_version`, which using it (or changing the password, or "log out
//! everywhere") moves on; a verification token carries the email, and verifying flips the flag
//! it is checked against. Both are therefore single-use without a collection of their own.

use altrion_domain::{Timestamp, User};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::Duration;
use uuid::Uuid;

use super::{map_error, TokenError};

/// The audience of every mailed token; access tokens never carry it.
const MAIL_AUDIENCE: &str = "altrion-mail";

/// What a mailed token is for; a token of one purpose is refused for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    PasswordReset,
    EmailVerification,
}

/// The claims of a mailed token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailClaims {
    pub sub: String,
    pub purpose: Purpose,
    /// The user's `token_version` when issued (what a reset must still find).
    pub tv: i64,
    /// The address the mail went to (what a verification marks verified).
    pub email: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
}

/// Signs and checks mailed tokens.
pub(super) struct MailKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl MailKeys {
    /// Keys derived from the access-token secret: SHA-256 over a purpose label and the secret,
    /// a one-way step, so a mailed token leaks nothing that signs access tokens.
    pub(super) fn derive(secret: &[u8], issuer: &str) -> Self {
        let key = key(secret);
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[MAIL_AUDIENCE]);
        // A short-lived link: no clock-skew allowance beyond a few seconds.
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            validation,
        }
    }

    pub(super) fn issue(
        &self,
        purpose: Purpose,
        user: &User,
        now: Timestamp,
        ttl: Duration,
        issuer: &str,
    ) -> Result<String, TokenError> {
        let claims = MailClaims {
            sub: user.id.as_str().to_owned(),
            purpose,
            tv: user.token_version,
            email: user.email.as_str().to_owned(),
            iat: now.unix_timestamp(),
            exp: (now + ttl).unix_timestamp(),
            iss: issuer.to_owned(),
            aud: MAIL_AUDIENCE.to_owned(),
            jti: Uuid::new_v4().to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| TokenError::Signing)
    }

    pub(super) fn verify(&self, purpose: Purpose, token: &str) -> Result<MailClaims, TokenError> {
        let claims = jsonwebtoken::decode::<MailClaims>(token, &self.decoding, &self.validation)
            .map_err(|e| map_error(e.kind()))?
            .claims;
        if claims.purpose != purpose {
            return Err(TokenError::WrongPurpose);
        }
        Ok(claims)
    }
}

/// The mailed-token key: a labelled hash of the access-token secret.
pub(super) fn key(secret: &[u8]) -> [u8; 32] {
    super::labelled_hash(b"altrion mailed-token key v1\0", secret)
}
