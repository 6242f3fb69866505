//! Route table. Every resource answers unknown methods with `405 method_not_allowed`.

mod health;

use actix_web::{web, Resource};

use crate::error;

/// A resource whose unmatched methods get the JSON 405.
fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(error::method_not_allowed))
}

/// Registers every API route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/health").route(web::get().to(health::health)))
        .service(resource("/api/ready").route(web::get().to(health::ready)));
}
