//! The whole application as `make run` starts it, on a MongoDB that outlives it: an in-process
//! `mongo-embedded` server, one fresh database per test, and the mock Google/GitHub provider.
//!
//! The API serves the demo page itself and calls back to itself: `PUBLIC_URL` and
//! `FRONTEND_URL` are its own origin `http://127.0.0.1:<port>`, so the OAuth callback and the
//! page share the session cookie. [`MongoStack::restart`] stops the application and starts a
//! new one on the same database and the same port, so the browser's page origin and cookie
//! still apply.

use std::{
    net::{SocketAddr, TcpListener},
    time::{Duration, Instant},
};

use actix_web::dev::ServerHandle;
use altrion_mock_oauth::MockOAuth;
use altrion_server::{
    settings::Settings,
    startup::{Application, StartupError},
};
use mongodb::bson::{doc, Document};
use reqwest::Client;
use tokio::task::JoinHandle;

use crate::stack::test_settings;

/// How long a restart may wait for the old port to be free again, and how many free ports the
/// first start may try (another process can take a probed port before the server binds it).
const REBIND_WAIT: Duration = Duration::from_secs(10);
const REBIND_POLL: Duration = Duration::from_millis(50);
const PORT_ATTEMPTS: usize = 5;

/// A running application on mongo-embedded, with the mock providers.
pub struct MongoStack {
    /// `http://127.0.0.1:<port>`: the API, the page, `PUBLIC_URL` and `FRONTEND_URL`.
    pub origin: String,
    pub port: u16,
    pub http: Client,
    /// The environment every start uses (the port excepted).
    vars: Vec<(String, String)>,
    db_name: String,
    mongo: mongodb::Database,
    app: Option<(ServerHandle, JoinHandle<std::io::Result<()>>)>,
    mock: Option<MockOAuth>,
    embedded: Option<mongo_embedded::ServerHandle>,
}

impl MongoStack {
    pub async fn start() -> Self {
        let embedded = mongo_embedded::Server::start(mongo_embedded::ServerOptions::default())
            .await
            .unwrap();
        let uri = embedded.uri();
        let db_name = format!("altrion_e2e_{}", uuid::Uuid::new_v4().simple());
        let mock = altrion_mock_oauth::start(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let mut vars: Vec<(String, String)> = mock
            .server_env()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        vars.push(("MONGODB_URI".to_owned(), uri.clone()));
        vars.push(("MONGODB_DB".to_owned(), db_name.clone()));
        // A restart drains in-flight requests; the browser's idle keep-alive connections need
        // not hold it up for the default grace period.
        vars.push((
            "APP__SERVER__SHUTDOWN_TIMEOUT_SECS".to_owned(),
            "1".to_owned(),
        ));
        let mongo = mongodb::Client::with_uri_str(&uri)
            .await
            .unwrap()
            .database(&db_name);
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();

        // PUBLIC_URL must name the port before the server binds it: probe a free port, then
        // bind it; if something else took it meanwhile, probe another (bounded).
        let mut last_error = None;
        for _ in 0..PORT_ATTEMPTS {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut stack = Self {
                origin: format!("http://127.0.0.1:{port}"),
                port,
                http: http.clone(),
                vars: vars.clone(),
                db_name: db_name.clone(),
                mongo: mongo.clone(),
                app: None,
                mock: None,
                embedded: None,
            };
            match Application::build(stack.settings()).await {
                Ok(app) => {
                    stack.run(app);
                    stack.mock = Some(mock);
                    stack.embedded = Some(embedded);
                    return stack;
                }
                Err(err @ StartupError::Bind { .. }) => last_error = Some(err),
                Err(err) => panic!("the application starts: {err}"),
            }
        }
        panic!("no free port after {PORT_ATTEMPTS} attempts: {last_error:?}");
    }

    /// The settings of every start: the `test` profile on this database, the mock providers,
    /// and this stack's own origin as port, public and frontend URL.
    fn settings(&self) -> Settings {
        let port = self.port.to_string();
        let mut vars: Vec<(&str, &str)> = self
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        vars.push(("PORT", &port));
        vars.push(("PUBLIC_URL", &self.origin));
        vars.push(("FRONTEND_URL", &self.origin));
        let settings = test_settings(&vars);
        assert_eq!(settings.server.port, self.port);
        assert_eq!(settings.database.name, self.db_name);
        settings
    }

    fn run(&mut self, app: Application) {
        assert_eq!(app.port(), self.port);
        let handle = app.handle();
        self.app = Some((handle, tokio::spawn(app.run_until_stopped())));
    }

    /// The base URL of the mock provider.
    pub fn mock_url(&self) -> &str {
        self.mock.as_ref().expect("the mock runs").base_url()
    }

    /// The session cookie's name.
    pub fn cookie_name(&self) -> String {
        self.settings().session.cookie_name().to_owned()
    }

    /// The page URL (same origin as the API).
    pub fn page_url(&self) -> String {
        format!("{}/", self.origin)
    }

    /// Stops the application (draining requests, closing its database connection).
    pub async fn stop_app(&mut self) {
        if let Some((handle, task)) = self.app.take() {
            handle.stop(true).await;
            task.await.unwrap().unwrap();
        }
    }

    /// Stops the application and starts a new one on the same database and port. The port is
    /// free once the old listener is closed; binding is retried briefly (bounded) in case the
    /// kernel has not released it yet.
    pub async fn restart(&mut self) {
        self.stop_app().await;
        // Gone for real: a fresh connection is refused (reqwest's pool is per client).
        let fresh = Client::builder().pool_max_idle_per_host(0).build().unwrap();
        let refused = fresh.get(self.page_url()).send().await;
        assert!(
            refused.as_ref().is_err_and(reqwest::Error::is_connect),
            "the old server no longer answers: {refused:?}"
        );
        let deadline = Instant::now() + REBIND_WAIT;
        loop {
            match Application::build(self.settings()).await {
                Ok(app) => return self.run(app),
                Err(err @ StartupError::Bind { .. }) if Instant::now() < deadline => {
                    eprintln!("restart: port {} not free yet: {err}", self.port);
                    tokio::time::sleep(REBIND_POLL).await;
                }
                Err(err) => panic!("the application restarts on port {}: {err}", self.port),
            }
        }
    }

    /// Documents in the `sessions` collection, expired ones included.
    pub async fn session_count(&self) -> u64 {
        self.mongo
            .collection::<Document>("sessions")
            .count_documents(doc! {})
            .await
            .unwrap()
    }

    /// `GET /api/auth/me` with `cookie` (`name=value`), from outside the browser: the status.
    pub async fn me_with_cookie(&self, cookie: &str) -> u16 {
        self.http
            .get(format!("{}/api/auth/me", self.origin))
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// Stops everything and drops the test's database.
    pub async fn finish(mut self) {
        self.stop_app().await;
        if let Some(mock) = self.mock.take() {
            mock.stop().await;
        }
        self.mongo.drop().await.unwrap();
        if let Some(embedded) = self.embedded.take() {
            embedded.shutdown().await.unwrap();
        }
    }
}
