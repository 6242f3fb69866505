//! The system under test: the API server in-process over in-memory stores, plus (while the
//! server does not serve the demo page itself) a tiny static server for `apps/server/static/`
//! on a second loopback port, whose `<meta name="altrion-api">` points at the API.

use std::{net::TcpListener, sync::Arc};

use actix_web::{dev::Server, http::header, web, App, HttpResponse, HttpServer};
use altrion_server::{database::memory_stores, settings::Settings, Application};
use altrion_storage::memory::MemorySessionRepository;
use reqwest::Client;
use serde_json::Value;

pub const INDEX_HTML: &str = include_str!("../../static/index.html");
pub const APP_JS: &str = include_str!("../../static/app.js");
pub const STYLE_CSS: &str = include_str!("../../static/style.css");

/// The API base the page reads; empty means "same origin".
const API_META: &str = r#"<meta name="altrion-api" content="">"#;

/// Where the browser loads the page from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageOrigin {
    /// `GET /` on the API server itself (the page calls the API on its own origin).
    SameOrigin,
    /// The static server on another port (the page calls the API cross-origin, with CORS).
    CrossOrigin,
}

/// A running API server and static page server.
pub struct Stack {
    /// `http://127.0.0.1:<port>` of the API.
    pub api: String,
    /// `http://127.0.0.1:<port>` of the static page server.
    pub static_origin: String,
    /// The session store: the JWT path must leave it empty.
    pub sessions: Arc<MemorySessionRepository>,
    pub http: Client,
    pub settings: Settings,
    /// Every mail the API sent.
    pub mail: altrion_mail::testing::CapturingMailer,
    served_by_api: bool,
}

pub use crate::common::test_settings;

impl Stack {
    /// The default stack.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// A stack whose API runs with extra settings (`APP__…`, `GOOGLE_AUTH_URL`, …); the OAuth
    /// scenarios point the provider URLs at mock servers this way. `FRONTEND_URL` and
    /// `PUBLIC_URL` are set to the stack's own origins unless `overrides` sets them.
    pub async fn start_with(overrides: &[(&str, &str)]) -> Self {
        let static_listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let static_origin = format!("http://{}", static_listener.local_addr().unwrap());
        let mut vars: Vec<(&str, &str)> = vec![("FRONTEND_URL", &static_origin)];
        vars.extend_from_slice(overrides);
        let mut settings = test_settings(&vars);
        settings.server.port = 0;

        let sessions = Arc::new(MemorySessionRepository::new());
        let mut stores = memory_stores();
        stores.sessions = sessions.clone();
        let mail = altrion_mail::testing::CapturingMailer::new();
        let app = Application::build_with_mailer(settings.clone(), stores, Arc::new(mail.clone()))
            .unwrap();
        let api = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());

        tokio::spawn(static_server(static_listener, api.clone()).unwrap());

        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let served_by_api = api_serves_page(&http, &api).await;
        Self {
            api,
            static_origin,
            sessions,
            http,
            settings,
            mail,
            served_by_api,
        }
    }

    /// The page URL the scenarios use: the API's own `/` once the server serves the demo page,
    /// until then the static server (cross-origin). The one place that decides.
    pub fn page_url(&self) -> String {
        self.page_url_for(self.default_origin())
    }

    /// Which origin [`Stack::page_url`] uses.
    pub fn default_origin(&self) -> PageOrigin {
        if self.served_by_api {
            PageOrigin::SameOrigin
        } else {
            PageOrigin::CrossOrigin
        }
    }

    /// The page URL for an explicit origin mode.
    pub fn page_url_for(&self, origin: PageOrigin) -> String {
        match origin {
            PageOrigin::SameOrigin => {
                assert!(self.served_by_api, "the API server does not serve / yet");
                format!("{}/", self.api)
            }
            PageOrigin::CrossOrigin => format!("{}/", self.static_origin),
        }
    }

    /// POSTs `body` to `path` on the API and returns status and JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.api))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The next mail whose subject contains `subject` (earlier others are skipped); fails after
    /// 10 s without one.
    pub async fn next_mail(&self, subject: &str) -> altrion_domain::OutgoingMail {
        let wait = async {
            loop {
                let mail = self.mail.next().await;
                if mail.subject.contains(subject) {
                    return mail;
                }
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(10), wait)
            .await
            .unwrap_or_else(|_| panic!("no mail about {subject:?} within 10 s"))
    }

    /// Session documents in the store, expired ones included.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }
}

/// Whether `GET /` on the API answers the demo page.
async fn api_serves_page(http: &Client, api: &str) -> bool {
    let Ok(response) = http.get(format!("{api}/")).send().await else {
        return false;
    };
    let html = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    response.status().is_success()
        && html
        && response
            .text()
            .await
            .is_ok_and(|body| body.contains(r#"name="altrion-api""#))
}

/// Serves the three static files, with the API base filled in and the Content-Security-Policy
/// the page is written for (no inline script or style, fetch to the API origin only).
fn static_server(listener: TcpListener, api: String) -> std::io::Result<Server> {
    assert_eq!(
        INDEX_HTML.matches(API_META).count(),
        1,
        "index.html carries exactly one empty altrion-api meta"
    );
    let index = INDEX_HTML.replace(
        API_META,
        &format!(r#"<meta name="altrion-api" content="{api}">"#),
    );
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self' {api}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    );
    Ok(HttpServer::new(move || {
        let index = index.clone();
        let csp = csp.clone();
        App::new()
            .wrap(
                actix_web::middleware::DefaultHeaders::new()
                    .add((header::CONTENT_SECURITY_POLICY, csp))
                    .add((header::CACHE_CONTROL, "no-store")),
            )
            .route(
                "/",
                web::get().to(move || {
                    let index = index.clone();
                    async move {
                        HttpResponse::Ok()
                            .content_type("text/html; charset=utf-8")
                            .body(index)
                    }
                }),
            )
            .route(
                "/app.js",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .content_type("text/javascript; charset=utf-8")
                        .body(APP_JS)
                }),
            )
            .route(
                "/style.css",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .content_type("text/css; charset=utf-8")
                        .body(STYLE_CSS)
                }),
            )
    })
    .workers(1)
    .listen(listener)?
    .run())
}
