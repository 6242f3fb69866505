//! `db check` and `db cleanup` over a real database.

use std::{collections::BTreeMap, time::Duration as StdDuration};

use altrion_domain::{Clock, Provider, SessionRepository, TestClock, UserRepository};
use altrion_storage::{maintenance, migrations, MongoStores};
use mongodb::{
    bson::{doc, Document},
    Database,
};
use time::Duration;

use crate::harness::{local_user, oauth_user, session};

contract!(empty_database: [
    check_reports_collections_sessions_and_providers,
    check_on_an_empty_database_reports_what_is_missing,
    cleanup_drops_everything_but_users_and_sessions,
]);

async fn check_reports_collections_sessions_and_providers(db: Database) {
    migrations::apply(&db).await.unwrap();
    let stores = MongoStores::from_database(db.clone(), StdDuration::from_secs(2));
    let now = TestClock::starting_now().now();
    stores
        .users
        .create(local_user("a@example.com", now))
        .await
        .unwrap();
    stores
        .users
        .create(local_user("b@example.com", now))
        .await
        .unwrap();
    stores
        .users
        .create(oauth_user("c@example.com", Provider::Google, "g1", now))
        .await
        .unwrap();
    let signed_in = stores
        .users
        .create(oauth_user("d@example.com", Provider::Github, "h1", now))
        .await
        .unwrap();
    for (ttl, user) in [
        (Duration::hours(1), Some(signed_in.id.clone())),
        (Duration::hours(48), Some(signed_in.id.clone())),
        (Duration::hours(72), None),
    ] {
        stores
            .sessions
            .insert(session(now, ttl, user))
            .await
            .unwrap();
    }
    let junk = db.collection::<Document>("tmp_import");
    for n in 0..3 {
        junk.insert_one(doc! {"n": n}).await.unwrap();
    }

    let report = maintenance::check(&db, now + Duration::hours(2))
        .await
        .unwrap();

    assert_eq!(report.database, db.name());
    let summary: Vec<(&str, u64)> = report
        .collections
        .iter()
        .map(|c| (c.name.as_str(), c.documents))
        .collect();
    assert_eq!(summary, [("sessions", 3), ("tmp_import", 3), ("users", 4)]);
    let users = report
        .collections
        .iter()
        .find(|c| c.name == "users")
        .unwrap();
    assert!(users.indexes.contains(&"email_1".to_owned()));
    assert!(users.indexes.contains(&"_id_".to_owned()));
    assert_eq!(
        report.sessions.active, 1,
        "only signed-in sessions are active"
    );
    assert_eq!(report.sessions.anonymous, 1);
    assert_eq!(report.sessions.expired_awaiting_removal, 1);
    let expected: BTreeMap<String, u64> = [("github", 1), ("google", 1), ("local", 2)]
        .map(|(p, n)| (p.to_owned(), n))
        .into();
    assert_eq!(report.users_by_provider, expected);
    assert_eq!(report.unexpected_collections, ["tmp_import"]);
    assert!(report.missing_collections.is_empty());
    assert!(report.indexes.is_complete(), "{:?}", report.indexes);

    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["sessions"]["active"], 1);
    assert_eq!(json["users_by_provider"]["local"], 2);
}

async fn check_on_an_empty_database_reports_what_is_missing(db: Database) {
    let report = maintenance::check(&db, TestClock::starting_now().now())
        .await
        .unwrap();
    assert!(report.collections.is_empty());
    assert_eq!(report.missing_collections, ["users", "sessions"]);
    assert_eq!(
        (
            report.sessions.active,
            report.sessions.expired_awaiting_removal
        ),
        (0, 0)
    );
    assert!(report.users_by_provider.is_empty());
    assert_eq!(report.indexes.missing.len(), 4);
    assert!(report
        .indexes
        .missing
        .contains(&"sessions.expires_1".to_owned()));
    assert!(
        db.list_collection_names().await.unwrap().is_empty(),
        "checking writes nothing"
    );
}

async fn cleanup_drops_everything_but_users_and_sessions(db: Database) {
    migrations::apply(&db).await.unwrap();
    for name in ["zz_old", "a_junk", "sessions_backup"] {
        db.collection::<Document>(name)
            .insert_one(doc! {"x": 1})
            .await
            .unwrap();
    }

    let plan = maintenance::cleanup_plan(&db).await.unwrap();
    assert_eq!(plan, ["a_junk", "sessions_backup", "zz_old"]);

    // Protected names are never dropped, even when a plan lists them.
    let mut tampered = plan.clone();
    tampered.push("users".to_owned());
    let dropped = maintenance::cleanup(&db, &tampered).await.unwrap();
    assert_eq!(dropped, plan);
    let mut left = db.list_collection_names().await.unwrap();
    left.sort();
    assert_eq!(left, ["sessions", "users"]);

    assert!(maintenance::cleanup_plan(&db).await.unwrap().is_empty());
    assert!(maintenance::cleanup(&db, &plan).await.unwrap().is_empty());
}
