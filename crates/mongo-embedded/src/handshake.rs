//! The connection handshake: `hello` / `isMaster` for a standalone server.

use crate::state::Shared;
use crate::wire::{MAX_BSON_OBJECT_SIZE, MAX_MESSAGE_SIZE, MAX_WRITE_BATCH_SIZE};
use bson::{doc, Document};

/// Per-connection facts some commands report.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// Server-assigned connection id.
    pub id: i64,
    /// Peer address as `ip:port`.
    pub peer: String,
}

/// Highest wire version spoken (MongoDB 7.0).
pub const MAX_WIRE_VERSION: i32 = 21;
/// Version reported by `buildInfo`.
pub const VERSION: &str = "7.0.0-embedded";

/// Builds the `hello` reply of a writable standalone.
pub fn hello(shared: &Shared, conn: &ConnInfo, cmd: &Document) -> Document {
    let name = cmd.keys().next().map(String::as_str).unwrap_or("hello");
    let mut d = doc! {};
    if name == "hello" {
        d.insert("isWritablePrimary", true);
    } else {
        d.insert("ismaster", true);
    }
    if cmd.contains_key("helloOk") {
        d.insert("helloOk", true);
    }
    d.insert("maxBsonObjectSize", MAX_BSON_OBJECT_SIZE as i32);
    d.insert("maxMessageSizeBytes", MAX_MESSAGE_SIZE as i32);
    d.insert("maxWriteBatchSize", MAX_WRITE_BATCH_SIZE as i32);
    d.insert("localTime", shared.now());
    d.insert("logicalSessionTimeoutMinutes", 30);
    d.insert("connectionId", i32::try_from(conn.id).unwrap_or(i32::MAX));
    d.insert("minWireVersion", 0);
    d.insert("maxWireVersion", MAX_WIRE_VERSION);
    d.insert("readOnly", false);
    d.insert("ok", 1.0);
    d
}
