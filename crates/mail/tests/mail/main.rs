//! The queue without an SMTP server: the outbox, an unreachable server, refusals at start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod outbox;
mod queue;
