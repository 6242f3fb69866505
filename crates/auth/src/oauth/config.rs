use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::ConfigError;

/// One provider's OAuth client registration and endpoints.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// Empty means the provider is disabled.
    pub client_id: String,
    /// Empty means the provider is disabled.
    pub client_secret: SecretString,
    /// The authorization endpoint the browser is sent to.
    pub auth_url: String,
    /// The token endpoint (code exchange).
    pub token_url: String,
    /// Google: the userinfo endpoint. GitHub: the API base of `/user` and `/user/emails`.
    pub profile_url: String,
}

impl ProviderConfig {
    /// Whether both the client id and the secret are set.
    pub fn is_complete(&self) -> bool {
        !self.client_id.trim().is_empty() && !self.client_secret.expose_secret().is_empty()
    }
}

/// Settings shared by both providers.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// This server's public origin; callback URLs are `{public_url}/api/auth/{provider}/callback`.
    pub public_url: Url,
    /// Where the browser goes after a sign-in unless a `redirect_to` says otherwise.
    pub frontend_url: Url,
    /// Further origins a `redirect_to` may point at.
    pub redirect_allowlist: Vec<Url>,
    /// Connect and overall timeout of every call to a provider.
    pub http_timeout: Duration,
}

impl OAuthConfig {
    /// Builds the config from the app's settings values (`server.public_url`,
    /// `server.frontend_url`, the comma-separated `oauth.redirect_allowlist`,
    /// `oauth.http_timeout_secs`).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the first value that is not an http(s) URL, or a zero
    /// timeout.
    pub fn from_settings(
        public_url: &str,
        frontend_url: &str,
        redirect_allowlist: &str,
        http_timeout_secs: u64,
    ) -> Result<Self, ConfigError> {
        if http_timeout_secs == 0 {
            return Err(ConfigError::invalid(
                "oauth.http_timeout_secs",
                "must be at least 1",
            ));
        }
        let redirect_allowlist = redirect_allowlist
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(|origin| http_url("oauth.redirect_allowlist", origin))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            public_url: http_url("server.public_url", public_url)?,
            frontend_url: http_url("server.frontend_url", frontend_url)?,
            redirect_allowlist,
            http_timeout: Duration::from_secs(http_timeout_secs),
        })
    }
}

/// Parses an absolute http(s) URL or names the setting that holds something else.
pub(crate) fn http_url(setting: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw.trim())
        .map_err(|e| ConfigError::invalid(setting, format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::invalid(setting, "must be an http(s) URL"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn settings_values_parse_and_the_allowlist_splits_on_commas() {
        let config = OAuthConfig::from_settings(
            "http://localhost:8080",
            "http://localhost:3000/app",
            " https://a.example.com , ,http://b.example.com:8000",
            5,
        )
        .unwrap();
        assert_eq!(config.redirect_allowlist.len(), 2);
        assert_eq!(config.http_timeout, Duration::from_secs(5));
        assert_eq!(config.frontend_url.path(), "/app");
    }

    #[test]
    fn bad_values_name_their_setting() {
        let err = OAuthConfig::from_settings("ftp://x", "http://f", "", 5).unwrap_err();
        assert!(err.to_string().contains("server.public_url"), "{err}");
        let err =
            OAuthConfig::from_settings("http://p", "http://f", "javascript:x", 5).unwrap_err();
        assert!(err.to_string().contains("redirect_allowlist"), "{err}");
        let err = OAuthConfig::from_settings("http://p", "http://f", "", 0).unwrap_err();
        assert!(err.to_string().contains("http_timeout_secs"), "{err}");
    }

    #[test]
    fn a_provider_without_id_or_secret_is_incomplete() {
        let config = |id: &str, secret: &str| ProviderConfig {
            client_id: id.into(),
            client_secret: SecretString::from(secret),
            auth_url: "http://x/auth".into(),
            token_url: "http://x/token".into(),
            profile_url: "http://x/user".into(),
        };
        assert!(config("id", "secret").is_complete());
        assert!(!config("", "secret").is_complete());
        assert!(!config("id", "").is_complete());
    }
}
