//! CSRF defence for the session cookie: a state-changing request that carries the cookie must
//! come from the frontend's origin or this server's own. SameSite=Lax already keeps the cookie
//! off most cross-site requests; this check also covers sibling subdomains (same-site, but
//! another origin) and browsers without SameSite. Requests without the cookie are not
//! affected: a Bearer token is never attached by the browser on its own.

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::Method,
    middleware::Next,
    Error, ResponseError,
};

use crate::{
    cors::origin_of,
    error::{ApiError, ErrorCode},
};

/// The origins allowed to send cookie-authenticated writes, and the cookie to look for.
#[derive(Debug, Clone)]
pub struct OriginPolicy {
    allowed: Vec<String>,
    cookie: &'static str,
}

impl OriginPolicy {
    /// The origins of `frontend_url` and `public_url`; `cookie` is the session cookie's name.
    pub fn new(frontend_url: &str, public_url: &str, cookie: &'static str) -> Self {
        Self {
            allowed: [frontend_url, public_url]
                .into_iter()
                .filter_map(origin_of)
                .collect(),
            cookie,
        }
    }

    /// Whether `req` is a cross-origin write riding on the session cookie.
    fn refuses(&self, req: &ServiceRequest) -> bool {
        let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        if safe || req.cookie(self.cookie).is_none() {
            return false;
        }
        let headers = req.headers();
        let cross_site = headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
        let foreign_origin = headers
            .get("origin")
            .and_then(|v| v.to_str().ok().map(str::to_owned))
            .is_some_and(|origin| !self.allowed.contains(&origin) && origin != own_origin(req));
        cross_site || foreign_origin
    }

    /// The middleware; wrap it with `from_fn` outside the session middleware, so a refused
    /// request never loads its session.
    ///
    /// # Errors
    /// Only an inner service's error.
    pub async fn check<B: MessageBody + 'static>(
        self: std::sync::Arc<Self>,
        req: ServiceRequest,
        next: Next<B>,
    ) -> Result<ServiceResponse<EitherBody<B>>, Error> {
        if self.refuses(&req) {
            tracing::warn!(
                event = "forbidden_origin",
                method = %req.method(),
                path = %req.path(),
                origin = req.headers().get("origin").and_then(|v| v.to_str().ok()).unwrap_or(""),
                "cross-origin request with the session cookie refused"
            );
            let response = ApiError::from(ErrorCode::ForbiddenOrigin).error_response();
            return Ok(req.into_response(response).map_into_right_body());
        }
        Ok(next.call(req).await?.map_into_left_body())
    }
}

/// The origin the request was sent to (`scheme://Host`): a page on it is same-origin however
/// `PUBLIC_URL` is spelled. Browsers set `Host` themselves, so a forging page cannot.
fn own_origin(req: &ServiceRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}
