//! Opens the stores `MONGODB_URI` names: a MongoDB deployment, the in-process embedded server
//! (`embedded:<dir>`, `embedded:` for memory) or the in-memory fakes (`memory:`), and keeps the
//! index migrations applied.

use std::{path::PathBuf, sync::Arc, time::Duration};

#[cfg(feature = "dev-db")]
use altrion_storage::embedded::EmbeddedDatabase;
use altrion_storage::{
    memory::{MemoryReadiness, MemorySessionRepository, MemoryUserRepository},
    migrations::{self, MigrationError},
    IndexGate, MongoConnector, MongoStores,
};
use secrecy::ExposeSecret;

use crate::{
    settings::{DatabaseUri, Settings},
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
    /// [`StartupError::Settings`] when the URI is unusable, [`StartupError::Database`] when the
    /// database cannot be reached or the embedded server cannot start (for example another
    /// process holds its folder).
    pub async fn open(settings: &Settings) -> Result<Self, StartupError> {
        let db = &settings.database;
        let (uri, embedded) = match db.target()? {
            DatabaseUri::Memory => {
                tracing::warn!("MONGODB_URI=memory: — in-memory stores, nothing is persisted");
                return Ok(Self {
                    stores: memory_stores(),
                    connector: None,
                    embedded: None,
                });
            }
            DatabaseUri::Embedded(dir) => {
                let database = start_embedded(dir, db.embedded_port).await?;
                (database.uri(), Some(database))
            }
            DatabaseUri::Mongo(uri) => (uri.expose_secret().to_owned(), None),
        };
        // Closed until the migrations have succeeded: until then `/api/ready` answers 503 and
        // sign-ups and linking are refused, since only the unique indexes keep them unique.
        let gate = IndexGate::closed(NOT_YET);
        let connector = MongoConnector::new(&db.mongo_options(uri))
            .await
            .map_err(|e| StartupError::Database(e.to_string()))?
            .gated(gate.clone());
        let stores = connector
            .open()
            .map_err(|e| StartupError::Database(e.to_string()))?;
        tokio::spawn(keep_migrating(stores.clone(), gate, db.migrate_on_start));
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
async fn start_embedded(dir: Option<PathBuf>, port: u16) -> Result<Embedded, StartupError> {
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
async fn start_embedded(_dir: Option<PathBuf>, _port: u16) -> Result<Embedded, StartupError> {
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

/// The gate's reason before the first migration attempt has succeeded.
const NOT_YET: &str =
    "the unique indexes are not in place yet: the start-up migrations have not completed";

/// First and longest wait between migration attempts.
const FIRST_RETRY: Duration = Duration::from_millis(500);
const LONGEST_RETRY: Duration = Duration::from_secs(30);

/// Why an attempt did not leave the indexes in place: what `/api/ready` says (index names,
/// never stored values) and whether it is an outage (logged as a warning) or needs an operator.
fn blocked_reason(failure: &Failure) -> (String, bool) {
    let err = match failure {
        Failure::Migration(err) => err,
        Failure::TimedOut(_) => {
            return (
                format!("{NOT_YET} (the database did not answer in time)"),
                false,
            )
        }
        Failure::Missing(missing) => {
            return (
                format!(
                    "the unique indexes are not in place: {} missing and \
                     APP__DATABASE__MIGRATE_ON_START=false (run `altrion db migrate`)",
                    missing.join(", ")
                ),
                true,
            )
        }
    };
    match err {
        MigrationError::Storage(_) => (format!("{NOT_YET} (the database is unreachable)"), false),
        MigrationError::Duplicates {
            collection, index, ..
        } => (
            format!(
                "the unique indexes are not in place: unique index {collection}.{index} cannot be \
                 built because stored documents have duplicate values"
            ),
            true,
        ),
        MigrationError::Conflicts(conflicts) => (
            format!(
                "the unique indexes are not in place: existing index(es) {} conflict with the \
                 migrations",
                conflicts
                    .iter()
                    .map(|c| format!("{}.{}", c.collection, c.index))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            true,
        ),
        MigrationError::Invalid { id, .. } => (
            format!("the unique indexes are not in place: migration {id} is invalid"),
            true,
        ),
    }
}

/// Why an attempt left the indexes out of place.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Migration(#[from] MigrationError),
    #[error("indexes missing: {}", .0.join(", "))]
    Missing(Vec<String>),
    #[error("the database did not finish the migrations within {0:?}")]
    TimedOut(Duration),
}

/// Deadline of one migration attempt (a stalled database must not stall the retries; a
/// cut-off index build goes on in MongoDB and is found by the next attempt).
const ATTEMPT_WITHIN: Duration = Duration::from_secs(120);

/// One attempt: applies the migrations (`apply`), or only checks that an operator has
/// (`APP__DATABASE__MIGRATE_ON_START=false`).
async fn attempt(stores: &MongoStores, apply: bool) -> Result<(), Failure> {
    if apply {
        let report = stores.migrate().await?;
        tracing::info!(?report, "index migrations applied");
        return Ok(());
    }
    let status = migrations::status(stores.database()).await?;
    if !status.conflicts.is_empty() {
        return Err(MigrationError::Conflicts(status.conflicts).into());
    }
    if status.missing.is_empty() {
        Ok(())
    } else {
        Err(Failure::Missing(status.missing))
    }
}

/// Keeps the instance unready (and sign-ups refused) until every migration has succeeded,
/// retrying with back-off whatever the failure: an unreachable database (a server started
/// before it), or duplicates and conflicting indexes an operator has to fix. A new kind of
/// failure starts the back-off again, so a fix is picked up quickly.
async fn keep_migrating(stores: MongoStores, gate: IndexGate, apply: bool) {
    let mut wait = FIRST_RETRY;
    let mut last = String::new();
    loop {
        let outcome = tokio::time::timeout(ATTEMPT_WITHIN, attempt(&stores, apply))
            .await
            .unwrap_or(Err(Failure::TimedOut(ATTEMPT_WITHIN)));
        match outcome {
            Ok(()) => {
                gate.set_ready();
                tracing::info!("unique indexes in place; the instance is ready");
                return;
            }
            Err(err) => {
                let (reason, needs_operator) = blocked_reason(&err);
                if reason != last {
                    wait = FIRST_RETRY;
                }
                let retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                if needs_operator {
                    tracing::error!(error = %err, retry_in_ms, "index migrations cannot succeed; the instance stays unready and refuses sign-ups until the indexes are fixed (see docs/operations.md)");
                } else {
                    tracing::warn!(error = %err, retry_in_ms, "database unreachable; migrations will retry");
                }
                gate.set_blocked(reason.clone());
                last = reason;
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(LONGEST_RETRY);
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
