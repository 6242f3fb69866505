use serde::{Deserialize, Serialize};

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
pub(super) struct RawClaims {
    sub: Option<String>,
    iat: Option<i64>,
    nbf: Option<i64>,
    exp: Option<i64>,
    iss: Option<String>,
    aud: Option<String>,
    jti: Option<String>,
    tv: Option<i64>,
}

impl RawClaims {
    pub(super) fn into_claims(self) -> Result<Claims, TokenError> {
        let missing = |name: &str| TokenError::MissingClaim(name.to_owned());
        Ok(Claims {
            sub: self.sub.ok_or_else(|| missing("sub"))?,
            iat: self.iat.ok_or_else(|| missing("iat"))?,
            nbf: self.nbf,
            exp: self.exp.ok_or_else(|| missing("exp"))?,
            iss: self.iss.ok_or_else(|| missing("iss"))?,
            aud: self.aud.ok_or_else(|| missing("aud"))?,
            jti: self.jti.ok_or_else(|| missing("jti"))?,
            tv: self.tv.ok_or_else(|| missing("tv"))?,
        })
    }
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
    /// A mailed token of another purpose (a verification token offered as a reset token).
    #[error("token purpose not accepted")]
    WrongPurpose,
    /// Signing failed (a bug or a broken crypto backend).
    #[error("token signing failed")]
    Signing,
}
