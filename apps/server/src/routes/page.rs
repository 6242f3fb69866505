//! The demo page, embedded in the binary (no build step, no files to deploy).

use actix_web::{http::header, HttpResponse};

const INDEX: &str = include_str!("../../static/index.html");
const APP_JS: &str = include_str!("../../static/app.js");
const STYLE: &str = include_str!("../../static/style.css");

/// No inline script or style: everything comes from this origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

fn asset(body: &'static str, content_type: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .body(body)
}

/// `GET /`
#[utoipa::path(get, path = "/", tag = "demo page", responses((status = 200, description = "The demo page's `/`")))]
pub async fn index() -> HttpResponse {
    asset(INDEX, "text/html; charset=utf-8")
}

/// `GET /reset-password?token=…`: the demo page, which shows its new-password form.
#[utoipa::path(get, path = "/reset-password", tag = "demo page", responses((status = 200, description = "The demo page, opened from a reset link")))]
pub async fn reset_password() -> HttpResponse {
    asset(INDEX, "text/html; charset=utf-8")
}

/// `GET /verify-email?token=…`: the demo page, which verifies the address.
#[utoipa::path(get, path = "/verify-email", tag = "demo page", responses((status = 200, description = "The demo page, opened from a verification link")))]
pub async fn verify_email() -> HttpResponse {
    asset(INDEX, "text/html; charset=utf-8")
}

/// `GET /app.js`
#[utoipa::path(get, path = "/app.js", tag = "demo page", responses((status = 200, description = "The demo page's `/app.js`")))]
pub async fn app_js() -> HttpResponse {
    asset(APP_JS, "text/javascript; charset=utf-8")
}

/// `GET /style.css`
#[utoipa::path(get, path = "/style.css", tag = "demo page", responses((status = 200, description = "The demo page's `/style.css`")))]
pub async fn style() -> HttpResponse {
    asset(STYLE, "text/css; charset=utf-8")
}
