//! The middleware as the app will wire it, driven through actix-web's test service on the
//! in-memory repository.

mod cookies;
mod harness;
mod lifecycle;
