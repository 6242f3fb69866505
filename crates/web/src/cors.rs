//! CORS for a frontend served from another origin (`FRONTEND_URL`), with credentials so the
//! session cookie works from a separate single-page app.

use actix_cors::Cors;
use actix_web::http::{header, Method};
use url::Url;

use crate::error::REQUEST_ID_HEADER;

/// The origin (`scheme://host[:port]`) of `url`, if it has one.
pub fn origin_of(url: &str) -> Option<String> {
    Url::parse(url)
        .ok()
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null")
}

/// Allows exactly the frontend's origin; every other origin gets no CORS headers. A
/// `frontend_url` without an origin (not an absolute URL) allows none: check it with
/// [`origin_of`] where it is configured (Altrion's configuration refuses such a URL at start).
pub fn cors(frontend_url: &str) -> Cors {
    let cors = Cors::default()
        .allowed_methods([Method::GET, Method::POST, Method::DELETE])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .allowed_header(REQUEST_ID_HEADER)
        .expose_headers([header::RETRY_AFTER, REQUEST_ID_HEADER])
        .supports_credentials()
        .max_age(3600);
    match origin_of(frontend_url) {
        Some(origin) => cors.allowed_origin(&origin),
        None => cors,
    }
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn origins_drop_paths_and_default_ports() {
        assert_eq!(
            origin_of("https://app.example.com/login?x=1").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(
            origin_of("http://localhost:5173/").as_deref(),
            Some("http://localhost:5173")
        );
        assert_eq!(
            origin_of("https://app.example.com:443").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(origin_of("not a url"), None);
    }
}
