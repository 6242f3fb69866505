//! The store's acceptance scenarios, generic over the repository so the same story runs on
//! the in-memory fake and on MongoDB. Each takes an empty repository and a `TestClock`.

use std::sync::Arc;

use actix_session::storage::{LoadError, SaveError, SessionStore, UpdateError};
use altrion_domain::{Clock as _, SessionRepository, SessionState, TestClock, UserId};
use altrion_session::{session_id_for, MAX_SAVE_ATTEMPTS, SESSION_KEY_LEN, USER_ID_KEY};
use serde_json::json;
use time::Duration;

use crate::support::{
    actix_state, decoded, id_of, key, record, store, CollidingRepository, CountingRepository,
    Counts, TOUCH_AFTER, TTL,
};

/// Saves `pairs` and returns the key as text.
async fn saved(store: &impl SessionStore, pairs: &[(&str, serde_json::Value)]) -> String {
    store.save(actix_state(pairs), &TTL).await.unwrap().into()
}

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
    assert_eq!(loaded, actix_state_map(&[("a", json!({"n": 2}))]));

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

fn actix_state_map(pairs: &[(&str, serde_json::Value)]) -> SessionState {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
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
    assert_eq!(stored.state, actix_state_map(&[("a", json!(1))]));

    clock.set(t0 + TTL + Duration::minutes(1));
    assert!(store.load(&key(&raw)).await.unwrap().is_some());
}

pub async fn update_ttl_is_a_lazy_touch(repo: Arc<dyn SessionRepository>, clock: TestClock) {
    let raw = saved(&store(repo.clone(), &clock), &[("a", json!(1))]).await;
    let id = id_of(&raw);
    let before = repo.find_active(&id, clock.now()).await.unwrap().unwrap();

    // Inside the window: one conditional touch, no read, nothing written.
    clock.advance(TOUCH_AFTER - Duration::minutes(1));
    let counting = CountingRepository::new(repo.clone());
    let store = store(counting.clone(), &clock);
    store.update_ttl(&key(&raw), &TTL).await.unwrap();
    assert_eq!(Counts::get(&counting.counts.touch), 1);
    assert_eq!(Counts::get(&counting.counts.touch_wrote), 0);
    assert_eq!(
        counting.counts.total(),
        1,
        "only the touch may reach the repository"
    );
    let after = repo.find_active(&id, clock.now()).await.unwrap().unwrap();
    assert_eq!(after.expires, before.expires);
    assert_eq!(after.last_modified, before.last_modified);

    // Past the window: the same single call writes the new expiry.
    clock.advance(Duration::minutes(2));
    store.update_ttl(&key(&raw), &TTL).await.unwrap();
    assert_eq!(Counts::get(&counting.counts.touch), 2);
    assert_eq!(Counts::get(&counting.counts.touch_wrote), 1);
    assert_eq!(counting.counts.total(), 2);
    let touched = repo.find_active(&id, clock.now()).await.unwrap().unwrap();
    assert_eq!(touched.expires, clock.now() + TTL);
    assert_eq!(touched.last_modified, clock.now());
    assert_eq!(touched.state, before.state);

    // And the window starts again from that write.
    clock.advance(Duration::minutes(1));
    store.update_ttl(&key(&raw), &TTL).await.unwrap();
    assert_eq!(Counts::get(&counting.counts.touch_wrote), 1);
}

pub async fn update_ttl_never_revives_an_expired_session(
    repo: Arc<dyn SessionRepository>,
    clock: TestClock,
) {
    let store = store(repo.clone(), &clock);
    let raw = saved(&store, &[("a", json!(1))]).await;

    clock.advance(TTL + Duration::seconds(1));
    store.update_ttl(&key(&raw), &TTL).await.unwrap();
    assert!(store.load(&key(&raw)).await.unwrap().is_none());
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
    state.insert(USER_ID_KEY.into(), json!("u1"));
    repo.insert(record(&mismatch, state.clone(), Some("u2"), now))
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
    assert_eq!(loaded, actix_state_map(&[("ok", json!(1))]));

    // A user entry the mirror cannot hold is refused the same way.
    let result = store
        .save(actix_state(&[(USER_ID_KEY, json!(7))]), &TTL)
        .await;
    assert!(
        matches!(result, Err(SaveError::Serialization(_))),
        "{result:?}"
    );
}

pub async fn save_retries_with_a_fresh_key_on_collision(
    repo: Arc<dyn SessionRepository>,
    clock: TestClock,
) {
    let counting = CountingRepository::new(CollidingRepository::new(repo.clone(), 1));
    let store = store(counting.clone(), &clock);

    let raw = saved(&store, &[("a", json!(1))]).await;
    assert_eq!(Counts::get(&counting.counts.insert), 2);
    let loaded = decoded(store.load(&key(&raw)).await.unwrap().unwrap());
    assert_eq!(loaded, actix_state_map(&[("a", json!(1))]));

    // Bounded: a store that always collides is an error after MAX_SAVE_ATTEMPTS keys.
    let counting = CountingRepository::new(CollidingRepository::new(repo, usize::MAX));
    let store = crate::support::store(counting.clone(), &clock);
    let result = store.save(actix_state(&[("a", json!(1))]), &TTL).await;
    assert!(matches!(result, Err(SaveError::Other(_))), "{result:?}");
    assert_eq!(Counts::get(&counting.counts.insert), MAX_SAVE_ATTEMPTS);
}

/// Request B loaded the session, request A logged out, then B saves a state change: the
/// logout wins and no session (under any key) is left for the user.
pub async fn update_after_delete_does_not_recreate(
    repo: Arc<dyn SessionRepository>,
    clock: TestClock,
) {
    let counting = CountingRepository::new(repo.clone());
    let store = store(counting.clone(), &clock);
    let raw = saved(&store, &[(USER_ID_KEY, json!("u1")), ("n", json!(1))]).await;

    let loaded_by_b = store.load(&key(&raw)).await.unwrap().unwrap();
    store.delete(&key(&raw)).await.unwrap(); // A: log out
    let mut changed_by_b = loaded_by_b;
    changed_by_b.insert("n".into(), "2".into());
    let returned = store.update(key(&raw), changed_by_b, &TTL).await.unwrap();

    assert_eq!(String::from(returned), raw);
    assert!(store.load(&key(&raw)).await.unwrap().is_none());
    assert_eq!(
        Counts::get(&counting.counts.insert),
        1,
        "only the original save"
    );
    assert_eq!(repo.delete_for_user(&UserId::new("u1")).await.unwrap(), 0);
}

pub async fn update_after_expiry_does_not_recreate(
    repo: Arc<dyn SessionRepository>,
    clock: TestClock,
) {
    let counting = CountingRepository::new(repo.clone());
    let store = store(counting.clone(), &clock);
    let t0 = clock.now();
    let raw = saved(&store, &[(USER_ID_KEY, json!("u1")), ("n", json!(1))]).await;

    clock.advance(TTL + Duration::seconds(1));
    let returned = store
        .update(
            key(&raw),
            actix_state(&[(USER_ID_KEY, json!("u1")), ("n", json!(2))]),
            &TTL,
        )
        .await
        .unwrap();

    assert_eq!(String::from(returned), raw);
    assert!(store.load(&key(&raw)).await.unwrap().is_none());
    assert_eq!(
        Counts::get(&counting.counts.insert),
        1,
        "only the original save"
    );
    // The expired document was not rewritten either.
    let old = repo.find_active(&id_of(&raw), t0).await.unwrap().unwrap();
    assert_eq!(old.expires, t0 + TTL);
    assert_eq!(old.state["n"], json!(1));
}

pub async fn user_id_is_mirrored_for_log_out_everywhere(
    repo: Arc<dyn SessionRepository>,
    clock: TestClock,
) {
    let store = store(repo.clone(), &clock);
    let u1 = UserId::new("u1");
    let laptop = saved(&store, &[(USER_ID_KEY, json!("u1"))]).await;
    let phone = saved(&store, &[(USER_ID_KEY, json!("u1")), ("x", json!(1))]).await;
    let other_user = saved(&store, &[(USER_ID_KEY, json!("u2"))]).await;
    let anonymous = saved(&store, &[("oauth_state", json!("s"))]).await;

    let stored = repo
        .find_active(&id_of(&laptop), clock.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.user_id, Some(u1.clone()));
    let stored = repo
        .find_active(&id_of(&anonymous), clock.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.user_id, None);

    // Signing in through an update sets the mirror; signing out through one clears it.
    let tablet = saved(&store, &[("oauth_state", json!("t"))]).await;
    store
        .update(
            key(&tablet),
            actix_state(&[(USER_ID_KEY, json!("u1"))]),
            &TTL,
        )
        .await
        .unwrap();
    store
        .update(key(&other_user), actix_state(&[("x", json!(1))]), &TTL)
        .await
        .unwrap();
    let stored = repo
        .find_active(&id_of(&other_user), clock.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.user_id, None);

    assert_eq!(repo.delete_for_user(&u1).await.unwrap(), 3);
    for raw in [&laptop, &phone, &tablet] {
        assert!(store.load(&key(raw)).await.unwrap().is_none());
    }
    assert!(store.load(&key(&other_user)).await.unwrap().is_some());
    assert!(store.load(&key(&anonymous)).await.unwrap().is_some());
}

pub async fn keys_are_strong_and_only_their_hash_is_stored(
    repo: Arc<dyn SessionRepository>,
    clock: TestClock,
) {
    let store = store(repo.clone(), &clock);
    let mut keys = std::collections::HashSet::new();
    for _ in 0..50 {
        let raw = saved(&store, &[("a", json!(1))]).await;
        // 64 symbols from 62: about 381 bits, above the 256 the design asks for.
        assert_eq!(raw.len(), SESSION_KEY_LEN);
        assert!(raw.bytes().all(|b| b.is_ascii_alphanumeric()), "{raw}");

        let id = id_of(&raw);
        assert_eq!(session_id_for(&key(&raw)), Some(id.clone()));
        let stored = repo.find_active(&id, clock.now()).await.unwrap().unwrap();
        assert_eq!(stored.id, id);
        assert_ne!(stored.id.as_str(), raw);
        assert!(!format!("{stored:?}").contains(&raw));
        keys.insert(raw);
    }
    assert_eq!(keys.len(), 50);
}
