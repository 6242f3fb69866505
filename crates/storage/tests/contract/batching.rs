//! MongoDB only: concurrent reads by id share queries (the adapters' batching), counted with
//! the driver's command monitoring on a client of the test's own.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use altrion_domain::{SessionRepository, UserRepository};
use altrion_storage::{
    migrations,
    mongo::{MongoSessionRepository, MongoUserRepository},
    StoreLimits,
};
use futures_util::future::join_all;
use mongodb::{
    event::{command::CommandEvent, EventHandler},
    options::ClientOptions,
    Client,
};
use time::Duration;

use crate::harness::{
    clock_now, local_user, real_mongodb_uri, session, start_embedded, unique_db_name,
};

#[tokio::test]
async fn embedded_concurrent_reads_by_id_share_queries() {
    let server = start_embedded().await;
    let (users, sessions) = concurrent_reads_by_id(&server.uri(), true).await;
    server.shutdown().await.expect("mongo-embedded stops");
    // All the reads are queued before the test task yields (one-thread runtime), so the first
    // query carries them all; at most the two query slots start.
    assert!(
        (1..=2).contains(&users),
        "{READS} user reads took {users} finds"
    );
    assert!(
        (1..=2).contains(&sessions),
        "{READS} session reads took {sessions} finds"
    );
}

#[tokio::test]
async fn embedded_without_coalescing_each_read_is_its_own_query() {
    let server = start_embedded().await;
    let (users, sessions) = concurrent_reads_by_id(&server.uri(), false).await;
    server.shutdown().await.expect("mongo-embedded stops");
    assert_eq!((users, sessions), (READS, READS));
}

#[tokio::test]
#[ignore = "needs MONGODB_TEST_URI"]
async fn real_mongodb_concurrent_reads_by_id_share_queries() {
    let (users, sessions) = concurrent_reads_by_id(&real_mongodb_uri(), true).await;
    assert!(
        (1..=2).contains(&users),
        "{READS} user reads took {users} finds"
    );
    assert!(
        (1..=2).contains(&sessions),
        "{READS} session reads took {sessions} finds"
    );
}

const READS: usize = 50;

/// `READS` concurrent reads of one user, then of one session, with coalescing on or off;
/// returns how many `find`s each burst sent (every read answered correctly either way).
async fn concurrent_reads_by_id(uri: &str, coalesce_reads: bool) -> (usize, usize) {
    let finds = Arc::new(AtomicUsize::new(0));
    let mut options = ClientOptions::parse(uri).await.unwrap();
    options.command_event_handler = Some(EventHandler::callback({
        let finds = Arc::clone(&finds);
        move |event| {
            if let CommandEvent::Started(started) = event {
                if started.command_name == "find" {
                    finds.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    }));
    let db = Client::with_options(options)
        .unwrap()
        .database(&unique_db_name());
    migrations::apply(&db).await.unwrap();
    let limits = StoreLimits {
        coalesce_reads,
        ..StoreLimits::default()
    };
    let users = MongoUserRepository::with_limits(&db, &limits);
    let sessions = MongoSessionRepository::with_limits(&db, &limits);
    let now = clock_now();
    let user = users
        .create(local_user("ada@example.com", now))
        .await
        .unwrap();
    let record = session(now, Duration::hours(1), Some(user.id.clone()));
    sessions.insert(record.clone()).await.unwrap();

    let before = finds.load(Ordering::SeqCst);
    let found = join_all((0..READS).map(|_| users.find_by_id(&user.id))).await;
    let user_finds = finds.load(Ordering::SeqCst) - before;
    assert!(found
        .iter()
        .all(|f| matches!(f, Ok(Some(u)) if u.id == user.id)));

    let before = finds.load(Ordering::SeqCst);
    let active = join_all((0..READS).map(|_| sessions.find_active(&record.id, now))).await;
    let session_finds = finds.load(Ordering::SeqCst) - before;
    assert!(active
        .iter()
        .all(|s| matches!(s, Ok(Some(r)) if r.id == record.id)));

    db.drop().await.unwrap();
    (user_finds, session_finds)
}
