//! Opens the stores `MONGODB_URI` names: a MongoDB deployment, the in-process embedded server
//! (`embedded:<dir>`, `embedded:` for memory) or the in-memory fakes (`memory:`), and keeps the
//! index migrations applied.

use std::{sync::Arc, time::Duration};

#[cfg(feature = "dev-db")]
use altrion_storage::embedded::EmbeddedDatabase;
use altrion_storage::{
    memory::{MemoryReadiness, MemorySessionRepository, MemoryUserRepository},
    migrations::MigrationError,
    MongoConnector, MongoOptions, MongoStores, StorageError,
};
use secrecy::ExposeSecret;

use crate::{
    settings::{DatabaseSettings, Settings},
    state::Stores,
    StartupError,
};

/// The stores and, for `embedded:` URIs, the database server running inside this process.
pub struct Database {
    /// Stores over this runtime's client (migrations, and any code off the HTTP workers).
    pub stores: Stores,
    /// For MongoDB: opens a client per HTTP worker, on the worker's own runtime.
    pub connector: Option<MongoConnector>,
    embedded: Option<Embedded>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("embedded", &self.embedded)
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Opens what `settings.database.uri` names and, when configured, applies the migrations
    /// (in the background, retrying while the database is unreachable).
    ///
    /// # Errors
    /// [`StartupError::Database`] when the URI is unusable or the embedded server cannot start
    /// (for example another process holds its folder).
    pub async fn open(settings: &Settings) -> Result<Self, StartupError> {
        let db = &settings.database;
        let uri = db.uri.expose_secret();
        if uri.starts_with("memory:") {
            tracing::warn!("MONGODB_URI=memory: — in-memory stores, nothing is persisted");
            return Ok(Self {
                stores: memory_stores(),
                connector: None,
                embedded: None,
            });
        }
        let (uri, embedded) = match uri.strip_prefix("embedded:") {
            Some(dir) => {
                let database = start_embedded(dir, db.embedded_port).await?;
                (database.uri(), Some(database))
            }
            None => (uri.to_owned(), None),
        };
        let connector = MongoConnector::new(&mongo_options(db, uri))
            .await
            .map_err(|e| StartupError::Database(e.to_string()))?;
        let stores = connector
            .open()
            .map_err(|e| StartupError::Database(e.to_string()))?;
        if db.migrate_on_start {
            tokio::spawn(keep_migrating(stores.clone()));
        }
        Ok(Self {
            stores: stores.into(),
            connector: Some(connector),
            embedded,
        })
    }

    /// Stops the embedded server, if any, after a final snapshot.
    pub async fn close(self) {
        if let Some(database) = self.embedded {
            if let Err(err) = database.shutdown().await {
                tracing::error!(error = %err, "embedded database did not shut down cleanly");
            }
        }
    }
}

/// Starts the development database in-process (`embedded:<dir>`, `embedded:` for memory).
#[cfg(feature = "dev-db")]
async fn start_embedded(dir: &str, port: u16) -> Result<Embedded, StartupError> {
    let dir = (!dir.is_empty()).then(|| std::path::PathBuf::from(dir));
    let database = EmbeddedDatabase::start(dir.as_deref(), port)
        .await
        .map_err(|e| StartupError::Database(format!("embedded database: {e}")))?;
    tracing::info!(
        uri = %database.uri(),
        folder = ?dir,
        "embedded MongoDB-compatible database started; not for production"
    );
    Ok(database)
}

/// A build without the `dev-db` feature (any release build) has no embedded database.
#[cfg(not(feature = "dev-db"))]
async fn start_embedded(_dir: &str, _port: u16) -> Result<Embedded, StartupError> {
    Err(StartupError::Database(
        "MONGODB_URI=embedded:… needs the development database, which this build does not \
         contain (it is built only with the `dev-db` feature, as `make run` does): point \
         MONGODB_URI at a MongoDB deployment"
            .to_owned(),
    ))
}

#[cfg(feature = "dev-db")]
type Embedded = EmbeddedDatabase;

/// Stands in for the embedded database in builds without it; never constructed.
#[cfg(not(feature = "dev-db"))]
#[derive(Debug)]
enum Embedded {}

#[cfg(not(feature = "dev-db"))]
impl Embedded {
    fn uri(&self) -> String {
        match *self {}
    }

    async fn shutdown(self) -> Result<(), StartupError> {
        match self {}
    }
}

/// Driver options from the settings; `uri` is the resolved connection string.
pub fn mongo_options(db: &DatabaseSettings, uri: String) -> MongoOptions {
    let mut options = MongoOptions::new(uri, db.name.clone());
    options.app_name = db.app_name.clone();
    options.connect_timeout = db.connect_timeout();
    options.server_selection_timeout = db.server_selection_timeout();
    options.retry_writes = db.retry_writes;
    // Validated with the settings, so the fallback is never taken.
    options.write_concern = db.write_concern.parse().unwrap_or(options.write_concern);
    options
}

/// Applies the migrations, retrying with back-off while the database is unreachable so a
/// server started before its database still ends up with its indexes.
async fn keep_migrating(stores: MongoStores) {
    let mut wait = Duration::from_millis(500);
    loop {
        match stores.migrate().await {
            Ok(report) => {
                tracing::info!(?report, "index migrations applied");
                return;
            }
            Err(MigrationError::Storage(err @ StorageError::Unavailable(_))) => {
                tracing::warn!(error = %err, retry_in_ms = wait.as_millis() as u64, "database unreachable; migrations will retry");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(30));
            }
            Err(err) => {
                tracing::error!(error = %err, "index migrations failed; fix the indexes (see docs/operations.md), then run `altrion db migrate`");
                return;
            }
        }
    }
}

/// Fresh in-memory stores.
pub fn memory_stores() -> Stores {
    Stores {
        users: Arc::new(MemoryUserRepository::new()),
        sessions: Arc::new(MemorySessionRepository::new()),
        readiness: Arc::new(MemoryReadiness),
    }
}
