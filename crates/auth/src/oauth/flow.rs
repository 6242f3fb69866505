//! The data that crosses the two HTTP requests of a sign-in: what the start step hands the
//! routes to keep, what the callback brings back, and what a successful finish returns.

use super::OAuthProvider;
use std::fmt;

use altrion_domain::{Timestamp, User, UserId};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;
use time::Duration;
use url::Url;

use super::{OAuthError, StateProblem};

/// How long a started sign-in may take before its `state` is refused.
pub const FLOW_TTL: Duration = Duration::minutes(10);

/// A sign-in in progress. The routes keep it between the start and the callback (Altrion's
/// keep it in an encrypted cookie, `altrion_web::FlowCookie`, never in the database) and must
/// **remove** it when the callback arrives (single use).
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    state: String,
    verifier: String,
    provider: OAuthProvider,
    redirect_to: Url,
    linking: Option<LinkingUser>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: Timestamp,
}

/// The signed-in user a linking flow was started for, and their token version then: "log out
/// everywhere" bumps it, which cancels the pending link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkingUser {
    pub id: UserId,
    pub token_version: i64,
}

impl PendingLogin {
    pub(crate) fn new(
        state: String,
        verifier: String,
        provider: OAuthProvider,
        redirect_to: Url,
        linking: Option<LinkingUser>,
        created_at: Timestamp,
    ) -> Self {
        Self {
            state,
            verifier,
            provider,
            redirect_to,
            linking,
            created_at,
        }
    }

    /// The validated target to send the browser to afterwards (also on failure).
    pub fn redirect_to(&self) -> &Url {
        &self.redirect_to
    }

    /// The signed-in user who asked to link this provider, if any.
    pub fn linking(&self) -> Option<&LinkingUser> {
        self.linking.as_ref()
    }

    /// When the flow was started.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }

    /// Checks provider, age and `state` (constant time); returns the PKCE verifier.
    pub(crate) fn verify(
        self,
        provider: OAuthProvider,
        state: Option<&str>,
        now: Timestamp,
    ) -> Result<Verified, OAuthError> {
        if self.provider != provider {
            return Err(OAuthError::InvalidState(StateProblem::WrongProvider));
        }
        if now - self.created_at > FLOW_TTL {
            return Err(OAuthError::InvalidState(StateProblem::Expired));
        }
        let matches = state.is_some_and(|s| bool::from(s.as_bytes().ct_eq(self.state.as_bytes())));
        if !matches {
            return Err(OAuthError::InvalidState(StateProblem::Mismatch));
        }
        Ok(Verified {
            verifier: self.verifier,
            redirect_to: self.redirect_to,
            linking: self.linking,
        })
    }
}

/// A pending flow whose `state` checked out.
pub(crate) struct Verified {
    pub(crate) verifier: String,
    pub(crate) redirect_to: Url,
    pub(crate) linking: Option<LinkingUser>,
}

impl fmt::Debug for PendingLogin {
    // `state` and the verifier are secrets until the flow ends.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLogin")
            .field("state", &"<redacted>")
            .field("verifier", &"<redacted>")
            .field("provider", &self.provider)
            .field("redirect_to", &self.redirect_to.as_str())
            .field("linking", &self.linking)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// The query string of `GET /api/auth/{provider}/callback`.
#[derive(Clone, Default, Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    /// Set by the provider when the user declined (`access_denied`) or it failed.
    pub error: Option<String>,
}

impl fmt::Debug for CallbackQuery {
    // The code can be exchanged for a token by whoever holds the verifier: never print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackQuery")
            .field("code", &self.code.as_ref().map(|_| "<redacted>"))
            .field("state", &self.state.as_ref().map(|_| "<redacted>"))
            .field("error", &self.error)
            .finish()
    }
}

/// A finished sign-in: who, where to send the browser, and what happened to the account.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    /// The validated target from the start step.
    pub redirect_to: Url,
    /// A new account was created for this identity.
    pub created: bool,
    /// The identity was linked to the signed-in user who started the flow, or took over an
    /// unverified account with its email.
    pub linked: bool,
    /// An account that never verified this email was handed to the identity: its password,
    /// other identities, JWTs and sessions are gone.
    pub taken_over: bool,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pending(at: Timestamp) -> PendingLogin {
        PendingLogin::new(
            "s3cret-state".into(),
            "v3rifier".into(),
            OAuthProvider::Google,
            Url::parse("http://app.test/").unwrap(),
            Some(LinkingUser {
                id: UserId::new("u1"),
                token_version: 3,
            }),
            at,
        )
    }

    #[test]
    fn round_trips_through_json_and_hides_secrets_in_debug() {
        let at = time::macros::datetime!(2026-01-02 03:04:05.678 UTC);
        let json = serde_json::to_string(&pending(at)).unwrap();
        let back: PendingLogin = serde_json::from_str(&json).unwrap();
        assert_eq!(back.created_at(), at);
        assert_eq!(
            back.linking().map(|l| (&l.id, l.token_version)),
            Some((&UserId::new("u1"), 3))
        );
        let debug = format!("{back:?}");
        assert!(
            !debug.contains("s3cret") && !debug.contains("v3rifier"),
            "{debug}"
        );
        let query = CallbackQuery {
            code: Some("c0de".into()),
            state: Some("s3cret".into()),
            error: None,
        };
        assert!(!format!("{query:?}").contains("c0de"));
    }

    #[test]
    fn verify_checks_provider_age_and_state() {
        let at = time::macros::datetime!(2026-01-02 03:00:00 UTC);
        let problem = |result: Result<Verified, OAuthError>| match result {
            Err(OAuthError::InvalidState(p)) => Some(p),
            Err(other) => panic!("unexpected {other:?}"),
            Ok(_) => None,
        };
        let ok = pending(at).verify(OAuthProvider::Google, Some("s3cret-state"), at + FLOW_TTL);
        assert_eq!(problem(ok), None);
        let late = pending(at).verify(
            OAuthProvider::Google,
            Some("s3cret-state"),
            at + FLOW_TTL + Duration::milliseconds(1),
        );
        assert_eq!(problem(late), Some(StateProblem::Expired));
        let other = pending(at).verify(OAuthProvider::Github, Some("s3cret-state"), at);
        assert_eq!(problem(other), Some(StateProblem::WrongProvider));
        for state in [None, Some(""), Some("s3cret-statf"), Some("s3cret-state2")] {
            let wrong = pending(at).verify(OAuthProvider::Google, state, at);
            assert_eq!(problem(wrong), Some(StateProblem::Mismatch), "{state:?}");
        }
    }
}
