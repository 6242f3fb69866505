//! Login with Google and GitHub through the routes, against the local mock providers.

use std::{collections::HashMap, net::SocketAddr, sync::Arc};

use altrion_domain::{SessionRepository, UserRepository};
use altrion_mock_oauth::MockOAuth;
use altrion_server::database::memory_stores;
use altrion_storage::memory::MemoryUserRepository;
use reqwest::Response;
use serde_json::{json, Value};
use url::Url;

use crate::helpers::{assert_error, spawn_app_with, test_settings, TestApp};

const FRONTEND: &str = "http://127.0.0.1:3000";

struct OAuthApp {
    app: TestApp,
    mock: MockOAuth,
    users: Arc<MemoryUserRepository>,
}

async fn spawn_with_mock(extra: &[(&str, &str)]) -> OAuthApp {
    let mock = altrion_mock_oauth::start(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let env = mock.server_env();
    let mut vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    vars.push(("FRONTEND_URL", FRONTEND));
    vars.extend_from_slice(extra);
    let users = Arc::new(MemoryUserRepository::new());
    let mut stores = memory_stores();
    stores.users = users.clone();
    let app = spawn_app_with(test_settings(&vars), stores).await;
    OAuthApp { app, mock, users }
}

/// The `altrion.sid=…` pair a response sets, if any.
fn session_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("altrion.sid="))
        .map(str::to_owned)
}

fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

const GRACE: &[(&str, &str)] = &[
    ("email", "grace@example.com"),
    ("name", "Grace Hopper"),
    ("email_verified", "on"),
    ("action", "allow"),
];

impl OAuthApp {
    /// Starts the flow with `cookie` (if any); returns the provider URL and the session cookie.
    async fn start(&self, provider: &str, cookie: Option<&str>) -> (Url, String) {
        let mut request = self
            .app
            .client
            .get(self.app.url(&format!("/api/auth/{provider}")));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status().as_u16(),
            302,
            "{:?}",
            response.text().await
        );
        let cookie =
            session_cookie(&response).map_or_else(|| cookie.unwrap().to_owned(), |c| pair(&c));
        let location = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
        (location, cookie)
    }

    /// Submits the mock's consent form; returns our callback path and query.
    async fn consent(&self, authorize: &Url, choices: &[(&str, &str)]) -> String {
        let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
        form.extend(
            choices
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let mut action = authorize.clone();
        action.set_query(None);
        let answer = self
            .app
            .client
            .post(action)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 303);
        let back = Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
        format!("{}?{}", back.path(), back.query().unwrap_or_default())
    }

    async fn callback(&self, path_and_query: &str, cookie: Option<&str>) -> Response {
        let mut request = self.app.client.get(self.app.url(path_and_query));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.unwrap()
    }

    /// The whole browser round trip; returns the callback's response and the start cookie.
    async fn sign_in(&self, provider: &str, choices: &[(&str, &str)]) -> (Response, String) {
        let (authorize, cookie) = self.start(provider, None).await;
        assert!(
            authorize.as_str().starts_with(self.mock.base_url()),
            "{authorize}"
        );
        let back = self.consent(&authorize, choices).await;
        (self.callback(&back, Some(&cookie)).await, cookie)
    }

    async fn me(&self, cookie: &str) -> Response {
        self.app.get_with_cookie("/api/auth/me", cookie).await
    }
}

fn location(response: &Response) -> Url {
    Url::parse(response.headers()["location"].to_str().unwrap()).unwrap()
}

fn error_of(response: &Response) -> Option<String> {
    let query: HashMap<String, String> = location(response).query_pairs().into_owned().collect();
    query.get("error").cloned()
}

async fn happy_path(provider: &str) {
    let h = spawn_with_mock(&[]).await;

    let (response, start_cookie) = h.sign_in(provider, GRACE).await;

    assert_eq!(response.status().as_u16(), 302);
    assert_eq!(location(&response).as_str(), format!("{FRONTEND}/"));
    let set_cookie = session_cookie(&response).expect("the login sets the session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=86400"] {
        assert!(
            set_cookie.contains(attribute),
            "{attribute} missing: {set_cookie}"
        );
    }
    let cookie = pair(&set_cookie);
    assert_ne!(cookie, start_cookie, "the session id is renewed at login");

    let sessions = h.app.sessions.all();
    assert_eq!(
        sessions.len(),
        1,
        "one session: the pre-login one was replaced"
    );
    let expires_in = sessions[0].expires - time::OffsetDateTime::now_utc();
    assert!((expires_in - time::Duration::hours(24)).abs() < time::Duration::minutes(1));

    let me = h.me(&cookie).await;
    assert_eq!(me.status().as_u16(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["user"]["email"], "grace@example.com");
    assert_eq!(me["user"]["provider"], provider);
    assert_eq!(me["user"]["providers"], json!([provider]));
    assert_eq!(
        sessions[0].user_id.as_ref().unwrap().as_str(),
        me["user"]["id"]
    );

    // A second login of the same identity reuses the account and gets another session id.
    let (again, _) = h.sign_in(provider, GRACE).await;
    assert!(error_of(&again).is_none());
    assert_ne!(pair(&session_cookie(&again).unwrap()), cookie);
    assert_eq!(h.users.len(), 1);
}

#[tokio::test]
async fn github_login_creates_the_user_and_a_session() {
    happy_path("github").await;
}

#[tokio::test]
async fn google_login_creates_the_user_and_a_session() {
    happy_path("google").await;
}

#[tokio::test]
async fn a_wrong_state_is_refused_and_leaves_nothing_behind() {
    let h = spawn_with_mock(&[]).await;
    let (authorize, cookie) = h.start("github", None).await;
    let back = h.consent(&authorize, GRACE).await;
    let state = Url::parse(&format!("http://x{back}"))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let forged = back.replace(&state, "forged-state");

    let response = h.callback(&forged, Some(&cookie)).await;

    assert_eq!(error_of(&response).as_deref(), Some("invalid_state"));
    assert!(h.users.is_empty());
    assert!(
        h.app.sessions.is_empty(),
        "the half-started session is purged"
    );

    // The real callback can't be replayed after the flow was consumed.
    let replay = h.callback(&back, Some(&cookie)).await;
    assert_eq!(error_of(&replay).as_deref(), Some("invalid_state"));
    assert!(h.users.is_empty());
}

#[tokio::test]
async fn a_replayed_callback_is_refused() {
    let h = spawn_with_mock(&[]).await;
    let (authorize, cookie) = h.start("google", None).await;
    let back = h.consent(&authorize, GRACE).await;
    let first = h.callback(&back, Some(&cookie)).await;
    assert!(error_of(&first).is_none());

    let replay = h.callback(&back, Some(&cookie)).await;
    let without_cookie = h.callback(&back, None).await;

    assert_eq!(error_of(&replay).as_deref(), Some("invalid_state"));
    assert_eq!(error_of(&without_cookie).as_deref(), Some("invalid_state"));
    assert_eq!(h.users.len(), 1);
}

#[tokio::test]
async fn a_denied_consent_returns_access_denied() {
    let h = spawn_with_mock(&[]).await;

    let (response, _) = h.sign_in("github", &[("action", "deny")]).await;

    assert_eq!(error_of(&response).as_deref(), Some("access_denied"));
    assert!(h.users.is_empty());
    assert!(h.app.sessions.is_empty());
}

#[tokio::test]
async fn an_unverified_email_creates_no_account() {
    let h = spawn_with_mock(&[]).await;

    let (response, _) = h
        .sign_in(
            "google",
            &[
                ("email", "x@example.com"),
                ("name", "X"),
                ("action", "allow"),
            ],
        )
        .await;

    assert_eq!(error_of(&response).as_deref(), Some("email_not_verified"));
    assert!(h.users.is_empty());
    assert!(h.app.sessions.is_empty());
}

#[tokio::test]
async fn an_email_owned_by_a_password_account_is_not_merged() {
    let h = spawn_with_mock(&[]).await;
    let signup = h
        .app
        .post_json(
            "/api/auth/signup",
            &json!({ "name": "Grace", "email": "grace@example.com", "password": "a long passphrase" }),
        )
        .await;
    assert_eq!(signup.status().as_u16(), 201);

    let (response, _) = h.sign_in("github", GRACE).await;

    assert_eq!(error_of(&response).as_deref(), Some("account_exists"));
    assert_eq!(h.users.len(), 1);
    assert!(h.app.sessions.is_empty());
}

#[tokio::test]
async fn a_password_user_links_github_and_then_signs_in_with_it() {
    let h = spawn_with_mock(&[]).await;
    let signup: Value = h
        .app
        .post_json(
            "/api/auth/signup",
            &json!({ "name": "Grace", "email": "grace@example.com", "password": "a long passphrase" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let token = signup["token"].as_str().unwrap();

    let link = h
        .app
        .client
        .post(h.app.url("/api/auth/github/link"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(link.status().as_u16(), 200);
    let cookie = pair(&session_cookie(&link).unwrap());
    let authorize: Value = link.json().await.unwrap();
    let authorize = Url::parse(authorize["authorize_url"].as_str().unwrap()).unwrap();
    let back = h.consent(&authorize, GRACE).await;
    let linked = h.callback(&back, Some(&cookie)).await;

    assert!(error_of(&linked).is_none(), "{}", location(&linked));
    let me: Value = h.app.get_me(Some(token)).await.json().await.unwrap();
    assert_eq!(me["user"]["providers"], json!(["local", "github"]));
    assert_eq!(h.users.len(), 1);

    let (signed_in, _) = h.sign_in("github", GRACE).await;
    let cookie = pair(&session_cookie(&signed_in).unwrap());
    let me: Value = h.me(&cookie).await.json().await.unwrap();
    assert_eq!(me["user"]["id"], signup["user"]["id"]);
}

#[tokio::test]
async fn a_provider_without_credentials_is_disabled() {
    let h = spawn_with_mock(&[("GOOGLE_CLIENT_ID", ""), ("GOOGLE_CLIENT_SECRET", "")]).await;

    let response = h.app.get("/api/auth/google").await;

    assert_error(response, 404, "provider_disabled").await;
    assert!(h.app.sessions.is_empty());
}

#[tokio::test]
async fn an_outside_redirect_target_is_refused() {
    let h = spawn_with_mock(&[]).await;

    let response = h
        .app
        .get("/api/auth/github?redirect_to=https://evil.example/")
        .await;

    assert_error(response, 422, "invalid_redirect").await;
    assert!(h.app.sessions.is_empty());
}

#[tokio::test]
async fn an_allowed_redirect_target_is_where_the_login_returns() {
    let h = spawn_with_mock(&[]).await;
    let (authorize, _) = h.start("github", None).await;
    drop(authorize);
    let response = h
        .app
        .get("/api/auth/github?redirect_to=http://127.0.0.1:3000/settings")
        .await;
    assert_eq!(response.status().as_u16(), 302);
    let cookie = pair(&session_cookie(&response).unwrap());
    let back = h.consent(&location(&response), GRACE).await;

    let done = h.callback(&back, Some(&cookie)).await;

    assert_eq!(location(&done).as_str(), "http://127.0.0.1:3000/settings");
}

#[tokio::test]
async fn logout_all_by_session_removes_oauth_sessions() {
    let h = spawn_with_mock(&[]).await;
    let (first, _) = h.sign_in("github", GRACE).await;
    let (_second, _) = h.sign_in("github", GRACE).await;
    assert_eq!(h.app.sessions.len(), 2);
    let cookie = pair(&session_cookie(&first).unwrap());

    let response = h
        .app
        .client
        .post(h.app.url("/api/auth/logout-all"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status().as_u16(), 204);
    assert!(h.app.sessions.is_empty());
    let user = h
        .users
        .find_by_email(&"grace@example.com".parse_email())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.token_version, 1);
    let _: &dyn SessionRepository = h.app.sessions.as_ref();
}

trait ParseEmail {
    fn parse_email(&self) -> altrion_domain::Email;
}

impl ParseEmail for str {
    fn parse_email(&self) -> altrion_domain::Email {
        altrion_domain::Email::parse(self).unwrap()
    }
}
