use std::sync::Arc;

use altrion_domain::SessionRepository;
use altrion_storage::memory::MemorySessionRepository;

use altrion_mail::testing::CapturingMailer;
use altrion_server::{database::memory_stores, settings::Settings, state::Stores, Application};
use reqwest::{Client, Response};

use crate::common::plant_session;

/// A running server on a free port, over in-memory stores.
pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub sessions: Arc<MemorySessionRepository>,
    pub cookie: CookieSigning,
    /// Every mail the server sent.
    pub mail: CapturingMailer,
}

/// How long a test waits for a mail before failing.
const MAIL_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

pub use crate::common::{test_settings, CookieSigning};

pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_settings(&[]), memory_stores()).await
}

/// A server over `stores`, except that sessions always live in an inspectable fake.
pub async fn spawn_app_with(settings: Settings, mut stores: Stores) -> TestApp {
    let sessions = Arc::new(MemorySessionRepository::new());
    stores.sessions = sessions.clone();
    spawn(settings, stores, sessions).await
}

/// A server over exactly `stores` (e.g. a failing session repository).
pub async fn spawn_app_over(stores: Stores) -> TestApp {
    spawn(
        test_settings(&[]),
        stores,
        Arc::new(MemorySessionRepository::new()),
    )
    .await
}

async fn spawn(
    settings: Settings,
    stores: Stores,
    sessions: Arc<MemorySessionRepository>,
) -> TestApp {
    let cookie = CookieSigning::of(&settings);
    let mail = CapturingMailer::new();
    let app = Application::build_with_mailer(settings, stores, Arc::new(mail.clone())).unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        address,
        client,
        sessions,
        cookie,
        mail,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_me(&self, token: Option<&str>) -> Response {
        let request = self.client.get(self.url("/api/auth/me"));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
        .send()
        .await
        .unwrap()
    }

    /// How many session documents exist, expired ones included.
    pub fn stores_sessions_len(&self) -> usize {
        self.sessions.len()
    }

    /// Stores a live session signed in as `user_id` in `sessions` and returns the `Cookie`
    /// header for it, signed exactly as the server signs its own.
    pub async fn session_cookie(&self, sessions: &dyn SessionRepository, user_id: &str) -> String {
        let now = time::OffsetDateTime::now_utc();
        plant_session(sessions, self.cookie.name, &self.cookie.key, user_id, now).await
    }

    /// `GET path` carrying `cookie` (a `name=value` pair).
    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> Response {
        let request = self.client.get(self.url(path)).header("cookie", cookie);
        request.send().await.unwrap()
    }

    /// `POST path` carrying `cookie` (a `name=value` pair).
    pub async fn post_with_cookie(&self, path: &str, cookie: &str) -> Response {
        let request = self.client.post(self.url(path)).header("cookie", cookie);
        request.send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// The next mail the server sends (fails the test after 10 s without one).
    pub async fn next_mail(&self) -> altrion_domain::OutgoingMail {
        tokio::time::timeout(MAIL_WAIT, self.mail.next())
            .await
            .expect("a mail within 10 s")
    }

    /// `POST path` with a JSON body and a Bearer token.
    pub async fn post_json_as(
        &self,
        path: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

/// The `token` query parameter of the link in a mail.
pub fn link_token(mail: &altrion_domain::OutgoingMail) -> String {
    let page = if mail.subject.contains("Reset") {
        "reset-password"
    } else {
        "verify-email"
    };
    crate::common::mailed_link(&mail.text, page).1
}

/// Asserts the contract every failure honours and returns the body.
pub async fn assert_error(response: Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "status");
    assert!(
        response.headers().contains_key("x-request-id"),
        "every response carries x-request-id"
    );
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "errors are JSON"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}
