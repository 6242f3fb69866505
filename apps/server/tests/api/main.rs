#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod errors;
mod health;
