//! Acceptance tests for `altrion-session`.
//!
//! `scenarios` is the store's story, generic over `Arc<dyn SessionRepository>`; `fake` runs it
//! on the in-memory repository and `mongo` on MongoDB (mongo-embedded, or a real server when
//! `MONGODB_TEST_URI` is set). `http` drives
//! the middleware through actix-web's test service.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fake;
mod http;
mod mongo;
mod scenarios;
mod support;
