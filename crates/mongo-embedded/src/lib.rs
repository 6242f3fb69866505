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

mod bson_check;
mod commands;
mod error;
mod handshake;
mod path;
mod query;
mod server;
mod sort;
mod state;
mod storage;
mod ttl;
mod wire;

pub use error::{CmdError, Error};
pub use server::{Server, ServerHandle, ServerOptions};
pub use state::{Clock, Counters};

/// Whether `data` is one well-formed BSON document (the checks every incoming document goes
/// through). Never panics; meant for fuzzing.
pub fn fuzz_check_bson(data: &[u8]) -> bool {
    bson_check::check(data).is_ok()
}

/// The records of the journal file at `path` (`None` when there is none), for durability tests
/// that inspect what was written before an acknowledgement.
///
/// # Errors
/// The I/O or decoding error reading the journal.
#[doc(hidden)]
pub fn read_journal(path: &std::path::Path) -> Result<Option<Vec<bson::Document>>, Error> {
    Ok(storage::journal::Journal::read(path)?.map(|(_, records)| records))
}

/// Parses a raw wire message and, if it is valid, every BSON document in it.
/// Never panics; meant for fuzzing.
pub fn fuzz_parse(data: &[u8]) -> bool {
    match wire::parse_message(data) {
        Ok((_, wire::Request::Msg { command, .. })) => {
            let _ = query::matcher::Filter::parse(&command);
            let _ = query::update::Update::parse(&command);
            true
        }
        Ok(_) => true,
        Err(_) => false,
    }
}
