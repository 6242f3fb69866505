//! The same scenarios on `MongoSessionRepository`: against mongo-embedded, and also against a
//! real MongoDB when `MONGODB_TEST_URI` is set. Each test gets its own database, dropped after.

use std::sync::Arc;

use altrion_domain::TestClock;
use altrion_storage::{mongo::MongoSessionRepository, MongoOptions};
use mongo_embedded::{Server, ServerOptions};

use crate::support::start;

/// Runs `scenario` on a fresh database at `uri`, then drops it.
async fn on_database<F, Fut>(uri: &str, scenario: F)
where
    F: FnOnce(Arc<MongoSessionRepository>, TestClock) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let name = format!("altrion_session_{}", uuid_like());
    let database = altrion_storage::mongo::connect(&MongoOptions::new(uri, name.as_str()))
        .await
        .unwrap();
    let repo = Arc::new(MongoSessionRepository::new(&database));
    scenario(repo, TestClock::at(start())).await;
    database.drop().await.unwrap();
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}_{nanos}_{n}", std::process::id())
}

macro_rules! on_mongodb {
    ($($scenario:ident),+ $(,)?) => {
        mod embedded {
            use super::*;
            $(
                #[tokio::test]
                async fn $scenario() {
                    let server = Server::start(ServerOptions::default()).await.unwrap();
                    on_database(&server.uri(), |repo, clock| {
                        crate::scenarios::$scenario(repo, clock)
                    })
                    .await;
                    server.shutdown().await.unwrap();
                }
            )+
        }

        mod real {
            use super::*;
            $(
                #[tokio::test]
                #[ignore = "needs MONGODB_TEST_URI"]
                async fn $scenario() {
                    let uri = std::env::var("MONGODB_TEST_URI")
                        .expect("MONGODB_TEST_URI points at a MongoDB ≥ 6.0 (make test-mongo)");
                    on_database(&uri, |repo, clock| crate::scenarios::$scenario(repo, clock)).await;
                }
            )+
        }
    };
}

crate::scenarios::for_every_scenario!(on_mongodb);
