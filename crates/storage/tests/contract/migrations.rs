//! Index migrations: idempotent, conflicts reported, and the TTL index doing its job.

use std::time::Duration as StdDuration;

use altrion_domain::{Clock, SessionRepository, TestClock};
use altrion_storage::{
    migrations::{self, IndexStatus, MigrationError},
    MongoStores,
};
use futures_util::TryStreamExt;
use mongodb::{
    bson::{doc, Bson, DateTime, Document},
    Database,
};
use time::Duration;

use crate::harness::{self, session};

contract!(empty_database: [
    migrations_create_the_indexes_then_are_a_no_op,
    a_ttl_index_without_expiry_is_a_reported_conflict,
    a_non_unique_email_index_is_a_reported_conflict,
    an_identical_index_under_another_name_is_kept,
    duplicate_emails_stop_the_unique_index_without_leaking_them,
]);

async fn indexes(db: &Database, collection: &str) -> Vec<Document> {
    db.run_cursor_command(doc! {"listIndexes": collection})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

fn named<'a>(indexes: &'a [Document], name: &str) -> &'a Document {
    indexes
        .iter()
        .find(|i| i.get_str("name") == Ok(name))
        .unwrap_or_else(|| panic!("index {name} in {indexes:?}"))
}

fn number(value: Option<&Bson>) -> Option<f64> {
    match value? {
        Bson::Int32(n) => Some(f64::from(*n)),
        Bson::Int64(n) => Some(*n as f64),
        Bson::Double(d) => Some(*d),
        _ => None,
    }
}

async fn migrations_create_the_indexes_then_are_a_no_op(db: Database) {
    let first = migrations::apply(&db).await.unwrap();
    assert_eq!(
        first.created(),
        vec![
            "users.email_1",
            "users.identities.provider_1_identities.subject_1",
            "sessions.expires_1",
            "sessions.userId_1",
        ]
    );

    let users = indexes(&db, "users").await;
    assert_eq!(named(&users, "email_1").get_bool("unique"), Ok(true));
    let identity = named(&users, "identities.provider_1_identities.subject_1");
    assert_eq!(identity.get_bool("unique"), Ok(true));
    assert_eq!(
        identity.get_document("partialFilterExpression").unwrap(),
        &doc! {"identities.subject": {"$exists": true}}
    );
    let sessions = indexes(&db, "sessions").await;
    assert_eq!(
        number(named(&sessions, "expires_1").get("expireAfterSeconds")),
        Some(0.0)
    );
    assert!(named(&sessions, "userId_1")
        .get("expireAfterSeconds")
        .is_none());

    assert!(migrations::status(&db).await.unwrap().is_complete());
    let second = migrations::apply(&db).await.unwrap();
    assert!(second.created().is_empty());
    assert!(second
        .migrations
        .iter()
        .flat_map(|m| &m.indexes)
        .all(|i| i.status == IndexStatus::Present));
    assert_eq!(indexes(&db, "users").await.len(), 3);
    assert_eq!(indexes(&db, "sessions").await.len(), 3);
    let mut names = db.list_collection_names().await.unwrap();
    names.sort();
    assert_eq!(names, ["sessions", "users"], "no bookkeeping collection");
}

async fn a_ttl_index_without_expiry_is_a_reported_conflict(db: Database) {
    db.run_command(doc! {"createIndexes": "sessions", "indexes": [
        {"key": {"expires": 1}, "name": "expires_1"},
    ]})
    .await
    .unwrap();

    let status = migrations::status(&db).await.unwrap();
    assert_eq!(status.conflicts.len(), 1);
    assert_eq!(status.missing.len(), 3);

    let err = migrations::apply(&db).await.unwrap_err();
    let MigrationError::Conflicts(conflicts) = &err else {
        panic!("expected conflicts, got {err:?}");
    };
    assert_eq!(conflicts, &status.conflicts);
    let conflict = &conflicts[0];
    assert_eq!(
        (conflict.collection.as_str(), conflict.index.as_str()),
        ("sessions", "expires_1")
    );
    assert_eq!(conflict.migration, "0002_sessions_indexes");
    assert!(
        conflict.expected.contains("expireAfterSeconds: 0"),
        "{}",
        conflict.expected
    );
    assert!(conflict.found.contains("no TTL"), "{}", conflict.found);
    assert!(
        conflict
            .fix
            .contains("db.sessions.dropIndex(\"expires_1\")"),
        "{}",
        conflict.fix
    );
    let message = err.to_string();
    assert!(message.contains("sessions.expires_1") && message.contains("nothing was changed"));

    // Nothing was created, not even the unrelated users indexes.
    assert!(!db
        .list_collection_names()
        .await
        .unwrap()
        .contains(&"users".to_owned()));
    assert_eq!(indexes(&db, "sessions").await.len(), 2);
}

async fn a_non_unique_email_index_is_a_reported_conflict(db: Database) {
    db.run_command(doc! {"createIndexes": "users", "indexes": [
        {"key": {"email": 1}, "name": "email_1"},
    ]})
    .await
    .unwrap();

    let err = migrations::apply(&db).await.unwrap_err();
    let MigrationError::Conflicts(conflicts) = &err else {
        panic!("expected conflicts, got {err:?}");
    };
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].index, "email_1");
    assert!(conflicts[0].expected.contains("unique"));
    assert!(conflicts[0].found.contains("not unique"));
}

async fn an_identical_index_under_another_name_is_kept(db: Database) {
    db.run_command(doc! {"createIndexes": "users", "indexes": [
        {"key": {"email": 1}, "name": "email_unique", "unique": true},
    ]})
    .await
    .unwrap();

    let report = migrations::apply(&db).await.unwrap();
    let email = report.migrations[0]
        .indexes
        .iter()
        .find(|i| i.name == "email_1")
        .unwrap();
    assert_eq!(
        email.status,
        IndexStatus::PresentAs("email_unique".to_owned())
    );
    assert!(migrations::apply(&db).await.unwrap().created().is_empty());
}

async fn duplicate_emails_stop_the_unique_index_without_leaking_them(db: Database) {
    let users = db.collection::<Document>("users");
    for _ in 0..2 {
        users
            .insert_one(doc! {"email": "twice@example.com", "provider": "local"})
            .await
            .unwrap();
    }
    let err = migrations::apply(&db).await.unwrap_err();
    assert!(
        matches!(&err, MigrationError::Duplicates { collection, index, .. } if collection == "users" && index == "email_1"),
        "{err:?}"
    );
    assert!(!err.to_string().contains("twice@example.com"), "{err}");
}

/// The TTL index removes a session once its `expires` has passed, and not before (the
/// embedded server's TTL pass is triggered explicitly; no sleeping).
#[tokio::test]
async fn the_ttl_index_removes_expired_sessions() {
    let server = harness::start_embedded().await;
    let ttl = &server;
    harness::with_fresh_database(&server.uri(), |db| async move {
        migrations::apply(&db).await.unwrap();
        let stores = MongoStores::from_database(db.clone(), StdDuration::from_secs(2));
        let clock = TestClock::starting_now();
        let now = clock.now();
        let short = session(now, Duration::hours(1), None);
        let long = session(now, Duration::hours(24), None);
        stores.sessions.insert(short.clone()).await.unwrap();
        stores.sessions.insert(long.clone()).await.unwrap();
        let at = |t: time::OffsetDateTime| {
            DateTime::from_millis((t.unix_timestamp_nanos() / 1_000_000) as i64)
        };

        assert_eq!(
            ttl.run_ttl_pass_at(at(now + Duration::minutes(59)))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            ttl.run_ttl_pass_at(at(now + Duration::hours(2)))
                .await
                .unwrap(),
            1
        );

        let left: Vec<Document> = db
            .collection::<Document>("sessions")
            .find(doc! {})
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].get_str("_id"), Ok(long.id.as_str()));
        assert!(stores
            .sessions
            .find_active(&short.id, now)
            .await
            .unwrap()
            .is_none());
    })
    .await;
    server.shutdown().await.unwrap();
}
