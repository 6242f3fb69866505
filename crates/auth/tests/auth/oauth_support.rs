//! A wiremock stand-in for both providers and an `OAuthService` pointed at it.

use std::{collections::HashMap, sync::Arc, time::Duration};

use altrion_auth::{
    CallbackQuery, OAuthConfig, OAuthError, OAuthService, PendingLogin, ProviderConfig, SignedIn,
};
use altrion_domain::{
    Clock, DisplayName, Email, NewUser, PasswordHash, Provider, TestClock, User, UserRepository,
};
use altrion_storage::memory::{MemorySessionRepository, MemoryUserRepository};
use secrecy::SecretString;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use url::Url;
use wiremock::{
    matchers::{header, method, path},
    Mock, MockServer, Request, ResponseTemplate,
};

use crate::helpers::b64url;

pub const FRONTEND: &str = "http://app.test:3000/";
pub const PUBLIC: &str = "http://api.test:8080";
pub const ALLOWED: &str = "https://admin.test";
pub const GOOGLE_TOKEN: &str = "ya29.google-access-token";
pub const GITHUB_TOKEN: &str = "gho_github-access-token";
pub const CODE: &str = "the-authorization-code";

/// The OAuth provider of a domain provider the tests name (never `local`).
pub fn oauth(provider: Provider) -> altrion_auth::OAuthProvider {
    altrion_auth::OAuthProvider::try_from(provider).unwrap()
}

pub struct OAuthTest {
    pub server: MockServer,
    pub service: OAuthService,
    pub users: Arc<MemoryUserRepository>,
    pub sessions: Arc<MemorySessionRepository>,
    pub clock: TestClock,
}

pub fn provider_config(server: &MockServer, provider: Provider) -> ProviderConfig {
    let base = server.uri();
    let (p, profile) = match provider {
        Provider::Google => ("google", format!("{base}/google/userinfo")),
        _ => ("github", format!("{base}/github/api")),
    };
    ProviderConfig {
        client_id: format!("{p}-client-id"),
        client_secret: SecretString::from(format!("{p}-client-secret")),
        auth_url: format!("{base}/{p}/authorize"),
        token_url: format!("{base}/{p}/token"),
        profile_url: profile,
        redirect_url: format!("{PUBLIC}/api/auth/{p}/callback"),
    }
}

pub fn config(timeout: Duration) -> OAuthConfig {
    OAuthConfig {
        frontend_url: Url::parse(FRONTEND).unwrap(),
        redirect_allowlist: vec![Url::parse(ALLOWED).unwrap()],
        http_timeout: timeout,
    }
}

impl OAuthTest {
    pub async fn new() -> Self {
        Self::build(
            Duration::from_secs(5),
            Arc::new(MemoryUserRepository::new()),
        )
        .await
    }

    pub async fn with_timeout(timeout: Duration) -> Self {
        Self::build(timeout, Arc::new(MemoryUserRepository::new())).await
    }

    pub async fn build(timeout: Duration, users: Arc<MemoryUserRepository>) -> Self {
        let server = MockServer::start().await;
        let clock = TestClock::starting_now();
        let sessions = Arc::new(MemorySessionRepository::new());
        let service = OAuthService::builder(users.clone(), sessions.clone(), config(timeout))
            .clock(Arc::new(clock.clone()))
            .google(provider_config(&server, Provider::Google))
            .github(provider_config(&server, Provider::Github))
            .build()
            .unwrap();
        Self {
            server,
            service,
            users,
            sessions,
            clock,
        }
    }

    /// Starts a flow and returns the authorize URL's query and the pending login.
    pub fn start(&self, provider: Provider) -> (HashMap<String, String>, PendingLogin) {
        let (url, pending) = self.service.start(oauth(provider), None, None).unwrap();
        (query_map(&url), pending)
    }

    /// Starts a flow and answers the callback as the provider would after consent.
    pub async fn sign_in(&self, provider: Provider) -> Result<SignedIn, OAuthError> {
        let (query, pending) = self.start(provider);
        self.callback(provider, query.get("state").cloned(), Some(pending))
            .await
    }

    pub async fn callback(
        &self,
        provider: Provider,
        state: Option<String>,
        pending: Option<PendingLogin>,
    ) -> Result<SignedIn, OAuthError> {
        let query = CallbackQuery {
            code: Some(CODE.to_owned()),
            state,
            error: None,
        };
        self.service.finish(oauth(provider), query, pending).await
    }

    /// A password account whose owner verified the email.
    pub async fn verified_local_user(&self, email: &str) -> User {
        let user = self.local_user(email).await;
        self.users
            .mark_email_verified(&user.id, &user.email, self.clock.now())
            .await
            .unwrap()
            .unwrap()
    }

    /// A password account, as signup would create it (email not verified).
    pub async fn local_user(&self, email: &str) -> User {
        self.users
            .create(NewUser {
                name: DisplayName::parse("Ada").unwrap(),
                email: Email::parse(email).unwrap(),
                email_verified: false,
                password_hash: Some(PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$x$y")),
                provider: Provider::Local,
                identity: None,
                avatar_url: None,
                created_at: self.clock.now(),
            })
            .await
            .unwrap()
    }

    /// Google's token endpoint answering with an access token.
    pub async fn google_token_ok(&self) {
        Mock::given(method("POST"))
            .and(path("/google/token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": GOOGLE_TOKEN,
                "token_type": "Bearer",
                "expires_in": 3599,
                "scope": "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile",
                "id_token": "header.payload.signature"
            })))
            .mount(&self.server)
            .await;
    }

    pub async fn google_userinfo(&self, body: Value) {
        Mock::given(method("GET"))
            .and(path("/google/userinfo"))
            .and(header(
                "authorization",
                format!("Bearer {GOOGLE_TOKEN}").as_str(),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&self.server)
            .await;
    }

    pub async fn github_token_ok(&self) {
        Mock::given(method("POST"))
            .and(path("/github/token"))
            .and(header("accept", "application/json"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": GITHUB_TOKEN,
                "token_type": "bearer",
                "scope": "read:user,user:email"
            })))
            .mount(&self.server)
            .await;
    }

    /// GitHub's `/user` and `/user/emails`, only for well-formed API calls.
    pub async fn github_profile(&self, user: Value, emails: Value) {
        for (p, body) in [
            ("/github/api/user", user),
            ("/github/api/user/emails", emails),
        ] {
            Mock::given(method("GET"))
                .and(path(p))
                .and(header(
                    "authorization",
                    format!("Bearer {GITHUB_TOKEN}").as_str(),
                ))
                .and(header("user-agent", "altrion"))
                .and(header("accept", "application/vnd.github+json"))
                .respond_with(ResponseTemplate::new(200).set_body_json(body))
                .mount(&self.server)
                .await;
        }
    }

    /// The requests the mock providers received, by path.
    pub async fn requests_to(&self, p: &str) -> Vec<Request> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path() == p)
            .collect()
    }

    pub async fn no_provider_calls(&self) -> bool {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    }
}

pub fn google_ada() -> Value {
    json!({
        "sub": "108234567890123456789",
        "email": "Ada@Gmail.com",
        "email_verified": true,
        "name": "Ada Lovelace",
        "picture": "https://lh3.googleusercontent.com/a/ada"
    })
}

pub fn github_octocat() -> Value {
    json!({
        "id": 583231,
        "login": "octocat",
        "name": "The Octocat",
        "email": null,
        "avatar_url": "https://avatars.githubusercontent.com/u/583231"
    })
}

pub fn github_emails() -> Value {
    json!([
        {"email": "old@example.com", "primary": false, "verified": true, "visibility": null},
        {"email": "octocat@github.com", "primary": true, "verified": true, "visibility": "private"}
    ])
}

pub fn query_map(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

/// The form fields of a request body.
pub fn form(request: &Request) -> HashMap<String, String> {
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

/// The S256 challenge of a PKCE verifier.
pub fn s256(verifier: &str) -> String {
    b64url(&Sha256::digest(verifier.as_bytes()))
}

pub fn code_of(result: Result<SignedIn, OAuthError>) -> &'static str {
    match result {
        Ok(signed_in) => panic!("expected an error, signed in {:?}", signed_in.user.id),
        Err(error) => error.code(),
    }
}
