//! The provider-facing HTTP side: the shared reqwest client and the oauth2 client of each
//! provider (authorize URL, code exchange with the PKCE verifier).

use super::OAuthProvider;
use std::time::Duration;

use oauth2::{
    basic::{BasicClient, BasicErrorResponse, BasicTokenResponse},
    AccessToken, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointNotSet, EndpointSet, HttpClientError, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, TokenResponse as _, TokenUrl,
};
use secrecy::ExposeSecret;
use url::Url;

use super::{config::http_url, OAuthError, ProviderConfig};
use crate::ConfigError;

/// The `User-Agent` of every outbound call (GitHub refuses requests without one).
pub const USER_AGENT: &str = "altrion";

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// The outbound client: no redirects followed (a provider cannot bounce us to an internal
/// address), connect and overall timeouts.
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, ConfigError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(USER_AGENT)
        .build()
        .map_err(|e| ConfigError::invalid("http_timeout", e.to_string()))
}

/// One enabled provider: its oauth2 client, scopes and profile endpoint.
#[derive(Debug, Clone)]
pub(crate) struct ProviderClient {
    pub(crate) provider: OAuthProvider,
    client: Client,
    scopes: &'static [&'static str],
    pub(crate) profile_url: Url,
}

/// What the start step hands back: the authorize URL and the secrets to keep server-side.
pub(crate) struct Authorization {
    pub(crate) url: Url,
    pub(crate) state: CsrfToken,
    pub(crate) verifier: PkceCodeVerifier,
}

impl ProviderClient {
    pub(crate) fn new(
        provider: OAuthProvider,
        config: &ProviderConfig,
    ) -> Result<Self, ConfigError> {
        let scopes: &'static [&'static str] = match provider {
            OAuthProvider::Google => &["openid", "email", "profile"],
            OAuthProvider::Github => &["read:user", "user:email"],
        };
        let url = |setting, raw: &str| {
            http_url(raw)
                .map_err(|reason| ConfigError::invalid(setting, format!("{provider}: {reason}")))
        };
        let client = BasicClient::new(ClientId::new(config.client_id.trim().to_owned()))
            .set_client_secret(ClientSecret::new(
                config.client_secret.expose_secret().to_owned(),
            ))
            .set_auth_uri(AuthUrl::from_url(url("auth_url", &config.auth_url)?))
            .set_token_uri(TokenUrl::from_url(url("token_url", &config.token_url)?))
            .set_redirect_uri(RedirectUrl::from_url(url(
                "redirect_url",
                &config.redirect_url,
            )?))
            // client_id and client_secret in the form body: both providers accept it, and
            // GitHub documents only this.
            .set_auth_type(AuthType::RequestBody);
        Ok(Self {
            provider,
            client,
            scopes,
            profile_url: url("profile_url", &config.profile_url)?,
        })
    }

    /// A fresh authorize URL with a 128-bit `state` and a PKCE S256 challenge.
    pub(crate) fn authorize(&self) -> Authorization {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .client
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge);
        for scope in self.scopes {
            request = request.add_scope(Scope::new((*scope).to_owned()));
        }
        let (url, state) = request.url();
        Authorization {
            url,
            state,
            verifier,
        }
    }

    /// Exchanges the authorization code, proving possession of the PKCE verifier.
    pub(crate) async fn exchange(
        &self,
        http: &reqwest::Client,
        code: String,
        verifier: String,
    ) -> Result<AccessToken, OAuthError> {
        let response: Result<BasicTokenResponse, _> = self
            .client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request_async(http)
            .await;
        match response {
            Ok(token) => Ok(token.access_token().clone()),
            Err(error) => Err(self.token_error(&error)),
        }
    }

    fn token_error(
        &self,
        error: &RequestTokenError<HttpClientError<reqwest::Error>, BasicErrorResponse>,
    ) -> OAuthError {
        let provider = self.provider;
        match error {
            RequestTokenError::Request(HttpClientError::Reqwest(e)) => {
                super::error::from_http("token exchange", e)
            }
            RequestTokenError::ServerResponse(response) => {
                // The error code is the provider's vocabulary (`invalid_grant`…), safe to log.
                tracing::warn!(%provider, error = %response.error(), "token endpoint refused the code");
                OAuthError::provider(format!("token endpoint refused: {}", response.error()))
            }
            RequestTokenError::Parse(_, body) => {
                // GitHub answers 200 with `{"error": "bad_verification_code", …}`; name only the
                // error code, never the body (a success body would hold the token).
                let code = serde_json::from_slice::<serde_json::Value>(body)
                    .ok()
                    .and_then(|v| v.get("error")?.as_str().map(str::to_owned));
                tracing::warn!(%provider, error = code.as_deref().unwrap_or("unreadable body"), "token endpoint answer refused");
                OAuthError::provider(match code {
                    Some(code) => format!("token endpoint refused: {code}"),
                    None => "token endpoint answer unreadable".to_owned(),
                })
            }
            other => {
                tracing::warn!(%provider, error = %other, "token exchange failed");
                OAuthError::provider(format!("token exchange failed: {other}"))
            }
        }
    }
}
