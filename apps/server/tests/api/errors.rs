use crate::{
    common::{post_signup, TestUser},
    helpers::{assert_error, spawn_app},
};

#[tokio::test]
async fn unknown_route_is_a_json_404() {
    let app = spawn_app().await;

    assert_error(app.get("/nope").await, 404, "not_found").await;
    let post = app.client.post(app.url("/api/nope")).send().await.unwrap();
    assert_error(post, 404, "not_found").await;
}

#[tokio::test]
async fn wrong_method_is_a_json_405() {
    let app = spawn_app().await;

    let response = app
        .client
        .delete(app.url("/api/health"))
        .send()
        .await
        .unwrap();

    assert_error(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(app.url("/api/auth/login"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();

    assert_error(response, 400, "malformed_json").await;
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(app.url("/api/auth/signup"))
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .unwrap();

    assert_error(response, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn oversized_body_is_413() {
    let app = spawn_app().await;
    let padding = "x".repeat(17 * 1024);

    let response = app
        .client
        .post(app.url("/api/auth/signup"))
        .json(&serde_json::json!({ "name": padding, "email": "a@example.com", "password": "p" }))
        .send()
        .await
        .unwrap();

    assert_error(response, 413, "payload_too_large").await;
}

#[tokio::test]
async fn wrong_json_shape_is_422() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&serde_json::json!({ "email": 42 }))
        .send()
        .await
        .unwrap();

    assert_error(response, 422, "validation_failed").await;
}

#[tokio::test]
async fn cors_allows_only_the_frontend_origin_with_credentials() {
    let app = crate::helpers::spawn_app_with(
        crate::helpers::test_settings(&[("FRONTEND_URL", "http://localhost:5173")]),
        altrion_server::database::memory_stores(),
    )
    .await;

    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("http://localhost:5173").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );

    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

/// The link route parses its body like every other: a body that is not JSON, the wrong
/// content type or an oversized body is an error, never a `200`.
#[tokio::test]
async fn the_link_route_refuses_bad_bodies() {
    let app = crate::helpers::spawn_app().await;
    let signed_up = post_signup(&app.client, &app.address, &TestUser::ada()).await;
    let token = signed_up.token.as_str();
    let send = |content_type: &'static str, body: String| {
        app.client
            .post(app.url("/api/auth/github/link"))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases = [
        (
            "application/json",
            "{not json".to_owned(),
            400,
            "malformed_json",
        ),
        ("text/plain", "{}".to_owned(), 415, "unsupported_media_type"),
        (
            "application/json",
            format!("{{\"password\":\"{}\"}}", "x".repeat(20_000)),
            413,
            "payload_too_large",
        ),
    ];
    for (content_type, body, status, code) in cases {
        crate::helpers::assert_error(send(content_type, body).await.unwrap(), status, code).await;
    }
}
