//! The mock providers driven end to end through Altrion's `OAuthService`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::HashMap, net::SocketAddr, sync::Arc, time::Duration};

use altrion_auth::{
    CallbackQuery, OAuthConfig, OAuthError, OAuthProvider, OAuthService, PendingLogin,
    ProviderConfig, SignedIn,
};
use altrion_domain::{Provider, UserRepository};
use altrion_mock_oauth::MockOAuth;
use altrion_storage::memory::MemoryUserRepository;
use secrecy::SecretString;
use url::Url;

const PUBLIC: &str = "http://127.0.0.1:8080";

struct Harness {
    mock: MockOAuth,
    service: OAuthService,
    users: Arc<MemoryUserRepository>,
    browser: reqwest::Client,
}

impl Harness {
    async fn new() -> Self {
        let mock = altrion_mock_oauth::start(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let env: HashMap<_, _> = mock.server_env().into_iter().collect();
        let provider = |p: &str, profile: &str| ProviderConfig {
            client_id: env[format!("{p}_CLIENT_ID").as_str()].clone(),
            client_secret: SecretString::from(env[format!("{p}_CLIENT_SECRET").as_str()].clone()),
            auth_url: env[format!("{p}_AUTH_URL").as_str()].clone(),
            token_url: env[format!("{p}_TOKEN_URL").as_str()].clone(),
            profile_url: env[profile].clone(),
            redirect_url: format!("{PUBLIC}/api/auth/{}/callback", p.to_lowercase()),
        };
        let users = Arc::new(MemoryUserRepository::new());
        let service = OAuthService::builder(
            users.clone(),
            Arc::new(altrion_storage::memory::MemorySessionRepository::new()),
            OAuthConfig {
                frontend_url: Url::parse("http://127.0.0.1:3000").unwrap(),
                redirect_allowlist: Vec::new(),
                http_timeout: Duration::from_secs(5),
            },
        )
        .google(provider("GOOGLE", "GOOGLE_USERINFO_URL"))
        .github(provider("GITHUB", "GITHUB_API_URL"))
        .build()
        .unwrap();
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Self {
            mock,
            service,
            users,
            browser,
        }
    }

    /// Opens the consent page, checks it shows a form, and submits it with `choices`
    /// (the form's hidden fields are the authorize request's parameters). Returns where the
    /// provider sends the browser back.
    async fn consent(&self, authorize: &Url, choices: &[(&str, &str)]) -> Url {
        let page = self.browser.get(authorize.clone()).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("<form method=\"post\""), "{html}");
        assert!(html.contains("id=\"sign-in\""), "{html}");

        let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
        form.retain(|(k, _)| k != "login_hint");
        form.extend(
            choices
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let mut action = authorize.clone();
        action.set_query(None);
        let answer = self.browser.post(action).form(&form).send().await.unwrap();
        assert_eq!(answer.status(), 303);
        let location = answer.headers()["location"].to_str().unwrap();
        Url::parse(location).unwrap()
    }

    /// The route's callback step: hands the query and the pending flow to `finish`.
    async fn callback(
        &self,
        provider: OAuthProvider,
        back: &Url,
        pending: PendingLogin,
    ) -> Result<SignedIn, OAuthError> {
        let expected = format!("{PUBLIC}/api/auth/{provider}/callback");
        assert!(back.as_str().starts_with(&expected), "{back}");
        let query: HashMap<String, String> = back.query_pairs().into_owned().collect();
        self.service
            .finish(
                provider,
                CallbackQuery {
                    code: query.get("code").cloned(),
                    state: query.get("state").cloned(),
                    error: query.get("error").cloned(),
                },
                Some(pending),
            )
            .await
    }

    async fn sign_in(
        &self,
        provider: OAuthProvider,
        choices: &[(&str, &str)],
    ) -> Result<SignedIn, OAuthError> {
        let (authorize, pending) = self.service.start(provider, None, None).unwrap();
        assert!(authorize.as_str().starts_with(self.mock.base_url()));
        let back = self.consent(&authorize, choices).await;
        self.callback(provider, &back, pending).await
    }
}

const ALLOW_VERIFIED: &[(&str, &str)] = &[
    ("email", "grace@example.com"),
    ("name", "Grace Hopper"),
    ("email_verified", "on"),
    ("action", "allow"),
];

#[tokio::test]
async fn google_sign_in_through_the_mock_creates_the_account() {
    let h = Harness::new().await;

    let signed_in = h
        .sign_in(OAuthProvider::Google, ALLOW_VERIFIED)
        .await
        .unwrap();

    assert!(signed_in.created);
    assert_eq!(signed_in.user.provider, Provider::Google);
    assert_eq!(signed_in.user.email.as_str(), "grace@example.com");
    assert_eq!(signed_in.user.name.as_str(), "Grace Hopper");
    let avatar = signed_in.user.avatar_url.clone().unwrap();
    assert!(avatar.starts_with(h.mock.base_url()), "{avatar}");
    assert_eq!(h.users.len(), 1);

    let again = h
        .sign_in(OAuthProvider::Google, ALLOW_VERIFIED)
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.user.id, signed_in.user.id);
    h.mock.stop().await;
}

#[tokio::test]
async fn github_sign_in_with_a_private_email_through_the_mock() {
    let h = Harness::new().await;

    // No `public_email`: `/user` shows `email: null`, the address is only in `/user/emails`.
    let signed_in = h
        .sign_in(OAuthProvider::Github, ALLOW_VERIFIED)
        .await
        .unwrap();

    assert!(signed_in.created);
    assert_eq!(signed_in.user.provider, Provider::Github);
    assert_eq!(signed_in.user.email.as_str(), "grace@example.com");
    let identity = &signed_in.user.identities[0];
    assert!(identity.subject.parse::<u64>().is_ok(), "numeric id");
    let found = h
        .users
        .find_by_identity(Provider::Github, &identity.subject)
        .await
        .unwrap();
    assert_eq!(found.unwrap().id, signed_in.user.id);
    h.mock.stop().await;
}

#[tokio::test]
async fn cancelling_at_the_mock_is_access_denied() {
    let h = Harness::new().await;
    for provider in OAuthProvider::ALL {
        let result = h.sign_in(provider, &[("action", "deny")]).await;
        assert_eq!(result.unwrap_err().code(), "access_denied");
    }
    assert!(h.users.is_empty());
    h.mock.stop().await;
}

#[tokio::test]
async fn an_unverified_email_at_the_mock_creates_nothing() {
    let h = Harness::new().await;
    let unverified = [("email", "eve@example.com"), ("action", "allow")];
    for provider in OAuthProvider::ALL {
        let result = h.sign_in(provider, &unverified).await;
        assert_eq!(result.unwrap_err().code(), "email_not_verified");
    }
    assert!(h.users.is_empty());
    h.mock.stop().await;
}

/// A pending flow whose PKCE verifier is not the one behind the challenge sent.
fn with_wrong_verifier(pending: &PendingLogin) -> PendingLogin {
    let mut json = serde_json::to_value(pending).unwrap();
    json["verifier"] = serde_json::json!("x".repeat(43));
    serde_json::from_value(json).unwrap()
}

#[tokio::test]
async fn the_mock_checks_the_pkce_verifier_and_single_use_codes() {
    let h = Harness::new().await;
    for provider in OAuthProvider::ALL {
        let (authorize, pending) = h.service.start(provider, None, None).unwrap();
        let back = h.consent(&authorize, ALLOW_VERIFIED).await;

        let wrong = h
            .callback(provider, &back, with_wrong_verifier(&pending))
            .await;
        assert_eq!(wrong.unwrap_err().code(), "provider_error", "{provider}");
        // The code was consumed by the failed attempt, as at the real providers.
        let replay = h.callback(provider, &back, pending).await;
        assert_eq!(replay.unwrap_err().code(), "provider_error", "{provider}");
    }
    assert!(h.users.is_empty());
    h.mock.stop().await;
}

#[tokio::test]
async fn login_hint_pre_fills_the_form() {
    let h = Harness::new().await;
    let (mut authorize, _) = h.service.start(OAuthProvider::Github, None, None).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("login_hint", "linus@example.com");

    let html = h
        .browser
        .get(authorize)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert!(html.contains("Sign in as linus@example.com"), "{html}");
    h.mock.stop().await;
}

#[tokio::test]
async fn the_mock_refuses_unknown_clients_and_missing_pkce() {
    let h = Harness::new().await;
    let (authorize, _) = h.service.start(OAuthProvider::Google, None, None).unwrap();
    for (key, value) in [
        ("client_id", "someone-else"),
        ("code_challenge_method", "plain"),
    ] {
        let mut url = authorize.clone();
        let pairs: Vec<(String, String)> = authorize
            .query_pairs()
            .into_owned()
            .map(|(k, v)| {
                if k == key {
                    (k, value.to_owned())
                } else {
                    (k, v)
                }
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        let page = h.browser.get(url).send().await.unwrap();
        assert_eq!(page.status(), 400, "{key}");
    }
    h.mock.stop().await;
}

#[tokio::test]
async fn the_mock_binds_loopback_only() {
    let result = altrion_mock_oauth::start(SocketAddr::from(([0, 0, 0, 0], 0))).await;
    assert_eq!(result.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
}
