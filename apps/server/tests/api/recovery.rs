//! Password recovery and email verification over HTTP.

use altrion_server::{database::memory_stores, state::Stores};
use altrion_storage::memory::Unreachable;
use serde_json::{json, Value};
use std::sync::Arc;

use crate::{
    common::{post_login, post_signup, TestUser},
    helpers::{
        assert_error, link_token, spawn_app, spawn_app_over, spawn_app_with, test_settings, TestApp,
    },
};

const NEW_PASSWORD: &str = "a brand new passphrase";

/// Signs Ada up; returns her token, after taking her verification mail.
async fn ada(app: &TestApp) -> (String, String) {
    let signed_up = post_signup(&app.client, &app.address, &TestUser::ada()).await;
    assert_eq!(signed_up.body["user"]["email_verified"], false);
    let mail = app.next_mail().await;
    assert_eq!(mail.to.as_str(), "ada@example.com");
    (signed_up.token, link_token(&mail))
}

/// `POST /api/auth/login` as Ada with `password`.
async fn ada_login(app: &TestApp, password: &str) -> reqwest::Response {
    post_login(&app.client, &app.address, "ada@example.com", password).await
}

async fn forgot(app: &TestApp, email: &str) -> reqwest::Response {
    app.post_json("/api/auth/password/forgot", &json!({"email": email}))
        .await
}

/// Status, the headers a client could tell apart, and the body.
async fn observable(response: reqwest::Response) -> (u16, Vec<(String, String)>, String) {
    let status = response.status().as_u16();
    let mut headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "date" | "x-request-id"))
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    (status, headers, response.text().await.unwrap())
}

#[tokio::test]
async fn forgot_answers_alike_for_unknown_known_and_passwordless_emails() {
    let stores = memory_stores();
    // An account made by GitHub sign-in: no password (a reset mail lets it set one).
    let now = time::OffsetDateTime::now_utc();
    stores
        .users
        .create(altrion_domain::NewUser {
            name: altrion_domain::DisplayName::parse("Octo").unwrap(),
            email: altrion_domain::Email::parse("octo@example.com").unwrap(),
            email_verified: true,
            password_hash: None,
            provider: altrion_domain::Provider::Github,
            identity: None,
            avatar_url: None,
            created_at: now,
        })
        .await
        .unwrap();
    let app = spawn_app_over(stores).await;
    ada(&app).await;
    let unknown = observable(forgot(&app, "nobody@example.com").await).await;
    let known = observable(forgot(&app, "ada@example.com").await).await;
    let passwordless = observable(forgot(&app, "octo@example.com").await).await;
    assert_eq!(unknown.0, 202);
    assert_eq!(unknown.2, r#"{"status":"accepted"}"#);
    assert_eq!(unknown, known);
    assert_eq!(unknown, passwordless);
    // The two real accounts got mail (their background jobs may finish in either order), and
    // they are the first two: the unknown address's job, started first, sent none by then.
    // (That an unknown address is never mailed is shown without a race in auth's
    // `a_reset_link_is_mailed_only_to_an_existing_account`, which awaits the job.)
    let mut to = Vec::new();
    for _ in 0..2 {
        let mail = app.next_mail().await;
        assert!(
            mail.text.contains("/reset-password?token="),
            "{}",
            mail.text
        );
        to.push(mail.to.as_str().to_owned());
    }
    to.sort();
    assert_eq!(to, ["ada@example.com", "octo@example.com"]);
    assert!(
        app.mail
            .sent()
            .iter()
            .all(|m| m.to.as_str() != "nobody@example.com"),
        "no mail to an unknown address"
    );
}

/// The answer never waits for the account lookup: with the database down it is still the
/// same `202`, while anything that reads the database answers `503`.
#[tokio::test]
async fn forgot_answers_before_any_database_work() {
    let stores = Stores {
        users: Arc::new(Unreachable),
        sessions: Arc::new(Unreachable),
        readiness: Arc::new(Unreachable),
    };
    let app = spawn_app_over(stores).await;
    let response = forgot(&app, "ada@example.com").await;
    assert_eq!(response.status(), 202);
    let login = ada_login(&app, &TestUser::ada().password).await;
    assert_error(login, 503, "service_unavailable").await;
}

#[tokio::test]
async fn forgot_refuses_what_is_not_an_email() {
    let app = spawn_app().await;
    let body = assert_error(forgot(&app, "not-an-email").await, 422, "validation_failed").await;
    assert_eq!(body["error"]["fields"][0]["field"], "email");
    assert_error(
        app.post_json("/api/auth/password/forgot", &json!({})).await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn forgot_is_rate_limited_per_client_address() {
    let app = spawn_app_with(
        test_settings(&[
            ("APP__RATE_LIMIT__PER_IP_BURST", "3"),
            ("APP__RATE_LIMIT__PER_IP_PER_MINUTE", "1"),
        ]),
        memory_stores(),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(forgot(&app, "someone@example.com").await.status(), 202);
    }
    let limited = forgot(&app, "someone@example.com").await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, 429, "rate_limited").await;
}

#[tokio::test]
async fn the_mailed_reset_link_sets_a_new_password_once() {
    let app = spawn_app().await;
    let (old_token, _) = ada(&app).await;
    assert_eq!(forgot(&app, "ada@example.com").await.status(), 202);
    let token = link_token(&app.next_mail().await);

    let weak = app
        .post_json(
            "/api/auth/password/reset",
            &json!({"token": token, "password": "password"}),
        )
        .await;
    let body = assert_error(weak, 422, "validation_failed").await;
    assert_eq!(body["error"]["fields"][0]["field"], "password");

    let reset = app
        .post_json(
            "/api/auth/password/reset",
            &json!({"token": token, "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(reset.status(), 200);
    let body: Value = reset.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["user"]["email_verified"], true);
    let new_token = body["token"].as_str().unwrap();
    assert_eq!(app.get_me(Some(new_token)).await.status(), 200);
    assert_error(app.get_me(Some(&old_token)).await, 401, "unauthorized").await;
    let old_password = ada_login(&app, &TestUser::ada().password).await;
    assert_error(old_password, 401, "invalid_credentials").await;
    assert_eq!(ada_login(&app, NEW_PASSWORD).await.status(), 200);

    let again = app
        .post_json(
            "/api/auth/password/reset",
            &json!({"token": token, "password": "yet another passphrase"}),
        )
        .await;
    assert_error(again, 400, "invalid_token").await;
}

#[tokio::test]
async fn tampered_and_foreign_tokens_are_invalid_token() {
    let app = spawn_app().await;
    let (access_token, verification) = ada(&app).await;
    for token in [
        "garbage".to_owned(),
        access_token.clone(),
        verification.clone(),
        format!("{verification}x"),
    ] {
        let response = app
            .post_json(
                "/api/auth/password/reset",
                &json!({"token": token, "password": NEW_PASSWORD}),
            )
            .await;
        assert_error(response, 400, "invalid_token").await;
    }
    let response = app
        .post_json("/api/auth/email/verify", &json!({"token": access_token}))
        .await;
    assert_error(response, 400, "invalid_token").await;
    // A mailed token is no access token.
    assert_error(app.get_me(Some(&verification)).await, 401, "unauthorized").await;
}

#[tokio::test]
async fn the_verification_link_verifies_once_and_resend_is_limited() {
    let app = spawn_app().await;
    let (token, verification) = ada(&app).await;

    let unauthenticated = app.post_json("/api/auth/email/resend", &json!({})).await;
    assert_error(unauthenticated, 401, "unauthorized").await;
    // The sign-up mail was the first of three an hour.
    for _ in 0..2 {
        let resent = app
            .post_json_as("/api/auth/email/resend", &token, &json!({}))
            .await;
        assert_eq!(resent.status(), 202);
        app.next_mail().await;
    }
    let spent = app
        .post_json_as("/api/auth/email/resend", &token, &json!({}))
        .await;
    assert_eq!(spent.headers()["retry-after"], "3600");
    assert_error(spent, 429, "rate_limited").await;

    let verified = app
        .post_json("/api/auth/email/verify", &json!({"token": verification}))
        .await;
    assert_eq!(verified.status(), 200);
    let body: Value = verified.json().await.unwrap();
    assert_eq!(body["user"]["email_verified"], true);
    let me: Value = app.get_me(Some(&token)).await.json().await.unwrap();
    assert_eq!(me["user"]["email_verified"], true);

    let twice = app
        .post_json("/api/auth/email/verify", &json!({"token": verification}))
        .await;
    assert_error(twice, 400, "invalid_token").await;
    let already = app
        .post_json_as("/api/auth/email/resend", &token, &json!({}))
        .await;
    assert_error(already, 409, "email_already_verified").await;
}

#[tokio::test]
async fn requiring_verification_holds_login_and_me_until_verified() {
    let app = spawn_app_with(
        test_settings(&[("APP__AUTH__REQUIRE_VERIFIED_EMAIL", "true")]),
        memory_stores(),
    )
    .await;
    let (token, verification) = ada(&app).await;
    let password = TestUser::ada().password;
    let login = || ada_login(&app, &password);
    assert_error(login().await, 403, "email_not_verified").await;
    assert_error(app.get_me(Some(&token)).await, 403, "email_not_verified").await;
    let wrong = ada_login(&app, "wrong guess").await;
    assert_error(wrong, 401, "invalid_credentials").await;
    // Every other authenticated route is held too (a squatter's sign-up token can neither link
    // an identity nor change the password), except asking for a new link and logging out.
    for (path, body) in [
        ("/api/auth/github/link", json!({"password": password})),
        (
            "/api/auth/password",
            json!({"current_password": password, "new_password": "a brand new passphrase"}),
        ),
    ] {
        let held = app.post_json_as(path, &token, &body).await;
        assert_error(held, 403, "email_not_verified").await;
    }
    let sessions = app
        .client
        .get(app.url("/api/auth/sessions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_error(sessions, 403, "email_not_verified").await;
    let resend = app
        .post_json_as("/api/auth/email/resend", &token, &json!({}))
        .await;
    assert_eq!(resend.status(), 202);
    app.next_mail().await;

    let verified = app
        .post_json("/api/auth/email/verify", &json!({"token": verification}))
        .await;
    assert_eq!(verified.status(), 200);
    assert_eq!(login().await.status(), 200);
    assert_eq!(app.get_me(Some(&token)).await.status(), 200);
}

#[tokio::test]
async fn the_pages_the_links_open_are_the_demo_page() {
    let app = spawn_app().await;
    for path in ["/reset-password?token=abc", "/verify-email?token=abc"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    }
}

/// Through the real mail queue, as `make run` sends it: the sign-up's verification mail lands
/// in the outbox as plain text, its link on one line as written (no quoted-printable `=3D`),
/// and without the (caller-chosen) display name. Stopping the server drains the queue, so the
/// file is there.
#[tokio::test]
async fn the_outbox_holds_a_readable_verification_mail() {
    let outbox = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("outbox-test-{}", uuid::Uuid::new_v4().simple()));
    let settings = test_settings(&[("APP__MAIL__OUTBOX_DIR", outbox.to_str().unwrap())]);
    let app = altrion_server::Application::build_with(settings, memory_stores()).unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let served = tokio::spawn(app.run_until_stopped());
    let zoe = TestUser {
        name: "Zoe Quillfeather".to_owned(),
        ..TestUser::new("zoe@example.com")
    };
    post_signup(&reqwest::Client::new(), &address, &zoe).await;
    handle.stop(true).await;
    served.await.unwrap().unwrap();

    let files: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "eml"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(eml.contains("Content-Transfer-Encoding: 7bit"), "{eml}");
    assert!(!eml.contains("=3D"), "no quoted-printable: {eml}");
    // The recipient is the bare address: the name the caller chose is nowhere in the mail.
    assert!(eml.lines().any(|l| l == "To: zoe@example.com"), "{eml}");
    assert!(!eml.contains("Quillfeather"), "no display name: {eml}");
    let link = eml
        .lines()
        .find(|line| line.contains("/verify-email?token="))
        .expect("the link on one line");
    let token = link.split("token=").nth(1).unwrap().trim_end();
    assert_eq!(token.split('.').count(), 3, "a whole JWT: {link}");
    std::fs::remove_dir_all(&outbox).unwrap();
}
