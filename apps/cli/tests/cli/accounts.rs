//! `altrion users …` and `altrion sessions …` against a database the server would write.

use std::time::Duration as StdDuration;

use altrion_domain::{
    Clock, DisplayName, Email, LoginAttempt, NewUser, PasswordHash, Provider, SessionId,
    SessionRecord, SessionRepository, SystemClock, UserId, UserRepository,
};
use altrion_storage::MongoStores;
use serde_json::Value;
use time::Duration;

use crate::helpers::TestDb;

async fn seeded() -> (TestDb, MongoStores, UserId) {
    let t = TestDb::start().await;
    assert!(t.altrion(&["db", "migrate"]).await.status.success());
    let stores = MongoStores::from_database(t.db.clone(), StdDuration::from_secs(2));
    let now = SystemClock.now();
    let ada = stores
        .users
        .create(NewUser {
            name: DisplayName::parse("Ada").unwrap(),
            email: Email::parse("ada@example.com").unwrap(),
            email_verified: false,
            password_hash: Some(PasswordHash::new(
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            )),
            provider: Provider::Local,
            identity: None,
            avatar_url: None,
            created_at: now,
        })
        .await
        .unwrap();
    let attempt = LoginAttempt {
        expected_failures: 0,
        now,
        lock_until: Some(now + Duration::minutes(10)),
    };
    assert!(stores
        .users
        .claim_login_attempt(&ada.id, attempt)
        .await
        .unwrap());
    for (n, agent) in [(1_u8, "Firefox"), (2, "Safari")] {
        let mut state = serde_json::Map::new();
        state.insert("user_id".into(), ada.id.as_str().into());
        state.insert("public_id".into(), format!("pub{n}").into());
        state.insert("user_agent".into(), agent.into());
        stores
            .sessions
            .insert(SessionRecord {
                id: SessionId::from_hex(format!("{n:02x}").repeat(32)).unwrap(),
                state,
                expires: now + Duration::hours(24),
                last_modified: now,
                created_at: now + Duration::seconds(i64::from(n)),
                user_id: Some(ada.id.clone()),
            })
            .await
            .unwrap();
    }
    (t, stores, ada.id)
}

#[tokio::test]
async fn users_list_show_and_unlock_never_show_the_hash() {
    let (t, stores, id) = seeded().await;

    let list = t.altrion(&["users", "list", "--json"]).await;
    assert!(list.status.success(), "{list:?}");
    let users: Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(users[0]["email"], "ada@example.com");
    assert_eq!(users[0]["sessions"], 2);
    assert!(!list.stdout.contains("argon2"), "{}", list.stdout);
    let none = t
        .altrion(&["users", "list", "--provider", "github", "--json"])
        .await;
    assert_eq!(
        serde_json::from_str::<Value>(&none.stdout).unwrap(),
        serde_json::json!([])
    );

    let show = t.altrion(&["users", "show", "ada@example.com"]).await;
    assert!(show.status.success(), "{show:?}");
    assert!(
        show.stdout.contains("1 failed login(s), locked until"),
        "{}",
        show.stdout
    );
    assert!(!show.stdout.contains("argon2"));

    let unlock = t.altrion(&["users", "unlock", "ADA@example.com"]).await;
    assert!(unlock.status.success(), "{unlock:?}");
    let user = stores.users.find_by_id(&id).await.unwrap().unwrap();
    assert_eq!((user.failed_logins, user.locked_until), (0, None));

    let missing = t.altrion(&["users", "show", "nobody@example.com"]).await;
    assert!(!missing.status.success());
    assert!(
        missing.stderr.contains("no user with email"),
        "{}",
        missing.stderr
    );
    t.stop().await;
}

#[tokio::test]
async fn sessions_are_listed_with_public_ids_and_revoked() {
    let (t, stores, id) = seeded().await;
    let list = t
        .altrion(&["sessions", "list", "--user", "ada@example.com", "--json"])
        .await;
    assert!(list.status.success(), "{list:?}");
    let sessions: Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(sessions[0]["id"], "pub2", "newest first");
    assert_eq!(sessions[1]["user_agent"], "Firefox");
    assert!(
        !list.stdout.contains(&"01".repeat(32)),
        "never the stored id"
    );

    let one = t.altrion(&["sessions", "revoke", "pub1"]).await;
    assert!(one.status.success(), "{one:?}");
    assert_eq!(
        stores
            .sessions
            .list_for_user(&id, SystemClock.now())
            .await
            .unwrap()
            .len(),
        1
    );
    let again = t.altrion(&["sessions", "revoke", "pub1"]).await;
    assert!(!again.status.success());

    let all = t
        .altrion(&["sessions", "revoke", "--user", "ada@example.com"])
        .await;
    assert!(all.status.success(), "{all:?}");
    assert!(all.stdout.contains("Ended 1 session(s)"), "{}", all.stdout);
    t.stop().await;
}

#[tokio::test]
async fn users_delete_asks_then_removes_the_user_and_sessions() {
    let (t, stores, id) = seeded().await;
    let refused = t.altrion(&["users", "delete", "ada@example.com"]).await;
    assert!(
        !refused.status.success(),
        "no terminal, no --yes: {refused:?}"
    );
    assert!(stores.users.find_by_id(&id).await.unwrap().is_some());

    let deleted = t
        .altrion(&["users", "delete", "ada@example.com", "--yes"])
        .await;
    assert!(deleted.status.success(), "{deleted:?}");
    assert!(
        deleted.stdout.contains("and 2 session(s)"),
        "{}",
        deleted.stdout
    );
    assert!(stores.users.find_by_id(&id).await.unwrap().is_none());
    assert!(stores
        .sessions
        .list_for_user(&id, SystemClock.now())
        .await
        .unwrap()
        .is_empty());
    t.stop().await;
}
