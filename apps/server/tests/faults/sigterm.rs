//! SIGTERM with logins in flight: the real binary finishes them (200 or 401), refuses new
//! connections, and exits 0.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use tokio::{io::AsyncWriteExt, net::TcpStream};

use crate::helpers::{read_all, read_one};

const IN_FLIGHT: usize = 6;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn request(method: &str, path: &str, body: &str, close: bool) -> Vec<u8> {
    format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{}\r\n{body}",
        body.len(),
        if close { "connection: close\r\n" } else { "" }
    )
    .into_bytes()
}

/// A connection the server has certainly accepted: one request answered on it already.
async fn accepted_connection(port: u16) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream
        .write_all(&request("GET", "/api/health", "", false))
        .await
        .unwrap();
    let answer = read_one(&mut stream, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    stream
}

#[tokio::test]
async fn sigterm_lets_in_flight_logins_finish_refuses_new_connections_and_exits_0() {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_altrion-server"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("APP_ENV", "test")
        // The test profile ships no secret: bring fresh ones.
        .env(
            "JWT_SECRET",
            uuid::Uuid::new_v4().simple().to_string().repeat(2),
        )
        .env(
            "SESSION_SECRET",
            uuid::Uuid::new_v4().simple().to_string().repeat(2),
        )
        .env("MONGODB_URI", "memory:")
        // The sign-up's verification mail goes under target/tmp, never into the source tree.
        .env(
            "APP__MAIL__OUTBOX_DIR",
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("sigterm-outbox-{port}")),
        )
        .env("PORT", port.to_string())
        .env("APP__SERVER__WORKERS", "1")
        .env("APP__SERVER__SHUTDOWN_TIMEOUT_SECS", "30")
        // One hash at a time, so the logins queue up and are still running at SIGTERM.
        .env("APP__PASSWORD__MAX_CONCURRENT", "1")
        .env("APP__RATE_LIMIT__PER_IP_PER_MINUTE", "60000")
        .env("APP__RATE_LIMIT__PER_IP_BURST", "100000")
        // Every attempt counts until its verdict settles: keep the lockout out of this test.
        .env("APP__RATE_LIMIT__LOCKOUT_THRESHOLD", "100")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // Wait (bounded) for the listener.
    let mut up = false;
    for _ in 0..300 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the server never listened on {port}");

    let mut setup = accepted_connection(port).await;
    let signup = r#"{"name":"Term","email":"term@example.com","password":"a long passphrase"}"#;
    setup
        .write_all(&request("POST", "/api/auth/signup", signup, false))
        .await
        .unwrap();
    let answer = read_one(&mut setup, Duration::from_secs(30)).await.unwrap();
    assert_eq!(answer.status, 201);
    drop(setup);

    // Logins the server has certainly started: each asks `Expect: 100-continue`, and actix
    // answers `100 Continue` only once it has parsed the head and dispatched the request. (A
    // request still unread when the graceful shutdown begins is not "in flight": actix drops
    // it with its connection.) Only then does the body follow; then SIGTERM.
    let mut connections = Vec::new();
    for i in 0..IN_FLIGHT {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let password = if i % 2 == 0 {
            "a long passphrase"
        } else {
            "a wrong passphrase"
        };
        let body = format!(r#"{{"email":"term@example.com","password":"{password}"}}"#);
        let head = format!(
            "POST /api/auth/login HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let interim = read_one(&mut stream, Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(interim.status, 100, "login {i} was dispatched");
        stream.write_all(body.as_bytes()).await.unwrap();
        connections.push(stream);
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());

    // New connections are refused once the listener is closed (bounded poll).
    let mut refused = false;
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "new connections were still accepted after SIGTERM");

    // Every in-flight login completed.
    for (i, mut stream) in connections.into_iter().enumerate() {
        let raw = read_all(&mut stream, Duration::from_secs(30)).await;
        let answer = crate::helpers::parse_answer(&raw)
            .unwrap_or_else(|| panic!("login {i} got no answer: {raw:?}"));
        let expected = if i % 2 == 0 { 200 } else { 401 };
        assert_eq!(answer.status, expected, "login {i}");
    }

    // And the process exits 0 (bounded wait).
    let mut status = None;
    for _ in 0..600 {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let Some(status) = status else {
        let _ = child.kill();
        panic!("the server did not exit within 30 s of SIGTERM");
    };
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
}
