//! Failures at the storage seam: an unreachable database is `Unavailable` (retryable, a 503),
//! a document this code did not write is `Other` — never a panic, never a wrong answer.

use std::{net::TcpListener, time::Duration};

use altrion_domain::{
    Email, Readiness, RepoError, SessionId, SessionRepository, UserId, UserRepository,
};
use altrion_storage::{mongo::MongoReadiness, MongoOptions, MongoStores};
use futures_util::future::join_all;
use mongodb::bson::doc;

use crate::harness::Ctx;

contract!(mongo: [
    documents_of_another_shape_are_other_errors,
    a_malformed_session_fails_only_callers_it_is_live_for,
    readiness_pings_a_live_database,
]);

#[tokio::test]
async fn an_unreachable_database_is_unavailable_for_every_port() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut options = MongoOptions::new(format!("mongodb://127.0.0.1:{port}/"), "altrion");
    options.server_selection_timeout = Duration::from_millis(300);
    options.ping_timeout = Duration::from_secs(5);
    let stores = altrion_storage::open(&options).await.unwrap();

    let email = Email::parse("ada@example.com").unwrap();
    let users = stores.users.find_by_email(&email).await;
    assert!(matches!(users, Err(RepoError::Unavailable(_))), "{users:?}");
    let id = SessionId::from_hex("a".repeat(64)).unwrap();
    let sessions = stores.sessions.delete(&id).await;
    assert!(
        matches!(sessions, Err(RepoError::Unavailable(_))),
        "{sessions:?}"
    );
    let ping = stores.readiness.ping().await;
    assert!(matches!(ping, Err(RepoError::Unavailable(_))), "{ping:?}");

    // Reads by id share queries: every caller queued behind a failing one is unavailable too.
    let user = UserId::new("65f0c0ffee0ddba11c0ffee0");
    let now = time::OffsetDateTime::now_utc();
    let (users, sessions) = futures_util::join!(
        join_all((0..200).map(|_| stores.users.find_by_id(&user))),
        join_all((0..200).map(|_| stores.sessions.find_active(&id, now))),
    );
    assert!(users
        .iter()
        .all(|found| matches!(found, Err(RepoError::Unavailable(_)))));
    assert!(sessions
        .iter()
        .all(|found| matches!(found, Err(RepoError::Unavailable(_)))));
}

/// A session document this code did not write is an error for a caller it is still live for,
/// and `None` for a caller past its expiry, even when both share one query.
async fn a_malformed_session_fails_only_callers_it_is_live_for(ctx: Ctx) {
    let now = ctx.now();
    let id = SessionId::from_hex("b".repeat(64)).unwrap();
    ctx.db()
        .collection::<mongodb::bson::Document>("sessions")
        .insert_one(doc! {
            "_id": id.as_str(),
            "session": "not a document",
            "expires": mongodb::bson::DateTime::from_millis(
                (now + time::Duration::minutes(5)).unix_timestamp() * 1000,
            ),
        })
        .await
        .unwrap();
    let later = now + time::Duration::minutes(10);
    let (live, expired) = futures_util::join!(
        ctx.sessions.find_active(&id, now),
        ctx.sessions.find_active(&id, later),
    );
    assert!(matches!(live, Err(RepoError::Other(_))), "{live:?}");
    assert!(matches!(expired, Ok(None)), "{expired:?}");
}

async fn readiness_pings_a_live_database(ctx: Ctx) {
    let readiness = MongoReadiness::new(ctx.db(), Duration::from_secs(2));
    readiness.ping().await.unwrap();
    let stores = MongoStores::from_database(ctx.db().clone(), Duration::from_secs(2));
    stores.readiness.ping().await.unwrap();
}

async fn documents_of_another_shape_are_other_errors(ctx: Ctx) {
    ctx.db()
        .collection::<mongodb::bson::Document>("users")
        .insert_one(doc! {"email": "odd@example.com", "provider": "myspace", "name": "Odd"})
        .await
        .unwrap();
    let found = ctx
        .users
        .find_by_email(&Email::parse("odd@example.com").unwrap())
        .await;
    let Err(RepoError::Other(cause)) = found else {
        panic!("expected Other, got {found:?}");
    };
    assert!(cause.to_string().contains("users"), "{cause}");
}
