//! The scenarios on `MemorySessionRepository`, plus checks that need the fake's internals.

use std::sync::Arc;

use actix_session::storage::{LoadError, SaveError, SessionStore, UpdateError};
use altrion_domain::TestClock;
use altrion_storage::memory::MemorySessionRepository;
use serde_json::json;

use crate::support::{actix_state, key, start, store, UnavailableRepository, TTL};

macro_rules! on_memory_repository {
    ($($scenario:ident),+ $(,)?) => {$(
        #[tokio::test]
        async fn $scenario() {
            let repo = Arc::new(MemorySessionRepository::new());
            crate::scenarios::$scenario(repo, TestClock::at(start())).await;
        }
    )+};
}

on_memory_repository!(
    missing_key_loads_none,
    save_then_load_round_trips,
    update_replaces_state_and_extends_expiry,
    update_ttl_extends_expiry,
    update_ttl_is_a_lazy_touch,
    a_load_inside_the_window_makes_the_touch_free,
    update_ttl_never_revives_an_expired_session,
    delete_removes_the_session,
    expired_session_is_not_loaded,
    undecodable_state_is_a_deserialization_error,
    invalid_json_is_a_serialization_error,
    save_retries_with_a_fresh_key_on_collision,
    update_after_delete_does_not_recreate,
    update_after_expiry_does_not_recreate,
    user_id_is_mirrored_for_log_out_everywhere,
    keys_are_strong_and_only_their_hash_is_stored,
);

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
    let store = store(Arc::new(UnavailableRepository), &clock);
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
