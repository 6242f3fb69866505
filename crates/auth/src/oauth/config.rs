use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

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
    /// Where the provider sends the browser back (the caller's callback route, absolute); sent
    /// as `redirect_uri` and registered with the provider.
    pub redirect_url: String,
}

impl ProviderConfig {
    /// GitHub's endpoints, with this client and `redirect_url`: the absolute URL of the app's
    /// callback route, registered with GitHub.
    pub fn github(
        client_id: impl Into<String>,
        client_secret: SecretString,
        redirect_url: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            auth_url: "https://github.com/login/oauth/authorize".to_owned(),
            token_url: "https://github.com/login/oauth/access_token".to_owned(),
            profile_url: "https://api.github.com".to_owned(),
            redirect_url: redirect_url.into(),
        }
    }

    /// Google's endpoints (OpenID Connect userinfo), with this client and `redirect_url`: the
    /// absolute URL of the app's callback route, registered with Google.
    pub fn google(
        client_id: impl Into<String>,
        client_secret: SecretString,
        redirect_url: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            auth_url: "https://accounts.google.com/o/oauth2/v2/auth".to_owned(),
            token_url: "https://oauth2.googleapis.com/token".to_owned(),
            profile_url: "https://openidconnect.googleapis.com/v1/userinfo".to_owned(),
            redirect_url: redirect_url.into(),
        }
    }

    /// Whether both the client id and the secret are set.
    pub fn is_complete(&self) -> bool {
        !self.client_id.trim().is_empty() && !self.client_secret.expose_secret().is_empty()
    }
}

/// Settings shared by both providers.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// Where the browser goes after a sign-in unless a `redirect_to` says otherwise.
    pub frontend_url: Url,
    /// Further origins a `redirect_to` may point at.
    pub redirect_allowlist: Vec<Url>,
    /// Connect and overall timeout of every call to a provider (a `std::time::Duration`).
    pub http_timeout: Duration,
}

/// Parses an absolute http(s) URL, or says what is wrong with `raw`.
pub(crate) fn http_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("must be an http(s) URL".to_owned());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_absolute_http_urls_are_accepted() {
        assert!(http_url("https://accounts.example.com/o/auth").is_ok());
        for bad in ["ftp://x", "javascript:x", "not a url", "/relative"] {
            assert!(http_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_provider_without_id_or_secret_is_incomplete() {
        let config = |id: &str, secret: &str| ProviderConfig {
            client_id: id.into(),
            client_secret: SecretString::from(secret),
            auth_url: "http://x/auth".into(),
            token_url: "http://x/token".into(),
            profile_url: "http://x/user".into(),
            redirect_url: "http://api/callback".into(),
        };
        assert!(config("id", "secret").is_complete());
        assert!(!config("", "secret").is_complete());
        assert!(!config("id", "").is_complete());
    }
}
