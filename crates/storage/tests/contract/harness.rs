//! Backends and the macro that runs one scenario against each.

use std::{
    future::Future,
    panic::AssertUnwindSafe,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use altrion_domain::{
    DisplayName, Email, Identity, NewUser, PasswordHash, Provider, SessionId, SessionRecord,
    SessionRepository, SessionState, TestClock, Timestamp, UserId, UserRepository,
};
use altrion_storage::{
    memory::{MemorySessionRepository, MemoryUserRepository},
    migrations, mongo, MongoOptions, MongoStores,
};
use futures_util::FutureExt;
use mongo_embedded::{Server, ServerHandle, ServerOptions};
use mongodb::Database;

/// What a scenario gets: the ports, a frozen clock, and the raw database for MongoDB backends.
pub struct Ctx {
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub clock: TestClock,
    pub db: Option<Database>,
}

impl Ctx {
    pub fn now(&self) -> Timestamp {
        altrion_domain::Clock::now(&self.clock)
    }

    /// The raw database; only MongoDB-only scenarios call it.
    pub fn db(&self) -> &Database {
        self.db.as_ref().expect("a MongoDB-backed scenario")
    }
}

/// A clock at the real current time: stored expiries then lie in MongoDB's future, so its TTL
/// monitor cannot remove a document while a scenario advances the clock past it.
fn clock() -> TestClock {
    TestClock::starting_now()
}

/// The current instant, as the scenarios' clock starts.
pub fn clock_now() -> Timestamp {
    altrion_domain::Clock::now(&clock())
}

/// Runs `scenario` on fresh in-memory fakes.
pub async fn memory<F, Fut>(scenario: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    scenario(Ctx {
        users: Arc::new(MemoryUserRepository::new()),
        sessions: Arc::new(MemorySessionRepository::new()),
        clock: clock(),
        db: None,
    })
    .await;
}

/// An in-memory `mongo-embedded` on 127.0.0.1:0 whose own TTL monitor stays out of the way
/// (tests trigger passes explicitly).
pub async fn start_embedded() -> ServerHandle {
    Server::start(
        ServerOptions::default()
            .bind("127.0.0.1")
            .port(0)
            .ttl_interval(Duration::from_secs(24 * 3600)),
    )
    .await
    .expect("mongo-embedded starts")
}

/// Runs `scenario` on a fresh database of a fresh `mongo-embedded`.
pub async fn embedded<F, Fut>(scenario: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    let server = start_embedded().await;
    on_mongodb(&server.uri(), true, scenario).await;
    server.shutdown().await.expect("mongo-embedded stops");
}

/// As [`embedded`], with read coalescing off: the direct read paths keep the same contract.
pub async fn embedded_uncoalesced<F, Fut>(scenario: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    let server = start_embedded().await;
    on_mongodb(&server.uri(), false, scenario).await;
    server.shutdown().await.expect("mongo-embedded stops");
}

/// The real MongoDB of `MONGODB_TEST_URI`. The tests that need it are `#[ignore]`d, so they
/// only run when asked for (`make test-mongo`), and then a missing URI is a failure, never a
/// silent pass.
pub fn real_mongodb_uri() -> String {
    match std::env::var("MONGODB_TEST_URI") {
        Ok(uri) if !uri.is_empty() => uri,
        _ => panic!("MONGODB_TEST_URI is not set: point it at a MongoDB ≥ 6.0 (make test-mongo)"),
    }
}

/// Runs `scenario` on a fresh database of the real MongoDB.
pub async fn real_mongodb<F, Fut>(scenario: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    on_mongodb(&real_mongodb_uri(), true, scenario).await;
}

static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

/// A database name no other test (or concurrent test run) uses.
pub fn unique_db_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "altrion_t{}_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// Connection options for tests: single-node acknowledgement works on any topology.
pub fn test_options(uri: &str, db: &str) -> MongoOptions {
    let mut options = MongoOptions::new(uri, db);
    options.server_selection_timeout = Duration::from_secs(5);
    options
}

/// Connects to a fresh database on `uri`, runs `body` on it, and drops it even if `body` panics.
pub async fn with_fresh_database<F, Fut>(uri: &str, body: F)
where
    F: FnOnce(Database) -> Fut,
    Fut: Future<Output = ()>,
{
    let db = mongo::connect(&test_options(uri, &unique_db_name()))
        .await
        .expect("connects");
    let outcome = AssertUnwindSafe(body(db.clone())).catch_unwind().await;
    let dropped = db.drop().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    dropped.expect("the test database is dropped");
}

/// Runs `scenario` on the migrated stores of a fresh database on `uri`.
pub async fn on_mongodb<F, Fut>(uri: &str, coalesce_reads: bool, scenario: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    with_fresh_database(uri, |db| async move {
        migrations::apply(&db).await.expect("migrations apply");
        let limits = altrion_storage::StoreLimits {
            coalesce_reads,
            ..altrion_storage::StoreLimits::default()
        };
        let stores = MongoStores::with_limits(db.clone(), Duration::from_secs(2), &limits);
        scenario(Ctx {
            users: stores.users,
            sessions: stores.sessions,
            clock: clock(),
            db: Some(db),
        })
        .await;
    })
    .await;
}

/// Runs `body` on a fresh, empty database (no migrations) of a fresh `mongo-embedded`.
pub async fn embedded_database<F, Fut>(body: F)
where
    F: FnOnce(Database) -> Fut,
    Fut: Future<Output = ()>,
{
    let server = start_embedded().await;
    with_fresh_database(&server.uri(), body).await;
    server.shutdown().await.expect("mongo-embedded stops");
}

/// Runs `body` on a fresh, empty database of the real MongoDB.
pub async fn real_mongodb_database<F, Fut>(body: F)
where
    F: FnOnce(Database) -> Fut,
    Fut: Future<Output = ()>,
{
    with_fresh_database(&real_mongodb_uri(), body).await;
}

/// Generates one test per scenario and backend: `memory`, `embedded`, `real_mongodb`
/// (or only the last two with `mongo:`).
macro_rules! contract {
    (all: [$($scenario:ident),* $(,)?]) => {
        mod memory {
            $( #[tokio::test]
            async fn $scenario() { crate::harness::memory(super::$scenario).await; } )*
        }
        contract!(mongo: [$($scenario),*]);
    };
    (mongo: [$($scenario:ident),* $(,)?]) => {
        mod embedded {
            $( #[tokio::test]
            async fn $scenario() { crate::harness::embedded(super::$scenario).await; } )*
        }
        mod embedded_uncoalesced {
            $( #[tokio::test]
            async fn $scenario() { crate::harness::embedded_uncoalesced(super::$scenario).await; } )*
        }
        mod real_mongodb {
            $( #[tokio::test]
            #[ignore = "needs MONGODB_TEST_URI"]
            async fn $scenario() { crate::harness::real_mongodb(super::$scenario).await; } )*
        }
    };
    (empty_database: [$($scenario:ident),* $(,)?]) => {
        mod embedded {
            $( #[tokio::test]
            async fn $scenario() { crate::harness::embedded_database(super::$scenario).await; } )*
        }
        mod real_mongodb {
            $( #[tokio::test]
            #[ignore = "needs MONGODB_TEST_URI"]
            async fn $scenario() { crate::harness::real_mongodb_database(super::$scenario).await; } )*
        }
    };
}

// ---- fixtures --------------------------------------------------------------------------------

pub fn email(raw: &str) -> Email {
    Email::parse(raw).unwrap()
}

pub fn identity(provider: Provider, subject: &str, at: Timestamp) -> Identity {
    Identity {
        provider,
        subject: subject.to_owned(),
        email: Some(email(&format!("{subject}@{provider}.example"))),
        email_verified: true,
        linked_at: at,
    }
}

/// A password user.
pub fn local_user(address: &str, at: Timestamp) -> NewUser {
    NewUser {
        name: DisplayName::parse("Ada Lovelace").unwrap(),
        email: email(address),
        email_verified: false,
        password_hash: Some(PasswordHash::new(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        )),
        provider: Provider::Local,
        identity: None,
        avatar_url: None,
        created_at: at,
    }
}

/// An OAuth user created with `provider`/`subject`.
pub fn oauth_user(address: &str, provider: Provider, subject: &str, at: Timestamp) -> NewUser {
    NewUser {
        name: DisplayName::parse("Grace Hopper").unwrap(),
        email: email(address),
        email_verified: true,
        password_hash: None,
        provider,
        identity: Some(identity(provider, subject, at)),
        avatar_url: Some(format!("https://avatars.example/{subject}.png")),
        created_at: at,
    }
}

static NEXT_SESSION: AtomicUsize = AtomicUsize::new(1);

/// A fresh session id (64 hex digits).
pub fn session_id() -> SessionId {
    let n = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
    SessionId::from_hex(format!("{:016x}{:048x}", std::process::id(), n)).unwrap()
}

pub fn state(value: serde_json::Value) -> SessionState {
    value.as_object().cloned().expect("a JSON object")
}

/// A session created at `at`, expiring after `ttl`.
pub fn session(at: Timestamp, ttl: time::Duration, user: Option<UserId>) -> SessionRecord {
    SessionRecord {
        id: session_id(),
        state: state(serde_json::json!({"oauth_state": "s1"})),
        expires: at + ttl,
        last_modified: at,
        created_at: at,
        user_id: user,
    }
}
