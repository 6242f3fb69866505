//! CSRF defence for the session cookie: a state-changing request that carries the cookie must
//! come from the frontend's origin or this server's own. SameSite=Lax already keeps the cookie
//! off most cross-site requests; this check also covers sibling subdomains (same-site, but
//! another origin) and browsers without SameSite. Requests without the cookie are not
//! affected: a Bearer token is never attached by the browser on its own.

use std::{
    future::{ready, Ready},
    rc::Rc,
    sync::Arc,
};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{Service, ServiceRequest, ServiceResponse, Transform},
    http::Method,
    Error, ResponseError,
};
use futures_util::future::LocalBoxFuture;

use crate::{
    cors::origin_of,
    error::{ApiError, ErrorCode},
};

/// A URL given to [`OriginPolicy::new`] has no origin.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} has no origin: give an absolute URL such as https://app.example.com")]
pub struct InvalidOrigin(pub String);

/// The origins allowed to send cookie-authenticated writes, and the cookie to look for. It is
/// the middleware: `App::new().wrap(policy)`, outside the session middleware, so a refused
/// request never loads its session. A refusal is `403 forbidden_origin`.
#[derive(Debug, Clone)]
pub struct OriginPolicy {
    allowed: Arc<[String]>,
    cookie: Arc<str>,
}

impl OriginPolicy {
    /// Allows the origins of `urls` (for example the frontend's URL and this server's public
    /// URL; paths are ignored) and the origin each request was sent to; `cookie` is the session
    /// cookie's name ([`SessionLayer::cookie_name`](crate::SessionLayer::cookie_name)).
    ///
    /// # Errors
    /// [`InvalidOrigin`] for a URL without an origin (`localhost:3000` instead of
    /// `http://localhost:3000`), which would otherwise refuse that frontend's every write.
    pub fn new<'a>(
        urls: impl IntoIterator<Item = &'a str>,
        cookie: &str,
    ) -> Result<Self, InvalidOrigin> {
        let allowed = urls
            .into_iter()
            .map(|url| origin_of(url).ok_or_else(|| InvalidOrigin(url.to_owned())))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            allowed,
            cookie: cookie.into(),
        })
    }

    /// Whether `req` is a cross-origin write riding on the session cookie.
    fn refuses(&self, req: &ServiceRequest) -> bool {
        let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        if safe || req.cookie(&self.cookie).is_none() {
            return false;
        }
        let headers = req.headers();
        let cross_site = headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
        let foreign_origin = headers
            .get("origin")
            .and_then(|v| v.to_str().ok().map(str::to_owned))
            .is_some_and(|origin| {
                !self.allowed.contains(&origin) && Some(&origin) != own_origin(req).as_ref()
            });
        cross_site || foreign_origin
    }
}

impl<S, B> Transform<S, ServiceRequest> for OriginPolicy
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = OriginCheck<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(OriginCheck {
            service: Rc::new(service),
            policy: self.clone(),
        }))
    }
}

/// The running [`OriginPolicy`] middleware.
#[derive(Debug)]
pub struct OriginCheck<S> {
    service: Rc<S>,
    policy: OriginPolicy,
}

impl<S, B> Service<ServiceRequest> for OriginCheck<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if self.policy.refuses(&req) {
            tracing::warn!(
                event = "forbidden_origin",
                method = %req.method(),
                path = %req.path(),
                origin = req.headers().get("origin").and_then(|v| v.to_str().ok()).unwrap_or(""),
                "cross-origin request with the session cookie refused"
            );
            let response = ApiError::from(ErrorCode::ForbiddenOrigin).error_response();
            let refused = req.into_response(response).map_into_right_body();
            return Box::pin(ready(Ok(refused)));
        }
        let service = Rc::clone(&self.service);
        Box::pin(async move { Ok(service.call(req).await?.map_into_left_body()) })
    }
}

/// The origin the request was sent to: this connection's scheme and the `Host` the browser
/// set (the `:authority` over HTTP/2). A page on it is same-origin however `PUBLIC_URL` is
/// spelled; forwarding headers (`X-Forwarded-Host`, `Forwarded`) are not trusted here.
fn own_origin(req: &ServiceRequest) -> Option<String> {
    let host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))?;
    let scheme = if req.app_config().secure() {
        "https"
    } else {
        "http"
    };
    Some(format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use actix_web::test::TestRequest;

    use super::*;

    fn policy() -> OriginPolicy {
        OriginPolicy::new(["https://app.example.com/login"], "sid").unwrap()
    }

    fn write(origin: &str, extra: Option<(&str, &str)>) -> ServiceRequest {
        let mut req = TestRequest::post()
            .uri("/api/logout")
            .insert_header(("host", "api.example.com"))
            .insert_header(("origin", origin))
            .cookie(actix_web::cookie::Cookie::new("sid", "x"));
        if let Some(header) = extra {
            req = req.insert_header(header);
        }
        req.to_srv_request()
    }

    #[test]
    fn urls_without_an_origin_are_refused() {
        assert!(OriginPolicy::new(["localhost:3000"], "sid").is_err());
        assert!(OriginPolicy::new(["not a url"], "sid").is_err());
    }

    #[test]
    fn writes_with_the_cookie_come_from_listed_or_own_origins_only() {
        let policy = policy();
        assert!(!policy.refuses(&write("https://app.example.com", None)));
        assert!(!policy.refuses(&write("http://api.example.com", None)));
        assert!(policy.refuses(&write("https://evil.example", None)));
        assert!(policy.refuses(&write("null", None)));
        let no_cookie = TestRequest::post()
            .insert_header(("origin", "https://evil.example"))
            .to_srv_request();
        assert!(!policy.refuses(&no_cookie));
    }

    /// The request's own origin is its `Host`, never a forwarding header a client can add.
    #[test]
    fn forwarding_headers_do_not_make_a_foreign_origin_own() {
        let policy = policy();
        for header in [
            ("x-forwarded-host", "evil.example"),
            ("forwarded", "host=evil.example;proto=http"),
        ] {
            assert!(
                policy.refuses(&write("http://evil.example", Some(header))),
                "{header:?}"
            );
        }
    }
}
