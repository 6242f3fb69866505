//! MongoDB adapters for the domain ports, over the `users` and `sessions` documents of the
//! design (§3). Documents and their mapping are private (`documents`); only [`Database`] crosses
//! this module's boundary, for migrations and maintenance.

pub(crate) mod admin;
mod by_ids;
mod connect;
mod documents;
mod errors;
mod gate;
mod readiness;
mod sessions;
mod users;

use std::{sync::Arc, time::Duration};

use mongodb::Database;

pub use connect::{connect, MongoConnector, MongoOptions, WriteConcernSetting};
pub(crate) use errors::is_unavailable;
pub use gate::{DeadlineExceeded, IndexGate};
pub use readiness::MongoReadiness;
pub use sessions::MongoSessionRepository;
pub use users::MongoUserRepository;

use crate::{
    migrations::{self, MigrationError, MigrationReport},
    StorageError,
};

/// The collection holding user accounts.
pub const USERS: &str = "users";
/// The collection holding server-side sessions.
pub const SESSIONS: &str = "sessions";

/// The deadline of every database call unless configured otherwise.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

/// What bounds the adapters: the deadline of every database call, the index gate, and whether
/// concurrent reads by id share queries.
#[derive(Debug, Clone)]
pub struct StoreLimits {
    /// Every call fails as unavailable past it.
    pub operation_timeout: Duration,
    /// Sign-up and identity linking are refused while it is closed.
    pub gate: IndexGate,
    /// Concurrent `find_by_id` / `find_active` calls leave together in one `$in` query (see
    /// `coalesce`); off, each is its own `find`. On by default: it halves the CPU per `/me`
    /// request (docs/performance.md).
    pub coalesce_reads: bool,
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self {
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
            gate: IndexGate::open(),
            coalesce_reads: true,
        }
    }
}

/// The three MongoDB-backed ports over one database; the `Arc`s coerce to `Arc<dyn Port>`.
#[derive(Debug, Clone)]
pub struct MongoStores {
    pub users: Arc<MongoUserRepository>,
    pub sessions: Arc<MongoSessionRepository>,
    pub readiness: Arc<MongoReadiness>,
    database: Database,
}

impl MongoStores {
    /// Adapters over an already connected database; `ping_timeout` bounds readiness checks.
    pub fn from_database(database: Database, ping_timeout: Duration) -> Self {
        Self::with_limits(database, ping_timeout, &StoreLimits::default())
    }

    /// Adapters over `database` under `limits`; readiness also waits for the index gate.
    pub fn with_limits(database: Database, ping_timeout: Duration, limits: &StoreLimits) -> Self {
        Self {
            users: Arc::new(MongoUserRepository::with_limits(&database, limits)),
            sessions: Arc::new(MongoSessionRepository::with_limits(&database, limits)),
            readiness: Arc::new(
                MongoReadiness::new(&database, ping_timeout).gated(limits.gate.clone()),
            ),
            database,
        }
    }

    /// The database the stores use (for migrations, maintenance and tests).
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Applies the embedded index migrations; see [`migrations::apply`].
    ///
    /// # Errors
    /// As [`migrations::apply`].
    pub async fn migrate(&self) -> Result<MigrationReport, MigrationError> {
        migrations::apply(&self.database).await
    }
}

/// Connects (see [`connect`]) and builds the three stores. The driver connects lazily: this
/// fails only on an unusable configuration; an unreachable server shows in the first operation
/// (`Unavailable`) or in [`MongoReadiness`].
///
/// # Errors
/// [`StorageError::Config`] for an invalid connection string or option.
pub async fn open(options: &MongoOptions) -> Result<MongoStores, StorageError> {
    MongoConnector::new(options).await?.open()
}
