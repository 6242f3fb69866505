//! The real stack on MongoDB: mongo-embedded by default, and also a real MongoDB when
//! `MONGODB_TEST_URI` is set. Each test uses its own database, dropped afterwards.

use altrion_server::startup::Application;
use altrion_storage::mongo::MongoSessionRepository;
use mongo_embedded::{Server, ServerHandle, ServerOptions};
use mongodb::bson::{doc, Document};
use serde_json::{json, Value};

use crate::{
    common::{login_token, post_login, post_signup, TestUser},
    helpers::{assert_error, test_settings, CookieSigning, TestApp},
};

/// A database for one test: on its own embedded server, or on `MONGODB_TEST_URI`.
struct Backend {
    uri: String,
    name: String,
    embedded: Option<ServerHandle>,
}

impl Backend {
    async fn embedded() -> Self {
        let server = Server::start(ServerOptions::default()).await.unwrap();
        Self {
            uri: server.uri(),
            name: unique_name(),
            embedded: Some(server),
        }
    }

    fn real() -> Self {
        let uri = std::env::var("MONGODB_TEST_URI")
            .expect("MONGODB_TEST_URI points at a MongoDB ≥ 6.0 (make test-mongo)");
        Self {
            uri,
            name: unique_name(),
            embedded: None,
        }
    }

    fn settings(&self, extra: &[(&str, &str)]) -> altrion_server::settings::Settings {
        let mut overrides = vec![
            ("MONGODB_URI", self.uri.as_str()),
            ("MONGODB_DB", self.name.as_str()),
            // Outage tests wait this long before answering 503.
            ("APP__DATABASE__SERVER_SELECTION_TIMEOUT_MS", "1000"),
        ];
        overrides.extend_from_slice(extra);
        test_settings(&overrides)
    }

    async fn database(&self) -> mongodb::Database {
        mongodb::Client::with_uri_str(&self.uri)
            .await
            .unwrap()
            .database(&self.name)
    }

    /// Starts the whole application on this database, as `make run` does.
    async fn start_app(&self) -> (TestApp, actix_web::dev::ServerHandle) {
        self.start_app_with(&[]).await
    }

    /// As [`start_app`](Self::start_app), with more setting overrides.
    async fn start_app_with(
        &self,
        extra: &[(&str, &str)],
    ) -> (TestApp, actix_web::dev::ServerHandle) {
        let settings = self.settings(extra);
        let cookie = CookieSigning::of(&settings);
        let app = Application::build(settings).await.unwrap();
        let handle = app.handle();
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        // Ready means the unique indexes are in place (writes relying on them answer 503
        // before): wait for it, bounded, as a load balancer would.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let ready = client
                .get(format!("{address}/api/ready"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "never ready");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let sessions = std::sync::Arc::new(altrion_storage::memory::MemorySessionRepository::new());
        (
            TestApp {
                address,
                client,
                sessions,
                cookie,
                // This server mails through its own queue, into the test outbox.
                mail: altrion_mail::testing::CapturingMailer::new(),
            },
            handle,
        )
    }

    async fn finish(self) {
        self.database().await.drop().await.unwrap();
        if let Some(server) = self.embedded {
            server.shutdown().await.unwrap();
        }
    }
}

fn unique_name() -> String {
    format!("altrion_api_{}", uuid::Uuid::new_v4().simple())
}

async fn signup_login_me_stores_an_argon2id_hash_and_no_session(backend: Backend) {
    let (app, handle) = backend.start_app().await;
    post_signup(&app.client, &app.address, &TestUser::new("Ada@Example.com")).await;
    let token = login_token(&app.client, &app.address, &TestUser::ada()).await;
    let me = app.get_me(Some(&token)).await;
    assert_eq!(me.status().as_u16(), 200);

    let db = backend.database().await;
    let user = db
        .collection::<Document>("users")
        .find_one(doc! { "email": "ada@example.com" })
        .await
        .unwrap()
        .unwrap();
    let hash = user.get_str("password").unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert_eq!(user.get_str("provider").unwrap(), "local");
    let sessions = db
        .collection::<Document>("sessions")
        .count_documents(doc! {})
        .await
        .unwrap();
    assert_eq!(sessions, 0, "the JWT path never writes sessions");
    let duplicate = app
        .post_json(
            "/api/auth/signup",
            &json!({ "name": "Ada", "email": "ada@example.com", "password": "another passphrase" }),
        )
        .await;
    assert_error(duplicate, 409, "email_taken").await;

    handle.stop(true).await;
    backend.finish().await;
}

async fn a_session_cookie_survives_a_server_restart(backend: Backend) {
    let (app, handle) = backend.start_app().await;
    let user_id = post_signup(&app.client, &app.address, &TestUser::grace())
        .await
        .user_id;
    let sessions = MongoSessionRepository::new(&backend.database().await);
    let cookie = app.session_cookie(&sessions, &user_id).await;
    let me = |app: &TestApp| {
        app.client
            .get(app.url("/api/auth/me"))
            .header("cookie", &cookie)
            .send()
    };
    assert_eq!(me(&app).await.unwrap().status().as_u16(), 200);

    handle.stop(true).await;
    let (restarted, handle) = backend.start_app().await;

    let after = me(&restarted).await.unwrap();
    assert_eq!(after.status().as_u16(), 200);
    assert_eq!(
        after.json::<Value>().await.unwrap()["user"]["id"],
        user_id.as_str()
    );

    let logout = restarted
        .post_with_cookie("/api/auth/logout", &cookie)
        .await;
    assert_eq!(logout.status().as_u16(), 204);
    let left = backend
        .database()
        .await
        .collection::<Document>("sessions")
        .count_documents(doc! {})
        .await
        .unwrap();
    assert_eq!(left, 0, "logout deleted the session document");
    assert_error(me(&restarted).await.unwrap(), 401, "unauthorized").await;

    handle.stop(true).await;
    backend.finish().await;
}

#[tokio::test]
async fn embedded_signup_login_me_stores_an_argon2id_hash_and_no_session() {
    signup_login_me_stores_an_argon2id_hash_and_no_session(Backend::embedded().await).await;
}

#[tokio::test]
async fn embedded_a_session_cookie_survives_a_server_restart() {
    a_session_cookie_survives_a_server_restart(Backend::embedded().await).await;
}

#[tokio::test]
#[ignore = "needs MONGODB_TEST_URI"]
async fn real_signup_login_me_stores_an_argon2id_hash_and_no_session() {
    signup_login_me_stores_an_argon2id_hash_and_no_session(Backend::real()).await;
}

#[tokio::test]
#[ignore = "needs MONGODB_TEST_URI"]
async fn real_a_session_cookie_survives_a_server_restart() {
    a_session_cookie_survives_a_server_restart(Backend::real()).await;
}

/// Each HTTP worker queries through a database client of its own (opened on the worker's
/// runtime), besides the main one: every client keeps its own monitoring connection, so four
/// workers show at least five.
#[tokio::test]
async fn every_worker_has_a_database_client_of_its_own() {
    const WORKERS: usize = 4;
    let backend = Backend::embedded().await;
    let (app, handle) = backend
        .start_app_with(&[("APP__SERVER__WORKERS", "4")])
        .await;
    assert_eq!(app.get("/api/ready").await.status().as_u16(), 200);
    let server = backend.embedded.as_ref().unwrap();
    let connections = || async {
        let status = server
            .run_command(doc! {"serverStatus": 1, "$db": "admin"})
            .await;
        status
            .get_document("connections")
            .and_then(|c| c.get_i64("current"))
            .unwrap()
    };
    // Monitors connect in the background: wait (bounded) for them.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut seen = connections().await;
    while seen < (WORKERS + 1) as i64 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        seen = connections().await;
    }
    assert!(
        seen >= (WORKERS + 1) as i64,
        "{seen} connections: expected a client per worker plus the main one"
    );
    handle.stop(true).await;
    backend.finish().await;
}

#[tokio::test]
async fn ready_turns_503_when_the_database_is_gone() {
    let backend = Backend::embedded().await;
    let (app, handle) = backend.start_app().await;
    assert_eq!(app.get("/api/ready").await.status().as_u16(), 200);

    let Backend { embedded, .. } = backend;
    embedded.unwrap().shutdown().await.unwrap();

    assert_error(app.get("/api/ready").await, 503, "service_unavailable").await;
    let login = post_login(&app.client, &app.address, "x@example.com", "whatever1").await;
    assert_error(login, 503, "service_unavailable").await;
    handle.stop(true).await;
}

/// The burst that broke the read-then-write lockout, as an attacker runs it: 40 simultaneous
/// wrong guesses from 40 addresses, spread over two server instances on one database, then the
/// right password. Exactly the threshold (5) are evaluated; the rest, and the right password
/// inside the lock window, get `429`.
#[tokio::test]
async fn forty_concurrent_guesses_from_many_addresses_on_two_instances_get_five_evaluated() {
    let backend = Backend::embedded().await;
    let generous = [
        ("APP__RATE_LIMIT__TRUSTED_PROXY_HOPS", "1"),
        ("APP__RATE_LIMIT__PER_IP_PER_MINUTE", "6000"),
        ("APP__RATE_LIMIT__PER_IP_BURST", "1000"),
        // The lock must outlast the burst however slow the machine is: with the default 1 s,
        // a burst that takes longer sees the lock expire and evaluates a sixth guess.
        ("APP__RATE_LIMIT__LOCKOUT_BASE_DELAY_SECS", "600"),
    ];
    let (first, first_handle) = backend.start_app_with(&generous).await;
    let (second, second_handle) = backend.start_app_with(&generous).await;
    post_signup(&first.client, &first.address, &TestUser::ada()).await;

    let guesses = (0..40).map(|i| {
        let app = if i % 2 == 0 { &first } else { &second };
        app.client
            .post(app.url("/api/auth/login"))
            .header("x-forwarded-for", format!("203.0.113.{}", i + 1))
            .json(&json!({ "email": "ada@example.com", "password": format!("guess number {i}") }))
            .send()
    });
    let statuses: Vec<u16> = futures_util::future::join_all(guesses)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    let evaluated = statuses.iter().filter(|s| **s == 401).count();
    let locked = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((evaluated, locked), (5, 35), "{statuses:?}");

    let right = second
        .client
        .post(second.url("/api/auth/login"))
        .header("x-forwarded-for", "198.51.100.7")
        .json(&json!({ "email": "ada@example.com", "password": "correct horse battery" }))
        .send()
        .await
        .unwrap();
    assert_error(right, 429, "rate_limited").await;

    first_handle.stop(true).await;
    second_handle.stop(true).await;
    backend.finish().await;
}
