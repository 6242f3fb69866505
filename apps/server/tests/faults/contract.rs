//! Contract nits: a `405` names the route's methods in `Allow`.

use std::time::Duration;

use altrion_server::Application;

use crate::helpers::{exchange, parse_answer, test_settings};

#[tokio::test]
async fn method_not_allowed_carries_allow_with_the_routes_methods() {
    let app = Application::build(test_settings(&[])).await.unwrap();
    let port = app.port();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    for (request, allow) in [
        ("DELETE /api/auth/signup", "POST"),
        ("PUT /api/health", "GET"),
        ("POST /api/auth/identities/github", "DELETE"),
    ] {
        let raw = exchange(
            port,
            format!("{request} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .as_bytes(),
            Duration::from_secs(10),
        )
        .await;
        let answer = parse_answer(&raw).expect("an answer");
        assert_eq!(answer.status, 405, "{request}");
        assert_eq!(answer.header("allow"), Some(allow), "{request}");
    }
    handle.stop(true).await;
}
