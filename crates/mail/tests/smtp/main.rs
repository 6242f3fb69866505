//! The queue against a real SMTP server: Python's aiosmtpd, run by `tests/smtp_sink.py`
//! (feature `smtp-tests`; `make smtp`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod delivery;
mod sink;
