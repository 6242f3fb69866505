use std::sync::Arc;

use altrion_domain::UserId;
use altrion_server::database::memory_stores;
use altrion_storage::memory::Unreachable;
use serde_json::Value;

use crate::{
    common::{post_signup, TestUser},
    helpers::{assert_error, spawn_app, spawn_app_over},
};

#[tokio::test]
async fn the_session_cookie_authenticates_and_logout_purges_it() {
    let app = spawn_app().await;
    let user_id = post_signup(&app.client, &app.address, &TestUser::grace())
        .await
        .user_id;
    let cookie = app.session_cookie(app.sessions.as_ref(), &user_id).await;

    let me = app.get_with_cookie("/api/auth/me", &cookie).await;
    assert_eq!(me.status().as_u16(), 200);
    assert_eq!(
        me.json::<Value>().await.unwrap()["user"]["id"],
        user_id.as_str()
    );

    let logout = app.post_with_cookie("/api/auth/logout", &cookie).await;
    assert_eq!(logout.status().as_u16(), 204);
    let removal = logout.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(removal.starts_with("altrion.sid="), "{removal}");
    assert!(
        removal.contains("Max-Age=0") || removal.contains("expires=Thu, 01 Jan 1970"),
        "{removal}"
    );
    assert!(app.sessions.is_empty(), "the session document is gone");

    let replay = app.get_with_cookie("/api/auth/me", &cookie).await;
    assert_error(replay, 401, "unauthorized").await;
}

/// A session signed in before the user's token version moved on (a reset, take-over or log
/// out everywhere whose deletion of sessions failed) is refused and removed, not honoured.
#[tokio::test]
async fn a_session_from_before_a_token_version_bump_is_void() {
    let stores = memory_stores();
    let users = stores.users.clone();
    let app = crate::helpers::spawn_app_with(crate::common::test_settings(&[]), stores).await;
    let grace = post_signup(&app.client, &app.address, &TestUser::grace()).await;
    let cookie = crate::common::plant_session_with(
        app.sessions.as_ref(),
        app.cookie.name,
        &app.cookie.key,
        &grace.user_id,
        time::OffsetDateTime::now_utc(),
        Some(0),
    )
    .await;
    assert_eq!(
        app.get_with_cookie("/api/auth/me", &cookie).await.status(),
        200
    );

    users
        .bump_token_version(
            &UserId::new(&grace.user_id),
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();

    let stale = app.get_with_cookie("/api/auth/me", &cookie).await;
    assert_error(stale, 401, "unauthorized").await;
    assert!(app.sessions.is_empty(), "the void session is deleted");
}

#[tokio::test]
async fn logout_all_by_cookie_deletes_every_session_of_the_user_only() {
    let app = spawn_app().await;
    let grace = post_signup(&app.client, &app.address, &TestUser::grace()).await;
    let alan = TestUser::new("alan@example.com");
    let alan = post_signup(&app.client, &app.address, &alan).await.user_id;
    let (grace, token) = (grace.user_id, grace.token);
    let first = app.session_cookie(app.sessions.as_ref(), &grace).await;
    let _second = app.session_cookie(app.sessions.as_ref(), &grace).await;
    let _other = app.session_cookie(app.sessions.as_ref(), &alan).await;

    let response = app.post_with_cookie("/api/auth/logout-all", &first).await;

    assert_eq!(response.status().as_u16(), 204);
    let left: Vec<_> = app.sessions.all().into_iter().map(|r| r.user_id).collect();
    assert_eq!(left, vec![Some(UserId::new(alan))]);
    assert_error(app.get_me(Some(&token)).await, 401, "unauthorized").await;
}

#[tokio::test]
async fn requests_that_never_touch_the_session_write_nothing() {
    let app = spawn_app().await;
    let token = post_signup(&app.client, &app.address, &TestUser::grace())
        .await
        .token;

    let me = app.get_me(Some(&token)).await;

    assert_eq!(me.status().as_u16(), 200);
    assert!(me.headers().get("set-cookie").is_none());
    assert!(app.sessions.is_empty());
}

#[tokio::test]
async fn an_unreachable_session_store_is_a_json_503() {
    let mut stores = memory_stores();
    stores.sessions = Arc::new(Unreachable);
    let app = spawn_app_over(stores).await;
    let cookie = app
        .session_cookie(
            &altrion_storage::memory::MemorySessionRepository::new(),
            "0123456789abcdef01234567",
        )
        .await;

    let response = app.get_with_cookie("/api/auth/me", &cookie).await;

    let body = assert_error(response, 503, "service_unavailable").await;
    assert!(
        !body.to_string().contains("the database is unreachable"),
        "no internals: {body}"
    );
}
