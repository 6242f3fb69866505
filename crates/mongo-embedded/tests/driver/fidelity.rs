//! Behaviour a mongod shows that the emulator once differed from.

use crate::{code_of, start};
use mongodb::bson::{doc, Bson, Document};
use mongodb::options::ReplaceOptions;

#[tokio::test]
async fn list_indexes_of_a_missing_collection_is_namespace_not_found() {
    let env = start().await;
    let reply = env
        .server
        .run_command(doc! {"listIndexes": "missing", "$db": env.db.name()})
        .await;
    assert_eq!(reply.get_i32("code"), Ok(26), "{reply}");
    assert_eq!(
        reply.get_str("codeName"),
        Ok("NamespaceNotFound"),
        "{reply}"
    );
}

#[tokio::test]
async fn create_refuses_every_option_it_does_not_implement() {
    let env = start().await;
    let options: Vec<(&str, Bson)> = vec![
        ("capped", Bson::Boolean(true)),
        ("size", Bson::Int32(4096)),
        ("max", Bson::Int32(10)),
        ("validator", doc! {"a": {"$exists": true}}.into()),
        ("validationLevel", "moderate".into()),
        ("validationAction", "warn".into()),
        ("viewOn", "other".into()),
        ("pipeline", Bson::Array(vec![])),
        ("collation", doc! {"locale": "fr"}.into()),
        ("timeseries", doc! {"timeField": "t"}.into()),
        ("expireAfterSeconds", Bson::Int32(60)),
        (
            "clusteredIndex",
            doc! {"key": {"_id": 1}, "unique": true}.into(),
        ),
        (
            "changeStreamPreAndPostImages",
            doc! {"enabled": true}.into(),
        ),
        ("storageEngine", doc! {"wiredTiger": {}}.into()),
        ("indexOptionDefaults", doc! {"storageEngine": {}}.into()),
        ("encryptedFields", doc! {"fields": []}.into()),
        (
            "idIndex",
            doc! {"key": {"other": 1}, "name": "other_1"}.into(),
        ),
    ];
    for (i, (name, value)) in options.into_iter().enumerate() {
        let coll = format!("c{i}");
        let mut cmd = doc! {"create": &coll};
        cmd.insert(name, value);
        let err = env.db.run_command(cmd).await.unwrap_err();
        assert_eq!(code_of(&err), Some(2), "{name}: {err}");
        assert!(err.to_string().contains(name), "{name}: {err}");
        // Refused means not created either.
        assert!(!env
            .db
            .list_collection_names()
            .await
            .unwrap()
            .contains(&coll));
    }
    // What asks for nothing is still accepted.
    env.db
        .run_command(doc! {"create": "plain", "capped": false, "idIndex": {"key": {"_id": 1}, "name": "_id_", "v": 2}})
        .await
        .unwrap();
}

#[tokio::test]
async fn dollar_prefixed_fields_in_id_are_refused() {
    let env = start().await;
    let c = env.db.collection::<Document>("ids");
    let err = c.insert_one(doc! {"_id": {"$a": 1}}).await.unwrap_err();
    assert_eq!(code_of(&err), Some(52), "{err}");
    assert!(
        err.to_string().contains("$a is not valid for storage"),
        "{err}"
    );
    let err = c
        .insert_one(doc! {"_id": {"k": [{"$in": 1}]}})
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), Some(52), "{err}");
    // Upsert seeded from the filter, and a replacement carrying the _id.
    let err = c
        .update_one(
            doc! {"_id": {"k": {"$invalid": "v"}}},
            doc! {"$set": {"v": 1}},
        )
        .upsert(true)
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), Some(52), "{err}");
    let err = c
        .replace_one(doc! {"x": 1}, doc! {"_id": {"$b": 1}, "x": 1})
        .with_options(ReplaceOptions::builder().upsert(true).build())
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), Some(52), "{err}");
    let reply = env
        .server
        .run_command(doc! {"findAndModify": "ids", "query": {"_id": {"k": {"$x": 1}}}, "update": {"v": 1}, "upsert": true, "$db": env.db.name()})
        .await;
    assert_eq!(reply.get_i32("code"), Ok(52), "{reply}");
    assert_eq!(c.count_documents(doc! {}).await.unwrap(), 0);
    // Plain documents and DBRefs inside _id stay valid.
    c.insert_one(doc! {"_id": {"a": {"b": 1}}}).await.unwrap();
    c.insert_one(doc! {"_id": {"r": {"$ref": "x", "$id": 1}}})
        .await
        .unwrap();
}

#[tokio::test]
async fn unknown_read_concern_levels_are_refused() {
    let env = start().await;
    let db = env.db.name().to_string();
    let reply = env
        .server
        .run_command(doc! {"find": "c", "readConcern": {"level": "eventual"}, "$db": &db})
        .await;
    assert_eq!(reply.get_i32("code"), Ok(9), "{reply}");
    assert_eq!(reply.get_str("codeName"), Ok("FailedToParse"), "{reply}");
    for level in ["local", "available", "majority", "linearizable", "snapshot"] {
        let reply = env
            .server
            .run_command(doc! {"find": "c", "readConcern": {"level": level}, "$db": &db})
            .await;
        assert_eq!(reply.get_f64("ok"), Ok(1.0), "{level}: {reply}");
    }
}
