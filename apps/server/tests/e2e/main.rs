//! Real-browser end-to-end tests of the demo page (`apps/server/static/`), in headless Chromium.
//!
//! Run with `cargo test -p altrion-server --features e2e --test e2e`; they need Debian's
//! `chromium` and `chromium-driver` (`/usr/bin/chromium`, `/usr/bin/chromedriver`, or set
//! `CHROMIUM` / `CHROMEDRIVER`). `ALTRION_SCREENSHOTS=1` also rewrites `docs/screenshots/`.
//!
//! Driver: WebDriver through `fantoccini` and Debian's `chromedriver`, rather than the Chrome
//! DevTools Protocol through `chromiumoxide`. chromedriver comes from the same Debian source
//! package as Chromium, so the two versions always match and nothing is downloaded; WebDriver
//! is a W3C standard whose wire format does not change with each Chromium release, whereas
//! chromiumoxide's generated CDP bindings track one protocol revision and can fail to parse
//! events from a newer browser. fantoccini is small, async on tokio (like the server), needs no
//! TLS stack for a loopback driver, and offers what these tests use: navigation, bounded waits
//! for elements, typing, clicks, script evaluation and screenshots.
//!
//! Each test starts its own stack — the API in-process on 127.0.0.1:0 over in-memory stores,
//! plus a static server for the page on another loopback port (`stack.rs`) — and its own
//! chromedriver + Chromium on free loopback ports (`browser.rs`), and stops them at the end.
//! The OAuth scenarios (`oauth_login.rs`) run the whole application instead, as `make run`
//! does, on mongo-embedded with the mock Google/GitHub provider, restarting it mid-test on the
//! same database and port (`mongo_stack.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
#[path = "../common/mod.rs"]
mod common;
mod mongo_stack;
mod stack;

mod auth;
mod cookie_session;
mod oauth_login;
mod oauth_return;
mod recovery;
mod screenshots;
mod self_service;
