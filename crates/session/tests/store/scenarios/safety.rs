//! What other stores get wrong: resurrection, touch storms, collisions, the user mirror and
//! key handling.

use std::sync::Arc;

use actix_session::storage::{SaveError, SessionStore};
use altrion_domain::{Clock as _, SessionRepository, TestClock, UserId};
use altrion_session::{
    session_id_for, DEFAULT_ABSOLUTE_TTL, MAX_SAVE_ATTEMPTS, SESSION_KEY_LEN, USER_ID_KEY,
};
use serde_json::json;
use time::Duration;

use super::{saved, state_map};
use crate::support::{
    actix_state, decoded, id_of, key, store, CollidingRepository, CountingRepository, Counts,
    TOUCH_AFTER, TTL,
};

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

/// A request that loads its session inside the touch window costs one read and nothing else:
/// the store remembers what `load` saw, so `update_ttl` does not even send the conditional
/// touch. Past the window the load is followed by the one conditional write.
pub async fn a_load_inside_the_window_makes_the_touch_free(
    repo: Arc<dyn SessionRepository>,
    clock: TestClock,
) {
    let raw = saved(&store(repo.clone(), &clock), &[("a", json!(1))]).await;
    let counting = CountingRepository::new(repo.clone());
    let store = store(counting.clone(), &clock);

    clock.advance(TOUCH_AFTER - Duration::minutes(1));
    assert!(store.load(&key(&raw)).await.unwrap().is_some());
    store.update_ttl(&key(&raw), &TTL).await.unwrap();
    assert_eq!(Counts::get(&counting.counts.find_active), 1);
    assert_eq!(counting.counts.total(), 1, "one read, no touch");

    clock.advance(Duration::minutes(2));
    assert!(store.load(&key(&raw)).await.unwrap().is_some());
    store.update_ttl(&key(&raw), &TTL).await.unwrap();
    assert_eq!(Counts::get(&counting.counts.touch), 1);
    assert_eq!(Counts::get(&counting.counts.touch_wrote), 1);
    let touched = repo
        .find_active(&id_of(&raw), clock.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(touched.expires, clock.now() + TTL);

    // A deleted session loads as none and is not touched back to life.
    store.delete(&key(&raw)).await.unwrap();
    assert!(store.load(&key(&raw)).await.unwrap().is_none());
    clock.advance(TOUCH_AFTER * 2);
    store.update_ttl(&key(&raw), &TTL).await.unwrap();
    assert!(repo
        .find_active(&id_of(&raw), clock.now())
        .await
        .unwrap()
        .is_none());
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

pub async fn save_retries_with_a_fresh_key_on_collision(
    repo: Arc<dyn SessionRepository>,
    clock: TestClock,
) {
    let counting = CountingRepository::new(CollidingRepository::new(repo.clone(), 1));
    let store = store(counting.clone(), &clock);

    let raw = saved(&store, &[("a", json!(1))]).await;
    assert_eq!(Counts::get(&counting.counts.insert), 2);
    let loaded = decoded(store.load(&key(&raw)).await.unwrap().unwrap());
    assert_eq!(loaded, state_map(&[("a", json!(1))]));

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
    let raw = saved(
        &store,
        &[
            (USER_ID_KEY, json!("65f000000000000000000b01")),
            ("n", json!(1)),
        ],
    )
    .await;

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
    assert_eq!(
        repo.delete_for_user(&UserId::new("65f000000000000000000b01"))
            .await
            .unwrap(),
        0
    );
}

pub async fn update_after_expiry_does_not_recreate(
    repo: Arc<dyn SessionRepository>,
    clock: TestClock,
) {
    let counting = CountingRepository::new(repo.clone());
    let store = store(counting.clone(), &clock);
    let t0 = clock.now();
    let raw = saved(
        &store,
        &[
            (USER_ID_KEY, json!("65f000000000000000000c01")),
            ("n", json!(1)),
        ],
    )
    .await;

    clock.advance(TTL + Duration::seconds(1));
    let returned = store
        .update(
            key(&raw),
            actix_state(&[
                (USER_ID_KEY, json!("65f000000000000000000c01")),
                ("n", json!(2)),
            ]),
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
    let u1 = UserId::new("65f000000000000000000d01");
    let laptop = saved(&store, &[(USER_ID_KEY, json!("65f000000000000000000d01"))]).await;
    let phone = saved(
        &store,
        &[
            (USER_ID_KEY, json!("65f000000000000000000d01")),
            ("x", json!(1)),
        ],
    )
    .await;
    let other_user = saved(&store, &[(USER_ID_KEY, json!("65f000000000000000000d02"))]).await;
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
            actix_state(&[(USER_ID_KEY, json!("65f000000000000000000d01"))]),
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

/// A session used every day still ends `DEFAULT_ABSOLUTE_TTL` after it was created: neither the
/// lazy touch nor a state update moves `expires` past that, and once it has passed the session
/// is refused and deleted (ASVS 5 V7.3.2).
pub async fn a_session_never_outlives_its_absolute_lifetime(
    repo: Arc<dyn SessionRepository>,
    clock: TestClock,
) {
    let store = store(repo.clone(), &clock);
    let created = clock.now();
    let deadline = created + DEFAULT_ABSOLUTE_TTL;
    let raw = saved(&store, &[("a", json!(1))]).await;
    let id = id_of(&raw);

    // Used once a day: each request slides the idle expiry, up to the deadline and no further.
    for _ in 0..7 {
        clock.advance(Duration::hours(23));
        assert!(store.load(&key(&raw)).await.unwrap().is_some());
        store.update_ttl(&key(&raw), &TTL).await.unwrap();
        let stored = repo.find_active(&id, clock.now()).await.unwrap().unwrap();
        assert_eq!(stored.expires, (clock.now() + TTL).min(deadline));
    }
    clock.set(deadline - Duration::hours(2));
    let loaded = store.load(&key(&raw)).await.unwrap().unwrap();
    store.update(key(&raw), loaded, &TTL).await.unwrap();
    let stored = repo.find_active(&id, clock.now()).await.unwrap().unwrap();
    assert_eq!(stored.expires, deadline, "a state update is capped too");

    // A touch from a store that did not load it (no note) cannot pass the deadline either.
    let cold = crate::support::store(repo.clone(), &clock);
    clock.set(deadline - Duration::minutes(30));
    cold.update_ttl(&key(&raw), &TTL).await.unwrap();
    let stored = repo.find_active(&id, clock.now()).await.unwrap().unwrap();
    assert!(stored.expires <= deadline);
}

/// A 30-day-old session whose document is still live (written by an older version, or by a
/// store with a longer lifetime) is refused and deleted on load.
pub async fn a_session_past_its_absolute_lifetime_is_refused_and_deleted(
    repo: Arc<dyn SessionRepository>,
    clock: TestClock,
) {
    let now = clock.now();
    let raw = "O".repeat(SESSION_KEY_LEN);
    let mut record = crate::support::record(&raw, state_map(&[("a", json!(1))]), None, now);
    record.created_at = now - Duration::days(30);
    record.last_modified = now - Duration::hours(2);
    record.expires = now + Duration::hours(22);
    repo.insert(record).await.unwrap();

    let store = store(repo.clone(), &clock);
    assert!(store.load(&key(&raw)).await.unwrap().is_none());
    store.update_ttl(&key(&raw), &TTL).await.unwrap();
    assert!(
        repo.find_active(&id_of(&raw), now).await.unwrap().is_none(),
        "the document is deleted, not extended"
    );
}
