use std::{fmt, str::FromStr, time::Duration};

use mongodb::{
    options::{Acknowledgment, ClientOptions, WriteConcern},
    Client, Database,
};

use super::{IndexGate, MongoStores, StoreLimits, DEFAULT_OPERATION_TIMEOUT};
use crate::StorageError;

/// How many nodes must acknowledge a write before it counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteConcernSetting {
    /// A majority of the replica set's voting members (`w: "majority"`): survives a failover.
    Majority,
    /// This many nodes (`w: N`); `1` is the primary alone.
    Nodes(u32),
}

impl FromStr for WriteConcernSetting {
    type Err = StorageError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "majority" => Ok(Self::Majority),
            n => match n.parse::<u32>() {
                Ok(nodes) if nodes >= 1 => Ok(Self::Nodes(nodes)),
                _ => Err(StorageError::Config(format!(
                    "write concern must be \"majority\" or a number of nodes of at least 1, not {s:?}"
                ))),
            },
        }
    }
}

/// Everything needed to reach the database. Options the connection string sets explicitly
/// (`appName`, `connectTimeoutMS`, `serverSelectionTimeoutMS`, `retryWrites`, `w`,
/// `wtimeoutMS`) win over the fields here, which act as defaults.
#[derive(Clone)]
pub struct MongoOptions {
    /// `mongodb://…` or `mongodb+srv://…`; may carry credentials, so `Debug` hides it.
    pub uri: String,
    /// The database holding `users` and `sessions`.
    pub database: String,
    /// Shown in the server's logs and `currentOp`.
    pub app_name: String,
    /// Time allowed to open one TCP/TLS connection.
    pub connect_timeout: Duration,
    /// Time an operation waits for a suitable server before failing as unavailable.
    pub server_selection_timeout: Duration,
    /// Retry a write once after a network error or failover (replica sets, sharded clusters).
    pub retry_writes: bool,
    pub write_concern: WriteConcernSetting,
    /// `wtimeout`: how long a write waits for its acknowledgements.
    pub write_timeout: Duration,
    /// Upper bound of a readiness ping.
    pub ping_timeout: Duration,
    /// Deadline of every repository call; past it the call fails as unavailable.
    pub operation_timeout: Duration,
    /// Concurrent reads by id share queries (see [`StoreLimits::coalesce_reads`]).
    pub coalesce_reads: bool,
}

impl MongoOptions {
    /// Options for `uri` and `database` with production-minded defaults: majority writes with
    /// a 10 s wtimeout, retryable writes, 5 s connect and server-selection timeouts, 2 s pings,
    /// 5 s per repository call.
    pub fn new(uri: impl Into<String>, database: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            database: database.into(),
            app_name: "altrion".to_owned(),
            connect_timeout: Duration::from_secs(5),
            server_selection_timeout: Duration::from_secs(5),
            retry_writes: true,
            write_concern: WriteConcernSetting::Majority,
            write_timeout: Duration::from_secs(10),
            ping_timeout: Duration::from_secs(2),
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
            coalesce_reads: true,
        }
    }

    /// The driver options: the connection string's, completed with these defaults.
    async fn client_options(&self) -> Result<ClientOptions, StorageError> {
        if !(self.uri.starts_with("mongodb://") || self.uri.starts_with("mongodb+srv://")) {
            return Err(StorageError::Config(
                "the MongoDB connection string must start with mongodb:// or mongodb+srv://"
                    .to_owned(),
            ));
        }
        // The driver's parse error may quote the string, credentials included: keep only its kind.
        let mut options = ClientOptions::parse(&self.uri).await.map_err(|err| {
            if crate::mongo::is_unavailable(&err) {
                StorageError::Unavailable(Box::new(err))
            } else {
                StorageError::Config(
                    "the MongoDB connection string cannot be parsed (check its syntax and options)"
                        .to_owned(),
                )
            }
        })?;
        options
            .app_name
            .get_or_insert_with(|| self.app_name.clone());
        options.connect_timeout.get_or_insert(self.connect_timeout);
        options
            .server_selection_timeout
            .get_or_insert(self.server_selection_timeout);
        options.retry_writes.get_or_insert(self.retry_writes);
        let concern = options
            .write_concern
            .get_or_insert_with(WriteConcern::default);
        if concern.w.is_none() {
            concern.w = Some(match self.write_concern {
                WriteConcernSetting::Majority => Acknowledgment::Majority,
                WriteConcernSetting::Nodes(n) => Acknowledgment::Nodes(n),
            });
        }
        concern.w_timeout.get_or_insert(self.write_timeout);
        Ok(options)
    }
}

impl fmt::Debug for MongoOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoOptions")
            .field("uri", &"<redacted>")
            .field("database", &self.database)
            .field("app_name", &self.app_name)
            .field("connect_timeout", &self.connect_timeout)
            .field("server_selection_timeout", &self.server_selection_timeout)
            .field("retry_writes", &self.retry_writes)
            .field("write_concern", &self.write_concern)
            .field("write_timeout", &self.write_timeout)
            .field("ping_timeout", &self.ping_timeout)
            .finish()
    }
}

/// A handle on `options.database`. The driver connects lazily and keeps a pool; share the
/// handle (it is cheap to clone) instead of connecting twice. One handle shared by every
/// actix worker is correct; for throughput, open one per worker from a [`MongoConnector`]
/// (docs/library.md, "One database client per worker").
///
/// # Errors
/// [`StorageError::Config`] for an unusable connection string, database name or option;
/// [`StorageError::Unavailable`] when a `mongodb+srv://` name cannot be resolved.
pub async fn connect(options: &MongoOptions) -> Result<Database, StorageError> {
    MongoConnector::new(options).await?.database()
}

/// Validated, parsed connection settings that can open more than one client.
///
/// A client's connections, pool and monitors run on the Tokio runtime it was created on. A
/// server whose workers each run a runtime of their own (actix-web) serves a request on one
/// thread and would, with one shared client, wake another thread for every query; opening a
/// client per worker from one connector keeps each query on the thread that asked for it.
/// Altrion's server does this, mounting its services over each worker's stores
/// (`AuthService::with_stores`, `SessionLayer::with_store`).
#[derive(Clone)]
pub struct MongoConnector {
    client_options: ClientOptions,
    database: String,
    ping_timeout: Duration,
    limits: StoreLimits,
}

impl fmt::Debug for MongoConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The client options may hold credentials.
        f.debug_struct("MongoConnector")
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

impl MongoConnector {
    /// Checks and parses `options` (resolving a `mongodb+srv://` name); connects nothing.
    ///
    /// # Errors
    /// As [`connect`].
    pub async fn new(options: &MongoOptions) -> Result<Self, StorageError> {
        if options.database.is_empty()
            || options
                .database
                .contains(['/', '\\', '.', ' ', '"', '$', '\0'])
        {
            return Err(StorageError::Config(format!(
                "invalid database name {:?}",
                options.database
            )));
        }
        Ok(Self {
            client_options: options.client_options().await?,
            database: options.database.clone(),
            ping_timeout: options.ping_timeout,
            limits: StoreLimits {
                operation_timeout: options.operation_timeout,
                gate: IndexGate::open(),
                coalesce_reads: options.coalesce_reads,
            },
        })
    }

    /// A new client's handle on the database. Call it inside the Tokio runtime that will use
    /// it: the client's background tasks start there; the driver connects lazily.
    ///
    /// # Errors
    /// [`StorageError::Config`] when the driver refuses the options.
    pub fn database(&self) -> Result<Database, StorageError> {
        let client = Client::with_options(self.client_options.clone()).map_err(|err| {
            StorageError::Config(format!("invalid MongoDB client options: {err}"))
        })?;
        Ok(client.database(&self.database))
    }

    /// The three stores over a new client (see [`database`](Self::database)).
    ///
    /// # Errors
    /// As [`database`](Self::database).
    pub fn open(&self) -> Result<MongoStores, StorageError> {
        Ok(MongoStores::with_limits(
            self.database()?,
            self.ping_timeout,
            &self.limits,
        ))
    }

    /// Stores opened from now on refuse sign-up and identity linking, and report unready,
    /// while `gate` is closed (one gate shared by every worker's stores).
    #[must_use]
    pub fn gated(mut self, gate: IndexGate) -> Self {
        self.limits.gate = gate;
        self
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn write_concern_parses_majority_or_nodes() {
        assert_eq!(
            "majority".parse::<WriteConcernSetting>().unwrap(),
            WriteConcernSetting::Majority
        );
        assert_eq!(
            "2".parse::<WriteConcernSetting>().unwrap(),
            WriteConcernSetting::Nodes(2)
        );
        assert!("0".parse::<WriteConcernSetting>().is_err());
        assert!("all".parse::<WriteConcernSetting>().is_err());
    }

    #[tokio::test]
    async fn settings_fill_what_the_uri_leaves_open() {
        let mut options = MongoOptions::new("mongodb://127.0.0.1:27017/", "altrion");
        options.write_concern = WriteConcernSetting::Nodes(1);
        options.server_selection_timeout = Duration::from_millis(1500);
        let built = options.client_options().await.unwrap();
        assert_eq!(built.app_name.as_deref(), Some("altrion"));
        assert_eq!(
            built.server_selection_timeout,
            Some(Duration::from_millis(1500))
        );
        assert_eq!(built.retry_writes, Some(true));
        let concern = built.write_concern.unwrap();
        assert_eq!(concern.w, Some(Acknowledgment::Nodes(1)));
        assert_eq!(concern.w_timeout, Some(Duration::from_secs(10)));
    }

    #[tokio::test]
    async fn the_uri_wins_over_settings() {
        let options = MongoOptions::new(
            "mongodb://127.0.0.1:27017/?appName=ops&w=2&retryWrites=false",
            "altrion",
        );
        let built = options.client_options().await.unwrap();
        assert_eq!(built.app_name.as_deref(), Some("ops"));
        assert_eq!(built.retry_writes, Some(false));
        assert_eq!(
            built.write_concern.unwrap().w,
            Some(Acknowledgment::Nodes(2))
        );
    }

    #[tokio::test]
    async fn bad_uris_are_config_errors_without_the_secret() {
        let err = connect(&MongoOptions::new("postgres://u:hunter2@x/", "altrion"))
            .await
            .unwrap_err();
        assert!(matches!(err, StorageError::Config(_)));
        let err = connect(&MongoOptions::new(
            "mongodb://u:hunter2@/?bogus==",
            "altrion",
        ))
        .await
        .unwrap_err();
        assert!(!format!("{err} {err:?}").contains("hunter2"));
        let err = connect(&MongoOptions::new("mongodb://127.0.0.1/", "a.b"))
            .await
            .unwrap_err();
        assert!(matches!(err, StorageError::Config(_)));
    }

    #[test]
    fn debug_hides_the_uri() {
        let options = MongoOptions::new("mongodb://u:hunter2@db/", "altrion");
        assert!(!format!("{options:?}").contains("hunter2"));
    }
}
