//! Behaviour of the sign-in use cases on the in-memory fakes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod builder;
mod hashing;
mod helpers;
mod lockout;
mod login;
mod logout;
mod oauth_flow;
mod oauth_github;
mod oauth_google;
mod oauth_logs;
mod oauth_support;
mod reauth;
mod recovery;
mod secrets;
mod signup;
mod tokens;
