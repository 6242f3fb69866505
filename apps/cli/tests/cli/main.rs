//! End-to-end tests of the `altrion` binary against `mongo-embedded`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod check;
mod cleanup;
mod helpers;
mod migrate;
mod unreachable;
