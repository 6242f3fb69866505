use std::sync::Arc;

use altrion_server::database::memory_stores;
use altrion_storage::memory::Unreachable;

use crate::helpers::{assert_error, spawn_app, spawn_app_with, test_settings};

#[tokio::test]
async fn health_is_ok_with_a_request_id() {
    let app = spawn_app().await;

    let response = app.get("/api/health").await;

    assert_eq!(response.status().as_u16(), 200);
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 36, "a generated UUID: {id}");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({ "status": "ok" }));
}

#[tokio::test]
async fn a_sane_caller_request_id_is_echoed_and_a_hostile_one_replaced() {
    let app = spawn_app().await;

    let echoed = app
        .client
        .get(app.url("/api/health"))
        .header("x-request-id", "trace-abc.123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-abc.123");

    let replaced = app
        .client
        .get(app.url("/api/health"))
        .header("x-request-id", "x".repeat(200))
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.headers()["x-request-id"].len(), 36);
}

#[tokio::test]
async fn ready_when_the_store_answers() {
    let app = spawn_app().await;

    let response = app.get("/api/ready").await;

    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn not_ready_when_the_store_is_down() {
    let mut stores = memory_stores();
    stores.readiness = Arc::new(Unreachable);
    let app = spawn_app_with(test_settings(&[]), stores).await;

    let response = app.get("/api/ready").await;

    let retry_after = response.headers().get("retry-after").cloned();
    let body = assert_error(response, 503, "service_unavailable").await;
    assert!(retry_after.is_some());
    assert!(
        !body.to_string().contains("the database is unreachable"),
        "no internals: {body}"
    );
}

#[tokio::test]
async fn the_demo_page_is_served_with_a_strict_csp() {
    let app = spawn_app().await;

    for (path, content_type) in [
        ("/", "text/html; charset=utf-8"),
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], content_type, "{path}");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
    }
    let html = app.get("/").await.text().await.unwrap();
    assert!(html.contains("name=\"altrion-api\""));
}

/// A build without the `dev-db` feature (every release build) holds no emulator and says so.
#[cfg(not(feature = "dev-db"))]
#[tokio::test]
async fn an_embedded_database_needs_a_dev_db_build() {
    let settings = crate::helpers::test_settings(&[("MONGODB_URI", "embedded:")]);
    let Err(err) = altrion_server::Application::build(settings).await else {
        panic!("an embedded database is refused without dev-db");
    };
    assert!(err.to_string().contains("dev-db"), "{err}");
}

/// A signed-in browser loading the page, its assets and the probes reads no session: with the
/// session store down they still answer, while a route that uses the session answers 503.
#[tokio::test]
async fn the_page_and_the_probes_never_load_the_session() {
    let mut stores = memory_stores();
    stores.sessions = Arc::new(Unreachable);
    let app = crate::helpers::spawn_app_over(stores).await;
    // A well-formed, signed session cookie, so the session middleware would look it up.
    let elsewhere = altrion_storage::memory::MemorySessionRepository::new();
    let cookie = app
        .session_cookie(&elsewhere, "0123456789abcdef01234567")
        .await;
    for path in [
        "/",
        "/app.js",
        "/style.css",
        "/reset-password?token=t",
        "/api/health",
        "/api/ready",
        "/api/openapi.json",
    ] {
        let response = app.get_with_cookie(path, &cookie).await;
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert!(
            !response.headers().contains_key("set-cookie"),
            "{path} touched the session"
        );
    }
    let me = app.get_with_cookie("/api/auth/me", &cookie).await;
    assert_error(me, 503, "service_unavailable").await;
}
