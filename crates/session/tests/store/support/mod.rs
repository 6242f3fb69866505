//! Helpers shared by the scenarios: store construction, state encoding, raw records; `repos`
//! holds repository wrappers that count calls or inject failures.

mod repos;

pub use repos::*;

use std::{collections::HashMap, sync::Arc};

use actix_session::storage::SessionKey;
use altrion_domain::{
    SessionId, SessionRecord, SessionRepository, SessionState, TestClock, Timestamp, UserId,
};
use altrion_session::RepositorySessionStore;
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::{macros::datetime, Duration};

/// Session lifetime used throughout (the design's 24 h).
pub const TTL: Duration = Duration::hours(24);
/// Lazy-touch window used throughout.
pub const TOUCH_AFTER: Duration = Duration::hours(1);

/// A fixed starting instant, so failures are reproducible. It lies far beyond the wall clock
/// so MongoDB's TTL monitor never reaps a document mid-scenario: only the store's own expiry
/// check, judged by the `TestClock`, decides what is expired.
pub fn start() -> Timestamp {
    datetime!(2100-01-01 12:00:00 UTC)
}

pub fn store(repo: Arc<dyn SessionRepository>, clock: &TestClock) -> RepositorySessionStore {
    RepositorySessionStore::new(repo, Arc::new(clock.clone()), TOUCH_AFTER)
}

/// A `SessionKey` from text (keys are not `Clone`, so scenarios keep the text).
pub fn key(raw: &str) -> SessionKey {
    match SessionKey::try_from(raw.to_owned()) {
        Ok(key) => key,
        Err(err) => panic!("invalid test key: {err}"),
    }
}

/// The stored id of a key, computed independently of the crate under test.
pub fn id_of(raw: &str) -> SessionId {
    SessionId::from_hex(hex::encode(Sha256::digest(raw.as_bytes()))).unwrap()
}

/// actix's layout: each value JSON-encoded as a string.
pub fn actix_state(pairs: &[(&str, Value)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.to_string()))
        .collect()
}

/// Parses actix's layout back into JSON values for comparison.
pub fn decoded(state: HashMap<String, String>) -> SessionState {
    state
        .into_iter()
        .map(|(k, v)| {
            let value: Value = serde_json::from_str(&v).unwrap();
            (k, value)
        })
        .collect()
}

/// A raw record, for arranging documents the store did not write.
pub fn record(
    raw_key: &str,
    state: SessionState,
    user: Option<&str>,
    now: Timestamp,
) -> SessionRecord {
    SessionRecord {
        id: id_of(raw_key),
        state,
        expires: now + TTL,
        last_modified: now,
        created_at: now,
        user_id: user.map(UserId::new),
    }
}
