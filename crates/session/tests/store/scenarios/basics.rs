//! The store's basic contract: what each `SessionStore` method does on its own.

use std::sync::Arc;

use actix_session::storage::{LoadError, SaveError, SessionStore, UpdateError};
use altrion_domain::{Clock as _, SessionRepository, SessionState, TestClock};
use altrion_session::{SESSION_KEY_LEN, USER_ID_KEY};
use serde_json::json;
use time::Duration;

use super::{saved, state_map};
use crate::support::{
    actix_state, decoded, id_of, key, record, store, CountingRepository, Counts, TOUCH_AFTER, TTL,
};

pub async fn missing_key_loads_none(repo: Arc<dyn SessionRepository>, clock: TestClock) {
    let counting = CountingRepository::new(repo);
    let store = store(counting.clone(), &clock);

    let never_saved = "A".repeat(SESSION_KEY_LEN);
    assert!(store.load(&key(&never_saved)).await.unwrap().is_none());
    assert_eq!(Counts::get(&counting.counts.find_active), 1);

    // Keys this store could not have issued are refused without a lookup.
    for malformed in [
        "",
        "short",
        &"a".repeat(65),
        &format!("{}!", "a".repeat(63)),
    ] {
        assert!(store.load(&key(malformed)).await.unwrap().is_none());
    }
    assert_eq!(counting.counts.total(), 1);
}

pub async fn save_then_load_round_trips(repo: Arc<dyn SessionRepository>, clock: TestClock) {
    let store = store(repo.clone(), &clock);
    let pairs = [
        (USER_ID_KEY, json!("65f0c0ffee0000000000abcd")),
        (
            "oauth",
            json!({"state": "s", "pkce": {"verifier": "v", "method": "S256"}, "scopes": ["openid", "email"]}),
        ),
        ("redirect_to", json!("/café/😀?q=ü")),
        ("count", json!(-42)),
        ("ratio", json!(0.25)),
        ("flags", json!([true, false, null])),
    ];

    let raw = saved(&store, &pairs).await;
    let loaded = store.load(&key(&raw)).await.unwrap().unwrap();

    let expected: SessionState = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    assert_eq!(decoded(loaded), expected);

    // The stored document holds parsed JSON (queryable), not JSON-in-strings.
    let stored = repo
        .find_active(&id_of(&raw), clock.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.state, expected);
    assert_eq!(stored.expires, clock.now() + TTL);
    assert_eq!(stored.created_at, clock.now());
    assert_eq!(stored.last_modified, clock.now());
}

pub async fn update_replaces_state_and_extends_expiry(
    repo: Arc<dyn SessionRepository>,
    clock: TestClock,
) {
    let store = store(repo.clone(), &clock);
    let t0 = clock.now();
    let raw = saved(&store, &[("a", json!(1)), ("b", json!("keep?"))]).await;

    clock.advance(Duration::minutes(10));
    let returned = store
        .update(key(&raw), actix_state(&[("a", json!({"n": 2}))]), &TTL)
        .await
        .unwrap();
    assert_eq!(String::from(returned), raw, "update must keep the key");

    let loaded = decoded(store.load(&key(&raw)).await.unwrap().unwrap());
    assert_eq!(loaded, state_map(&[("a", json!({"n": 2}))]));

    let stored = repo
        .find_active(&id_of(&raw), clock.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.expires, clock.now() + TTL);
    assert_eq!(stored.last_modified, clock.now());
    assert_eq!(stored.created_at, t0);

    // Past the original expiry, the updated session is still alive.
    clock.set(t0 + TTL + Duration::minutes(5));
    assert!(store.load(&key(&raw)).await.unwrap().is_some());
}

pub async fn update_ttl_extends_expiry(repo: Arc<dyn SessionRepository>, clock: TestClock) {
    let store = store(repo.clone(), &clock);
    let t0 = clock.now();
    let raw = saved(&store, &[("a", json!(1))]).await;

    clock.advance(TOUCH_AFTER + Duration::minutes(1));
    store.update_ttl(&key(&raw), &TTL).await.unwrap();

    let stored = repo
        .find_active(&id_of(&raw), clock.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.expires, clock.now() + TTL);
    assert_eq!(stored.state, state_map(&[("a", json!(1))]));

    clock.set(t0 + TTL + Duration::minutes(1));
    assert!(store.load(&key(&raw)).await.unwrap().is_some());
}

pub async fn delete_removes_the_session(repo: Arc<dyn SessionRepository>, clock: TestClock) {
    let store = store(repo.clone(), &clock);
    let raw = saved(&store, &[("a", json!(1))]).await;
    let other = saved(&store, &[("b", json!(2))]).await;

    store.delete(&key(&raw)).await.unwrap();
    assert!(store.load(&key(&raw)).await.unwrap().is_none());
    assert!(repo
        .find_active(&id_of(&raw), clock.now())
        .await
        .unwrap()
        .is_none());
    assert!(store.load(&key(&other)).await.unwrap().is_some());

    // Deleting again, or deleting a key that never existed, succeeds.
    store.delete(&key(&raw)).await.unwrap();
    store
        .delete(&key(&"Z".repeat(SESSION_KEY_LEN)))
        .await
        .unwrap();
    store.delete(&key("malformed")).await.unwrap();
}

pub async fn expired_session_is_not_loaded(repo: Arc<dyn SessionRepository>, clock: TestClock) {
    let store = store(repo, &clock);
    let t0 = clock.now();
    let raw = saved(&store, &[("a", json!(1))]).await;

    clock.set(t0 + TTL - Duration::milliseconds(1));
    assert!(store.load(&key(&raw)).await.unwrap().is_some());
    clock.set(t0 + TTL);
    assert!(store.load(&key(&raw)).await.unwrap().is_none());
}

/// Every stored value is a JSON value, so any stored map converts back to actix's strings.
/// The shape the store defines as invalid is a user entry that is not a string, or that
/// disagrees with the `user_id` mirror: such a session must not authenticate anyone.
pub async fn undecodable_state_is_a_deserialization_error(
    repo: Arc<dyn SessionRepository>,
    clock: TestClock,
) {
    let store = store(repo.clone(), &clock);
    let now = clock.now();
    let not_a_string = "N".repeat(SESSION_KEY_LEN);
    let mismatch = "M".repeat(SESSION_KEY_LEN);
    let unmirrored = "U".repeat(SESSION_KEY_LEN);

    let mut state = SessionState::new();
    state.insert(USER_ID_KEY.into(), json!(42));
    repo.insert(record(&not_a_string, state, None, now))
        .await
        .unwrap();
    let mut state = SessionState::new();
    state.insert(USER_ID_KEY.into(), json!("65f000000000000000000a01"));
    repo.insert(record(
        &mismatch,
        state.clone(),
        Some("65f000000000000000000a02"),
        now,
    ))
    .await
    .unwrap();
    repo.insert(record(&unmirrored, state, None, now))
        .await
        .unwrap();

    for raw in [&not_a_string, &mismatch, &unmirrored] {
        let result = store.load(&key(raw)).await;
        assert!(
            matches!(result, Err(LoadError::Deserialization(_))),
            "{result:?}"
        );
    }
}

pub async fn invalid_json_is_a_serialization_error(
    repo: Arc<dyn SessionRepository>,
    clock: TestClock,
) {
    let counting = CountingRepository::new(repo.clone());
    let store = store(counting.clone(), &clock);
    let mut bad = actix_state(&[("ok", json!(1))]);
    bad.insert("bad".into(), "{not json".into());

    let result = store.save(bad.clone(), &TTL).await;
    assert!(
        matches!(result, Err(SaveError::Serialization(_))),
        "{result:?}"
    );
    assert_eq!(counting.counts.total(), 0, "nothing may be written");

    let raw = saved(&store, &[("ok", json!(1))]).await;
    let result = store.update(key(&raw), bad, &TTL).await;
    assert!(
        matches!(result, Err(UpdateError::Serialization(_))),
        "{result:?}"
    );
    assert_eq!(Counts::get(&counting.counts.update_state), 0);
    let loaded = decoded(store.load(&key(&raw)).await.unwrap().unwrap());
    assert_eq!(loaded, state_map(&[("ok", json!(1))]));

    // A user entry the mirror cannot hold is refused the same way.
    let result = store
        .save(actix_state(&[(USER_ID_KEY, json!(7))]), &TTL)
        .await;
    assert!(
        matches!(result, Err(SaveError::Serialization(_))),
        "{result:?}"
    );
}
