//! Storage adapters for Altrion's ports: MongoDB (production) and in-memory fakes
//! ([`memory`], for tests and examples), with identical semantics.
//!
//! This crate owns the database: BSON documents and their mapping stay private here. It must not
//! depend on HTTP or actix crates.

pub mod memory;
