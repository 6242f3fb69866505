//! The whole recovery and verification flow over real SMTP: the server mails through its
//! queue to an aiosmtpd process (`crates/mail/tests/smtp_sink.py`), the test reads each
//! delivered message from the sink's output, follows its link's token and completes the flow.
//!
//! Needs `python3` with `aiosmtpd`; `make smtp` runs it (`--features smtp-tests`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

use altrion_server::{database::memory_stores, Application};
use common::{post_login, post_signup, TestUser};
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "a brand new passphrase";

#[allow(dead_code)]
#[path = "../../../../crates/mail/tests/smtp/sink.rs"]
mod sink;

/// The next message the sink accepted: its recipients and raw text.
async fn next_message(sink: &mut sink::Sink) -> (Vec<String>, String) {
    let event = sink.next_event().await;
    assert!(
        event["reply"].as_str().unwrap().starts_with("250"),
        "{event}"
    );
    let to = event["rcpt_tos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    (to, event["data"].as_str().unwrap().to_owned())
}

/// The `token` of the `{page}?token=` link in a raw message (8-bit text: the link is whole).
fn token_of(raw: &str, page: &str) -> String {
    common::mailed_link(raw, page).1
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> (u16, Value) {
    let response = http.post(url).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn sign_up_verify_forgot_and_reset_over_smtp() {
    let mut sink = sink::Sink::start(&[]).await;
    let smtp_url = sink.url();
    let settings = common::test_settings(&[
        ("SMTP_URL", smtp_url.as_str()),
        ("MAIL_FROM", "Altrion <no-reply@altrion.test>"),
        ("FRONTEND_URL", "http://app.altrion.test"),
    ]);
    let app = Application::build_with(settings, memory_stores()).unwrap();
    let api = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();

    let zoe = TestUser {
        name: "Zoë".to_owned(),
        email: "zoe@example.com".to_owned(),
        password: PASSWORD.to_owned(),
    };
    let signed_up = post_signup(&http, &api, &zoe).await;
    let (to, raw) = next_message(&mut sink).await;
    assert_eq!(to, ["zoe@example.com"]);
    assert!(raw.contains("Subject: Confirm your email address"), "{raw}");
    assert!(
        raw.contains("http://app.altrion.test/verify-email?token="),
        "{raw}"
    );
    let (status, verified) = post(
        &http,
        format!("{api}/api/auth/email/verify"),
        json!({"token": token_of(&raw, "verify-email")}),
    )
    .await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["user"]["email_verified"], true);

    let (status, _) = post(
        &http,
        format!("{api}/api/auth/password/forgot"),
        json!({"email": "zoe@example.com"}),
    )
    .await;
    assert_eq!(status, 202);
    let (to, raw) = next_message(&mut sink).await;
    assert_eq!(to, ["zoe@example.com"]);
    assert!(
        raw.contains("Subject: Reset your Altrion password"),
        "{raw}"
    );
    let token = token_of(&raw, "reset-password");
    let (status, reset) = post(
        &http,
        format!("{api}/api/auth/password/reset"),
        json!({"token": token, "password": NEW_PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "{reset}");

    let login = |password| post_login(&http, &api, &zoe.email, password);
    assert_eq!(login(NEW_PASSWORD).await.status().as_u16(), 200);
    assert_eq!(login(PASSWORD).await.status().as_u16(), 401);
    let old = http
        .get(format!("{api}/api/auth/me"))
        .bearer_auth(&signed_up.token)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status().as_u16(), 401, "the sign-up's JWT died");
    let (status, again) = post(
        &http,
        format!("{api}/api/auth/password/reset"),
        json!({"token": token, "password": "yet another passphrase"}),
    )
    .await;
    assert_eq!(
        (status, &again["error"]["code"]),
        (400, &json!("invalid_token"))
    );
}
