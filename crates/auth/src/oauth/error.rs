use std::error::Error as StdError;

use altrion_domain::RepoError;

use super::OAuthProvider;

type BoxError = Box<dyn StdError + Send + Sync>;

/// Why the state check of a callback failed; only for logs, users see `invalid_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateProblem {
    /// No flow is pending in this session: never started, lost cookie, or already consumed.
    Missing,
    /// The callback carries no `state`, or one that differs from the pending flow's.
    Mismatch,
    /// The pending flow was started for the other provider.
    WrongProvider,
    /// The pending flow is older than [`FLOW_TTL`](super::FLOW_TTL).
    Expired,
    /// A pending link whose user logged out everywhere (or was deleted) since it started.
    Revoked,
}

/// Why an OAuth sign-in failed. Never carries codes, tokens, verifiers or secrets.
///
/// [`OAuthError::code`] is the stable value the callback puts in `?error=`.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The provider has no client id or secret configured.
    #[error("{0} sign-in is not configured")]
    ProviderDisabled(OAuthProvider),
    /// `redirect_to` is not the frontend nor an allow-listed origin.
    #[error("redirect target not allowed")]
    InvalidRedirect,
    /// The user declined at the provider (`error=access_denied`).
    #[error("access denied at the provider")]
    AccessDenied,
    /// Missing, mismatched, replayed, expired, cross-provider or revoked `state`.
    #[error("invalid OAuth state ({0:?})")]
    InvalidState(StateProblem),
    /// The provider answered with an error, an unexpected status or an unreadable body.
    #[error("provider error: {0}")]
    Provider(String),
    /// A call to the provider did not complete within the configured timeout.
    #[error("provider timed out")]
    Timeout,
    /// The provider reports no verified email where one is needed to create an account.
    #[error("the provider account has no verified email")]
    EmailNotVerified,
    /// The identity or its email belongs to another account; it is never merged silently.
    #[error("an account already exists for this identity or email")]
    AccountExists,
    /// The user store could not be reached; the user may retry.
    #[error("service unavailable")]
    Unavailable(#[source] BoxError),
    /// A bug or corrupt data; details only in the source chain.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl OAuthError {
    /// The stable snake_case code for `?error=` and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ProviderDisabled(_) => "provider_disabled",
            Self::InvalidRedirect => "invalid_redirect",
            Self::AccessDenied => "access_denied",
            Self::InvalidState(_) => "invalid_state",
            Self::Provider(_) => "provider_error",
            Self::Timeout => "timeout",
            Self::EmailNotVerified => "email_not_verified",
            Self::AccountExists => "account_exists",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// Every code [`OAuthError::code`] can return, for docs and exhaustive tests.
    pub const CODES: [&'static str; 10] = [
        "provider_disabled",
        "invalid_redirect",
        "access_denied",
        "invalid_state",
        "provider_error",
        "timeout",
        "email_not_verified",
        "account_exists",
        "unavailable",
        "internal",
    ];

    pub(crate) fn provider(message: impl Into<String>) -> Self {
        Self::Provider(message.into())
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into().into())
    }
}

impl From<RepoError> for OAuthError {
    /// The store-wide mapping; callers handle `Conflict` and `NotFound` first where they matter.
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::Unavailable(source) => Self::Unavailable(source),
            other => Self::Internal(Box::new(other)),
        }
    }
}

/// Maps a reqwest failure: timeouts are their own code, everything else is the provider's.
pub(crate) fn from_http(what: &str, error: &reqwest::Error) -> OAuthError {
    if error.is_timeout() {
        OAuthError::Timeout
    } else {
        // reqwest's Display names the URL (from config) but never headers or bodies.
        OAuthError::provider(format!("{what}: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_listed() {
        let all = [
            OAuthError::ProviderDisabled(OAuthProvider::Google),
            OAuthError::InvalidRedirect,
            OAuthError::AccessDenied,
            OAuthError::InvalidState(StateProblem::Expired),
            OAuthError::provider("x"),
            OAuthError::Timeout,
            OAuthError::EmailNotVerified,
            OAuthError::AccountExists,
            OAuthError::Unavailable("down".into()),
            OAuthError::internal("bug"),
        ];
        let codes: Vec<_> = all.iter().map(OAuthError::code).collect();
        assert_eq!(codes, OAuthError::CODES);
    }

    #[test]
    fn repo_errors_map_to_unavailable_or_internal() {
        let err: OAuthError = RepoError::Unavailable("timeout".into()).into();
        assert_eq!(err.code(), "unavailable");
        let err: OAuthError = RepoError::NotFound.into();
        assert_eq!(err.code(), "internal");
    }
}
