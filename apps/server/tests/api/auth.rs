use serde_json::{json, Value};

use crate::{
    common::{login_token, post_login, post_signup, TestUser},
    helpers::{assert_error, spawn_app},
};

fn signup_body(email: &str) -> Value {
    json!({ "name": "Ada Lovelace", "email": email, "password": "correct horse battery" })
}

#[tokio::test]
async fn signup_login_me_with_a_jwt_and_no_session_document() {
    let app = spawn_app().await;

    let signup = app
        .post_json("/api/auth/signup", &signup_body(" Ada@Example.com "))
        .await;
    assert_eq!(signup.status().as_u16(), 201);
    assert!(
        signup.headers().get("set-cookie").is_none(),
        "JWT path sets no cookie"
    );
    let body: Value = signup.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 86_400);
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["user"]["provider"], "local");
    assert_eq!(body["user"]["providers"], json!(["local"]));
    for hidden in [
        "password",
        "password_hash",
        "token_version",
        "failed_logins",
    ] {
        assert!(body["user"].get(hidden).is_none(), "{hidden} leaked");
    }

    let token = login_token(&app.client, &app.address, &TestUser::new("ADA@example.com")).await;

    let me = app.get_me(Some(&token)).await;
    assert_eq!(me.status().as_u16(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["user"]["email"], "ada@example.com");
    assert_eq!(me["user"]["id"], body["user"]["id"]);

    let logout = app
        .client
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status().as_u16(), 204);
    assert_eq!(
        app.stores_sessions_len(),
        0,
        "JWT traffic never writes sessions"
    );
}

#[tokio::test]
async fn duplicate_email_is_409_email_taken() {
    let app = spawn_app().await;
    post_signup(&app.client, &app.address, &TestUser::new("a@example.com")).await;

    let again = app
        .post_json("/api/auth/signup", &signup_body("A@EXAMPLE.COM"))
        .await;

    assert_error(again, 409, "email_taken").await;
}

#[tokio::test]
async fn invalid_fields_are_listed_together() {
    let app = spawn_app().await;

    let response = app
        .post_json(
            "/api/auth/signup",
            &json!({ "name": " ", "email": "nope", "password": "short" }),
        )
        .await;

    let body = assert_error(response, 422, "validation_failed").await;
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["name", "email", "password"]);
}

#[tokio::test]
async fn unknown_email_and_wrong_password_look_the_same() {
    let app = spawn_app().await;
    post_signup(&app.client, &app.address, &TestUser::ada()).await;

    let wrong = post_login(
        &app.client,
        &app.address,
        "ada@example.com",
        "wrong password",
    )
    .await;
    let unknown = post_login(
        &app.client,
        &app.address,
        "bob@example.com",
        "wrong password",
    )
    .await;

    let strip = |r: &reqwest::Response| {
        let mut headers: Vec<(String, String)> = r
            .headers()
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "x-request-id" | "date"))
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        headers.sort();
        (r.status(), headers)
    };
    assert_eq!(strip(&wrong), strip(&unknown));
    let wrong = assert_error(wrong, 401, "invalid_credentials").await;
    let unknown = assert_error(unknown, 401, "invalid_credentials").await;
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn me_without_or_with_a_bad_token_is_401() {
    let app = spawn_app().await;

    assert_error(app.get_me(None).await, 401, "unauthorized").await;
    assert_error(app.get_me(Some("not.a.jwt")).await, 401, "unauthorized").await;
    let malformed = app
        .client
        .get(app.url("/api/auth/me"))
        .header("authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .unwrap();
    assert_error(malformed, 401, "unauthorized").await;
}

#[tokio::test]
async fn logout_all_kills_every_jwt() {
    let app = spawn_app().await;
    let token = &post_signup(&app.client, &app.address, &TestUser::ada())
        .await
        .token;

    let response = app
        .client
        .post(app.url("/api/auth/logout-all"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);

    assert_error(app.get_me(Some(token)).await, 401, "unauthorized").await;
    assert_error(
        app.client
            .post(app.url("/api/auth/logout-all"))
            .send()
            .await
            .unwrap(),
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn repeated_failures_lock_the_account_with_retry_after() {
    let app = spawn_app().await;
    post_signup(&app.client, &app.address, &TestUser::ada()).await;
    let attempt = || {
        post_login(
            &app.client,
            &app.address,
            "ada@example.com",
            "wrong password",
        )
    };

    for _ in 0..5 {
        assert_eq!(attempt().await.status(), 401);
    }
    let locked = attempt().await;

    let retry_after = locked.headers().get("retry-after").cloned();
    assert_error(locked, 429, "rate_limited").await;
    assert_eq!(retry_after.unwrap(), "1");
}

#[tokio::test]
async fn per_ip_limit_answers_429_in_the_error_shape() {
    let app = crate::helpers::spawn_app_with(
        crate::helpers::test_settings(&[
            ("APP__RATE_LIMIT__PER_IP_BURST", "2"),
            ("APP__RATE_LIMIT__PER_IP_PER_MINUTE", "1"),
        ]),
        altrion_server::database::memory_stores(),
    )
    .await;
    let attempt = || post_login(&app.client, &app.address, "x@example.com", "whatever1");

    for _ in 0..2 {
        assert_eq!(attempt().await.status(), 401);
    }
    let limited = attempt().await;

    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, 429, "rate_limited").await;
}
