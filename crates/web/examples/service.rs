//! A whole service on Altrion's crates: sign-up, login, `/me` and logout, with accounts and
//! sessions in MongoDB. `docs/library.md` walks through it; `tests/example.rs` drives it.
//!
//! ```text
//! MONGODB_URI=mongodb://localhost:27017 JWT_SECRET=… SESSION_SECRET=… \
//!     cargo run -p altrion-web --example service
//! ```
//! Set `DEVELOPMENT=1` to send the session cookie over plain HTTP.

use std::net::TcpListener;

use actix_web::{dev::Server, middleware::from_fn, web, App, HttpServer};
use altrion_auth::{AuthService, SecretString, TokenService, TokenSettings};
use altrion_storage::MongoOptions;
use altrion_web::{handlers, ClientIp, Governor, OriginPolicy, SessionLayer};
use tracing_subscriber::EnvFilter;

/// What the service is started with.
pub struct Config {
    pub mongodb_uri: String,
    pub jwt_secret: SecretString,
    pub session_secret: SecretString,
    /// The origin pages that use the session cookie are served from.
    pub public_url: String,
    /// Plain-HTTP development: the session cookie is sent without `Secure`.
    pub development: bool,
}

/// The service on `listener`.
///
/// # Errors
/// An unusable database URI or secret, or migrations that cannot be applied.
pub async fn serve(listener: TcpListener, config: Config) -> anyhow::Result<Server> {
    let stores = altrion_storage::open(&MongoOptions::new(config.mongodb_uri, "example")).await?;
    stores.migrate().await?;
    let tokens = TokenService::new(&TokenSettings::with_secret(config.jwt_secret))?;
    let auth = AuthService::builder(stores.users, stores.sessions.clone(), tokens).build()?;
    let mut sessions = SessionLayer::builder(stores.sessions, &config.session_secret);
    if config.development {
        sessions = sessions.insecure_development().cookie_name("example.sid");
    }
    let sessions = sessions.build(&auth)?;
    let origins = OriginPolicy::new([config.public_url.as_str()], sessions.cookie_name())?;
    // Per client address: 10 sign-ups and logins a minute, bursts of 5 (set `trusted_hops`
    // behind a proxy).
    let limit = altrion_web::ip_limit(10, 5, ClientIp::default())?;
    Ok(HttpServer::new(move || {
        App::new()
            .configure(altrion_web::api(auth.clone()))
            .service(
                web::scope("/api")
                    .wrap(sessions.middleware())
                    .wrap(from_fn(altrion_web::middleware_errors_as_json))
                    .service(
                        web::resource("/signup")
                            .wrap(Governor::new(&limit))
                            .route(web::post().to(handlers::signup)),
                    )
                    // The cookie is the credential; the body is the user, never a token.
                    .service(
                        web::resource("/login")
                            .wrap(Governor::new(&limit))
                            .route(web::post().to(handlers::session_login)),
                    )
                    .route("/me", web::get().to(handlers::me))
                    .route("/logout", web::post().to(handlers::logout)),
            )
            .default_service(web::to(altrion_web::not_found))
            .wrap(origins.clone())
            .wrap(altrion_web::security_headers())
    })
    .listen(listener)?
    .run())
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    // Logs, including the cause of every 5xx answer (`RUST_LOG=info` by default).
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let var = |name: &str| std::env::var(name).map_err(|_| anyhow::anyhow!("set {name}"));
    let config = Config {
        mongodb_uri: var("MONGODB_URI")?,
        jwt_secret: var("JWT_SECRET")?.into(),
        session_secret: var("SESSION_SECRET")?.into(),
        public_url: var("PUBLIC_URL").unwrap_or_else(|_| "http://localhost:8080".to_owned()),
        development: var("DEVELOPMENT").is_ok(),
    };
    serve(TcpListener::bind("127.0.0.1:8080")?, config)
        .await?
        .await?;
    Ok(())
}
