//! The storage contract: one story per port, run against every implementation — the in-memory
//! fakes, `mongo-embedded`, and a real MongoDB when `MONGODB_TEST_URI` is set — plus the
//! MongoDB-only checks (document shape, migrations, maintenance).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;
mod batching;
mod documents;
mod maintenance;
mod migrations;
mod outages;
mod sessions;
mod users;
