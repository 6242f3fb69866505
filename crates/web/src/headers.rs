//! The response headers every answer of an auth API carries.

use actix_web::middleware::DefaultHeaders;

/// `nosniff`, no framing, no referrer, no caching: wrap the whole `App` with it. Responses that
/// set one of these themselves keep their own value.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("x-content-type-options", "nosniff"))
        .add(("x-frame-options", "DENY"))
        .add(("referrer-policy", "no-referrer"))
        .add(("cache-control", "no-store"))
}
