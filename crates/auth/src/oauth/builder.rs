//! How an [`OAuthService`] is put together: the stores, the shared settings and each enabled
//! provider, checked once in [`OAuthServiceBuilder::build`].

use std::sync::Arc;

use altrion_domain::{Clock, SessionRepository, SystemClock, UserRepository};

use super::{
    client::{http_client, ProviderClient},
    redirect::RedirectPolicy,
    OAuthConfig, OAuthProvider, OAuthService, ProviderConfig,
};
use crate::ConfigError;

/// Collects what an [`OAuthService`] needs; made by [`OAuthService::builder`].
#[derive(Debug, Clone)]
pub struct OAuthServiceBuilder {
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    config: OAuthConfig,
    clock: Arc<dyn Clock>,
    google: Option<ProviderConfig>,
    github: Option<ProviderConfig>,
}

impl OAuthService {
    /// Starts a service over the stores and the settings both providers share. It reads the
    /// system clock unless told otherwise, and every provider is disabled until given.
    #[must_use]
    pub fn builder(
        users: Arc<dyn UserRepository>,
        sessions: Arc<dyn SessionRepository>,
        config: OAuthConfig,
    ) -> OAuthServiceBuilder {
        OAuthServiceBuilder {
            users,
            sessions,
            config,
            clock: Arc::new(SystemClock),
            google: None,
            github: None,
        }
    }
}

impl OAuthServiceBuilder {
    /// The clock every "now" comes from ([`SystemClock`] by default).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Google's registration; without a client id and secret Google stays disabled.
    #[must_use]
    pub fn google(mut self, provider: ProviderConfig) -> Self {
        self.google = Some(provider);
        self
    }

    /// GitHub's registration; without a client id and secret GitHub stays disabled.
    #[must_use]
    pub fn github(mut self, provider: ProviderConfig) -> Self {
        self.github = Some(provider);
        self
    }

    /// Checks the enabled providers and makes the service. [`OAuthService::start`] answers
    /// [`OAuthError::ProviderDisabled`](super::OAuthError::ProviderDisabled) for a provider
    /// not given, or given without client id or secret.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] when an endpoint of an enabled provider is not an http(s) URL
    /// or the HTTP client cannot be built.
    pub fn build(self) -> Result<OAuthService, ConfigError> {
        let enable = |provider, settings: Option<ProviderConfig>| -> Result<_, ConfigError> {
            match settings.filter(ProviderConfig::is_complete) {
                Some(settings) => Ok(Some(ProviderClient::new(provider, &settings)?)),
                None => Ok(None),
            }
        };
        let google = enable(OAuthProvider::Google, self.google)?;
        let github = enable(OAuthProvider::Github, self.github)?;
        Ok(OAuthService {
            users: self.users,
            sessions: self.sessions,
            clock: self.clock,
            http: http_client(self.config.http_timeout)?,
            redirects: RedirectPolicy::new(
                self.config.frontend_url,
                &self.config.redirect_allowlist,
            ),
            google,
            github,
        })
    }
}
