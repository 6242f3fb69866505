//! The attacks of the security review, replayed against the routes: each must fail.

use serde_json::json;

use crate::{
    common::{plant_session, post_signup, TestUser},
    helpers::{assert_error, spawn_app},
};

#[tokio::test]
async fn a_thirty_day_old_session_is_refused_and_deleted() {
    let app = spawn_app().await;
    let user = post_signup(&app.client, &app.address, &TestUser::ada()).await;
    let id = user.user_id.as_str();
    let month_ago = time::OffsetDateTime::now_utc() - time::Duration::days(30);
    let old = plant_session(
        app.sessions.as_ref(),
        app.cookie.name,
        &app.cookie.key,
        id,
        month_ago,
    )
    .await;
    let fresh = app.session_cookie(app.sessions.as_ref(), id).await;
    assert_eq!(app.sessions.len(), 2);

    let response = app.get_with_cookie("/api/auth/me", &old).await;

    assert_error(response, 401, "unauthorized").await;
    assert_eq!(
        app.sessions.len(),
        1,
        "the old session is deleted, not extended"
    );
    let response = app.get_with_cookie("/api/auth/me", &fresh).await;
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn a_token_forged_with_a_once_committed_secret_is_refused() {
    let app = spawn_app().await;
    let body = post_signup(&app.client, &app.address, &TestUser::ada()).await;
    let published = "dev-only-jwt-secret-do-not-use-in-production-0123456789";
    let forger = altrion_auth::TokenService::new(&altrion_auth::TokenSettings::with_secret(
        secrecy::SecretString::from(published),
    ))
    .unwrap();
    let victim = altrion_domain::User {
        id: altrion_domain::UserId::new(body.user_id),
        name: altrion_domain::DisplayName::parse("Ada").unwrap(),
        email: altrion_domain::Email::parse("ada@example.com").unwrap(),
        email_verified: false,
        password_hash: None,
        provider: altrion_domain::Provider::Local,
        identities: vec![],
        avatar_url: None,
        token_version: 0,
        failed_logins: 0,
        locked_until: None,
        created_at: time::OffsetDateTime::now_utc(),
        updated_at: time::OffsetDateTime::now_utc(),
        last_login_at: None,
    };
    let forged = forger
        .issue(&victim, time::OffsetDateTime::now_utc())
        .unwrap();

    let response = app.get_me(Some(&forged.token)).await;

    assert_error(response, 401, "unauthorized").await;
    // And no profile accepts that secret as its own.
    let refused = altrion_server::settings::load_from(
        &[
            ("APP_ENV", "development"),
            ("JWT_SECRET", published),
            (
                "SESSION_SECRET",
                "another-strong-secret-of-at-least-32-bytes-x",
            ),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect(),
        std::path::Path::new("/nonexistent-config-dir"),
    );
    assert!(refused.is_err());
}

#[tokio::test]
async fn common_passwords_are_refused_at_sign_up() {
    let app = spawn_app().await;
    for password in ["password", "12345678"] {
        let response = app
            .post_json(
                "/api/auth/signup",
                &json!({ "name": "Ada", "email": "ada@example.com", "password": password }),
            )
            .await;
        let body = assert_error(response, 422, "validation_failed").await;
        assert_eq!(body["error"]["fields"][0]["field"], "password", "{body}");
        assert!(
            body["error"]["fields"][0]["message"]
                .as_str()
                .unwrap()
                .contains("too common"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn display_names_with_invisible_characters_are_refused() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/api/auth/signup",
            &json!({ "name": "adm\u{202e}ni\u{200b}", "email": "ada@example.com", "password": "correct horse battery" }),
        )
        .await;
    let body = assert_error(response, 422, "validation_failed").await;
    assert_eq!(body["error"]["fields"][0]["field"], "name", "{body}");
}

/// CSRF: a page on another origin making the browser POST with its session cookie.
#[tokio::test]
async fn cookie_authenticated_writes_from_a_foreign_origin_are_refused() {
    let app = spawn_app().await;
    let user = post_signup(&app.client, &app.address, &TestUser::ada()).await;
    let cookie = app
        .session_cookie(app.sessions.as_ref(), &user.user_id)
        .await;
    let post = |headers: &[(&'static str, &'static str)]| {
        let mut request = app
            .client
            .post(app.url("/api/auth/logout-all"))
            .header("cookie", &cookie);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };

    let foreign = post(&[("origin", "https://evil.example")]).await.unwrap();
    assert_error(foreign, 403, "forbidden_origin").await;
    let cross_site = post(&[("sec-fetch-site", "cross-site")]).await.unwrap();
    assert_error(cross_site, 403, "forbidden_origin").await;
    let null = post(&[("origin", "null")]).await.unwrap();
    assert_error(null, 403, "forbidden_origin").await;
    assert_eq!(app.sessions.len(), 1, "nothing was done");

    // The frontend's own origin (FRONTEND_URL) is served.
    let own = post(&[
        ("origin", "http://localhost:8080"),
        ("sec-fetch-site", "same-origin"),
    ])
    .await
    .unwrap();
    assert_eq!(own.status().as_u16(), 204);
    assert!(app.sessions.is_empty());

    // Without the cookie (a Bearer token is never sent by the browser on its own) the origin
    // does not matter.
    let login = app
        .client
        .post(app.url("/api/auth/login"))
        .header("origin", "https://evil.example")
        .json(&json!({ "email": "ada@example.com", "password": "correct horse battery" }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 200);
}
