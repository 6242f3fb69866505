//! Failures at the storage seam: an unreachable database is `Unavailable` (retryable, a 503),
//! a document this code did not write is `Other` — never a panic, never a wrong answer.

use std::{net::TcpListener, time::Duration};

use altrion_domain::{Email, Readiness, RepoError, SessionId, SessionRepository, UserRepository};
use altrion_storage::{mongo::MongoReadiness, MongoOptions, MongoStores};
use mongodb::bson::doc;

use crate::harness::Ctx;

contract!(mongo: [documents_of_another_shape_are_other_errors, readiness_pings_a_live_database]);

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
