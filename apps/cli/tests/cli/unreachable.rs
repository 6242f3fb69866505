use std::{net::TcpListener, time::Duration};

use crate::helpers::altrion;

/// A loopback port nobody listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn an_unreachable_database_fails_quickly_and_clearly() {
    let port = closed_port();
    let env = [
        ("MONGODB_URI", format!("mongodb://127.0.0.1:{port}/")),
        ("MONGODB_DB", "altrion".to_owned()),
    ];

    let run = altrion(&["db", "check"], &env).await;

    assert!(!run.status.success());
    assert!(
        run.stderr.contains(&format!(
            "cannot reach MongoDB at mongodb://127.0.0.1:{port}"
        )),
        "{}",
        run.stderr
    );
    // The CLI caps server selection at 3 s (plus a second for the ping).
    assert!(
        run.elapsed < Duration::from_secs(15),
        "took {:?}",
        run.elapsed
    );
}

#[tokio::test]
async fn an_embedded_uri_without_a_running_server_says_how_to_start_it() {
    let env = [
        ("MONGODB_URI", "embedded:var/devdb".to_owned()),
        ("MONGODB_EMBEDDED_PORT", closed_port().to_string()),
    ];

    let run = altrion(&["db", "check"], &env).await;

    assert!(!run.status.success());
    assert!(run.stderr.contains("make run"), "{}", run.stderr);
    assert!(run.stderr.contains("MONGODB_URI"), "{}", run.stderr);
}

#[tokio::test]
async fn memory_stores_have_no_database_to_inspect() {
    let env = [("MONGODB_URI", "memory:".to_owned())];

    let run = altrion(&["db", "check"], &env).await;

    assert!(!run.status.success());
    assert!(run.stderr.contains("in-memory stores"), "{}", run.stderr);
}

#[tokio::test]
async fn user_and_session_commands_fail_clearly_when_the_database_is_down() {
    let port = closed_port();
    let env = [
        ("MONGODB_URI", format!("mongodb://127.0.0.1:{port}/")),
        ("MONGODB_DB", "altrion".to_owned()),
    ];
    for args in [
        &["users", "list"][..],
        &["users", "unlock", "ada@example.com"],
        &["sessions", "revoke", "--user", "ada@example.com"],
    ] {
        let run = altrion(args, &env).await;
        assert!(!run.status.success(), "{args:?}");
        assert!(
            run.stderr.contains("cannot reach MongoDB"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"));
    }
}
