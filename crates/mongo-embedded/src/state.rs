//! State shared by all connections: storage, cursors, counters, clock.

use crate::storage::Store;
use bson::{DateTime, Document};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Source of "now" (injectable so TTL tests need not sleep).
pub type Clock = Arc<dyn Fn() -> DateTime + Send + Sync>;

/// An open server-side cursor.
#[derive(Debug)]
pub struct Cursor {
    /// Namespace `db.coll`.
    pub ns: String,
    /// Documents not yet returned.
    pub docs: VecDeque<Document>,
    /// Last time the cursor was created or advanced.
    pub last_used: Instant,
}

/// Idle cursors are reaped after this long, like MongoDB's
/// `cursorTimeoutMillis` default of 10 minutes.
pub const CURSOR_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// Snapshot of the server's operation counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    /// Commands received, by name (`find`, `insert`, `hello`, ...).
    pub commands: BTreeMap<String, u64>,
    /// Commands that failed, by name.
    pub failed: BTreeMap<String, u64>,
    /// Documents inserted (like `opcounters.insert`).
    pub insert: u64,
    /// `find` commands (like `opcounters.query`).
    pub query: u64,
    /// Update statements (like `opcounters.update`).
    pub update: u64,
    /// Delete statements (like `opcounters.delete`).
    pub delete: u64,
    /// `getMore` commands.
    pub getmore: u64,
    /// Other commands (like `opcounters.command`).
    pub command: u64,
    /// Queries that scanned a whole collection (no usable index).
    pub collection_scans: u64,
    /// Queries that used `_id` or a secondary index.
    pub index_scans: u64,
    /// Documents examined by the matcher.
    pub docs_examined: u64,
}

impl Counters {
    /// Total number of commands received.
    pub fn total_commands(&self) -> u64 {
        self.commands.values().sum()
    }

    /// Commands other than connection handshakes, monitoring heartbeats and
    /// session bookkeeping (`hello`, `isMaster`, `ping`, `endSessions`, ...),
    /// i.e. the ones an application request caused.
    pub fn database_commands(&self) -> u64 {
        const HOUSEKEEPING: &[&str] = &[
            "hello",
            "isMaster",
            "ismaster",
            "ping",
            "endSessions",
            "killSessions",
            "refreshSessions",
            "buildInfo",
            "buildinfo",
            "getParameter",
            "getLog",
            "hostInfo",
            "connectionStatus",
            "atlasVersion",
            "getCmdLineOpts",
            "serverStatus",
            "whatsmyuri",
        ];
        self.commands
            .iter()
            .filter(|(k, _)| !HOUSEKEEPING.contains(&k.as_str()))
            .map(|(_, v)| v)
            .sum()
    }

    /// Number of commands received with this name.
    pub fn count(&self, name: &str) -> u64 {
        self.commands.get(name).copied().unwrap_or(0)
    }
}

/// Everything a command handler can reach.
pub struct Shared {
    /// Data.
    pub store: Store,
    /// Open cursors by id.
    pub cursors: Mutex<HashMap<i64, Cursor>>,
    next_cursor: AtomicI64,
    /// Counters.
    pub counters: Mutex<Counters>,
    /// Connections currently open.
    pub conns_current: AtomicU64,
    /// Connections ever accepted.
    pub conns_total: AtomicU64,
    /// Server start time.
    pub started: Instant,
    /// Clock used for `$currentDate`, TTL and `localTime`.
    pub clock: Clock,
}

impl Shared {
    /// Creates shared state over a store.
    pub fn new(store: Store, clock: Clock) -> Shared {
        Shared {
            store,
            cursors: Mutex::new(HashMap::new()),
            next_cursor: AtomicI64::new(0x1000_0000 + i64::from(std::process::id())),
            counters: Mutex::new(Counters::default()),
            conns_current: AtomicU64::new(0),
            conns_total: AtomicU64::new(0),
            started: Instant::now(),
            clock,
        }
    }

    /// A fresh, never reused cursor id.
    pub fn new_cursor_id(&self) -> i64 {
        self.next_cursor.fetch_add(1, Ordering::Relaxed)
    }

    /// Current time from the injected clock.
    pub fn now(&self) -> DateTime {
        (self.clock)()
    }

    /// Snapshot of the counters including the storage access-path statistics.
    pub fn counters_snapshot(&self) -> Counters {
        let mut c = self.counters().clone();
        let cat = self.store.read();
        c.collection_scans = cat.scan_stats.collection_scans.load(Ordering::Relaxed);
        c.index_scans = cat.scan_stats.index_scans.load(Ordering::Relaxed);
        c.docs_examined = cat.scan_stats.docs_examined.load(Ordering::Relaxed);
        c
    }

    /// Locks the counters.
    pub fn counters(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Locks the cursor table.
    pub fn cursors(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Cursor>> {
        self.cursors.lock().unwrap_or_else(|e| e.into_inner())
    }
}
