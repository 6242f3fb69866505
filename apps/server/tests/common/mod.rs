//! What the server's test crates (`api`, `faults`, `e2e`) share; each includes this file with
//! `#[path = "../common/mod.rs"] mod common;`.

use std::{collections::HashMap, path::Path, sync::OnceLock};

use altrion_server::settings::{self, Settings};

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
/// `overrides` — no config files, no process environment.
pub fn test_settings(overrides: &[(&str, &str)]) -> Settings {
    let (jwt, session) = secrets();
    let mut vars: HashMap<String, String> = HashMap::from([
        ("APP_ENV".to_owned(), "test".to_owned()),
        ("MONGODB_URI".to_owned(), "memory:".to_owned()),
        ("APP__SERVER__WORKERS".to_owned(), "1".to_owned()),
        ("JWT_SECRET".to_owned(), jwt.clone()),
        ("SESSION_SECRET".to_owned(), session.clone()),
        // Servers that mail through their own queue write into the system's temp dir, never
        // into the source tree.
        (
            "APP__MAIL__OUTBOX_DIR".to_owned(),
            std::env::temp_dir()
                .join(format!("altrion-test-outbox-{}", std::process::id()))
                .display()
                .to_string(),
        ),
    ]);
    for (k, v) in overrides {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    settings::load_from(&vars, Path::new("/nonexistent-config-dir")).unwrap()
}
