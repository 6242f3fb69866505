//! Drives `examples/service.rs`, the service `docs/library.md` teaches, over HTTP on the
//! embedded MongoDB: if the guide's code stops working, this fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../examples/service.rs"]
mod service;

use std::net::TcpListener;

use altrion_storage::{embedded::EmbeddedDatabase, MongoOptions};
use reqwest::{header, Client, StatusCode};
use serde_json::{json, Value};

const JWT_SECRET: &str = "example-test-jwt-secret-of-at-least-32-bytes";
const SESSION_SECRET: &str = "example-test-session-secret-of-32-bytes-plus";

struct Running {
    base: String,
    db: EmbeddedDatabase,
    /// A browser: keeps the session cookie.
    browser: Client,
}

async fn start(session_secret: &str) -> anyhow::Result<Running> {
    let db = EmbeddedDatabase::start(None, 0).await?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    let server = service::serve(
        listener,
        service::Config {
            mongodb_uri: db.uri(),
            jwt_secret: JWT_SECRET.into(),
            session_secret: session_secret.into(),
            public_url: base.clone(),
            development: true,
        },
    )
    .await?;
    tokio::spawn(server);
    let browser = Client::builder().cookie_store(true).build()?;
    Ok(Running { base, db, browser })
}

async fn sessions_stored(db: &EmbeddedDatabase) -> u64 {
    let stores = altrion_storage::open(&MongoOptions::new(db.uri(), "example"))
        .await
        .unwrap();
    stores
        .database()
        .collection::<mongodb::bson::Document>("sessions")
        .count_documents(mongodb::bson::doc! {})
        .await
        .unwrap()
}

#[tokio::test]
async fn the_guides_service_signs_up_logs_in_and_out_on_mongodb_sessions() {
    let app = start(SESSION_SECRET).await.unwrap();
    let url = |path: &str| format!("{}/api{path}", app.base);
    let ada =
        json!({"name": "Ada", "email": "ada@example.com", "password": "correct horse battery"});

    let signed_up = app
        .browser
        .post(url("/signup"))
        .json(&ada)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_up.status(), StatusCode::CREATED);
    assert_eq!(signed_up.headers()["x-content-type-options"], "nosniff");
    let token = signed_up.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        sessions_stored(&app.db).await,
        0,
        "a sign-up writes no session"
    );

    // The JWT authenticates without any cookie.
    let me = Client::new()
        .get(url("/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(
        me.json::<Value>().await.unwrap()["user"]["email"],
        "ada@example.com"
    );

    // Errors follow the table: a taken email, a wrong password, a malformed body.
    let again = app
        .browser
        .post(url("/signup"))
        .json(&ada)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(
        again.json::<Value>().await.unwrap()["error"]["code"],
        "email_taken"
    );
    let wrong = json!({"email": "ada@example.com", "password": "not her password"});
    let refused = app
        .browser
        .post(url("/login"))
        .json(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["error"]["code"],
        "invalid_credentials"
    );
    let malformed = app
        .browser
        .post(url("/login"))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        malformed.json::<Value>().await.unwrap()["error"]["code"],
        "malformed_json"
    );

    // Login also signs the browser in: the cookie alone is enough, and a session is stored.
    let login = json!({"email": "ada@example.com", "password": "correct horse battery"});
    let logged_in = app
        .browser
        .post(url("/login"))
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(logged_in.status(), StatusCode::OK);
    let cookie = logged_in.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.starts_with("example.sid=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    assert_eq!(sessions_stored(&app.db).await, 1);
    let me = app.browser.get(url("/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    // Another origin cannot ride on the cookie.
    let forged = app
        .browser
        .post(url("/logout"))
        .header(header::ORIGIN, "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        forged.json::<Value>().await.unwrap()["error"]["code"],
        "forbidden_origin"
    );
    assert_eq!(sessions_stored(&app.db).await, 1);

    // Logout deletes the session document; the cookie then authenticates nothing.
    let out = app.browser.post(url("/logout")).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(sessions_stored(&app.db).await, 0);
    let me = app.browser.get(url("/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        me.json::<Value>().await.unwrap()["error"]["code"],
        "unauthorized"
    );
}

#[tokio::test]
async fn the_guides_service_refuses_the_jwt_secret_as_session_secret() {
    let err = start(JWT_SECRET)
        .await
        .err()
        .expect("the same secret twice is refused");
    assert!(
        err.to_string().contains("must differ from the JWT secret"),
        "{err}"
    );
}

/// The guide's code is the code that runs: its first block is part of this example, its second
/// part of `tests/fakes.rs`, verbatim.
#[test]
fn docs_library_md_shows_the_code_that_runs() {
    let guide = include_str!("../../../docs/library.md");
    let blocks: Vec<&str> = guide
        .split("```rust\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap())
        .collect();
    assert_eq!(blocks.len(), 2, "the guide's Rust blocks");
    let example = include_str!("../examples/service.rs");
    assert!(
        example.contains(blocks[0]),
        "docs/library.md's service differs from examples/service.rs"
    );
    let fakes = include_str!("fakes.rs");
    assert!(
        fakes.contains(blocks[1]),
        "docs/library.md's test setup differs from tests/fakes.rs"
    );
}
