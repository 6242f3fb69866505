//! Route table. Every resource answers unknown methods with `405 method_not_allowed`.

mod auth;
mod health;
mod oauth;
mod page;

use actix_governor::{Governor, GovernorConfig};
use actix_web::{web, Resource};

pub use auth::UserBody;

use crate::{client_ip::ClientIp, error};

/// A resource whose unmatched methods get the JSON 405.
fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(error::method_not_allowed))
}

/// The per-IP limiter shared by sign-up and login.
pub type IpLimit = GovernorConfig<
    ClientIp,
    actix_governor::governor::middleware::NoOpMiddleware<
        actix_governor::governor::clock::QuantaInstant,
    >,
>;

/// Registers every API route.
pub fn configure(cfg: &mut web::ServiceConfig, ip_limit: &IpLimit) {
    cfg.service(resource("/").route(web::get().to(page::index)))
        .service(resource("/app.js").route(web::get().to(page::app_js)))
        .service(resource("/style.css").route(web::get().to(page::style)))
        .service(resource("/api/health").route(web::get().to(health::health)))
        .service(resource("/api/ready").route(web::get().to(health::ready)))
        .service(
            resource("/api/auth/signup")
                .wrap(Governor::new(ip_limit))
                .route(web::post().to(auth::signup)),
        )
        .service(
            resource("/api/auth/login")
                .wrap(Governor::new(ip_limit))
                .route(web::post().to(auth::login)),
        )
        .service(resource("/api/auth/me").route(web::get().to(auth::me)))
        .service(resource("/api/auth/logout").route(web::post().to(auth::logout)))
        .service(resource("/api/auth/logout-all").route(web::post().to(auth::logout_all)))
        .service(resource("/api/auth/{provider}").route(web::get().to(oauth::start)))
        .service(resource("/api/auth/{provider}/callback").route(web::get().to(oauth::callback)))
        .service(resource("/api/auth/{provider}/link").route(web::post().to(oauth::link)));
}
