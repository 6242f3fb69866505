//! A local mock of Google's and GitHub's OAuth 2.0 endpoints, so the whole sign-in path can be
//! tried on a fresh machine without real credentials, and tested end to end.
//!
//! It mirrors the real endpoints under a prefix per provider:
//!
//! | Real | Mock |
//! |---|---|
//! | `https://accounts.google.com/o/oauth2/v2/auth` | `/google/o/oauth2/v2/auth` |
//! | `https://oauth2.googleapis.com/token` | `/google/token` |
//! | `https://openidconnect.googleapis.com/v1/userinfo` | `/google/userinfo` |
//! | `https://github.com/login/oauth/authorize` | `/github/login/oauth/authorize` |
//! | `https://github.com/login/oauth/access_token` | `/github/login/oauth/access_token` |
//! | `https://api.github.com` (`/user`, `/user/emails`) | `/github/api` |
//!
//! The authorize page is a small form: pick an email and name (`login_hint` pre-fills the
//! email), whether the email is verified, and press "Sign in" or "Cancel". The token endpoints
//! check the client credentials, the single-use code, the `redirect_uri` and the PKCE S256
//! `code_verifier`, like the real ones. It binds loopback only: it hands out any identity.
//!
//! It must not depend on the Altrion crates (only its tests do).

mod pages;
mod pkce;
mod providers;
mod store;
mod token;

use std::{io, net::SocketAddr};

use actix_web::{dev::ServerHandle, web, App, HttpServer};
use tokio::task::JoinHandle;

pub use store::MockUser;

use store::Store;

/// The default port of the `mock-oauth` binary.
pub const DEFAULT_PORT: u16 = 9999;

/// The client registrations the mock accepts, and the identity its form suggests.
#[derive(Debug, Clone)]
pub struct MockConfig {
    pub google_client_id: String,
    pub google_client_secret: String,
    pub github_client_id: String,
    pub github_client_secret: String,
    /// Pre-filled in the sign-in form unless the request carries a `login_hint`.
    pub default_email: String,
    pub default_name: String,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            google_client_id: "mock-google-client-id".into(),
            google_client_secret: "mock-google-client-secret".into(),
            github_client_id: "mock-github-client-id".into(),
            github_client_secret: "mock-github-client-secret".into(),
            default_email: "ada@example.com".into(),
            default_name: "Ada Lovelace".into(),
        }
    }
}

/// A running mock; stops when [`MockOAuth::stop`] is awaited (or with the runtime).
#[derive(Debug)]
pub struct MockOAuth {
    base_url: String,
    config: MockConfig,
    handle: ServerHandle,
    task: JoinHandle<io::Result<()>>,
}

/// Starts the mock on `bind` with the default [`MockConfig`]; port 0 picks a free port.
///
/// # Errors
/// When `bind` is not a loopback address or cannot be bound.
pub async fn start(bind: SocketAddr) -> io::Result<MockOAuth> {
    start_with(bind, MockConfig::default()).await
}

/// Starts the mock on `bind` with `config`.
///
/// # Errors
/// When `bind` is not a loopback address or cannot be bound.
pub async fn start_with(bind: SocketAddr, config: MockConfig) -> io::Result<MockOAuth> {
    if !bind.ip().is_loopback() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the mock provider signs anyone in as anyone: it binds loopback only",
        ));
    }
    let listener = std::net::TcpListener::bind(bind)?;
    let address = listener.local_addr()?;
    let base_url = format!("http://{address}");
    let store = web::Data::new(Store::new(config.clone(), base_url.clone()));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(store.clone())
            .configure(providers::routes)
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    Ok(MockOAuth {
        base_url,
        config,
        handle,
        task,
    })
}

impl MockOAuth {
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The environment an Altrion server needs to use this mock for both providers.
    pub fn server_env(&self) -> Vec<(&'static str, String)> {
        server_env(&self.base_url, &self.config)
    }

    /// Stops accepting requests and waits for the server to finish.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.task.await;
    }
}

/// The environment variables pointing an Altrion server at a mock served from `base`.
pub fn server_env(base: &str, config: &MockConfig) -> Vec<(&'static str, String)> {
    vec![
        ("GOOGLE_CLIENT_ID", config.google_client_id.clone()),
        ("GOOGLE_CLIENT_SECRET", config.google_client_secret.clone()),
        ("GOOGLE_AUTH_URL", format!("{base}/google/o/oauth2/v2/auth")),
        ("GOOGLE_TOKEN_URL", format!("{base}/google/token")),
        ("GOOGLE_USERINFO_URL", format!("{base}/google/userinfo")),
        ("GITHUB_CLIENT_ID", config.github_client_id.clone()),
        ("GITHUB_CLIENT_SECRET", config.github_client_secret.clone()),
        (
            "GITHUB_AUTH_URL",
            format!("{base}/github/login/oauth/authorize"),
        ),
        (
            "GITHUB_TOKEN_URL",
            format!("{base}/github/login/oauth/access_token"),
        ),
        ("GITHUB_API_URL", format!("{base}/github/api")),
    ]
}
