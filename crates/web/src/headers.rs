//! The response headers every answer of an auth API carries.

use actix_web::middleware::DefaultHeaders;

/// `nosniff`, no framing, no referrer, no caching.
pub(crate) const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
];

/// `nosniff`, no framing, no referrer, no caching: wrap the whole `App` with it. Responses that
/// set one of these themselves keep their own value. Every [`ApiError`](crate::ApiError)
/// carries them too, so an error that leaves through a middleware (and skips this one) has
/// them as well.
pub fn security_headers() -> DefaultHeaders {
    SECURITY_HEADERS
        .into_iter()
        .fold(DefaultHeaders::new(), DefaultHeaders::add)
}
