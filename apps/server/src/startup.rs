//! Builds the server: binds the listener, assembles the app, runs until a signal arrives.

use std::{net::TcpListener, sync::Arc};

use actix_web::{
    dev::Server,
    middleware::{from_fn, DefaultHeaders},
    web, App, HttpServer,
};
use altrion_domain::SystemClock;
use altrion_storage::memory::{MemoryReadiness, MemorySessionRepository, MemoryUserRepository};
use secrecy::ExposeSecret;

use crate::{
    error, request_id, routes,
    settings::Settings,
    state::{AppState, Stores},
};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error("database URI scheme is not supported by this build: {0}")]
    UnsupportedDatabase(String),
}

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").field("port", &self.port).finish_non_exhaustive()
    }
}

impl Application {
    /// Connects the stores named by `settings.database.uri` and binds the listener.
    ///
    /// # Errors
    /// [`StartupError`] when the database cannot be opened or the port cannot be bound.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let stores = open_stores(&settings).await?;
        Self::build_with(settings, stores)
    }

    /// Binds the listener over the given stores (tests pass in-memory fakes).
    ///
    /// # Errors
    /// [`StartupError::Bind`] when the address cannot be bound.
    pub fn build_with(settings: Settings, stores: Stores) -> Result<Self, StartupError> {
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address).map_err(|source| StartupError::Bind {
            address: address.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind {
                address: address.clone(),
                source,
            })?
            .port();
        let state = AppState {
            stores,
            clock: Arc::new(SystemClock),
        };
        let server = run(listener, &settings, state).map_err(|source| StartupError::Bind {
            address,
            source,
        })?;
        Ok(Self { port, server })
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM, then drains in-flight requests.
    ///
    /// # Errors
    /// The I/O error that stopped the server.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

async fn open_stores(settings: &Settings) -> Result<Stores, StartupError> {
    let uri = settings.database.uri.expose_secret();
    if uri.starts_with("memory:") {
        tracing::warn!("using in-memory stores: nothing is persisted");
        return Ok(memory_stores());
    }
    Err(StartupError::UnsupportedDatabase(
        uri.split(':').next().unwrap_or_default().to_owned(),
    ))
}

/// Fresh in-memory stores.
pub fn memory_stores() -> Stores {
    Stores {
        users: Arc::new(MemoryUserRepository::new()),
        sessions: Arc::new(MemorySessionRepository::new()),
        readiness: Arc::new(MemoryReadiness),
    }
}

fn run(listener: TcpListener, settings: &Settings, state: AppState) -> std::io::Result<Server> {
    let state = web::Data::new(state);
    let json_config = web::JsonConfig::default()
        .limit(settings.server.body_limit_bytes)
        .error_handler(error::json_error);
    let query_config = web::QueryConfig::default().error_handler(error::query_error);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(json_config.clone())
            .app_data(query_config.clone())
            .configure(routes::configure)
            .default_service(web::to(error::not_found))
            .wrap(
                DefaultHeaders::new()
                    .add(("x-content-type-options", "nosniff"))
                    .add(("x-frame-options", "DENY"))
                    .add(("referrer-policy", "no-referrer"))
                    .add(("cache-control", "no-store")),
            )
            .wrap(from_fn(request_id::request_id))
    })
    .listen(listener)?
    .shutdown_timeout(settings.server.shutdown_timeout_secs);
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    Ok(server.run())
}
