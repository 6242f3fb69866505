//! Altrion's HTTP API: a thin actix-web app. It wires the `auth`, `session`, `storage` and
//! `mail` crates and owns configuration, the route table, the page, probes, metrics and
//! request ids; the reusable HTTP layer (the handlers, OAuth's included, errors, the
//! authenticated-user extractor, DTOs, the session mount, security headers, the Origin check)
//! is `altrion-web`.
//!
//! Business rules live in `auth`.

pub mod database;
pub mod metrics;
pub mod request_id;
pub mod routes;
/// The settings, from `altrion-config` (one home for configuration, shared with the CLI).
pub use altrion_config as settings;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use startup::{Application, StartupError};
