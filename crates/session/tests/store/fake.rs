//! The scenarios on `MemorySessionRepository`, plus checks that need the fake's internals.

use std::sync::Arc;

use actix_session::storage::{LoadError, SaveError, SessionStore, UpdateError};
use altrion_domain::TestClock;
use altrion_storage::memory::MemorySessionRepository;
use serde_json::json;

use altrion_storage::memory::Unreachable;

use crate::support::{actix_state, key, start, store, TTL};

macro_rules! on_memory_repository {
    ($($scenario:ident),+ $(,)?) => {$(
        #[tokio::test]
        async fn $scenario() {
            let repo = Arc::new(MemorySessionRepository::new());
            crate::scenarios::$scenario(repo, TestClock::at(start())).await;
        }
    )+};
}

crate::scenarios::for_every_scenario!(on_memory_repository);

#[tokio::test]
async fn the_key_appears_nowhere_in_the_stored_records() {
    let repo = Arc::new(MemorySessionRepository::new());
    let clock = TestClock::at(start());
    let store = store(repo.clone(), &clock);
    let raw: String = store
        .save(actix_state(&[("a", json!(1))]), &TTL)
        .await
        .unwrap()
        .into();

    let all = repo.all();
    assert_eq!(all.len(), 1);
    assert_ne!(all[0].id.as_str(), raw);
    assert!(!all[0].id.as_str().contains(&raw));
    assert!(!all[0].state.values().any(|v| v.to_string().contains(&raw)));
}

#[tokio::test]
async fn an_unavailable_repository_is_an_other_error_everywhere() {
    let clock = TestClock::at(start());
    let store = store(Arc::new(Unreachable), &clock);
    let raw = "A".repeat(64);

    let load = store.load(&key(&raw)).await;
    assert!(matches!(load, Err(LoadError::Other(_))), "{load:?}");
    let save = store.save(actix_state(&[("a", json!(1))]), &TTL).await;
    assert!(matches!(save, Err(SaveError::Other(_))), "{save:?}");
    let update = store
        .update(key(&raw), actix_state(&[("a", json!(1))]), &TTL)
        .await;
    assert!(matches!(update, Err(UpdateError::Other(_))), "{update:?}");
    assert!(store.update_ttl(&key(&raw), &TTL).await.is_err());
    assert!(store.delete(&key(&raw)).await.is_err());
}
