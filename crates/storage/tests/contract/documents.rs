//! The stored shape, read back raw: what operators, mongosh and connect-mongo users see.

use altrion_domain::Provider;
use mongodb::bson::{doc, Bson, Document};
use time::Duration;

use crate::harness::{local_user, oauth_user, session, Ctx};

contract!(mongo: [session_documents_have_the_connect_mongo_shape, user_documents_have_the_designed_shape]);

async fn session_documents_have_the_connect_mongo_shape(ctx: Ctx) {
    let now = ctx.now();
    let user = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    let record = session(now, Duration::hours(24), Some(user.id.clone()));
    ctx.sessions.insert(record.clone()).await.unwrap();

    let raw = ctx
        .db()
        .collection::<Document>("sessions")
        .find_one(doc! {"_id": record.id.as_str()})
        .await
        .unwrap()
        .expect("stored under the id's hex");
    assert!(matches!(raw.get("_id"), Some(Bson::String(id)) if id == record.id.as_str()));
    assert!(
        matches!(raw.get("session"), Some(Bson::Document(s)) if s.get_str("oauth_state") == Ok("s1"))
    );
    assert!(matches!(raw.get("expires"), Some(Bson::DateTime(_))));
    assert!(matches!(raw.get("lastModified"), Some(Bson::DateTime(_))));
    assert!(matches!(raw.get("createdAt"), Some(Bson::DateTime(_))));
    assert!(
        matches!(raw.get("userId"), Some(Bson::ObjectId(oid)) if oid.to_hex() == user.id.as_str())
    );

    // The state is queryable with ordinary filters.
    let by_state = ctx
        .db()
        .collection::<Document>("sessions")
        .count_documents(doc! {"session.oauth_state": "s1"})
        .await
        .unwrap();
    assert_eq!(by_state, 1);
}

async fn user_documents_have_the_designed_shape(ctx: Ctx) {
    let now = ctx.now();
    let local = ctx
        .users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    let oauth = ctx
        .users
        .create(oauth_user(
            "grace@example.com",
            Provider::Github,
            "583231",
            now,
        ))
        .await
        .unwrap();
    let users = ctx.db().collection::<Document>("users");

    let raw = users
        .find_one(doc! {"email": "ada@example.com"})
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(raw.get("_id"), Some(Bson::ObjectId(oid)) if oid.to_hex() == local.id.as_str())
    );
    assert_eq!(raw.get_str("provider"), Ok("local"));
    assert!(raw.get_str("password").unwrap().starts_with("$argon2id$"));
    assert!(matches!(raw.get("identities"), Some(Bson::Array(a)) if a.is_empty()));
    assert!(matches!(
        raw.get("tokenVersion"),
        Some(Bson::Int64(0) | Bson::Int32(0))
    ));
    assert!(matches!(raw.get("createdAt"), Some(Bson::DateTime(_))));
    assert!(matches!(raw.get("updatedAt"), Some(Bson::DateTime(_))));
    assert!(!raw.contains_key("failedLogins") && !raw.contains_key("lockedUntil"));

    let raw = users
        .find_one(doc! {"email": "grace@example.com"})
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(raw.get("_id"), Some(Bson::ObjectId(oid)) if oid.to_hex() == oauth.id.as_str())
    );
    assert!(!raw.contains_key("password"));
    assert_eq!(
        raw.get_str("avatarUrl"),
        Ok("https://avatars.example/583231.png")
    );
    let identity = raw.get_array("identities").unwrap()[0]
        .as_document()
        .unwrap()
        .clone();
    assert_eq!(identity.get_str("provider"), Ok("github"));
    assert_eq!(identity.get_str("subject"), Ok("583231"));
    assert_eq!(identity.get_str("email"), Ok("583231@github.example"));
    assert_eq!(identity.get_bool("emailVerified"), Ok(true));
    assert!(matches!(identity.get("linkedAt"), Some(Bson::DateTime(_))));

    let attempt = altrion_domain::LoginAttempt {
        expected_failures: 0,
        now,
        lock_until: Some(now + Duration::minutes(1)),
    };
    assert!(ctx
        .users
        .claim_login_attempt(&local.id, attempt)
        .await
        .unwrap());
    let raw = users
        .find_one(doc! {"email": "ada@example.com"})
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        raw.get("failedLogins"),
        Some(Bson::Int32(1) | Bson::Int64(1))
    ));
    assert!(matches!(raw.get("lockedUntil"), Some(Bson::DateTime(_))));
}
