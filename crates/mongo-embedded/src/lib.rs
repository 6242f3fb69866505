//! `mongo-embedded`: a small MongoDB-wire-compatible server used as the
//! zero-setup database for `make run` and CI.
//!
//! It speaks OP_MSG (and the legacy OP_QUERY handshake), supports the CRUD,
//! index and admin commands the official drivers use, and can persist to a
//! directory with a checksummed journal and atomic snapshots.
//!
//! **It is not a production database.** It keeps all data in memory,
//! serializes writes with a single lock, has no authentication, replication,
//! transactions or query planner worth the name, and only implements the part
//! of the query language the application needs.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mongo_embedded::Error> {
//! let server = mongo_embedded::Server::start(mongo_embedded::ServerOptions::default()).await?;
//! println!("connect to {}", server.uri());
//! server.shutdown().await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod bson_check;
pub mod commands;
pub mod error;
pub mod handshake;
pub mod query;
pub mod server;
pub mod sort;
pub mod state;
pub mod storage;
pub mod ttl;
pub mod wire;

pub use error::{CmdError, Error};
pub use server::{Server, ServerHandle, ServerOptions};
pub use state::{Clock, Counters};
pub use wire::{parse_message, Request, WireError};

/// Parses a raw wire message and, if it is valid, every BSON document in it.
/// Never panics; meant for fuzzing.
pub fn fuzz_parse(data: &[u8]) -> bool {
    match parse_message(data) {
        Ok((_, Request::Msg { command, .. })) => {
            let _ = query::matcher::Filter::parse(&command);
            let _ = query::update::Update::parse(&command);
            true
        }
        Ok(_) => true,
        Err(_) => false,
    }
}
