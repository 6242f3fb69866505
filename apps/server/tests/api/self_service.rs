//! Password change and account deletion for JWT users.

use serde_json::{json, Value};

use crate::{
    common::{post_login, post_signup, TestUser},
    helpers::{assert_error, spawn_app},
};

#[tokio::test]
async fn changing_the_password_ends_every_other_token_and_session() {
    let app = spawn_app().await;
    let ada = TestUser::ada();
    let first = post_signup(&app.client, &app.address, &ada).await;
    let token = first.token.as_str();
    let cookie = app
        .session_cookie(app.sessions.as_ref(), &first.user_id)
        .await;
    let change = |body: Value| {
        app.client
            .post(app.url("/api/auth/password"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };

    let wrong = change(
        json!({"current_password": "not it at all", "new_password": "a brand new passphrase"}),
    )
    .await
    .unwrap();
    assert_error(wrong, 403, "reauthentication_required").await;
    let weak = change(json!({"current_password": ada.password, "new_password": "password"}))
        .await
        .unwrap();
    let body = assert_error(weak, 422, "validation_failed").await;
    assert_eq!(body["error"]["fields"][0]["field"], "new_password");

    let done =
        change(json!({"current_password": ada.password, "new_password": "a brand new passphrase"}))
            .await
            .unwrap();
    assert_eq!(done.status().as_u16(), 200);
    let new_token = done.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(app.get_me(Some(token)).await.status().as_u16(), 401);
    assert_eq!(app.get_me(Some(&new_token)).await.status().as_u16(), 200);
    assert_eq!(
        app.get_with_cookie("/api/auth/me", &cookie)
            .await
            .status()
            .as_u16(),
        401
    );
    assert!(app.sessions.is_empty());
    let old = post_login(&app.client, &app.address, &ada.email, &ada.password).await;
    assert_error(old, 401, "invalid_credentials").await;
}

#[tokio::test]
async fn deleting_the_account_leaves_nothing_and_frees_the_email() {
    let app = spawn_app().await;
    let ada = TestUser::ada();
    let first = post_signup(&app.client, &app.address, &ada).await;
    let token = first.token.as_str();
    app.session_cookie(app.sessions.as_ref(), &first.user_id)
        .await;
    let delete = |body: Value| {
        app.client
            .delete(app.url("/api/auth/account"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };

    assert_error(
        delete(json!({})).await.unwrap(),
        403,
        "reauthentication_required",
    )
    .await;
    let done = delete(json!({"password": ada.password})).await.unwrap();
    assert_eq!(done.status().as_u16(), 204);

    assert_error(app.get_me(Some(token)).await, 401, "unauthorized").await;
    assert!(app.sessions.is_empty());
    post_signup(&app.client, &app.address, &ada).await;
}
