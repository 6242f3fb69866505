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
    /// cookie's name.
    pub fn new<'a>(urls: impl IntoIterator<Item = &'a str>, cookie: &str) -> Self {
        Self {
            allowed: urls.into_iter().filter_map(origin_of).collect(),
            cookie: cookie.into(),
        }
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
            .is_some_and(|origin| !self.allowed.contains(&origin) && origin != own_origin(req));
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

/// The origin the request was sent to (`scheme://Host`): a page on it is same-origin however
/// `PUBLIC_URL` is spelled. Browsers set `Host` themselves, so a forging page cannot.
fn own_origin(req: &ServiceRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}
