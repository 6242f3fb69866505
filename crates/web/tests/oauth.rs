//! Login with GitHub mounted as docs/library.md shows it (the guide's OAuth block is part of
//! this file, checked by `tests/example.rs`), driven over HTTP against the local mock provider:
//! start, consent, callback, signed in with a session; a replayed callback, a foreign flow
//! cookie and an unknown provider are refused, and a callback left outside the session
//! middleware changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{net::SocketAddr, net::TcpListener, sync::Arc};

use actix_web::{web, App, HttpServer};
use altrion_auth::{
    Argon2Settings, AuthService, OAuthConfig, OAuthProvider, OAuthService, PasswordHasher,
    ProviderConfig, SecretString, TokenService, TokenSettings,
};
use altrion_domain::{SessionRepository, TestClock};
use altrion_storage::memory::{MemorySessionRepository, MemoryUserRepository};
use altrion_web::{handlers, handlers::oauth, ClientIp, Governor, SessionLayer};
use reqwest::{redirect::Policy, Client, Response, StatusCode};
use serde_json::Value;
use url::Url;

struct Running {
    base: String,
    users: Arc<MemoryUserRepository>,
    sessions: Arc<MemorySessionRepository>,
    /// No redirects followed: each hop is checked.
    client: Client,
    _mock: altrion_mock_oauth::MockOAuth,
}

fn mock_env(mock: &altrion_mock_oauth::MockOAuth, name: &str) -> String {
    let env = mock.server_env();
    env.into_iter().find(|(k, _)| *k == name).unwrap().1
}

/// `provider`'s real client settings with the mock's client and endpoints in place of the
/// provider's.
fn mock_provider(
    mock: &altrion_mock_oauth::MockOAuth,
    base: &str,
    provider: OAuthProvider,
) -> ProviderConfig {
    let (prefix, profile, real): (_, _, fn(String, SecretString, String) -> ProviderConfig) =
        match provider {
            OAuthProvider::Github => ("GITHUB", "API_URL", ProviderConfig::github),
            OAuthProvider::Google => ("GOOGLE", "USERINFO_URL", ProviderConfig::google),
        };
    let env = |name: &str| mock_env(mock, &format!("{prefix}_{name}"));
    ProviderConfig {
        auth_url: env("AUTH_URL"),
        token_url: env("TOKEN_URL"),
        profile_url: env(profile),
        ..real(
            env("CLIENT_ID"),
            env("CLIENT_SECRET").into(),
            oauth::callback_url(base, provider),
        )
    }
}

async fn start(session_secret: &str) -> Running {
    let mock = altrion_mock_oauth::start(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());

    let users = Arc::new(MemoryUserRepository::new());
    let sessions = Arc::new(MemorySessionRepository::new());
    let clock = Arc::new(TestClock::starting_now());
    let fast = Argon2Settings {
        memory_kib: 64,
        iterations: 1,
        ..Argon2Settings::default()
    };
    let secret = SecretString::from("a-test-jwt-secret-of-at-least-32-bytes");
    let auth = AuthService::builder(
        users.clone(),
        sessions.clone(),
        TokenService::new(&TokenSettings::with_secret(secret)).unwrap(),
    )
    .hasher(PasswordHasher::insecure_fast(&fast).unwrap())
    .clock(clock.clone())
    .build()
    .unwrap();
    // Both providers' clients, pointed at the mock's endpoints; Google too, so that a flow
    // brought to the wrong provider's callback meets the flow's own check rather than a
    // disabled provider.
    let github = mock_provider(&mock, &base, OAuthProvider::Github);
    let google = mock_provider(&mock, &base, OAuthProvider::Google);
    let config = OAuthConfig {
        frontend_url: Url::parse(&format!("{base}/")).unwrap(),
        redirect_allowlist: Vec::new(),
        http_timeout: std::time::Duration::from_secs(10),
    };
    let oauth = OAuthService::builder(users.clone(), sessions.clone(), config)
        .github(github)
        .google(google)
        .clock(clock)
        .build()
        .unwrap();
    let layer = SessionLayer::builder(sessions.clone(), &session_secret.into())
        .insecure_development()
        .cookie_name("t.sid")
        .build(&auth)
        .unwrap();
    let oauth_limit = altrion_web::ip_limit(600, 100, ClientIp::default()).unwrap();
    let server = HttpServer::new(move || {
        let sessions = layer.clone();
        // docs/library.md shows this block as it is.
        App::new()
            .configure(altrion_web::api(auth.clone()))
            .configure(altrion_web::oauth_api(
                oauth.clone(),
                sessions.flow_cookie(),
            ))
            .service(
                web::scope("/api")
                    .wrap(sessions.middleware())
                    // Fixed paths first: `/auth/{provider}` would take `/auth/me` too.
                    .route("/auth/me", web::get().to(handlers::me))
                    .service(
                        web::resource("/auth/{provider}")
                            .wrap(Governor::new(&oauth_limit))
                            .route(web::get().to(oauth::start)),
                    )
                    .service(
                        web::resource("/auth/{provider}/callback")
                            .wrap(Governor::new(&oauth_limit))
                            .route(web::get().to(oauth::callback)),
                    )
                    .route("/auth/{provider}/link", web::post().to(oauth::link))
                    .route(
                        "/auth/identities/{provider}",
                        web::delete().to(oauth::unlink),
                    ),
            )
            // Not in the guide: a callback left outside the session middleware by mistake.
            .route(
                "/unmounted/{provider}/callback",
                web::get().to(oauth::callback),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    Running {
        base,
        users,
        sessions,
        client: Client::builder().redirect(Policy::none()).build().unwrap(),
        _mock: mock,
    }
}

/// The `name=value` pair of the cookie `response` sets under `name`.
fn cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

fn location(response: &Response) -> Url {
    Url::parse(response.headers()["location"].to_str().unwrap()).unwrap()
}

impl Running {
    /// Starts a GitHub sign-in and consents at the mock as Grace; returns the callback URL the
    /// mock sends the browser to and the flow cookie it carries.
    async fn consented(&self) -> (Url, String) {
        let started = self
            .client
            .get(format!("{}/api/auth/github", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(started.status(), StatusCode::FOUND);
        assert!(
            cookie(&started, "t.sid").is_none(),
            "a start writes no session"
        );
        let flow = cookie(&started, "t.oauth").expect("the flow cookie, named after t.sid");
        let authorize = location(&started);
        let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
        for (k, v) in [
            ("email", "grace@example.com"),
            ("name", "Grace Hopper"),
            ("email_verified", "on"),
            ("action", "allow"),
        ] {
            form.push((k.to_owned(), v.to_owned()));
        }
        let mut action = authorize.clone();
        action.set_query(None);
        let consented = self.client.post(action).form(&form).send().await.unwrap();
        assert!(consented.status().is_redirection());
        (location(&consented), flow)
    }

    async fn callback(&self, url: &Url, flow: Option<&str>) -> Response {
        let mut request = self.client.get(url.clone());
        if let Some(flow) = flow {
            request = request.header("cookie", flow);
        }
        request.send().await.unwrap()
    }
}

#[tokio::test]
async fn github_sign_in_through_the_library_routes_ends_in_a_session() {
    let app = start("a-test-session-secret-of-at-least-32-bytes").await;
    let (callback, flow) = app.consented().await;
    assert!(callback.path().ends_with("/api/auth/github/callback"));

    let signed_in = app.callback(&callback, Some(&flow)).await;
    assert_eq!(signed_in.status(), StatusCode::FOUND);
    assert_eq!(location(&signed_in).as_str(), format!("{}/", app.base));
    assert!(
        signed_in
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("t.oauth=;")),
        "the flow cookie is removed"
    );
    let session = cookie(&signed_in, "t.sid").expect("a session cookie");
    assert_eq!(app.sessions.len(), 1);

    let me = app
        .client
        .get(format!("{}/api/auth/me", app.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let body: Value = me.json().await.unwrap();
    assert_eq!(body["user"]["email"], "grace@example.com");
    assert_eq!(body["user"]["provider"], "github");

    // The same callback again with the flow cookie kept from before: the provider takes a code
    // once.
    let replayed = app.callback(&callback, Some(&flow)).await;
    assert_eq!(replayed.status(), StatusCode::FOUND);
    assert_eq!(location(&replayed).query(), Some("error=provider_error"));
    assert!(cookie(&replayed, "t.sid").is_none());
    // And as a browser would send it, without the flow cookie the sign-in removed.
    let replayed = app.callback(&callback, None).await;
    assert_eq!(replayed.status(), StatusCode::FOUND);
    assert_eq!(
        location(&replayed).query(),
        Some("error=invalid_state"),
        "{}",
        location(&replayed)
    );
    assert!(cookie(&replayed, "t.sid").is_none());
    assert_eq!(app.sessions.len(), 1, "no session for the replay");
}

#[tokio::test]
async fn a_flow_cookie_of_another_secret_or_provider_is_refused() {
    let app = start("a-test-session-secret-of-at-least-32-bytes").await;
    let other = start("another-session-secret-of-at-least-32-bytes").await;
    // The other service's whole callback, its state and code with the flow cookie that other
    // service sealed, sent to this one: with a key of its own this one cannot open the cookie
    // (`invalid_state`); were the keys shared, the state would match and the code go to this
    // one's provider (`provider_error`).
    let (foreign_callback, foreign_flow) = other.consented().await;
    let mut callback = Url::parse(&app.base).unwrap();
    callback.set_path(foreign_callback.path());
    callback.set_query(foreign_callback.query());
    let refused = app.callback(&callback, Some(&foreign_flow)).await;
    assert_eq!(location(&refused).query(), Some("error=invalid_state"));
    assert!(cookie(&refused, "t.sid").is_none());
    assert_eq!(app.sessions.len(), 0);

    // A GitHub flow and its code brought to the Google callback: the path names the
    // provider, not the flow.
    let (github_callback, github_flow) = app.consented().await;
    let mut at_google = github_callback.clone();
    at_google.set_path("/api/auth/google/callback");
    let refused = app.callback(&at_google, Some(&github_flow)).await;
    assert_eq!(refused.status(), StatusCode::FOUND);
    assert_eq!(location(&refused).query(), Some("error=invalid_state"));
    assert!(cookie(&refused, "t.sid").is_none());
    assert_eq!(app.sessions.len(), 0);

    let unknown = app
        .client
        .get(format!("{}/api/auth/gitlab", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    // `/auth/me` is not taken for a provider.
    let me = app
        .client
        .get(format!("{}/api/auth/me", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_flow_cookie_follows_the_session_cookie() {
    let users = Arc::new(MemoryUserRepository::new());
    let sessions: Arc<dyn SessionRepository> = Arc::new(MemorySessionRepository::new());
    let auth = AuthService::builder(
        users,
        sessions.clone(),
        TokenService::new(&TokenSettings::with_secret(
            "a-test-jwt-secret-of-at-least-32-bytes".into(),
        ))
        .unwrap(),
    )
    .build()
    .unwrap();
    let secret: SecretString = "a-test-session-secret-of-at-least-32-bytes".into();
    let secure = SessionLayer::builder(sessions.clone(), &secret)
        .build(&auth)
        .unwrap();
    let pending: altrion_auth::PendingLogin = serde_json::from_value(serde_json::json!({
        "state": "s", "verifier": "v", "provider": "github",
        "redirect_to": "http://localhost:8080/", "linking": null,
        "created_at": "2026-12-01T00:00:00Z",
    }))
    .unwrap();
    assert_eq!(secure.flow_cookie().name(), "__Host-altrion.oauth");
    let sealed = secure.flow_cookie().carrying(&pending).unwrap();
    assert_eq!(sealed.secure(), Some(true));
    let plain = SessionLayer::builder(sessions, &secret)
        .insecure_development()
        .cookie_name("example.sid")
        .build(&auth)
        .unwrap();
    assert_eq!(plain.flow_cookie().name(), "example.oauth");
    let sealed = plain.flow_cookie().carrying(&pending).unwrap();
    assert_eq!(sealed.secure(), Some(false));
}

#[tokio::test]
async fn a_callback_outside_the_session_middleware_fails_before_it_signs_anyone_up() {
    let app = start("a-test-session-secret-of-at-least-32-bytes").await;
    let (mut callback, flow) = app.consented().await;
    callback.set_path("/unmounted/github/callback");
    let refused = app.callback(&callback, Some(&flow)).await;
    assert_eq!(refused.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "internal");
    assert!(app.users.is_empty(), "no account created");
    assert_eq!(app.sessions.len(), 0);
    // The code was not spent: the mounted callback still signs in with it.
    callback.set_path("/api/auth/github/callback");
    let signed_in = app.callback(&callback, Some(&flow)).await;
    assert!(cookie(&signed_in, "t.sid").is_some());
}
