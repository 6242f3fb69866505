//! Sign-in with Google and GitHub: OAuth 2.0 authorization code flow with PKCE S256 and a
//! single-use 128-bit `state`, then the identity rules of design §7.
//!
//! The HTTP routes own the session and where the pending flow is kept between the start and the
//! callback (`altrion_web::handlers::oauth` keeps it in an encrypted cookie, never in the
//! database); this module owns everything else:
//! 1. `GET /api/auth/{provider}`: [`OAuthService::start`] returns the provider's authorize URL
//!    and a [`PendingLogin`] to keep;
//! 2. `GET /api/auth/{provider}/callback`: take (remove) the kept [`PendingLogin`] and pass it
//!    to [`OAuthService::finish`] with the [`CallbackQuery`]; on success log the
//!    user in and redirect to [`SignedIn::redirect_to`], on failure redirect to
//!    [`OAuthService::error_redirect`] with [`OAuthError::code`].
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use altrion_auth::oauth::*;
//! # use altrion_storage::memory::MemoryUserRepository;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let users = Arc::new(MemoryUserRepository::new());
//! # let sessions = Arc::new(altrion_storage::memory::MemorySessionRepository::new());
//! // At start-up, from the app's settings.
//! let config = OAuthConfig {
//!     frontend_url: "https://app.example.com".parse()?,
//!     redirect_allowlist: vec!["https://admin.example.com".parse()?],
//!     http_timeout: std::time::Duration::from_secs(10),
//! };
//! // GitHub's endpoints; the last argument is the app's callback route, where GitHub sends
//! // the browser back (the fields are public, to point at a stand-in).
//! let github = ProviderConfig::github(
//!     "Iv1.0123456789abcdef",
//!     altrion_auth::SecretString::from("the client secret"),
//!     "https://api.example.com/api/auth/github/callback",
//! );
//! // Google is not given, so it stays disabled.
//! let oauth = OAuthService::builder(users, sessions, config).github(github).build()?;
//!
//! // GET /api/auth/github?redirect_to=/settings
//! let (authorize_url, pending) = oauth.start(OAuthProvider::Github, Some("/settings"), None)?;
//! // keep `pending` until the callback, answer 302 to `authorize_url`
//! # let _ = (authorize_url, pending);
//! # Ok(())
//! # }
//! ```

mod account;
mod builder;
mod client;
mod config;
mod error;
mod flow;
mod profile;
mod provider;
mod redirect;

use std::{fmt, sync::Arc};

use altrion_domain::{Clock, SessionRepository, User, UserRepository};
use oauth2::AccessToken;
use url::Url;

use self::{client::ProviderClient, redirect::RedirectPolicy};

pub use builder::OAuthServiceBuilder;
pub use client::USER_AGENT;
pub use config::{OAuthConfig, ProviderConfig};
pub use error::{OAuthError, StateProblem};
pub use flow::{CallbackQuery, LinkingUser, PendingLogin, SignedIn, FLOW_TTL};
pub use provider::OAuthProvider;
pub use redirect::MAX_REDIRECT_LEN;

/// The OAuth sign-in use cases. Made with [`OAuthService::builder`]. Cheap to clone; share
/// one per process.
#[derive(Clone)]
pub struct OAuthService {
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    redirects: RedirectPolicy,
    google: Option<ProviderClient>,
    github: Option<ProviderClient>,
}

impl OAuthService {
    /// The same service — configuration, HTTP client, provider clients — over other stores:
    /// for a database client per worker.
    #[must_use]
    pub fn with_stores(
        &self,
        users: Arc<dyn UserRepository>,
        sessions: Arc<dyn SessionRepository>,
    ) -> Self {
        Self {
            users,
            sessions,
            ..self.clone()
        }
    }
}

impl fmt::Debug for OAuthService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthService")
            .field("google", &self.google.is_some())
            .field("github", &self.github.is_some())
            .field("redirects", &self.redirects)
            .finish_non_exhaustive()
    }
}

impl OAuthService {
    /// Whether `provider` has a client id and secret.
    pub fn enabled(&self, provider: OAuthProvider) -> bool {
        self.client(provider).is_ok()
    }

    /// Begins a sign-in (or, with `linking`, the linking of `provider` to that signed-in user,
    /// who must have re-authenticated): returns the provider's authorize URL to redirect the
    /// browser to, and the [`PendingLogin`] to keep (encrypted, short-lived) until the
    /// callback. A linking flow is bound to the user's token version: "log out everywhere"
    /// before the callback cancels it.
    ///
    /// # Errors
    /// [`OAuthError::ProviderDisabled`]; [`OAuthError::InvalidRedirect`] when `redirect_to` is
    /// neither on the frontend's origin nor on an allow-listed one.
    pub fn start(
        &self,
        provider: OAuthProvider,
        redirect_to: Option<&str>,
        linking: Option<&User>,
    ) -> Result<(Url, PendingLogin), OAuthError> {
        let client = self.client(provider)?;
        let target = self.redirects.check(redirect_to)?;
        let authorization = client.authorize();
        let pending = PendingLogin::new(
            authorization.state.secret().clone(),
            authorization.verifier.secret().clone(),
            provider,
            target,
            linking.map(|user| LinkingUser {
                id: user.id.clone(),
                token_version: user.token_version,
            }),
            self.clock.now(),
        );
        tracing::debug!(%provider, linking = pending.linking().is_some(), "OAuth flow started");
        Ok((authorization.url, pending))
    }

    /// Completes a sign-in from the provider's callback. `pending` is what [`start`] returned,
    /// taken out of where the routes kept it (`None` when there is none: never started, or
    /// replayed).
    ///
    /// Writes nothing unless every check passed.
    ///
    /// # Errors
    /// Every [`OAuthError`] but `InvalidRedirect`; see [`OAuthError::code`].
    ///
    /// [`start`]: OAuthService::start
    pub async fn finish(
        &self,
        provider: OAuthProvider,
        query: CallbackQuery,
        pending: Option<PendingLogin>,
    ) -> Result<SignedIn, OAuthError> {
        let result = self.finish_inner(provider, query, pending).await;
        // The one log line of a failed sign-in: `warn` when the provider or the store failed,
        // `info` when the user or the request did.
        match &result {
            Err(
                error @ (OAuthError::Provider(_)
                | OAuthError::Timeout
                | OAuthError::Unavailable(_)
                | OAuthError::Internal(_)),
            ) => {
                tracing::warn!(event = "oauth_failed", %provider, code = error.code(), error = %altrion_domain::chain(error), "OAuth sign-in failed")
            }
            Err(error) => {
                tracing::info!(event = "oauth_failed", %provider, code = error.code(), %error, "OAuth sign-in failed")
            }
            Ok(_) => {}
        }
        result
    }

    async fn finish_inner(
        &self,
        provider: OAuthProvider,
        query: CallbackQuery,
        pending: Option<PendingLogin>,
    ) -> Result<SignedIn, OAuthError> {
        let client = self.client(provider)?;
        let pending = pending.ok_or(OAuthError::InvalidState(StateProblem::Missing))?;
        let flow = pending.verify(provider, query.state.as_deref(), self.clock.now())?;
        if let Some(error) = query.error.as_deref() {
            return Err(if error == "access_denied" {
                OAuthError::AccessDenied
            } else {
                // The value is attacker-controlled: keep it short and log-safe.
                let error: String = error
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .take(64)
                    .collect();
                OAuthError::provider(format!("authorization failed: {error}"))
            });
        }
        let code = query
            .code
            .filter(|c| !c.is_empty())
            .ok_or_else(|| OAuthError::provider("callback without a code"))?;
        let token: AccessToken = client.exchange(&self.http, code, flow.verifier).await?;
        let profile = profile::fetch(&self.http, provider, &client.profile_url, &token).await?;
        let resolved = account::resolve(
            self.users.as_ref(),
            provider,
            profile,
            flow.linking,
            self.clock.now(),
        )
        .await?;
        if resolved.taken_over {
            // The squatter's sessions end with their JWTs (the take-over bumped the version).
            let ended = self.sessions.delete_for_user(&resolved.user.id).await?;
            tracing::info!(user_id = %resolved.user.id, sessions = ended, "squatter's sessions ended");
        }
        let event = if resolved.linked {
            "identity_linked"
        } else {
            "login_succeeded"
        };
        tracing::info!(event, %provider, user_id = %resolved.user.id, created = resolved.created, method = "oauth", "OAuth sign-in");
        Ok(SignedIn {
            user: resolved.user,
            redirect_to: flow.redirect_to,
            created: resolved.created,
            linked: resolved.linked,
            taken_over: resolved.taken_over,
        })
    }

    /// Where to send the browser after a failure: `redirect_to` (from the pending flow, already
    /// validated) or the frontend URL, with `?error=<code>`.
    pub fn error_redirect(&self, code: &str, redirect_to: Option<&Url>) -> Url {
        redirect::with_error(redirect_to.unwrap_or(self.redirects.frontend()), code)
    }

    fn client(&self, provider: OAuthProvider) -> Result<&ProviderClient, OAuthError> {
        match provider {
            OAuthProvider::Google => self.google.as_ref(),
            OAuthProvider::Github => self.github.as_ref(),
        }
        .ok_or(OAuthError::ProviderDisabled(provider))
    }
}
