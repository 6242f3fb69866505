//! What the server's test crates (`api`, `faults`, `e2e`) share; each includes this file with
//! `#[path = "../common/mod.rs"] mod common;`.

use std::{collections::HashMap, path::Path};

use altrion_server::settings::{self, Settings};

/// The `test` profile with in-memory stores and one worker, plus `overrides` — no config files,
/// no process environment.
pub fn test_settings(overrides: &[(&str, &str)]) -> Settings {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("APP_ENV".to_owned(), "test".to_owned()),
        ("MONGODB_URI".to_owned(), "memory:".to_owned()),
        ("APP__SERVER__WORKERS".to_owned(), "1".to_owned()),
    ]);
    for (k, v) in overrides {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    settings::load_from(&vars, Path::new("/nonexistent-config-dir")).unwrap()
}
