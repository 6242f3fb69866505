use crate::{code_of, start};
use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document};

async fn ids(c: &mongodb::Collection<Document>, filter: Document) -> Vec<i32> {
    let docs: Vec<Document> = c
        .find(filter)
        .sort(doc! {"_id": 1})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    docs.iter().map(|d| d.get_i32("_id").unwrap()).collect()
}

#[tokio::test]
async fn comparison_logical_and_array_operators() {
    let env = start().await;
    let c = env.db.collection::<Document>("q");
    c.insert_many(vec![
        doc! {"_id": 1, "a": 1, "tags": ["x", "y"], "o": {"k": 1}},
        doc! {"_id": 2, "a": 2.5, "tags": ["y"], "o": {"k": 2}},
        doc! {"_id": 3, "a": "str", "tags": [], "items": [{"n": 1, "v": 5}, {"n": 2, "v": 1}]},
        doc! {"_id": 4, "a": Bson::Null},
        doc! {"_id": 5, "a": [0, 10]},
        doc! {"_id": 6},
    ])
    .await
    .unwrap();
    assert_eq!(ids(&c, doc! {"a": {"$gt": 1}}).await, vec![2, 5]);
    assert_eq!(
        ids(&c, doc! {"a": {"$gte": 1, "$lt": 3}}).await,
        vec![1, 2, 5]
    );
    assert_eq!(ids(&c, doc! {"a": {"$lte": "zzz"}}).await, vec![3]);
    assert_eq!(ids(&c, doc! {"a": {"$eq": 10}}).await, vec![5]);
    assert_eq!(ids(&c, doc! {"a": {"$ne": 1}}).await, vec![2, 3, 4, 5, 6]);
    assert_eq!(ids(&c, doc! {"a": {"$in": [1, "str"]}}).await, vec![1, 3]);
    assert_eq!(
        ids(&c, doc! {"a": {"$nin": [1, "str", Bson::Null]}}).await,
        vec![2, 5]
    );
    assert_eq!(ids(&c, doc! {"a": Bson::Null}).await, vec![4, 6]);
    assert_eq!(ids(&c, doc! {"a": {"$exists": false}}).await, vec![6]);
    assert_eq!(
        ids(&c, doc! {"$or": [{"a": 1}, {"tags": "y"}]}).await,
        vec![1, 2]
    );
    assert_eq!(
        ids(
            &c,
            doc! {"$and": [{"tags": "y"}, {"a": {"$type": "double"}}]}
        )
        .await,
        vec![2]
    );
    assert_eq!(
        ids(&c, doc! {"$nor": [{"a": {"$exists": true}}]}).await,
        vec![6]
    );
    assert_eq!(
        ids(&c, doc! {"a": {"$not": {"$gt": 1}}}).await,
        vec![1, 3, 4, 6]
    );
    assert_eq!(ids(&c, doc! {"tags": {"$size": 0}}).await, vec![3]);
    assert_eq!(ids(&c, doc! {"o.k": 2}).await, vec![2]);
    assert_eq!(ids(&c, doc! {"items.n": 2}).await, vec![3]);
    assert_eq!(
        ids(
            &c,
            doc! {"items": {"$elemMatch": {"n": 1, "v": {"$gt": 4}}}}
        )
        .await,
        vec![3]
    );
    assert_eq!(
        ids(
            &c,
            doc! {"items": {"$elemMatch": {"n": 2, "v": {"$gt": 4}}}}
        )
        .await,
        Vec::<i32>::new()
    );
    assert_eq!(
        ids(&c, doc! {"a": {"$elemMatch": {"$gt": 5}}}).await,
        vec![5]
    );
}

#[tokio::test]
async fn unknown_operators_are_rejected() {
    let env = start().await;
    let c = env.db.collection::<Document>("q2");
    let e = c.find_one(doc! {"a": {"$foo": 1}}).await.unwrap_err();
    assert_eq!(code_of(&e), Some(2));
    assert!(e.to_string().contains("unknown operator: $foo"));
    let e = c
        .update_one(doc! {}, doc! {"$foo": {"a": 1}})
        .upsert(true)
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(9));
    assert!(e.to_string().contains("Unknown modifier: $foo"));
    let e = c.find_one(doc! {"$where": "1"}).await.unwrap_err();
    assert_eq!(code_of(&e), Some(2));
    let e = c
        .find_one(doc! {"$expr": {"$eq": ["$a", 1]}})
        .await
        .unwrap_err();
    assert!(e
        .to_string()
        .contains("does not support the $expr query operator"));
    let e = c.find_one(doc! {"$foo": 1}).await.unwrap_err();
    assert!(e.to_string().contains("unknown top level operator: $foo"));
}

#[tokio::test]
async fn cross_type_sort_order() {
    let env = start().await;
    let c = env.db.collection::<Document>("sort");
    let oid = ObjectId::new();
    c.insert_many(vec![
        doc! {"_id": 1, "v": "b"},
        doc! {"_id": 2, "v": 3i64},
        doc! {"_id": 3, "v": true},
        doc! {"_id": 4, "v": Bson::Null},
        doc! {"_id": 5, "v": oid},
        doc! {"_id": 6, "v": DateTime::from_millis(5)},
        doc! {"_id": 7, "v": {"x": 1}},
        doc! {"_id": 8, "v": 2.5},
        doc! {"_id": 9, "v": Bson::MinKey},
        doc! {"_id": 10, "v": Bson::MaxKey},
    ])
    .await
    .unwrap();
    let docs: Vec<Document> = c
        .find(doc! {})
        .sort(doc! {"v": 1})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let order: Vec<i32> = docs.iter().map(|d| d.get_i32("_id").unwrap()).collect();
    assert_eq!(order, vec![9, 4, 8, 2, 1, 7, 5, 3, 6, 10]);
}

#[tokio::test]
async fn update_operators_through_driver() {
    let env = start().await;
    let c = env.db.collection::<Document>("upd");
    c.insert_one(doc! {"_id": 1, "n": 5, "arr": [1, 2, 3], "s": "x", "rm": 1})
        .await
        .unwrap();
    c.update_one(
        doc! {"_id": 1},
        doc! {
            "$inc": {"n": 2}, "$min": {"lo": 3}, "$max": {"hi": 9}, "$unset": {"rm": ""},
            "$push": {"arr": 4}, "$addToSet": {"set": "a"}, "$currentDate": {"at": true}, "$set": {"deep.x.y": 1}
        },
    )
    .await
    .unwrap();
    c.update_one(
        doc! {"_id": 1},
        doc! {"$pull": {"arr": {"$lt": 3}}, "$addToSet": {"set": {"$each": ["a", "b"]}}},
    )
    .await
    .unwrap();
    let d = c.find_one(doc! {"_id": 1}).await.unwrap().unwrap();
    assert_eq!(d.get_i32("n").unwrap(), 7);
    assert_eq!(d.get_i32("lo").unwrap(), 3);
    assert_eq!(d.get_i32("hi").unwrap(), 9);
    assert!(!d.contains_key("rm"));
    assert_eq!(
        d.get_array("arr").unwrap(),
        &vec![Bson::Int32(3), Bson::Int32(4)]
    );
    assert_eq!(d.get_array("set").unwrap().len(), 2);
    assert!(d.get_datetime("at").is_ok());
    assert_eq!(d.get_document("deep").unwrap(), &doc! {"x": {"y": 1}});
    let e = c
        .update_one(doc! {"_id": 1}, doc! {"$inc": {"s": 1}})
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(14));
    let e = c
        .update_one(doc! {"_id": 1}, doc! {"$set": {"_id": 2}})
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(66));
    let r = c
        .replace_one(doc! {"_id": 1}, doc! {"only": true})
        .await
        .unwrap();
    assert_eq!(r.modified_count, 1);
    assert_eq!(
        c.find_one(doc! {}).await.unwrap().unwrap(),
        doc! {"_id": 1, "only": true}
    );
}

#[tokio::test]
async fn aggregate_pipeline() {
    let env = start().await;
    let c = env.db.collection::<Document>("agg");
    c.insert_many(
        (0..20)
            .map(|i| doc! {"_id": i, "g": i % 3, "v": i})
            .collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    let out: Vec<Document> = c
        .aggregate(vec![
            doc! {"$match": {"v": {"$gte": 2}}},
            doc! {"$group": {"_id": "$g", "total": {"$sum": "$v"}, "n": {"$sum": 1}, "lo": {"$min": "$v"}, "hi": {"$max": "$v"}, "c": {"$count": {}}}},
            doc! {"$sort": {"_id": 1}},
        ])
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(out.len(), 3);
    assert_eq!(
        out[0],
        doc! {"_id": 0, "total": 63, "n": 6, "lo": 3, "hi": 18, "c": 6}
    );
    let out: Vec<Document> = c
        .aggregate(vec![
            doc! {"$sort": {"v": -1}},
            doc! {"$skip": 2},
            doc! {"$limit": 3},
            doc! {"$project": {"v": 1, "_id": 0}},
        ])
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(out, vec![doc! {"v": 17}, doc! {"v": 16}, doc! {"v": 15}]);
    let out: Vec<Document> = c
        .aggregate(vec![doc! {"$count": "total"}])
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(out, vec![doc! {"total": 20}]);
    let e = c.aggregate(vec![doc! {"$bogus": {}}]).await.unwrap_err();
    assert_eq!(code_of(&e), Some(40324));
    assert_eq!(c.count_documents(doc! {"g": 1}).await.unwrap(), 7);
}

#[tokio::test]
async fn positional_updates() {
    let env = start().await;
    let c = env.db.collection::<Document>("pos");
    c.insert_one(doc! {"_id": 1, "items": [{"id": 1, "qty": 1}, {"id": 2, "qty": 1}, {"id": 3, "qty": 1}], "n": [1, 2, 3]})
        .await
        .unwrap();
    c.update_one(
        doc! {"_id": 1, "items.id": 2},
        doc! {"$set": {"items.$.qty": 9}},
    )
    .await
    .unwrap();
    c.update_one(doc! {"_id": 1}, doc! {"$inc": {"items.$[].qty": 10}})
        .await
        .unwrap();
    c.update_one(doc! {"n": {"$gte": 3}}, doc! {"$set": {"n.$": 30}})
        .await
        .unwrap();
    c.update_one(
        doc! {"items": {"$elemMatch": {"id": 3, "qty": 11}}},
        doc! {"$unset": {"items.$.qty": ""}},
    )
    .await
    .unwrap();
    let d = c.find_one(doc! {}).await.unwrap().unwrap();
    assert_eq!(
        d,
        doc! {"_id": 1, "items": [{"id": 1, "qty": 11}, {"id": 2, "qty": 19}, {"id": 3}], "n": [1, 2, 30]}
    );
    let e = c
        .update_one(doc! {"_id": 1}, doc! {"$set": {"items.$.qty": 0}})
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(2));
    assert!(e
        .to_string()
        .contains("positional operator did not find the match"));
    let e = c
        .update_one(doc! {"_id": 1}, doc! {"$set": {"items.$[x].qty": 0}})
        .array_filters(vec![doc! {"x.id": 1}])
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(2));
}

#[tokio::test]
async fn lookup_joins_by_equality() {
    let env = start().await;
    let users = env.db.collection::<Document>("users");
    let sessions = env.db.collection::<Document>("sessions");
    users
        .insert_many(vec![
            doc! {"_id": 1, "name": "a"},
            doc! {"_id": 2, "name": "b"},
        ])
        .await
        .unwrap();
    sessions
        .insert_many(vec![
            doc! {"_id": 10, "user": 1},
            doc! {"_id": 11, "user": 1},
            doc! {"_id": 12, "user": 3},
        ])
        .await
        .unwrap();
    let out: Vec<Document> = users
        .aggregate(vec![
            doc! {"$lookup": {"from": "sessions", "localField": "_id", "foreignField": "user", "as": "sessions"}},
            doc! {"$project": {"name": 1, "sessions._id": 1}},
            doc! {"$sort": {"_id": 1}},
        ])
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        out,
        vec![
            doc! {"_id": 1, "name": "a", "sessions": [{"_id": 10}, {"_id": 11}]},
            doc! {"_id": 2, "name": "b", "sessions": []},
        ]
    );
    let e = users
        .aggregate(vec![
            doc! {"$lookup": {"from": "sessions", "pipeline": [], "as": "x"}},
        ])
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(2));
}
