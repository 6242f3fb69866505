//! Fault and abuse tests: the database going away mid-traffic and coming back, a thousand
//! malformed requests, and SIGTERM with requests in flight. Behaviour bounds, not benchmarks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;
mod contract;
mod helpers;
mod malformed;
mod outage;
mod sigterm;
mod slow_bodies;
mod stall;
mod uniqueness;
