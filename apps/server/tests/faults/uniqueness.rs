//! Uniqueness before readiness: until every start-up migration has succeeded, `/api/ready`
//! answers 503 with the reason, and sign-ups (which only the unique index keeps unique) answer
//! 503 too, so a burst of same-email sign-ups can never create two accounts.

use std::path::PathBuf;

use altrion_server::Application;
use mongo_embedded::{Server, ServerOptions};
use mongodb::bson::doc;
use serde_json::{json, Value};

use crate::helpers::test_settings;

struct Folder(PathBuf);

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A loopback port nothing listens on (bound once by the OS, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server over MongoDB at `port` (which need not listen yet); returns its base URL.
async fn start_app(port: u16) -> (String, actix_web::dev::ServerHandle) {
    let uri = format!("mongodb://127.0.0.1:{port}/?directConnection=true");
    let settings = test_settings(&[
        ("MONGODB_URI", uri.as_str()),
        ("MONGODB_DB", "altrion_uniqueness"),
        ("APP__DATABASE__SERVER_SELECTION_TIMEOUT_MS", "500"),
        ("APP__DATABASE__CONNECT_TIMEOUT_MS", "500"),
        ("APP__SERVER__WORKERS", "2"),
        ("APP__RATE_LIMIT__PER_IP_PER_MINUTE", "60000"),
        ("APP__RATE_LIMIT__PER_IP_BURST", "100000"),
    ]);
    let app = Application::build(settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    (base, handle)
}

async fn get_ready(client: &reqwest::Client, base: &str) -> (u16, Value) {
    let response = client
        .get(format!("{base}/api/ready"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Polls `/api/ready` (bounded: 300 × 100 ms) until `done` says so; returns the last answer.
async fn ready_until(
    client: &reqwest::Client,
    base: &str,
    done: impl Fn(u16, &Value) -> bool,
) -> (u16, Value) {
    let mut last = (0, Value::Null);
    for _ in 0..300 {
        last = get_ready(client, base).await;
        if done(last.0, &last.1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    last
}

/// 16 concurrent sign-ups of `email`: the status and error code of each.
async fn burst(client: &reqwest::Client, base: &str, email: &str) -> Vec<(u16, Value)> {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..16 {
        let (client, url) = (client.clone(), format!("{base}/api/auth/signup"));
        let body = json!({ "name": format!("Burst {i}"), "email": email, "password": "a long passphrase" });
        set.spawn(async move {
            let response = client.post(url).json(&body).send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body["error"]["code"].clone())
        });
    }
    let mut out = Vec::new();
    while let Some(answer) = set.join_next().await {
        out.push(answer.unwrap());
    }
    out
}

fn count(answers: &[(u16, Value)], status: u16) -> usize {
    answers.iter().filter(|(s, _)| *s == status).count()
}

/// Every answer is a 201, a `409 email_taken` or a `503 service_unavailable`.
fn assert_contract(answers: &[(u16, Value)]) {
    for (status, code) in answers {
        assert!(
            *status == 201
                || (*status == 409 && code == "email_taken")
                || (*status == 503 && code == "service_unavailable"),
            "unexpected answer {status} {code}"
        );
    }
}

async fn index_names(db: &mongo_embedded::ServerHandle) -> Vec<String> {
    let reply = db
        .run_command(doc! {"listIndexes": "users", "$db": "altrion_uniqueness"})
        .await;
    reply
        .get_document("cursor")
        .and_then(|c| c.get_array("firstBatch"))
        .map(|batch| {
            batch
                .iter()
                .filter_map(|i| i.as_document()?.get_str("name").ok().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn accounts_with(db: &mongo_embedded::ServerHandle, email: &str) -> i64 {
    let reply = db
        .run_command(
            doc! {"count": "users", "query": {"email": email}, "$db": "altrion_uniqueness"},
        )
        .await;
    reply
        .get_i32("n")
        .map(i64::from)
        .or_else(|_| reply.get_i64("n"))
        .unwrap()
}

#[tokio::test]
async fn a_late_database_and_a_same_email_burst_make_exactly_one_account() {
    let port = free_port();
    let (base, handle) = start_app(port).await;
    let client = reqwest::Client::new();

    let (status, body) = get_ready(&client, &base).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "service_unavailable");

    let db = Server::start(ServerOptions::default().port(port))
        .await
        .unwrap();
    // The burst leaves as soon as the database listens, before the migrations have run.
    let first = burst(&client, &base, "burst@example.com").await;
    assert_contract(&first);
    assert!(count(&first, 201) <= 1, "{first:?}");

    let (status, body) = ready_until(&client, &base, |s, _| s == 200).await;
    assert_eq!(status, 200, "never ready: {body}");
    let second = burst(&client, &base, "burst@example.com").await;
    assert_contract(&second);
    assert_eq!(
        count(&first, 201) + count(&second, 201),
        1,
        "{first:?} {second:?}"
    );

    assert!(index_names(&db).await.contains(&"email_1".to_owned()));
    assert_eq!(accounts_with(&db, "burst@example.com").await, 1);
    handle.stop(true).await;
    db.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_migration_that_cannot_succeed_keeps_sign_ups_refused_until_fixed() {
    let folder = Folder(
        std::env::temp_dir().join(format!("altrion-unique-{}", uuid::Uuid::new_v4().simple())),
    );
    std::fs::create_dir_all(&folder.0).unwrap();
    // Two stored accounts share an email: users.email_1 cannot be built.
    let db = Server::start(ServerOptions::default().dbpath(&folder.0))
        .await
        .unwrap();
    let reply = db
        .run_command(doc! {
            "insert": "users",
            "documents": [{"email": "twice@example.com"}, {"email": "twice@example.com"}],
            "$db": "altrion_uniqueness",
        })
        .await;
    assert_eq!(reply.get_i32("n").unwrap(), 2, "{reply}");
    db.shutdown().await.unwrap();

    let port = free_port();
    let (base, handle) = start_app(port).await;
    let client = reqwest::Client::new();
    let db = Server::start(ServerOptions::default().port(port).dbpath(&folder.0))
        .await
        .unwrap();

    // The database answers pings, yet the instance stays unready and says which index.
    let (status, body) = ready_until(&client, &base, |_, b| {
        b["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("users.email_1"))
    })
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "service_unavailable");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("duplicate"), "{message}");
    assert!(
        !message.contains("twice@example.com"),
        "stored values leak: {message}"
    );

    // Sign-ups are refused, not written without the index.
    let refused = burst(&client, &base, "gated@example.com").await;
    assert_eq!(count(&refused, 503), 16, "{refused:?}");
    assert_contract(&refused);
    assert_eq!(accounts_with(&db, "gated@example.com").await, 0);

    // An operator removes the duplicate; the retrying migration picks it up on its own.
    db.run_command(doc! {
        "delete": "users",
        "deletes": [{"q": {"email": "twice@example.com"}, "limit": 1}],
        "$db": "altrion_uniqueness",
    })
    .await;
    let (status, body) = ready_until(&client, &base, |s, _| s == 200).await;
    assert_eq!(status, 200, "never ready after the fix: {body}");
    assert!(index_names(&db).await.contains(&"email_1".to_owned()));

    let after = burst(&client, &base, "gated@example.com").await;
    assert_contract(&after);
    assert_eq!(count(&after, 201), 1, "{after:?}");
    assert_eq!(accounts_with(&db, "gated@example.com").await, 1);
    handle.stop(true).await;
    db.shutdown().await.unwrap();
}
