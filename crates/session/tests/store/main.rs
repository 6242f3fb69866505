//! Acceptance tests for `altrion-session`.
//!
//! `scenarios` is the store's story, generic over `Arc<dyn SessionRepository>`; `fake` runs it
//! on the in-memory repository (a MongoDB module can run the same functions). `http` drives
//! the middleware through actix-web's test service.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fake;
mod http;
mod scenarios;
mod support;
