//! The TCP server: accept loop, per-connection request loop, TTL task, shutdown.

use crate::error::Error;
use crate::state::{Clock, Counters, Shared};
use crate::storage::Store;
use crate::wire::{self, Request};
use crate::{commands, handshake::ConnInfo};
use bson::{doc, Bson, DateTime, Document};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Options for [`Server::start`].
#[derive(Clone)]
pub struct ServerOptions {
    /// Address to bind (default `127.0.0.1`).
    pub bind: String,
    /// Port (0 = pick a free one).
    pub port: u16,
    /// Data directory; `None` keeps everything in memory.
    pub dbpath: Option<PathBuf>,
    /// Interval between TTL passes (default 60 s).
    pub ttl_interval: Duration,
    /// Clock used for TTL, `$currentDate` and `localTime` (default: system time).
    pub clock: Option<Clock>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            bind: "127.0.0.1".into(),
            port: 0,
            dbpath: None,
            ttl_interval: Duration::from_secs(60),
            clock: None,
        }
    }
}

impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions")
            .field("bind", &self.bind)
            .field("port", &self.port)
            .field("dbpath", &self.dbpath)
            .field("ttl_interval", &self.ttl_interval)
            .finish_non_exhaustive()
    }
}

impl ServerOptions {
    /// Sets the bind address.
    pub fn bind(mut self, bind: impl Into<String>) -> Self {
        self.bind = bind.into();
        self
    }
    /// Sets the port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// Sets the data directory.
    pub fn dbpath(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dbpath = Some(dir.into());
        self
    }
    /// Sets the TTL interval.
    pub fn ttl_interval(mut self, every: Duration) -> Self {
        self.ttl_interval = every;
        self
    }
    /// Injects a clock.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }
}

/// Entry point for starting a server.
pub struct Server;

/// A running server. Dropping it without [`ServerHandle::shutdown`] stops
/// accepting connections but skips the final snapshot (the journal still
/// holds every acknowledged write).
pub struct ServerHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    accept: Option<JoinHandle<()>>,
    ttl: JoinHandle<()>,
}

impl Server {
    /// Opens storage, binds the listener and starts serving.
    pub async fn start(opts: ServerOptions) -> Result<ServerHandle, Error> {
        let store = match &opts.dbpath {
            Some(dir) => {
                let dir = dir.clone();
                tokio::task::spawn_blocking(move || Store::open(&dir))
                    .await
                    .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))??
            }
            None => Store::memory(),
        };
        let clock: Clock = opts
            .clock
            .clone()
            .unwrap_or_else(|| Arc::new(DateTime::now));
        let shared = Arc::new(Shared::new(store, clock));
        let listener = TcpListener::bind((opts.bind.as_str(), opts.port)).await?;
        let addr = listener.local_addr()?;
        let (stop, stop_rx) = watch::channel(false);
        let accept = tokio::spawn(accept_loop(listener, shared.clone(), stop_rx.clone()));
        let ttl = tokio::spawn(ttl_loop(shared.clone(), opts.ttl_interval, stop_rx));
        tracing::info!(%addr, dbpath = ?opts.dbpath, "mongo-embedded listening");
        Ok(ServerHandle {
            shared,
            addr,
            stop,
            accept: Some(accept),
            ttl,
        })
    }
}

impl ServerHandle {
    /// Connection string, e.g. `mongodb://127.0.0.1:40000/`.
    pub fn uri(&self) -> String {
        format!("mongodb://{}/", self.addr)
    }

    /// Bound socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Snapshot of the operation counters.
    pub fn counters(&self) -> Counters {
        self.shared.counters_snapshot()
    }

    /// Runs one TTL pass now; returns the number of documents removed.
    pub async fn run_ttl_pass(&self) -> Result<u64, Error> {
        crate::ttl::pass(&self.shared, self.shared.now()).await
    }

    /// Runs one TTL pass as if the time were `now`.
    pub async fn run_ttl_pass_at(&self, now: DateTime) -> Result<u64, Error> {
        crate::ttl::pass(&self.shared, now).await
    }

    /// Runs a command document directly (without the network), e.g. for tools.
    pub async fn run_command(&self, cmd: Document) -> Document {
        let conn = ConnInfo {
            id: 0,
            peer: "internal".into(),
        };
        commands::execute(&self.shared, &conn, &cmd).await
    }

    /// Test hook: while on, every journal write fails as on a full disk
    /// (writes answer OutOfDiskSpace and are not applied; `ping` fails).
    /// No effect without a dbpath.
    #[doc(hidden)]
    pub fn set_journal_fault(&self, on: bool) {
        self.shared.store.set_journal_fault(on);
    }

    /// Stops accepting, closes connections after their current request,
    /// writes a final snapshot and releases the dbpath lock.
    pub async fn shutdown(mut self) -> Result<(), Error> {
        let _ = self.stop.send(true);
        if let Some(a) = self.accept.take() {
            let _ = a.await;
        }
        self.ttl.abort();
        let _ = (&mut self.ttl).await;
        self.shared.store.compact().await?;
        tracing::info!("mongo-embedded stopped");
        Ok(())
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        self.ttl.abort();
    }
}

static NEXT_CONN_ID: AtomicI64 = AtomicI64::new(1);

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            res = listener.accept() => match res {
                Ok((sock, peer)) => {
                    let _ = sock.set_nodelay(true);
                    let info = ConnInfo { id: NEXT_CONN_ID.fetch_add(1, Ordering::Relaxed), peer: peer.to_string() };
                    conns.spawn(serve_conn(sock, info, shared.clone(), stop.clone()));
                }
                Err(e) => tracing::warn!(error = %e, "accept failed"),
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    // Give in-flight requests a moment to finish, then cut the rest.
    let drain = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(5), drain)
        .await
        .is_err()
    {
        conns.abort_all();
    }
}

async fn ttl_loop(shared: Arc<Shared>, every: Duration, mut stop: watch::Receiver<bool>) {
    let every = every.max(Duration::from_millis(10));
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {
                if let Err(e) = crate::ttl::pass(&shared, shared.now()).await {
                    tracing::warn!(error = %e, "TTL pass failed");
                }
            }
        }
    }
}

static NEXT_REPLY_ID: AtomicI32 = AtomicI32::new(1);

async fn serve_conn(
    mut sock: TcpStream,
    info: ConnInfo,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    shared.conns_current.fetch_add(1, Ordering::Relaxed);
    shared.conns_total.fetch_add(1, Ordering::Relaxed);
    if let Err(e) = conn_loop(&mut sock, &info, &shared, &mut stop).await {
        tracing::debug!(conn = info.id, error = %e, "closing connection");
    }
    shared.conns_current.fetch_sub(1, Ordering::Relaxed);
}

async fn conn_loop(
    sock: &mut TcpStream,
    info: &ConnInfo,
    shared: &Shared,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), String> {
    loop {
        let mut head = [0u8; 16];
        tokio::select! {
            _ = stop.changed() => return Ok(()),
            r = sock.read_exact(&mut head) => match r {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e.to_string()),
            },
        }
        // The length is validated against maxMessageSizeBytes before allocating.
        let header = wire::parse_header(&head).map_err(|e| e.to_string())?;
        let mut msg = vec![0u8; header.length];
        msg[..16].copy_from_slice(&head);
        sock.read_exact(&mut msg[16..])
            .await
            .map_err(|e| e.to_string())?;
        let (header, req) = wire::parse_message(&msg).map_err(|e| e.to_string())?;
        let reply_id = NEXT_REPLY_ID.fetch_add(1, Ordering::Relaxed);
        let bytes = match req {
            Request::Msg {
                command,
                more_to_come,
            } => {
                let reply = commands::execute(shared, info, &command).await;
                if more_to_come {
                    continue;
                }
                wire::encode_op_msg(header.request_id, reply_id, &reply)
            }
            Request::Query { namespace, query } => {
                let reply = legacy_query(shared, info, &namespace, query).await;
                wire::encode_op_reply(header.request_id, reply_id, &reply)
            }
        }
        .map_err(|e| e.to_string())?;
        sock.write_all(&bytes).await.map_err(|e| e.to_string())?;
    }
}

/// OP_QUERY is only accepted for the handshake, as in MongoDB 6.0+.
async fn legacy_query(
    shared: &Shared,
    info: &ConnInfo,
    namespace: &str,
    mut query: Document,
) -> Document {
    let Some(db) = namespace.strip_suffix(".$cmd") else {
        return doc! {"$err": "OP_QUERY is no longer supported", "code": 5739101, "ok": 0.0};
    };
    let name = query.keys().next().cloned().unwrap_or_default();
    if !matches!(name.as_str(), "hello" | "isMaster" | "ismaster") {
        return doc! {
            "ok": 0.0,
            "errmsg": format!("Unsupported OP_QUERY command: {name}. The client driver may require an upgrade."),
            "code": 352,
            "codeName": "UnsupportedOpQueryCommand",
        };
    }
    query.insert("$db", Bson::String(db.to_string()));
    commands::execute(shared, info, &query).await
}
