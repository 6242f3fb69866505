//! The `SessionRepository` contract.

use altrion_domain::{
    ConflictKey, Provider, RepoError, SessionState, SessionUpdate, Timestamp, Touch, UserId,
};
use serde_json::json;
use time::Duration;

use crate::harness::{local_user, oauth_user, session, session_id, state, Ctx};

contract!(all: [
    insert_then_find_and_duplicate_ids_conflict,
    find_active_ignores_expired_sessions,
    update_state_never_resurrects_missing_or_expired_sessions,
    update_state_replaces_state_user_and_expiry,
    touch_writes_only_outside_the_window_and_only_live_sessions,
    touch_never_extends_a_session_created_before_the_limit,
    list_for_user_shows_only_their_live_sessions_newest_first,
    delete_by_public_id_never_touches_another_users_session,
    delete_removes_one_and_tolerates_missing,
    delete_for_user_deletes_only_that_users_sessions,
    user_id_mirror_round_trips,
    nested_unicode_state_round_trips,
    concurrent_lookups_are_each_judged_at_their_own_now,
]);

const DAY: Duration = Duration::hours(24);

async fn insert_then_find_and_duplicate_ids_conflict(ctx: Ctx) {
    let now = ctx.now();
    let record = session(now, DAY, None);
    ctx.sessions.insert(record.clone()).await.unwrap();
    let found = ctx.sessions.find_active(&record.id, now).await.unwrap();
    assert_eq!(found.as_ref(), Some(&record));

    let mut clash = session(now, DAY, None);
    clash.id = record.id.clone();
    clash.state = state(json!({"other": true}));
    let result = ctx.sessions.insert(clash).await;
    assert!(
        matches!(result, Err(RepoError::Conflict(ConflictKey::Id))),
        "{result:?}"
    );
    let still = ctx.sessions.find_active(&record.id, now).await.unwrap();
    assert_eq!(still, Some(record), "insert never overwrites");
}

async fn find_active_ignores_expired_sessions(ctx: Ctx) {
    let now = ctx.now();
    let record = session(now, Duration::hours(1), None);
    ctx.sessions.insert(record.clone()).await.unwrap();

    let almost = now + Duration::hours(1) - Duration::milliseconds(1);
    assert!(ctx
        .sessions
        .find_active(&record.id, almost)
        .await
        .unwrap()
        .is_some());
    let at_expiry = now + Duration::hours(1);
    assert!(ctx
        .sessions
        .find_active(&record.id, at_expiry)
        .await
        .unwrap()
        .is_none());
    ctx.clock.advance(Duration::hours(2));
    assert!(ctx
        .sessions
        .find_active(&record.id, ctx.now())
        .await
        .unwrap()
        .is_none());
    assert!(ctx
        .sessions
        .find_active(&session_id(), now)
        .await
        .unwrap()
        .is_none());
}

async fn update_state_never_resurrects_missing_or_expired_sessions(ctx: Ctx) {
    let now = ctx.now();
    let missing = ctx
        .sessions
        .update_state(
            &session_id(),
            update(state(json!({"a": 1})), None, now + DAY, now),
        )
        .await
        .unwrap();
    assert!(!missing);

    let record = session(now, Duration::hours(1), None);
    ctx.sessions.insert(record.clone()).await.unwrap();
    let late = now + Duration::hours(2);
    let wrote = ctx
        .sessions
        .update_state(
            &record.id,
            update(state(json!({"user": "x"})), None, late + DAY, late),
        )
        .await
        .unwrap();
    assert!(!wrote);
    // Unchanged: still the original record when looked at before its expiry.
    let stored = ctx.sessions.find_active(&record.id, now).await.unwrap();
    assert_eq!(stored, Some(record.clone()));
    assert!(ctx
        .sessions
        .find_active(&record.id, late)
        .await
        .unwrap()
        .is_none());

    ctx.sessions.delete(&record.id).await.unwrap();
    let after_delete = ctx
        .sessions
        .update_state(
            &record.id,
            update(state(json!({"user": "x"})), None, now + DAY, now),
        )
        .await
        .unwrap();
    assert!(!after_delete);
    assert!(ctx
        .sessions
        .find_active(&record.id, now)
        .await
        .unwrap()
        .is_none());
}

async fn update_state_replaces_state_user_and_expiry(ctx: Ctx) {
    let now = ctx.now();
    let record = session(now, DAY, None);
    ctx.sessions.insert(record.clone()).await.unwrap();

    let at = now + Duration::minutes(10);
    let user = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    let new_state = state(json!({"user_id": user.id.as_str(), "n": 2}));
    let wrote = ctx
        .sessions
        .update_state(
            &record.id,
            update(new_state.clone(), Some(user.id.clone()), at + DAY, at),
        )
        .await
        .unwrap();
    assert!(wrote);

    let stored = ctx
        .sessions
        .find_active(&record.id, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.state, new_state);
    assert_eq!(stored.user_id, Some(user.id));
    assert_eq!(stored.expires, at + DAY);
    assert_eq!(stored.last_modified, at);
    assert_eq!(stored.created_at, now);
}

async fn touch_writes_only_outside_the_window_and_only_live_sessions(ctx: Ctx) {
    let touch_after = Duration::hours(1);
    let now = ctx.now();
    let record = session(now, DAY, None);
    ctx.sessions.insert(record.clone()).await.unwrap();

    // Inside the window: no write.
    ctx.clock.advance(Duration::minutes(30));
    let t = ctx.now();
    let wrote = ctx
        .sessions
        .touch(&record.id, touching(t + DAY, t, t - touch_after))
        .await
        .unwrap();
    assert!(!wrote);
    assert_eq!(
        ctx.sessions.find_active(&record.id, t).await.unwrap(),
        Some(record.clone())
    );

    // After it: expiry and last_modified move.
    ctx.clock.advance(Duration::minutes(31));
    let t = ctx.now();
    let wrote = ctx
        .sessions
        .touch(&record.id, touching(t + DAY, t, t - touch_after))
        .await
        .unwrap();
    assert!(wrote);
    let stored = ctx
        .sessions
        .find_active(&record.id, t)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.expires, stored.last_modified), (t + DAY, t));
    assert_eq!(stored.state, record.state);

    // An expired session is not touched back to life.
    let short = session(now, Duration::hours(1), None);
    ctx.sessions.insert(short.clone()).await.unwrap();
    let late = now + Duration::hours(3);
    let wrote = ctx
        .sessions
        .touch(&short.id, touching(late + DAY, late, late - touch_after))
        .await
        .unwrap();
    assert!(!wrote);
    assert!(ctx
        .sessions
        .find_active(&short.id, late)
        .await
        .unwrap()
        .is_none());
    assert!(!ctx
        .sessions
        .touch(&session_id(), touching(late + DAY, late, late))
        .await
        .unwrap());
}

async fn delete_removes_one_and_tolerates_missing(ctx: Ctx) {
    let now = ctx.now();
    let gone = session(now, DAY, None);
    let kept = session(now, DAY, None);
    ctx.sessions.insert(gone.clone()).await.unwrap();
    ctx.sessions.insert(kept.clone()).await.unwrap();

    ctx.sessions.delete(&gone.id).await.unwrap();
    ctx.sessions.delete(&gone.id).await.unwrap();
    assert!(ctx
        .sessions
        .find_active(&gone.id, now)
        .await
        .unwrap()
        .is_none());
    assert!(ctx
        .sessions
        .find_active(&kept.id, now)
        .await
        .unwrap()
        .is_some());
}

async fn delete_for_user_deletes_only_that_users_sessions(ctx: Ctx) {
    let now = ctx.now();
    let ada = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    let grace = ctx
        .users
        .create(oauth_user("grace@example.com", Provider::Github, "7", now))
        .await
        .unwrap();
    let ada_sessions = [
        session(now, DAY, Some(ada.id.clone())),
        session(now, DAY, Some(ada.id.clone())),
    ];
    let grace_session = session(now, DAY, Some(grace.id.clone()));
    let anonymous = session(now, DAY, None);
    for record in ada_sessions.iter().chain([&grace_session, &anonymous]) {
        ctx.sessions.insert(record.clone()).await.unwrap();
    }

    assert_eq!(ctx.sessions.delete_for_user(&ada.id).await.unwrap(), 2);
    for record in &ada_sessions {
        assert!(ctx
            .sessions
            .find_active(&record.id, now)
            .await
            .unwrap()
            .is_none());
    }
    assert!(ctx
        .sessions
        .find_active(&grace_session.id, now)
        .await
        .unwrap()
        .is_some());
    assert!(ctx
        .sessions
        .find_active(&anonymous.id, now)
        .await
        .unwrap()
        .is_some());
    assert_eq!(ctx.sessions.delete_for_user(&ada.id).await.unwrap(), 0);
    assert_eq!(
        ctx.sessions
            .delete_for_user(&UserId::new("not-an-id"))
            .await
            .unwrap(),
        0
    );
}

async fn user_id_mirror_round_trips(ctx: Ctx) {
    let now = ctx.now();
    let user = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    let record = session(now, DAY, Some(user.id.clone()));
    ctx.sessions.insert(record.clone()).await.unwrap();
    let stored = ctx
        .sessions
        .find_active(&record.id, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.user_id, Some(user.id.clone()));

    // Signing out clears the mirror; the session itself lives on.
    let wrote = ctx
        .sessions
        .update_state(&record.id, update(state(json!({})), None, now + DAY, now))
        .await
        .unwrap();
    assert!(wrote);
    let stored = ctx
        .sessions
        .find_active(&record.id, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.user_id, None);
    assert!(stored.state.is_empty());
    assert_eq!(ctx.sessions.delete_for_user(&user.id).await.unwrap(), 0);
}

async fn nested_unicode_state_round_trips(ctx: Ctx) {
    let now = ctx.now();
    let mut record = session(now, DAY, None);
    record.state = state(json!({
        "oauth": {"state": "ü-✓-日本語", "pkce": {"verifier": "a".repeat(64), "method": "S256"}},
        "redirect_to": "https://app.example/ñ?x=1&y=2",
        "flags": [true, false, null, 1, -2, 3.5, "x", {"deep": [[]]}],
        "empty": {},
        "emoji 🍪": "🦀",
        "count": 9_007_199_254_740_993_i64,
    }));
    ctx.sessions.insert(record.clone()).await.unwrap();
    let stored = ctx
        .sessions
        .find_active(&record.id, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.state, record.state);
}

/// Many lookups at once, with different `now`s (the MongoDB adapter answers them with shared
/// queries): each is judged at its own instant, so a caller past a session's expiry gets `None`
/// while an earlier caller of the same session gets it; unknown ids get `None`.
async fn concurrent_lookups_are_each_judged_at_their_own_now(ctx: Ctx) {
    let now = ctx.now();
    let short = session(now, Duration::minutes(5), None);
    let long = session(now, DAY, None);
    ctx.sessions.insert(short.clone()).await.unwrap();
    ctx.sessions.insert(long.clone()).await.unwrap();
    let unknown = session_id();
    let later = now + Duration::minutes(10);
    let asked: Vec<_> = (0..30)
        .map(|n| match n % 5 {
            0 => (short.id.clone(), now, Some(&short)),
            1 => (short.id.clone(), later, None),
            2 => (long.id.clone(), later, Some(&long)),
            3 => (long.id.clone(), now, Some(&long)),
            _ => (unknown.clone(), now, None),
        })
        .collect();
    let answers = futures_util::future::join_all(
        asked
            .iter()
            .map(|(id, at, _)| ctx.sessions.find_active(id, *at)),
    )
    .await;
    for ((id, at, expected), answer) in asked.iter().zip(answers) {
        assert_eq!(
            answer.unwrap().as_ref(),
            *expected,
            "session {id:?} asked at {at}"
        );
    }
}

/// An update of the whole state, as the store sends it.
fn update(
    state: SessionState,
    user_id: Option<UserId>,
    expires: Timestamp,
    now: Timestamp,
) -> SessionUpdate {
    SessionUpdate {
        state,
        user_id,
        expires,
        now,
    }
}

/// A lazy touch to `expires` at `now` for sessions last modified before `stale_before`, with no
/// limit on their age.
fn touching(expires: Timestamp, now: Timestamp, stale_before: Timestamp) -> Touch {
    Touch {
        now,
        stale_before,
        created_since: Timestamp::UNIX_EPOCH,
        expires,
    }
}

async fn touch_never_extends_a_session_created_before_the_limit(ctx: Ctx) {
    let now = ctx.now();
    let record = session(now, DAY, None);
    ctx.sessions.insert(record.clone()).await.unwrap();
    let later = now + Duration::hours(2);
    let limited = Touch {
        created_since: now + Duration::milliseconds(1),
        ..touching(later + DAY, later, later)
    };
    assert!(!ctx.sessions.touch(&record.id, limited).await.unwrap());
    let at_limit = Touch {
        created_since: now,
        ..limited
    };
    assert!(ctx.sessions.touch(&record.id, at_limit).await.unwrap());
}

/// A session of `user` created at `at` whose state carries the public handle `public_id`.
fn signed_in(at: Timestamp, user: &UserId, public_id: &str) -> altrion_domain::SessionRecord {
    let mut record = session(at, DAY, Some(user.clone()));
    record
        .state
        .insert(altrion_domain::PUBLIC_ID_KEY.into(), json!(public_id));
    record
}

async fn list_for_user_shows_only_their_live_sessions_newest_first(ctx: Ctx) {
    let now = ctx.now();
    let ada = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap()
        .id;
    let grace = ctx
        .users
        .create(local_user("grace@example.com", now))
        .await
        .unwrap()
        .id;
    let older = signed_in(now, &ada, "p-old");
    let newer = signed_in(now + Duration::minutes(1), &ada, "p-new");
    let mut expired = signed_in(now, &ada, "p-gone");
    expired.expires = now + Duration::seconds(30);
    for record in [
        older.clone(),
        newer.clone(),
        expired,
        signed_in(now, &grace, "p-g"),
    ] {
        ctx.sessions.insert(record).await.unwrap();
    }
    let listed = ctx
        .sessions
        .list_for_user(&ada, now + Duration::minutes(2))
        .await
        .unwrap();
    assert_eq!(listed, vec![newer, older]);
    assert_eq!(listed[0].public_id(), Some("p-new"));
}

async fn delete_by_public_id_never_touches_another_users_session(ctx: Ctx) {
    let now = ctx.now();
    let ada = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap()
        .id;
    let grace = ctx
        .users
        .create(local_user("grace@example.com", now))
        .await
        .unwrap()
        .id;
    let hers = signed_in(now, &grace, "p-grace");
    ctx.sessions.insert(hers.clone()).await.unwrap();
    ctx.sessions
        .insert(signed_in(now, &ada, "p-ada"))
        .await
        .unwrap();

    assert!(!ctx
        .sessions
        .delete_by_public_id(&ada, "p-grace")
        .await
        .unwrap());
    assert!(ctx
        .sessions
        .find_active(&hers.id, now)
        .await
        .unwrap()
        .is_some());
    assert!(ctx
        .sessions
        .delete_by_public_id(&ada, "p-ada")
        .await
        .unwrap());
    assert!(!ctx
        .sessions
        .delete_by_public_id(&ada, "p-ada")
        .await
        .unwrap());
    assert!(ctx
        .sessions
        .list_for_user(&ada, now)
        .await
        .unwrap()
        .is_empty());
}
