//! Login with Google and GitHub through the routes, against the local mock providers.

use std::{collections::HashMap, net::SocketAddr, sync::Arc};

use altrion_domain::{SessionRepository, UserRepository};
use altrion_mock_oauth::MockOAuth;
use altrion_server::database::memory_stores;
use altrion_storage::memory::MemoryUserRepository;
use reqwest::Response;
use serde_json::{json, Value};
use url::Url;

use crate::{
    common::{post_login, post_signup, TestUser},
    helpers::{assert_error, spawn_app_with, test_settings, TestApp},
};

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

/// The `Set-Cookie` value a response sets for `name`, if any.
fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The `altrion.sid=…` pair a response sets, if any.
fn session_cookie(response: &Response) -> Option<String> {
    set_cookie(response, "altrion.sid")
}

/// The pending-flow cookie (`altrion.oauth=…`) a response sets, if any.
fn flow_cookie(response: &Response) -> Option<String> {
    set_cookie(response, "altrion.oauth")
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
    /// Starts the flow with `cookie` (if any); returns the provider URL and the `Cookie` header
    /// the browser sends back: the flow cookie, plus `cookie`.
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
        assert!(
            cookie.is_some() || session_cookie(&response).is_none(),
            "an anonymous start touches no session"
        );
        let flow = pair(&flow_cookie(&response).expect("the start sets the flow cookie"));
        let cookies = match cookie {
            Some(cookie) => format!("{flow}; {cookie}"),
            None => flow,
        };
        let location = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
        (location, cookies)
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
    assert!(
        !start_cookie.contains("altrion.sid"),
        "no session before the login"
    );
    let removal = flow_cookie(&response).expect("the callback removes the flow cookie");
    assert!(removal.contains("Max-Age=0"), "{removal}");

    let sessions = h.app.sessions.all();
    assert_eq!(sessions.len(), 1, "one session, written at the login");
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
    assert!(h.app.sessions.is_empty(), "nothing was written");
    assert!(flow_cookie(&response).unwrap().contains("Max-Age=0"));

    // The browser dropped the flow cookie: the real callback finds no flow any more.
    let replay = h.callback(&back, None).await;
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

    // A browser honours the removal and comes back without the flow cookie; an attacker who
    // kept a copy of it gets nothing either: the provider accepts a code only once.
    let without_cookie = h.callback(&back, None).await;
    let replay = h.callback(&back, Some(&cookie)).await;

    assert_eq!(error_of(&without_cookie).as_deref(), Some("invalid_state"));
    assert_eq!(error_of(&replay).as_deref(), Some("provider_error"));
    assert!(session_cookie(&replay).is_none());
    assert_eq!(h.users.len(), 1);
    assert_eq!(h.app.sessions.len(), 1, "only the first callback signed in");
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
async fn an_email_owned_by_a_verified_password_account_is_not_merged() {
    let h = spawn_with_mock(&[]).await;
    post_signup(&h.app.client, &h.app.address, &TestUser::grace()).await;
    let token = crate::helpers::link_token(&h.app.next_mail().await);
    let verified = h
        .app
        .post_json("/api/auth/email/verify", &json!({"token": token}))
        .await;
    assert_eq!(verified.status().as_u16(), 200);

    let (response, _) = h.sign_in("github", GRACE).await;

    assert_eq!(error_of(&response).as_deref(), Some("account_exists"));
    assert_eq!(h.users.len(), 1);
    assert!(h.app.sessions.is_empty());
}

/// A squatter signed up with Grace's address and never verified it: Grace's verified GitHub
/// sign-in takes the account over, and the squatter's password and token stop working.
#[tokio::test]
async fn an_unverified_password_account_is_taken_over_by_the_verified_owner() {
    let h = spawn_with_mock(&[]).await;
    let mallory = TestUser {
        name: "Mallory".to_owned(),
        ..TestUser::grace()
    };
    let squatter = post_signup(&h.app.client, &h.app.address, &mallory).await;

    let (response, _) = h.sign_in("github", GRACE).await;

    assert_eq!(error_of(&response), None, "signed in");
    assert_eq!(h.users.len(), 1);
    let cookie = pair(&session_cookie(&response).expect("signed in with a session"));
    let me: Value = h.me(&cookie).await.json().await.unwrap();
    assert_eq!(
        me["user"]["id"],
        squatter.user_id.as_str(),
        "the same account"
    );
    assert_eq!(me["user"]["providers"], json!(["github"]));
    assert_eq!(me["user"]["email_verified"], true);
    let old_token = h.app.get_me(Some(&squatter.token)).await;
    assert_eq!(old_token.status().as_u16(), 401, "the squatter's JWT died");
    let old_password = post_login(
        &h.app.client,
        &h.app.address,
        &mallory.email,
        &mallory.password,
    )
    .await;
    assert_eq!(
        old_password.status().as_u16(),
        401,
        "the squatter's password is gone"
    );
}

#[tokio::test]
async fn a_password_user_links_github_and_then_signs_in_with_it() {
    let h = spawn_with_mock(&[]).await;
    let grace = TestUser::grace();
    let signup = post_signup(&h.app.client, &h.app.address, &grace).await;
    let token = signup.token.as_str();

    let link = h
        .app
        .client
        .post(h.app.url("/api/auth/github/link"))
        .bearer_auth(token)
        .json(&json!({"password": grace.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(link.status().as_u16(), 200);
    let cookie = pair(&flow_cookie(&link).unwrap());
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
    assert_eq!(me["user"]["id"], signup.user_id.as_str());
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
    let cookie = pair(&flow_cookie(&response).unwrap());
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

impl OAuthApp {
    /// Signs Grace up with a password; returns her token.
    async fn grace_with_password(&self) -> String {
        post_signup(&self.app.client, &self.app.address, &TestUser::grace())
            .await
            .token
    }

    async fn link(&self, token: &str, body: Value) -> Response {
        self.app
            .client
            .post(self.app.url("/api/auth/github/link"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn providers(&self, token: &str) -> Value {
        let me: Value = self.app.get_me(Some(token)).await.json().await.unwrap();
        me["user"]["providers"].clone()
    }
}

/// An XSS that read the victim's JWT from localStorage tries to link its own GitHub account.
#[tokio::test]
async fn linking_with_a_stolen_token_alone_is_refused() {
    let h = spawn_with_mock(&[]).await;
    let token = h.grace_with_password().await;

    for body in [json!({}), json!({"password": "not her password"})] {
        let response = h.link(&token, body).await;
        assert!(flow_cookie(&response).is_none(), "no flow is started");
        assert_error(response, 403, "reauthentication_required").await;
    }
    assert_eq!(h.providers(&token).await, json!(["local"]));
    assert!(h.app.sessions.is_empty());
}

/// The attacker got the password too and started a link; the victim's "log out everywhere"
/// must cancel it before he finishes it with his GitHub account.
#[tokio::test]
async fn log_out_everywhere_cancels_a_pending_link() {
    let h = spawn_with_mock(&[]).await;
    let token = h.grace_with_password().await;
    let link = h
        .link(&token, json!({"password": "a long passphrase"}))
        .await;
    assert_eq!(link.status().as_u16(), 200);
    let flow = pair(&flow_cookie(&link).unwrap());
    let authorize: Value = link.json().await.unwrap();
    let authorize = Url::parse(authorize["authorize_url"].as_str().unwrap()).unwrap();

    let logout_all = h
        .app
        .client
        .post(h.app.url("/api/auth/logout-all"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout_all.status().as_u16(), 204);
    let mallory = [
        ("email", "mallory@example.com"),
        ("name", "Mallory"),
        ("email_verified", "on"),
        ("action", "allow"),
    ];
    let back = h.consent(&authorize, &mallory).await;
    let callback = h.callback(&back, Some(&flow)).await;

    assert_eq!(error_of(&callback).as_deref(), Some("invalid_state"));
    assert!(session_cookie(&callback).is_none());
    assert!(h.app.sessions.is_empty());
    let grace = h
        .users
        .find_by_email(&"grace@example.com".parse_email())
        .await
        .unwrap()
        .unwrap();
    assert!(grace.identities.is_empty(), "nothing was linked");
    assert_eq!(h.users.len(), 1, "and no account was created");
}

/// A page making a signed-in browser navigate to `GET /api/auth/github` must not link whatever
/// account the provider returns: the start is always a sign-in, into a new session.
#[tokio::test]
async fn a_signed_in_browser_starting_a_login_signs_in_and_never_links() {
    let h = spawn_with_mock(&[]).await;
    let (grace, _) = h.sign_in("github", GRACE).await;
    let grace_cookie = pair(&session_cookie(&grace).unwrap());
    let mallory = [
        ("email", "mallory@example.com"),
        ("name", "Mallory"),
        ("email_verified", "on"),
        ("action", "allow"),
    ];

    let (authorize, cookies) = h.start("google", Some(&grace_cookie)).await;
    let back = h.consent(&authorize, &mallory).await;
    let callback = h.callback(&back, Some(&cookies)).await;

    assert!(error_of(&callback).is_none(), "{}", location(&callback));
    let new_cookie = pair(&session_cookie(&callback).unwrap());
    assert_ne!(new_cookie, grace_cookie, "a new session id");
    let me: Value = h.me(&new_cookie).await.json().await.unwrap();
    assert_eq!(me["user"]["email"], "mallory@example.com");
    let grace = h
        .users
        .find_by_email(&"grace@example.com".parse_email())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        grace.providers(),
        vec![altrion_domain::Provider::Github],
        "nothing linked to Grace"
    );
    // The browser's earlier session was replaced, not kept beside the new one.
    assert_eq!(h.me(&grace_cookie).await.status().as_u16(), 401);
    assert_eq!(h.users.len(), 2);
}

/// Anonymous starts used to write a 24-hour session document each: now they write nothing,
/// and the address is throttled.
#[tokio::test]
async fn three_hundred_anonymous_starts_leave_no_session_and_are_throttled() {
    let h = spawn_with_mock(&[]).await;
    let starts = (0..300).map(|_| h.app.client.get(h.app.url("/api/auth/github")).send());
    let statuses: Vec<u16> = futures_util::future::join_all(starts)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();

    let started = statuses.iter().filter(|s| **s == 302).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(started + throttled, 300, "{statuses:?}");
    assert!(
        started <= 11,
        "the burst (10) and at most one refill: {started}"
    );
    assert!(h.app.sessions.is_empty(), "no session document");
    // Sign-up and login keep their own budget.
    let login = post_login(
        &h.app.client,
        &h.app.address,
        "nobody@example.com",
        "whatever it is",
    )
    .await;
    assert_eq!(login.status().as_u16(), 401);
}

#[tokio::test]
async fn unlinking_needs_the_password_and_keeps_a_way_to_sign_in() {
    let h = spawn_with_mock(&[]).await;
    let token = h.grace_with_password().await;
    let link = h
        .link(&token, json!({"password": "a long passphrase"}))
        .await;
    let flow = pair(&flow_cookie(&link).unwrap());
    let authorize: Value = link.json().await.unwrap();
    let authorize = Url::parse(authorize["authorize_url"].as_str().unwrap()).unwrap();
    let back = h.consent(&authorize, GRACE).await;
    assert!(error_of(&h.callback(&back, Some(&flow)).await).is_none());
    assert_eq!(h.providers(&token).await, json!(["local", "github"]));
    let unlink = |body: Value| {
        h.app
            .client
            .delete(h.app.url("/api/auth/identities/github"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };

    assert_error(
        unlink(json!({})).await.unwrap(),
        403,
        "reauthentication_required",
    )
    .await;
    let done = unlink(json!({"password": "a long passphrase"}))
        .await
        .unwrap();
    assert_eq!(done.status().as_u16(), 204);
    assert_eq!(h.providers(&token).await, json!(["local"]));
    let again = unlink(json!({"password": "a long passphrase"}))
        .await
        .unwrap();
    assert_error(again, 404, "not_found").await;

    // A GitHub-only account cannot remove its only way in, even right after signing in.
    let (octo, _) = h
        .sign_in(
            "github",
            &[
                ("email", "octo@example.com"),
                ("name", "Octo"),
                ("email_verified", "on"),
                ("action", "allow"),
            ],
        )
        .await;
    let octo_cookie = pair(&session_cookie(&octo).unwrap());
    let last = h
        .app
        .client
        .delete(h.app.url("/api/auth/identities/github"))
        .header("cookie", &octo_cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(last, 409, "last_sign_in_method").await;
}

/// Two browsers signed in with GitHub: one lists both (itself marked current, each with its
/// user agent and address), ends the other, whose next request is `401`; another user's id is
/// `404`, as is an unknown one.
#[tokio::test]
async fn a_user_sees_their_sessions_and_ends_another_one() {
    let h = spawn_with_mock(&[]).await;
    let mut cookies = Vec::new();
    for agent in ["Firefox/130 on Linux", "Safari/18 on iPhone"] {
        let (authorize, flow) = h.start("github", None).await;
        let back = h.consent(&authorize, GRACE).await;
        let callback = h
            .app
            .client
            .get(h.app.url(&back))
            .header("cookie", &flow)
            .header("user-agent", agent)
            .send()
            .await
            .unwrap();
        cookies.push(pair(&session_cookie(&callback).unwrap()));
    }
    let listed: Value = h
        .app
        .get_with_cookie("/api/auth/sessions", &cookies[1])
        .await
        .json()
        .await
        .unwrap();
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{listed}");
    assert_eq!(
        sessions[0]["user_agent"], "Safari/18 on iPhone",
        "newest first"
    );
    assert_eq!(sessions[0]["current"], true);
    assert_eq!(sessions[1]["current"], false);
    assert_eq!(sessions[1]["ip"], "127.0.0.1");
    for session in sessions {
        for field in ["id", "created_at", "last_seen_at", "expires_at"] {
            assert!(session[field].is_string(), "{field}: {session}");
        }
        let id = session["id"].as_str().unwrap();
        assert!(
            !cookies.iter().any(|c| c.contains(id)),
            "the public id is not the cookie's key"
        );
        assert!(h.app.sessions.all().iter().all(|r| r.id.as_str() != id));
    }

    // Another user cannot end Grace's sessions, nor learn that the id exists.
    let other = post_signup(&h.app.client, &h.app.address, &TestUser::ada()).await;
    let other_id = sessions[1]["id"].as_str().unwrap();
    let foreign = h
        .app
        .client
        .delete(h.app.url(&format!("/api/auth/sessions/{other_id}")))
        .bearer_auth(&other.token)
        .send()
        .await
        .unwrap();
    assert_error(foreign, 404, "not_found").await;

    let revoke = h
        .app
        .client
        .delete(h.app.url(&format!("/api/auth/sessions/{other_id}")))
        .header("cookie", &cookies[1])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status().as_u16(), 204);
    assert_eq!(h.me(&cookies[0]).await.status().as_u16(), 401);
    assert_eq!(h.me(&cookies[1]).await.status().as_u16(), 200);
    let unknown = h
        .app
        .client
        .delete(h.app.url("/api/auth/sessions/0123456789abcdef"))
        .header("cookie", &cookies[1])
        .send()
        .await
        .unwrap();
    assert_error(unknown, 404, "not_found").await;
}

/// A session-cookie user changes the password they set: other browsers are signed out, this
/// one stays signed in under a new session id.
#[tokio::test]
async fn a_password_change_keeps_this_browser_and_ends_the_others() {
    let h = spawn_with_mock(&[]).await;
    let (first, _) = h.sign_in("github", GRACE).await;
    let (second, _) = h.sign_in("github", GRACE).await;
    let this = pair(&session_cookie(&first).unwrap());
    let other = pair(&session_cookie(&second).unwrap());

    // No password yet: a recent sign-in is enough to set one.
    let set = h
        .app
        .client
        .post(h.app.url("/api/auth/password"))
        .header("cookie", &this)
        .json(&json!({"new_password": "graces own passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status().as_u16(), 200);
    let renewed = pair(&session_cookie(&set).expect("a new session id"));
    assert_ne!(renewed, this);
    let body: Value = set.json().await.unwrap();
    assert!(body["token"].is_string());
    assert_eq!(body["user"]["providers"], json!(["local", "github"]));

    assert_eq!(h.me(&renewed).await.status().as_u16(), 200);
    assert_eq!(h.me(&this).await.status().as_u16(), 401);
    assert_eq!(h.me(&other).await.status().as_u16(), 401);
    assert_eq!(h.app.sessions.len(), 1);
}
