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

async fn start() -> anyhow::Result<Running> {
    let db = EmbeddedDatabase::start(None, 0).await?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    let server = service::serve(
        listener,
        service::Config {
            mongodb_uri: db.uri(),
            jwt_secret: JWT_SECRET.into(),
            session_secret: SESSION_SECRET.into(),
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

/// Sends `request`; its status, headers and JSON body (`Null` when there is none).
async fn send(request: reqwest::RequestBuilder) -> (StatusCode, header::HeaderMap, Value) {
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

#[tokio::test]
async fn the_guides_service_signs_up_logs_in_and_out_on_mongodb_sessions() {
    let app = start().await.unwrap();
    let url = |path: &str| format!("{}/api{path}", app.base);
    let post = |path: &str, body: &Value| app.browser.post(url(path)).json(body);
    let ada =
        json!({"name": "Ada", "email": "ada@example.com", "password": "correct horse battery"});

    let (status, headers, body) = send(post("/signup", &ada)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let token = body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        sessions_stored(&app.db).await,
        0,
        "a sign-up writes no session"
    );

    // The JWT authenticates without any cookie.
    let (status, _, body) = send(Client::new().get(url("/me")).bearer_auth(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user"]["email"], "ada@example.com");

    // Errors follow the table: a taken email, a wrong password, a malformed body.
    let (status, _, body) = send(post("/signup", &ada)).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::CONFLICT, &json!("email_taken"))
    );
    let wrong = json!({"email": "ada@example.com", "password": "not her password"});
    let (status, _, body) = send(post("/login", &wrong)).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::UNAUTHORIZED, &json!("invalid_credentials"))
    );
    let malformed = app
        .browser
        .post(url("/login"))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{");
    let (status, _, body) = send(malformed).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::BAD_REQUEST, &json!("malformed_json"))
    );

    // Login signs the browser in: the cookie is the credential (the body carries no token),
    // and a session is stored.
    let login = json!({"email": "ada@example.com", "password": "correct horse battery"});
    let (status, headers, body) = send(post("/login", &login)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert!(body.get("token").is_none(), "{body}");
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.starts_with("example.sid=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    assert_eq!(sessions_stored(&app.db).await, 1);
    let (status, _, _) = send(app.browser.get(url("/me"))).await;
    assert_eq!(status, StatusCode::OK);

    // Another origin cannot ride on the cookie.
    let forged = app
        .browser
        .post(url("/logout"))
        .header(header::ORIGIN, "https://evil.example");
    let (status, _, body) = send(forged).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::FORBIDDEN, &json!("forbidden_origin"))
    );
    assert_eq!(sessions_stored(&app.db).await, 1);

    // Logout deletes the session document; the cookie then authenticates nothing.
    let (status, _, _) = send(app.browser.post(url("/logout"))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(sessions_stored(&app.db).await, 0);
    let (status, _, body) = send(app.browser.get(url("/me"))).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::UNAUTHORIZED, &json!("unauthorized"))
    );

    // Unknown paths answer from the error table too.
    let (status, _, body) = send(app.browser.get(url("/nothing-here"))).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::NOT_FOUND, &json!("not_found"))
    );
}

/// Sign-up and login are limited per client address, from one quota (a burst of 5, then 10 a
/// minute), so guessing passwords or probing which emails exist is slow.
#[tokio::test]
async fn the_guides_service_limits_credential_requests_per_address() {
    let app = start().await.unwrap();
    let wrong = json!({"email": "nobody@example.com", "password": "guess"});
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let request = app
            .browser
            .post(format!("{}/api/login", app.base))
            .json(&wrong);
        let (status, headers, body) = send(request).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(body["error"]["code"], "rate_limited");
            assert!(headers.contains_key(header::RETRY_AFTER));
        }
        statuses.push(status);
    }
    assert!(
        statuses[..5].iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    // The first request past the burst is refused (a token refills only every 6 s).
    assert_eq!(statuses[5], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    // Sign-up draws on the same quota.
    let signup =
        json!({"name": "Eve", "email": "eve@example.com", "password": "correct horse battery"});
    let (status, _, body) = send(
        app.browser
            .post(format!("{}/api/signup", app.base))
            .json(&signup),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"]["code"], "rate_limited");
    // `/me` is not limited with them.
    let (status, _, _) = send(app.browser.get(format!("{}/api/me", app.base))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// The guide's code is the code that runs: its Rust blocks are, verbatim up to a uniform
/// indentation, parts of this example, of `tests/oauth.rs` and of `tests/fakes.rs`, in that
/// order.
#[test]
fn docs_library_md_shows_the_code_that_runs() {
    let guide = include_str!("../../../docs/library.md");
    let mut blocks: Vec<String> = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for line in guide.lines() {
        let indent = line.len() - line.trim_start().len();
        match &mut open {
            None if line.trim() == "```rust" => open = Some((indent, String::new())),
            Some((_, block)) if line.trim() == "```" => {
                blocks.push(std::mem::take(block));
                open = None;
            }
            Some((fence, block)) => {
                assert!(
                    line.chars().take(*fence).all(|c| c == ' '),
                    "a line left of its fence's indentation: {line:?}"
                );
                block.push_str(line.get(*fence..).unwrap_or_default());
                block.push('\n');
            }
            None => {}
        }
    }
    let sources = [
        (
            "examples/service.rs",
            include_str!("../examples/service.rs"),
        ),
        ("tests/oauth.rs", include_str!("oauth.rs")),
        ("tests/fakes.rs", include_str!("fakes.rs")),
    ];
    assert_eq!(blocks.len(), sources.len(), "the guide's Rust blocks");
    for (block, (name, source)) in blocks.iter().zip(sources) {
        let indented = |by: usize| -> String {
            block
                .lines()
                .map(|line| match line {
                    "" => "\n".to_owned(),
                    line => format!("{:by$}{line}\n", ""),
                })
                .collect()
        };
        assert!(
            // From the start of a line, not the end of a longer one.
            (0..=16).any(|by| source.contains(&format!("\n{}", indented(by)))),
            "docs/library.md's block differs from {name}:\n{block}"
        );
    }
}
