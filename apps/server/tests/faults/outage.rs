//! The database stops while requests are flowing: requests answer `503 service_unavailable`
//! within the configured server-selection timeout, `/api/ready` turns 503, and once the
//! database is back on the same port and folder the server recovers by itself.

use std::{
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use altrion_server::Application;
use mongo_embedded::{Server, ServerOptions};
use serde_json::Value;

use crate::{
    common::{post_login, post_signup, TestUser},
    helpers::test_settings,
};

/// `APP__DATABASE__SERVER_SELECTION_TIMEOUT_MS` for this test.
const SELECTION_TIMEOUT_MS: u64 = 1_000;
/// A generous behaviour bound above it (not a benchmark).
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

struct Folder(PathBuf);

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn status_and_body(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn the_database_stops_mid_traffic_and_the_service_recovers_on_its_own() {
    let folder = Folder(
        std::env::temp_dir().join(format!("altrion-faults-{}", uuid::Uuid::new_v4().simple())),
    );
    std::fs::create_dir_all(&folder.0).unwrap();
    let db = Server::start(ServerOptions::default().dbpath(&folder.0))
        .await
        .unwrap();
    let db_port = db.local_addr().port();
    let uri = format!("mongodb://127.0.0.1:{db_port}/?directConnection=true");
    let timeout = SELECTION_TIMEOUT_MS.to_string();
    let settings = test_settings(&[
        ("MONGODB_URI", uri.as_str()),
        ("MONGODB_DB", "altrion_faults"),
        (
            "APP__DATABASE__SERVER_SELECTION_TIMEOUT_MS",
            timeout.as_str(),
        ),
        ("APP__DATABASE__CONNECT_TIMEOUT_MS", timeout.as_str()),
        ("APP__SERVER__WORKERS", "2"),
        ("APP__RATE_LIMIT__PER_IP_PER_MINUTE", "60000"),
        ("APP__RATE_LIMIT__PER_IP_BURST", "100000"),
    ]);
    let app = Application::build(settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();

    let user = TestUser {
        name: "Outage".to_owned(),
        email: "outage@example.com".to_owned(),
        password: "a long passphrase".to_owned(),
    };
    let token = post_signup(&client, &base, &user).await.token;
    let login = || post_login(&client, &base, &user.email, &user.password);

    // Traffic: four clients asking /api/auth/me in a loop (bounded) until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let mut traffic = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (client, base, token, stop) =
            (client.clone(), base.clone(), token.clone(), stop.clone());
        traffic.spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..5_000 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let started = Instant::now();
                let response = client
                    .get(format!("{base}/api/auth/me"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                let (status, body) = status_and_body(response).await;
                seen.push((status, body["error"]["code"].clone(), started.elapsed()));
            }
            seen
        });
    }
    // Let some requests succeed first (bounded wait on the server's own answers).
    let ready = client
        .get(format!("{base}/api/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 200);

    db.shutdown().await.unwrap();

    // /api/ready turns 503 within the bound.
    let started = Instant::now();
    let (status, body) = status_and_body(
        client
            .get(format!("{base}/api/ready"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "service_unavailable");
    assert!(started.elapsed() < ANSWER_WITHIN, "{:?}", started.elapsed());

    // A login while the database is gone: 503 within the bound.
    let started = Instant::now();
    let (status, body) = status_and_body(login().await).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "service_unavailable");
    assert!(started.elapsed() < ANSWER_WITHIN, "{:?}", started.elapsed());

    stop.store(true, Ordering::SeqCst);
    let mut answered = 0;
    let mut unavailable = 0;
    while let Some(seen) = traffic.join_next().await {
        for (status, code, took) in seen.unwrap() {
            answered += 1;
            assert!(
                status == 200 || (status == 503 && code == "service_unavailable"),
                "mid-traffic answer {status} {code}"
            );
            assert!(took < ANSWER_WITHIN, "an answer took {took:?}");
            if status == 503 {
                unavailable += 1;
            }
        }
    }
    assert!(
        answered > 0 && unavailable > 0,
        "{answered} answers, {unavailable} were 503"
    );

    // The database comes back on the same port and folder; no app restart.
    let db = Server::start(ServerOptions::default().port(db_port).dbpath(&folder.0))
        .await
        .unwrap();
    let mut recovered = false;
    for _ in 0..100 {
        let response = client
            .get(format!("{base}/api/ready"))
            .send()
            .await
            .unwrap();
        if response.status().as_u16() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "/api/ready never turned 200 again");
    let (status, body) = status_and_body(login().await).await;
    assert_eq!(
        status, 200,
        "the user written before the outage can log in: {body}"
    );
    let me = client
        .get(format!("{base}/api/auth/me"))
        .bearer_auth(body["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 200);

    handle.stop(true).await;
    db.shutdown().await.unwrap();
}
