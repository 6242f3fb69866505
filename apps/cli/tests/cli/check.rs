use std::time::Duration as StdDuration;

use altrion_domain::{
    Clock, DisplayName, Email, Identity, NewUser, Provider, SessionId, SessionRecord,
    SessionRepository, SystemClock, UserRepository,
};
use altrion_storage::MongoStores;
use time::Duration;

use crate::helpers::TestDb;

fn user(email: &str, provider: Provider, now: time::OffsetDateTime) -> NewUser {
    NewUser {
        name: DisplayName::parse("Someone").unwrap(),
        email: Email::parse(email).unwrap(),
        email_verified: provider != Provider::Local,
        password_hash: None,
        provider,
        identity: (provider != Provider::Local).then(|| Identity {
            provider,
            subject: email.to_owned(),
            email: None,
            email_verified: true,
            linked_at: now,
        }),
        avatar_url: None,
        created_at: now,
    }
}

fn session(n: u8, expires: time::OffsetDateTime, now: time::OffsetDateTime) -> SessionRecord {
    SessionRecord {
        id: SessionId::from_hex(format!("{n:02x}").repeat(32)).unwrap(),
        state: serde_json::Map::new(),
        expires,
        last_modified: now,
        created_at: now,
        // A signed-in session, as the server writes them.
        user_id: Some(altrion_domain::UserId::new(format!("{n:024x}"))),
    }
}

#[tokio::test]
async fn check_json_reports_counts_sessions_and_providers() {
    let t = TestDb::start().await;
    assert!(t.altrion(&["db", "migrate"]).await.status.success());
    let stores = MongoStores::from_database(t.db.clone(), StdDuration::from_secs(2));
    let now = SystemClock.now();
    for (email, provider) in [
        ("a@example.com", Provider::Local),
        ("b@example.com", Provider::Local),
        ("c@example.com", Provider::Google),
        ("d@example.com", Provider::Github),
    ] {
        stores
            .users
            .create(user(email, provider, now))
            .await
            .unwrap();
    }
    // The CLI judges expiry by the wall clock: one session expired an hour ago, two are live.
    stores
        .sessions
        .insert(session(1, now - Duration::hours(1), now))
        .await
        .unwrap();
    stores
        .sessions
        .insert(session(2, now + Duration::hours(1), now))
        .await
        .unwrap();
    stores
        .sessions
        .insert(session(3, now + Duration::hours(24), now))
        .await
        .unwrap();
    t.add_junk("tmp_import").await;

    let run = t.altrion(&["db", "check", "--json"]).await;

    assert!(run.status.success(), "{run:?}");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["database"], t.name.as_str());
    let counts: Vec<(String, u64)> = report["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["documents"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("sessions".to_owned(), 3),
            ("tmp_import".to_owned(), 1),
            ("users".to_owned(), 4)
        ]
    );
    assert_eq!(report["sessions"]["active"], 2);
    assert_eq!(report["sessions"]["expired_awaiting_removal"], 1);
    assert_eq!(
        report["users_by_provider"],
        serde_json::json!({"local": 2, "google": 1, "github": 1})
    );
    assert_eq!(
        report["unexpected_collections"],
        serde_json::json!(["tmp_import"])
    );

    let human = t.altrion(&["db", "check"]).await;
    assert!(human.status.success(), "{human:?}");
    assert!(
        human
            .stdout
            .contains("2 active (signed in), 0 anonymous, 1 expired"),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .contains("Users: 4 (github 1, google 1, local 2)"),
        "{}",
        human.stdout
    );
    t.stop().await;
}

#[tokio::test]
async fn an_embedded_uri_reaches_the_running_servers_port() {
    let t = TestDb::start().await;
    t.add_junk("tmp_import").await;
    let env = [
        ("MONGODB_URI", "embedded:var/devdb".to_owned()),
        (
            "MONGODB_EMBEDDED_PORT",
            t.server.local_addr().port().to_string(),
        ),
        ("MONGODB_DB", t.name.clone()),
    ];

    let run = crate::helpers::altrion(&["db", "check", "--json"], &env).await;

    // Missing indexes: the report is printed, and the exit status says something is wrong.
    assert!(!run.status.success(), "{run:?}");
    assert!(
        run.stderr.contains("users.email_1 missing"),
        "{}",
        run.stderr
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["collections"][0]["name"], "tmp_import");
    assert_eq!(report["indexes"]["missing"].as_array().unwrap().len(), 4);

    let human = crate::helpers::altrion(&["db", "check"], &env).await;
    assert!(
        human
            .stdout
            .contains("Indexes missing (run `altrion db migrate`)"),
        "{}",
        human.stdout
    );
    t.stop().await;
}

#[tokio::test]
async fn duplicate_emails_without_the_unique_index_are_counted_and_fail_the_check() {
    let t = TestDb::start().await;
    t.db.collection::<mongodb::bson::Document>("users")
        .insert_many([
            mongodb::bson::doc! {"email": "twice@example.com"},
            mongodb::bson::doc! {"email": "twice@example.com"},
            mongodb::bson::doc! {"email": "once@example.com"},
        ])
        .await
        .unwrap();

    let run = t.altrion(&["db", "check", "--json"]).await;

    assert!(!run.status.success(), "{run:?}");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["duplicate_emails"], 1, "{report}");
    assert!(
        run.stderr
            .contains("1 email value(s) held by more than one account"),
        "{}",
        run.stderr
    );
    t.stop().await;
}
