use futures_util::TryStreamExt;
use mongodb::bson::{doc, Document};

use crate::helpers::TestDb;

async fn index_names(t: &TestDb, collection: &str) -> Vec<String> {
    let listed: Vec<Document> =
        t.db.run_cursor_command(doc! {"listIndexes": collection})
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
    let mut names: Vec<String> = listed
        .iter()
        .map(|i| i.get_str("name").unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn migrate_creates_the_indexes_once() {
    let t = TestDb::start().await;

    let run = t.altrion(&["db", "migrate"]).await;

    assert!(run.status.success(), "{run:?}");
    assert!(run.stdout.contains("Created 4 index(es)"), "{}", run.stdout);
    assert_eq!(
        index_names(&t, "users").await,
        [
            "_id_",
            "email_1",
            "identities.provider_1_identities.subject_1"
        ]
    );
    assert_eq!(
        index_names(&t, "sessions").await,
        ["_id_", "expires_1", "userId_1"]
    );

    let again = t.altrion(&["db", "migrate", "--json"]).await;
    assert!(again.status.success(), "{again:?}");
    let report: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    let statuses: Vec<&str> = report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["indexes"].as_array().unwrap())
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["present"; 4]);
    t.stop().await;
}

#[tokio::test]
async fn an_index_conflict_is_reported_with_a_fix_and_fails() {
    let t = TestDb::start().await;
    t.db.run_command(doc! {"createIndexes": "sessions", "indexes": [
        {"key": {"expires": 1}, "name": "expires_1"},
    ]})
    .await
    .unwrap();

    let run = t.altrion(&["db", "migrate"]).await;

    assert!(!run.status.success());
    assert!(run.stderr.contains("sessions.expires_1"), "{}", run.stderr);
    assert!(run.stderr.contains("expected:") && run.stderr.contains("found:"));
    assert!(
        run.stderr.contains("dropIndex(\"expires_1\")"),
        "{}",
        run.stderr
    );
    t.stop().await;
}
