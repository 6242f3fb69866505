//! What the server's test binaries (`api`, `faults`, `e2e`, `smtp`, `metrics`) share; each
//! includes this file with `#[path = "../common/mod.rs"] mod common;`.
// Each binary uses its own part of this module.
#![allow(dead_code)]

mod sessions;
mod users;

use std::{
    collections::HashMap,
    path::Path,
    sync::{Once, OnceLock},
};

use altrion_server::settings::{self, Settings};

// Each binary uses some of these.
#[allow(unused_imports)]
pub use sessions::{plant_session, plant_session_with, CookieSigning};
#[allow(unused_imports)]
pub use users::{login_token, post_login, post_signup, SignedUp, TestUser};

/// This test process's own secrets: random, never written anywhere (no secret lives in the
/// repository, tests included). One pair per process, so a restarted server in the same test
/// accepts the cookies and tokens of the first.
fn secrets() -> &'static (String, String) {
    static SECRETS: OnceLock<(String, String)> = OnceLock::new();
    SECRETS.get_or_init(|| {
        let fresh = || {
            format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            )
        };
        (fresh(), fresh())
    })
}

/// The `test` profile with in-memory stores, one worker and the process's secrets, plus
/// `overrides` — no config files, no process environment. Every test server is built from
/// these settings, so this is also where [`init_tracing`] runs.
pub fn test_settings(overrides: &[(&str, &str)]) -> Settings {
    init_tracing();
    let (jwt, session) = secrets();
    let mut vars: HashMap<String, String> = HashMap::from([
        ("APP_ENV".to_owned(), "test".to_owned()),
        ("MONGODB_URI".to_owned(), "memory:".to_owned()),
        ("APP__SERVER__WORKERS".to_owned(), "1".to_owned()),
        ("JWT_SECRET".to_owned(), jwt.clone()),
        ("SESSION_SECRET".to_owned(), session.clone()),
        // Servers that mail through their own queue write under target/tmp (Cargo's scratch
        // dir for integration tests, gone with `cargo clean`), never into the source tree or
        // the system's temp dir.
        (
            "APP__MAIL__OUTBOX_DIR".to_owned(),
            Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("test-outbox-{}", std::process::id()))
                .display()
                .to_string(),
        ),
    ]);
    for (k, v) in overrides {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    settings::load_from(&vars, Path::new("/nonexistent-config-dir")).unwrap()
}

/// With `TEST_LOG` set, sends tracing output to the test harness (shown for failing tests, or
/// for all with `--nocapture`): `TEST_LOG=1` logs at `debug`, any other value is the filter
/// (`TEST_LOG=altrion_auth=trace`). Without it nothing is installed. Idempotent.
pub fn init_tracing() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let Some(value) = std::env::var("TEST_LOG").ok().filter(|v| !v.is_empty()) else {
            return;
        };
        // `1` would parse as a level filter (error only), not as "on".
        let directives = match value.as_str() {
            "1" | "true" => "debug",
            other => other,
        };
        let filter = tracing_subscriber::EnvFilter::try_new(directives)
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("debug"));
        let _already_set = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    });
}

/// The link to `{page}?token=…` in a mail's text (8-bit or 7-bit, so the link is whole on one
/// line), and its token; fails the test when there is none.
pub fn mailed_link(text: &str, page: &str) -> (url::Url, String) {
    let marker = format!("/{page}?token=");
    let link = text
        .split_whitespace()
        .find(|word| word.contains(&marker))
        .unwrap_or_else(|| panic!("no {page} link in:\n{text}"));
    let link = url::Url::parse(link).unwrap();
    let token = link
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    (link, token)
}
