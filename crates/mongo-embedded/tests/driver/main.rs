//! Integration tests: the official `mongodb` driver against a real TCP server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod crud;
mod durability;
mod fidelity;
mod indexes;
mod persistence;
mod query;
mod wire;

use mongo_embedded::{Server, ServerHandle, ServerOptions};
use mongodb::{Client, Database};
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

/// A running in-memory server with a connected client and a fresh database.
pub struct Env {
    pub server: ServerHandle,
    pub client: Client,
    pub db: Database,
}

/// Starts a server on 127.0.0.1:0 with `opts` and connects the driver.
pub async fn start_with(opts: ServerOptions) -> Env {
    let server = Server::start(opts.bind("127.0.0.1").port(0)).await.unwrap();
    // The plain URI, exactly as the application would use it.
    let client = Client::with_uri_str(server.uri()).await.unwrap();
    let db = client.database(&format!("test_{}", NEXT_DB.fetch_add(1, Ordering::Relaxed)));
    Env { server, client, db }
}

/// Starts an in-memory server.
pub async fn start() -> Env {
    start_with(ServerOptions::default()).await
}

/// The server error code of a driver error, if any.
pub fn code_of(e: &mongodb::error::Error) -> Option<i32> {
    use mongodb::error::{ErrorKind, WriteFailure};
    match &*e.kind {
        ErrorKind::Command(c) => Some(c.code),
        ErrorKind::Write(WriteFailure::WriteError(w)) => Some(w.code),
        ErrorKind::InsertMany(m) => m
            .write_errors
            .as_ref()
            .and_then(|w| w.first())
            .map(|w| w.code),
        _ => None,
    }
}
