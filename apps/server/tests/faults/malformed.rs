//! 1,000 malformed or hostile requests (a seeded corpus, the same on every run): no panic, no
//! 5xx, and every error response that carries a body is the JSON error shape. Answers that
//! actix's HTTP/1 codec gives before any application code runs (an unparsable request line or
//! header block) have no body; they are tallied and limited to the statuses the codec uses.

use std::{
    collections::BTreeMap,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use altrion_server::{database::memory_stores, Application};
use tokio::task::JoinSet;

use crate::helpers::{exchange, parse_answer, test_settings, Rng};

const REQUESTS: usize = 1_000;
const PARALLEL: usize = 8;
const KINDS: usize = 14;

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// A request of kind `kind` built from `rng`; `protocol` marks input the HTTP codec itself may
/// reject before the application sees it.
struct Case {
    kind: &'static str,
    bytes: Vec<u8>,
    protocol: bool,
}

fn http(method: &str, path: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        out.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn json_post(path: &str, body: &[u8]) -> Vec<u8> {
    http(
        "POST",
        path,
        &[("content-type", "application/json".to_owned())],
        body,
    )
}

fn auth_path(rng: &mut Rng) -> &'static str {
    ["/api/auth/login", "/api/auth/signup"][rng.below(2)]
}

fn absurd_email(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => format!("{}@example.com", "a".repeat(10_000 + rng.below(5_000))),
        1 => "@".to_owned(),
        2 => format!("{}@", rng.token(20)),
        3 => "a@b\\u0000c.com".to_owned(),
        4 => "\\u202eadmin@example.com".to_owned(),
        5 => format!("{}@{}", rng.token(8), vec!["x"; 300].join(".")),
        6 => "   ".to_owned(),
        7 => "ada@@example..com".to_owned(),
        8 => "\\ud800@example.com".to_owned(),
        _ => format!("{}@{}.{}", rng.token(64), rng.token(200), rng.token(3)),
    }
}

fn case(i: usize, rng: &mut Rng) -> Case {
    let kind = i % KINDS;
    let (name, bytes, protocol) = match kind {
        0 => {
            let n = 1 + rng.below(4096);
            ("random bytes", rng.bytes(n), true)
        }
        1 => {
            let line = format!(
                "{} /{} HTTP/{}.{}\r\n\r\n",
                {
                    let n = 1 + rng.below(12);
                    rng.token(n)
                },
                {
                    let n = rng.below(40);
                    rng.token(n)
                },
                rng.below(10),
                rng.below(10)
            );
            ("garbage request line", line.into_bytes(), true)
        }
        2 => {
            let mut body = b"{\"email\":\"".to_vec();
            body.extend({
                let n = 1 + rng.below(200);
                rng.bytes(n)
            });
            body.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
            body.extend_from_slice(b"\",\"password\":\"x\"}");
            (
                "invalid UTF-8 body",
                json_post(auth_path(rng), &body),
                false,
            )
        }
        3 => {
            let depth = 1_000 + rng.below(100_000);
            let (open, close) = if rng.below(2) == 0 {
                ("[", "]")
            } else {
                ("{\"a\":", "}")
            };
            let body = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            (
                "deeply nested JSON",
                json_post(auth_path(rng), body.as_bytes()),
                false,
            )
        }
        4 => {
            let size = 16 * 1024 + rng.below(256 * 1024);
            let headers = [("x-filler", rng.token(size))];
            (
                "huge header",
                http("GET", "/api/health", &headers, b""),
                true,
            )
        }
        5 => {
            let size = 17 * 1024 + rng.below(1024 * 1024);
            let body = format!(
                "{{\"name\":\"{}\",\"email\":\"a@example.com\",\"password\":\"long enough\"}}",
                "n".repeat(size)
            );
            (
                "oversized body",
                json_post(auth_path(rng), body.as_bytes()),
                false,
            )
        }
        6 => {
            let types = [
                "text/plain",
                "application/xml",
                "multipart/form-data; boundary=x",
                "application/x-www-form-urlencoded",
                "application/json; charset=latin1",
                "",
            ];
            let content_type = types[rng.below(types.len())].to_owned();
            let body = br#"{"email":"ada@example.com","password":"correct horse"}"#;
            let headers = [("content-type", content_type)];
            (
                "wrong content type",
                http("POST", auth_path(rng), &headers, body),
                false,
            )
        }
        7 => {
            let body = format!(
                "{{\"name\":\"{}\",\"email\":\"{}\",\"password\":\"{}\"}}",
                {
                    let n = 1 + rng.below(30);
                    rng.token(n)
                },
                absurd_email(rng),
                {
                    let n = rng.below(200);
                    rng.token(n)
                }
            );
            (
                "absurd email",
                json_post(auth_path(rng), body.as_bytes()),
                false,
            )
        }
        8 => {
            let path = match rng.below(3) {
                0 => format!("/api/{}?{}={}", rng.token(30), rng.token(10), rng.token(50)),
                1 => "/api/%ff%fe%00/../../etc/passwd".to_owned(),
                _ => format!(
                    "/api/auth/{}/callback?code={}&state=%ZZ",
                    rng.token(6),
                    rng.token(20)
                ),
            };
            ("odd path or query", http("GET", &path, &[], b""), false)
        }
        9 => {
            let headers = match rng.below(3) {
                0 => [(
                    "authorization",
                    format!("Bearer {}", {
                        let n = rng.below(2000);
                        rng.token(n)
                    }),
                )],
                1 => [("authorization", format!("Basic {}", rng.token(30)))],
                _ => [(
                    "cookie",
                    format!("altrion.sid={}", {
                        let n = rng.below(300);
                        rng.token(n)
                    }),
                )],
            };
            (
                "bad credentials",
                http("GET", "/api/auth/me", &headers, b""),
                false,
            )
        }
        10 => {
            // Declares more body than it sends, then half-closes.
            let mut bytes = format!(
                "POST /api/auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{{\"email\":",
                100 + rng.below(10_000)
            )
            .into_bytes();
            bytes.extend({
                let n = rng.below(50);
                rng.bytes(n)
            });
            ("truncated body", bytes, true)
        }
        11 => {
            let bytes = format!(
                "POST /api/auth/signup HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{}\r\n{}\r\n0\r\n\r\n",
                rng.token(4),
                { let n = rng.below(100); rng.token(n) }
            );
            ("bad chunked encoding", bytes.into_bytes(), true)
        }
        12 => {
            let bodies = [
                r#"{"email":5,"password":[]}"#,
                r#"[]"#,
                r#"null"#,
                r#""just a string""#,
                r#"{"email":"ada@example.com"}"#,
                r#"{"name":{"$gt":""},"email":{"$ne":null},"password":"x"}"#,
                r#"{"email":"ada@example.com","password":"correct horse","extra":1e999}"#,
            ];
            let body = bodies[rng.below(bodies.len())];
            (
                "wrong JSON types",
                json_post(auth_path(rng), body.as_bytes()),
                false,
            )
        }
        _ => {
            let methods = ["DELETE", "PUT", "PATCH", "OPTIONS", "TRACE", "BREW"];
            let paths = [
                "/api/health",
                "/api/auth/login",
                "/api/auth/me",
                "/api/ready",
            ];
            let method = methods[rng.below(methods.len())];
            let path = paths[rng.below(paths.len())];
            ("odd method", http(method, path, &[], b""), false)
        }
    };
    Case {
        kind: name,
        bytes,
        protocol,
    }
}

#[derive(Debug, Default)]
struct Tally {
    /// (kind, status) → count, for every HTTP answer.
    statuses: BTreeMap<(&'static str, u16), usize>,
    /// (kind, status) of error answers without a body (the HTTP codec's own).
    bodyless: BTreeMap<(&'static str, u16), usize>,
    /// Connections closed without any answer, by kind.
    closed: BTreeMap<&'static str, usize>,
}

#[tokio::test]
async fn a_thousand_malformed_requests_get_no_5xx_and_only_json_errors() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));
    let settings = test_settings(&[
        // Exercise validation, not the limiter.
        ("APP__RATE_LIMIT__PER_IP_PER_MINUTE", "60000"),
        ("APP__RATE_LIMIT__PER_IP_BURST", "100000"),
        // Cheap hashing: the corpus targets parsing and validation.
        ("APP__PASSWORD__MEMORY_KIB", "64"),
        ("APP__PASSWORD__ITERATIONS", "1"),
        ("APP__SERVER__WORKERS", "2"),
    ]);
    let app = Application::build_with(settings, memory_stores()).unwrap();
    let port = app.port();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());

    let mut rng = Rng::seeded(0x00A1_7210_2026_1129);
    let cases: Vec<Case> = (0..REQUESTS).map(|i| case(i, &mut rng)).collect();
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for chunk in cases.chunks(PARALLEL) {
        let mut set = JoinSet::new();
        for case in chunk {
            let bytes = case.bytes.clone();
            let kind = case.kind;
            let protocol = case.protocol;
            set.spawn(async move {
                let raw = exchange(port, &bytes, Duration::from_secs(10)).await;
                (kind, protocol, raw)
            });
        }
        while let Some(joined) = set.join_next().await {
            let (kind, protocol, raw) = joined.unwrap();
            let Some(answer) = parse_answer(&raw) else {
                if !raw.is_empty() {
                    failures.push(format!(
                        "{kind}: unparsable answer {:?}",
                        String::from_utf8_lossy(&raw[..raw.len().min(200)])
                    ));
                }
                *tally.closed.entry(kind).or_default() += 1;
                if !protocol {
                    failures.push(format!("{kind}: a well-formed request got no answer"));
                }
                continue;
            };
            *tally.statuses.entry((kind, answer.status)).or_default() += 1;
            if answer.status >= 500 {
                failures.push(format!(
                    "{kind}: {} {}",
                    answer.status,
                    String::from_utf8_lossy(&answer.body)
                ));
            }
            if answer.status < 400 {
                continue;
            }
            if answer.body.is_empty() {
                *tally.bodyless.entry((kind, answer.status)).or_default() += 1;
                continue;
            }
            let json: Result<serde_json::Value, _> = serde_json::from_slice(&answer.body);
            let shaped = json.as_ref().is_ok_and(|v| {
                v["error"]["code"].as_str().is_some_and(|c| !c.is_empty())
                    && v["error"]["message"]
                        .as_str()
                        .is_some_and(|m| !m.is_empty())
            });
            if !shaped
                || answer.header("content-type") != Some("application/json")
                || answer.header("x-request-id").is_none()
            {
                failures.push(format!(
                    "{kind}: {} without the JSON error shape: {:?} {}",
                    answer.status,
                    answer.headers,
                    String::from_utf8_lossy(&answer.body[..answer.body.len().min(300)])
                ));
            }
        }
    }
    eprintln!("answers by (kind, status): {:#?}", tally.statuses);
    eprintln!("bodyless error answers (HTTP codec): {:#?}", tally.bodyless);
    eprintln!("closed without an answer: {:#?}", tally.closed);

    // The server is still healthy afterwards.
    let health = exchange(
        port,
        b"GET /api/health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(parse_answer(&health).map(|a| a.status), Some(200));
    handle.stop(true).await;

    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "no panic while serving");
    // Bodyless answers come only from the HTTP codec, for input it cannot parse.
    for ((kind, status), _) in tally.bodyless.iter() {
        assert!(
            matches!(status, 400 | 408 | 413 | 431 | 505),
            "{kind}: bodyless {status}"
        );
    }
    let answered: usize = tally.statuses.values().sum();
    let closed: usize = tally.closed.values().sum();
    assert_eq!(answered + closed, REQUESTS);
    assert!(answered >= REQUESTS / 2, "most requests get an HTTP answer");
}
