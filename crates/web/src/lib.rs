//! The actix-web integration of Altrion's `auth` and `session` crates: what a service needs
//! around the use cases to be Altrion's HTTP API, and what `apps/server` itself is built from.
//!
//! - [`ApiError`] and the [`ErrorCode`] table: every failure as
//!   `{"error": {"code", "message"}}` with a stable code; [`AuthError`](altrion_auth::AuthError),
//!   [`OAuthError`](altrion_auth::OAuthError) and [`RepoError`](altrion_domain::RepoError)
//!   convert with `?`, and [`api`] makes actix's JSON and query errors follow the same table.
//! - [`Authenticated`]: the signed-in user by Bearer JWT or session cookie.
//! - [`SessionLayer`]: the session store mounted in a few lines, refusing a short or reused
//!   secret and a non-Secure cookie unless asked for explicitly.
//! - The DTOs ([`SignupBody`], [`LoginBody`], [`TokenBody`], [`MeBody`], [`UserBody`]), and
//!   Altrion's own [`handlers`] for sign-up, login, `/me`, logout and logout everywhere, the
//!   account and recovery routes, and Login with Google and GitHub ([`handlers::oauth`], with
//!   [`oauth_api`]).
//! - Hardening: [`security_headers`], the CSRF [`OriginPolicy`], [`cors`], the per-IP key
//!   [`ClientIp`] and [`ip_limit`] for per-IP rate limits with `actix-governor`, [`cut_off_slow_bodies`], and
//!   [`middleware_errors_as_json`] so a session store outage is a JSON `503`, not an empty `500`.
//!
//! The guide, with a complete service in 46 lines, is `docs/library.md`; the same service
//! is `examples/service.rs` in this crate, and a test drives it.
//!
//! This crate knows actix, `auth`, `session` and the domain; never `mongodb`, `bson` or the
//! storage crate.

mod authenticated;
mod body_timeout;
mod client_ip;
mod cors;
mod dto;
mod error;
mod flow_cookie;
pub mod handlers;
mod headers;
mod origin;
mod outage;
mod rate_limit;
mod sessions;

use actix_web::web;
use altrion_auth::{AuthService, OAuthService};

/// The middleware an [`IpLimit`] is applied with: `.wrap(Governor::new(&limit))`.
pub use actix_governor::Governor;
pub use authenticated::{Authenticated, MaybeUnverified};
pub use body_timeout::cut_off_slow_bodies;
pub use client_ip::ClientIp;
pub use cors::{cors, origin_of};
pub use dto::{LoginBody, MeBody, SignupBody, TokenBody, UserBody};
pub use error::{
    json_error, method_not_allowed, not_found, query_error, ApiError, ErrorCode, ErrorDetail,
    ErrorResponse, FieldError, REQUEST_ID_HEADER,
};
pub use flow_cookie::FlowCookie;
pub use headers::security_headers;
pub use origin::{InvalidOrigin, OriginCheck, OriginPolicy};
pub use outage::{middleware_errors_as_json, middleware_failure};
pub use rate_limit::{ip_limit, IpLimit, ZeroRate};
pub use sessions::{
    log_in, MountService, SessionLayer, SessionLayerBuilder, SessionMount, SetupError,
    DEFAULT_TOUCH_AFTER,
};

/// The session handle handlers take, re-exported so a service needs no `altrion-session` line.
pub use altrion_session::AuthSession;

/// The largest JSON body [`api`] accepts.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// Registers what the extractors and error mapping need on an `App` or scope:
/// `web::Data<AuthService>` (which [`Authenticated`] judges with) and JSON and query-string
/// configurations whose failures answer from the [`ErrorCode`] table (bodies up to
/// [`DEFAULT_BODY_LIMIT`]). Use it as `App::new().configure(altrion_web::api(auth.clone()))`.
pub fn api(auth: AuthService) -> impl FnOnce(&mut web::ServiceConfig) {
    api_with_limit(auth, DEFAULT_BODY_LIMIT)
}

/// Registers what [`handlers::oauth`] needs besides [`api`]: the `OAuthService` and the
/// encrypted cookie that carries a pending flow from the start to the callback
/// ([`SessionLayer::flow_cookie`]). Use it as
/// `App::new().configure(altrion_web::api(auth.clone())).configure(altrion_web::oauth_api(oauth.clone(), sessions.flow_cookie()))`.
pub fn oauth_api(oauth: OAuthService, flows: FlowCookie) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(oauth))
            .app_data(web::Data::new(flows));
    }
}

/// As [`api`], with JSON bodies up to `body_limit` bytes.
pub fn api_with_limit(
    auth: AuthService,
    body_limit: usize,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(auth))
            .app_data(
                web::JsonConfig::default()
                    .limit(body_limit)
                    .error_handler(json_error),
            )
            .app_data(web::QueryConfig::default().error_handler(query_error));
    }
}
