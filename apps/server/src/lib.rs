//! Altrion's HTTP API: a thin actix-web app. It wires the `auth`, `session` and `storage`
//! crates, owns configuration, routing, middleware and the mapping of errors to HTTP.
//!
//! It is the only crate that knows HTTP status codes; business rules live in `auth`.

pub mod authenticated;
pub mod body_timeout;
pub mod client_ip;
pub mod cors;
pub mod database;
pub mod error;
pub mod metrics;
pub mod origin;
pub mod pending;
pub mod request_id;
pub mod routes;
/// The settings, from `altrion-config` (one home for configuration, shared with the CLI).
pub use altrion_config as settings;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use startup::{Application, StartupError};
