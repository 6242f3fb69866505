//! Slow request bodies: a body not fully arrived within `APP__SERVER__BODY_TIMEOUT_SECS` gets
//! `408 request_timeout` (JSON) and its connection is closed; hundreds of slow-body
//! connections at once never make `/api/health` fail.

use std::time::Duration;

use altrion_server::Application;
use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{exchange, parse_answer, read_one, test_settings};

/// Slow clients held open at once: the 2,000 of the fault report.
const SLOW_CLIENTS: usize = 2_000;

/// Opens a connection that sends a sign-up's head and the first bytes of its body, then stalls.
async fn slow_client(port: u16) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = "POST /api/auth/signup HTTP/1.1\r\nhost: 127.0.0.1\r\n\
                content-type: application/json\r\ncontent-length: 200\r\n\r\n{\"email\":";
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

#[tokio::test]
async fn slow_bodies_get_408_and_are_closed_while_health_keeps_answering() {
    let settings = test_settings(&[
        ("APP__SERVER__BODY_TIMEOUT_SECS", "1"),
        ("APP__SERVER__WORKERS", "2"),
        ("APP__RATE_LIMIT__PER_IP_PER_MINUTE", "60000"),
        ("APP__RATE_LIMIT__PER_IP_BURST", "100000"),
    ]);
    let app = Application::build(settings).await.unwrap();
    let port = app.port();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());

    let mut slow = Vec::new();
    for _ in 0..SLOW_CLIENTS {
        slow.push(slow_client(port).await);
    }
    // With every slow client connected and stalled, a new client is still served.
    let raw = exchange(
        port,
        b"GET /api/health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n",
        Duration::from_secs(10),
    )
    .await;
    let health = parse_answer(&raw).expect("health answered");
    assert_eq!(health.status, 200);

    for (i, stream) in slow.iter_mut().enumerate() {
        let answer = read_one(stream, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("slow client {i} got no answer"));
        assert_eq!(answer.status, 408, "slow client {i}");
        let body: Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(body["error"]["code"], "request_timeout", "{body}");
        // The server hangs up: the rest of the body is never waited for.
        let mut buf = [0u8; 64];
        let closed = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await;
        assert!(
            matches!(closed, Ok(Ok(0) | Err(_))),
            "slow client {i}: connection left open ({closed:?})"
        );
    }

    handle.stop(true).await;
}
