//! Storage adapters for Altrion's ports: MongoDB (production) and in-memory fakes
//! ([`memory`], for tests and examples), with identical semantics; the index migrations
//! ([`migrations`]) and the maintenance operations behind `altrion db` ([`maintenance`]).
//!
//! - [`open`] connects and builds the three stores ([`MongoStores`]); [`MongoStores::migrate`]
//!   applies the unique and TTL indexes the guarantees rest on.
//! - Feature `embedded`: `embedded::EmbeddedDatabase`, the in-process MongoDB-compatible
//!   server for development and tests (never for production builds).
//!
//! Using the crates in your own service: `docs/library.md` in the repository.
//!
//! This crate owns the database: BSON documents and their mapping stay private here. It must not
//! depend on HTTP or actix crates.

mod coalesce;
#[cfg(feature = "embedded")]
pub mod embedded;
mod error;
pub mod maintenance;
pub mod memory;
pub mod migrations;
pub mod mongo;

pub use error::StorageError;
pub use mongo::{
    open, IndexGate, MongoConnector, MongoOptions, MongoStores, StoreLimits, WriteConcernSetting,
};

/// The database handle the migrations and maintenance functions take.
pub use mongodb::Database;
