#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;
mod helpers;

mod attacks;
mod auth;
mod errors;
mod health;
mod mongo;
mod oauth;
mod recovery;
mod self_service;
mod sessions;
