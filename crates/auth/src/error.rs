use std::error::Error as StdError;

use altrion_domain::RepoError;
use serde::Serialize;
use time::Duration;

type BoxError = Box<dyn StdError + Send + Sync>;

/// One rejected input field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The request field: `name`, `email` or `password`.
    pub field: &'static str,
    /// A human-readable reason, safe to show to the user (never echoes the value).
    pub message: String,
}

/// Why a use case failed. Never carries passwords or tokens.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// One or more request fields are invalid; every offending field is listed.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// Unknown email, wrong password or an account without a password: deliberately the same.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// Another account already uses this email.
    #[error("email already registered")]
    EmailTaken,
    /// Too many consecutive failed logins; password logins resume after `retry_after`.
    #[error("account temporarily locked")]
    Locked {
        /// How long until the next attempt is considered.
        retry_after: Duration,
    },
    /// Missing, invalid, expired or revoked credentials on an authenticated request.
    #[error("not authenticated")]
    Unauthorized,
    /// A sensitive change needs a fresh proof of identity: the current password, or for an
    /// account without one a sign-in less than the re-authentication window old.
    #[error("re-authentication required")]
    ReauthenticationRequired,
    /// Removing this would leave the account without any way to sign in.
    #[error("the last way to sign in cannot be removed")]
    LastSignInMethod,
    /// The account has no identity of this provider.
    #[error("no such identity is linked")]
    NotLinked,
    /// A mailed link's token is malformed, tampered with, expired, of another purpose, or
    /// already used (deliberately one answer for all).
    #[error("the link is invalid or has expired")]
    InvalidToken,
    /// The deployment requires a verified email and this account has not verified it.
    #[error("email address not verified")]
    EmailNotVerified,
    /// A verification mail was asked for an address that is verified already.
    #[error("email address already verified")]
    EmailAlreadyVerified,
    /// The account's quota of this kind of mail is spent; another may be asked after
    /// `retry_after` at the latest.
    #[error("too many mails requested")]
    MailQuotaExceeded {
        /// An upper bound on the wait.
        retry_after: Duration,
    },
    /// Too many requests are being worked on in the background; retry shortly.
    #[error("busy")]
    Busy,
    /// The store could not be reached; the request may be retried.
    #[error("service unavailable")]
    Unavailable(#[source] BoxError),
    /// A bug or corrupt data; details are only in the source chain (log it, don't show it).
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl AuthError {
    /// For [`AuthError::Locked`], the whole seconds to put in `Retry-After` (rounded up, ≥ 1).
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::Locked { retry_after } | Self::MailQuotaExceeded { retry_after } => {
                Some(ceil_secs(*retry_after))
            }
            _ => None,
        }
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into().into())
    }
}

fn ceil_secs(d: Duration) -> u64 {
    let secs = d.whole_seconds() + i64::from(d.subsec_nanoseconds() > 0);
    u64::try_from(secs).unwrap_or(0).max(1)
}

impl From<RepoError> for AuthError {
    /// The store-wide mapping; callers handle `NotFound` and `Conflict` first where they mean
    /// something.
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::Unavailable(source) => Self::Unavailable(source),
            other => Self::Internal(Box::new(other)),
        }
    }
}

/// A setting that cannot be used; raised at construction so a bad config fails at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The named setting has an unusable value.
    #[error("invalid setting `{setting}`: {reason}")]
    Invalid {
        /// The setting's field name, e.g. `memory_kib` or `secret`.
        setting: &'static str,
        /// What is wrong with it (never the secret's value).
        reason: String,
    },
    /// A cost parameter below the production floor (OWASP's minimum for argon2id). Tests and
    /// benchmarks that want fast hashing say so with
    /// [`PasswordHasher::insecure_fast`](crate::PasswordHasher::insecure_fast).
    #[error("`{setting}` is {value}, below the production floor of {floor}")]
    BelowFloor {
        setting: &'static str,
        value: u32,
        floor: u32,
    },
    /// The jsonwebtoken crypto backend could not be installed or does not work.
    #[error("JWT crypto backend unavailable: {0}")]
    CryptoUnavailable(String),
}

impl ConfigError {
    pub(crate) fn invalid(setting: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            setting,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let locked = |retry_after| AuthError::Locked { retry_after };
        assert_eq!(locked(Duration::seconds(2)).retry_after_secs(), Some(2));
        assert_eq!(
            locked(Duration::milliseconds(1_001)).retry_after_secs(),
            Some(2)
        );
        assert_eq!(
            locked(Duration::milliseconds(1)).retry_after_secs(),
            Some(1)
        );
        assert_eq!(AuthError::Unauthorized.retry_after_secs(), None);
    }

    #[test]
    fn repo_unavailable_maps_to_unavailable() {
        let err: AuthError = RepoError::Unavailable("timeout".into()).into();
        assert!(matches!(err, AuthError::Unavailable(_)));
        let err: AuthError = RepoError::NotFound.into();
        assert!(matches!(err, AuthError::Internal(_)));
    }
}
