//! Mounting the MongoDB-backed (or any [`SessionRepository`]-backed) session store: one
//! builder for the cookie, the store and the checks a production deployment needs.

use std::{fmt, sync::Arc};

use actix_session::SessionMiddleware;
use actix_web::{
    body::MessageBody,
    dev::{Service, ServiceRequest, ServiceResponse, Transform},
    HttpMessage, HttpRequest,
};
use altrion_auth::AuthService;
use altrion_domain::{Clock, SessionRepository, User};
use altrion_session::{
    session_middleware, AuthSession, Device, RepositorySessionStore, SessionCookieSettings,
    WeakSessionSecret, DEFAULT_COOKIE_NAME, DEFAULT_SESSION_TTL,
};
use futures_util::future::LocalBoxFuture;
use secrecy::{ExposeSecret, SecretString};
use thiserror::Error;
use time::Duration;

use crate::{client_ip::ClientIp, error::ApiError, FlowCookie};

/// How often a session's expiry is written back at most, unless set otherwise: the store
/// extends a session lazily, so a busy user costs one write per this interval, not per request.
pub const DEFAULT_TOUCH_AFTER: Duration = Duration::minutes(5);

/// Why [`SessionLayer::builder`] refused its settings.
#[derive(Debug, Error)]
pub enum SetupError {
    /// The session secret is shorter than [`altrion_domain::MIN_SECRET_BYTES`].
    #[error(transparent)]
    WeakSecret(#[from] WeakSessionSecret),
    /// The session secret is the JWT signing secret: one leaked key would forge both.
    #[error("the session secret must differ from the JWT secret")]
    SharedSecret,
    /// A lifetime is zero or negative.
    #[error("{0} must be positive")]
    NonPositive(&'static str),
    /// The lifetimes contradict each other: a touch window as long as the session means no
    /// touch ever happens (active sessions expire mid-use), and an absolute lifetime below the
    /// idle one cuts every session short.
    #[error("touch_after must be less than ttl, and absolute_ttl at least ttl")]
    Lifetimes,
    /// [`insecure_development`](SessionLayerBuilder::insecure_development) with a `__Host-` or
    /// `__Secure-` cookie name, which browsers accept only with `Secure`.
    #[error("the cookie {0:?} must be Secure; name it without the __Host-/__Secure- prefix for plain-HTTP development")]
    PrefixedNameNeedsSecure(String),
}

/// The session middleware over a [`RepositorySessionStore`]: clone it into every worker and
/// `wrap` the routes that use sessions with [`SessionLayer::middleware`].
#[derive(Clone)]
pub struct SessionLayer {
    store: RepositorySessionStore,
    cookie: SessionCookieSettings,
    flows: FlowCookie,
}

impl fmt::Debug for SessionLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLayer")
            .field("cookie", &self.cookie)
            .finish_non_exhaustive()
    }
}

impl SessionLayer {
    /// Sessions kept in `repository`, their cookie signed with a key derived from `secret`
    /// (at least 32 bytes, not the JWT secret). Defaults: cookie `__Host-altrion.sid`, Secure,
    /// HttpOnly, SameSite=Lax, 24 h idle expiry, written back at most every 5 minutes, 7 days
    /// absolute.
    pub fn builder(
        repository: Arc<dyn SessionRepository>,
        secret: &SecretString,
    ) -> SessionLayerBuilder {
        SessionLayerBuilder {
            repository,
            secret: secret.clone(),
            cookie_name: DEFAULT_COOKIE_NAME.to_owned(),
            ttl: DEFAULT_SESSION_TTL,
            touch_after: DEFAULT_TOUCH_AFTER,
            absolute_ttl: altrion_session::DEFAULT_ABSOLUTE_TTL,
            insecure_development: false,
        }
    }

    /// The middleware for one worker's `App` (or scope): actix-session's over this layer's
    /// store, marking the requests it serves so that [`log_in`] outside it fails loudly
    /// instead of answering "signed in" without a cookie.
    pub fn middleware(&self) -> SessionMount {
        SessionMount {
            inner: session_middleware(self.store.clone(), &self.cookie),
            clock: self.store.clock().clone(),
        }
    }

    /// The same layer over another repository: with a database client per worker (see
    /// `MongoConnector`), each worker mounts its own stores with the settings checked once.
    pub fn with_store(&self, repository: Arc<dyn SessionRepository>) -> Self {
        Self {
            store: self.store.with_repository(repository),
            cookie: self.cookie.clone(),
            flows: self.flows.clone(),
        }
    }

    /// The session cookie's name (what [`crate::OriginPolicy::new`] looks for).
    pub fn cookie_name(&self) -> &str {
        self.cookie.cookie_name()
    }

    /// The cookie an OAuth flow travels in between its start and its callback
    /// ([`crate::oauth_api`]): named after the session cookie (`__Host-altrion.oauth` by
    /// default), encrypted with a key derived from this layer's secret under a label of its
    /// own, and Secure exactly when the session cookie is.
    pub fn flow_cookie(&self) -> FlowCookie {
        self.flows.clone()
    }
}

/// Settings of a [`SessionLayer`]; see [`SessionLayer::builder`].
#[must_use]
pub struct SessionLayerBuilder {
    repository: Arc<dyn SessionRepository>,
    secret: SecretString,
    cookie_name: String,
    ttl: Duration,
    touch_after: Duration,
    absolute_ttl: Duration,
    insecure_development: bool,
}

impl fmt::Debug for SessionLayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLayerBuilder")
            .field("cookie_name", &self.cookie_name)
            .field("ttl", &self.ttl)
            .field("insecure_development", &self.insecure_development)
            .finish_non_exhaustive()
    }
}

impl SessionLayerBuilder {
    /// The cookie's name; a `__Host-` or `__Secure-` name is always sent Secure.
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = name.into();
        self
    }

    /// Idle lifetime: the cookie's Max-Age and the stored session's expiry, extended as it is
    /// used.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Extend a used session's stored expiry at most this often ([`DEFAULT_TOUCH_AFTER`]).
    pub fn touch_after(mut self, touch_after: Duration) -> Self {
        self.touch_after = touch_after;
        self
    }

    /// No session outlives this since sign-in, however active.
    pub fn absolute_ttl(mut self, absolute_ttl: Duration) -> Self {
        self.absolute_ttl = absolute_ttl;
        self
    }

    /// Sends the cookie without `Secure`, so it works over plain HTTP: for local development
    /// and tests only, never behind a public address. Give the cookie a name without the
    /// `__Host-`/`__Secure-` prefix too (browsers drop prefixed cookies without `Secure`);
    /// [`build`](Self::build) refuses the combination.
    pub fn insecure_development(mut self) -> Self {
        self.insecure_development = true;
        self
    }

    /// The layer, with `auth`'s clock.
    ///
    /// # Errors
    /// [`SetupError`] for a short secret, the JWT secret reused, a non-positive or
    /// contradictory lifetime, or plain-HTTP development with a prefixed cookie name.
    pub fn build(self, auth: &AuthService) -> Result<SessionLayer, SetupError> {
        let secret = self.secret.expose_secret().as_bytes();
        let mut cookie = SessionCookieSettings::new(secret)?
            .name(self.cookie_name)
            .ttl(self.ttl);
        if auth.tokens().shares_secret(secret) {
            return Err(SetupError::SharedSecret);
        }
        for (name, value) in [
            ("touch_after", self.touch_after),
            ("absolute_ttl", self.absolute_ttl),
            ("ttl", self.ttl),
        ] {
            if value <= Duration::ZERO {
                return Err(SetupError::NonPositive(name));
            }
        }
        if self.touch_after >= self.ttl || self.absolute_ttl < self.ttl {
            return Err(SetupError::Lifetimes);
        }
        if self.insecure_development {
            cookie = cookie.insecure_development();
            // A `__Host-`/`__Secure-` name stays Secure whatever it is told.
            if cookie.is_secure() {
                return Err(SetupError::PrefixedNameNeedsSecure(
                    cookie.cookie_name().to_owned(),
                ));
            }
        }
        let store =
            RepositorySessionStore::new(self.repository, auth.clock().clone(), self.touch_after)
                .absolute_ttl(self.absolute_ttl);
        let flows = FlowCookie::new(secret, cookie.cookie_name(), cookie.is_secure());
        Ok(SessionLayer {
            store,
            cookie,
            flows,
        })
    }
}

/// The session middleware of [`SessionLayer::middleware`]: `.wrap(layer.middleware())`.
#[derive(Clone)]
pub struct SessionMount {
    inner: SessionMiddleware<RepositorySessionStore>,
    clock: Arc<dyn Clock>,
}

/// Left in the request's extensions by [`SessionMount`]: the clock the session store judges
/// expiry by, which [`log_in`] stamps the sign-in with.
#[derive(Clone)]
struct Mounted(Arc<dyn Clock>);

/// `log_in` ran on a route the session middleware does not wrap.
#[derive(Debug, Error)]
#[error("log_in on a route outside the session middleware: no session cookie could be set")]
struct NotMounted;

impl<S, B> Transform<S, ServiceRequest> for SessionMount
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = MountService<
        <SessionMiddleware<RepositorySessionStore> as Transform<S, ServiceRequest>>::Transform,
    >;
    type InitError = ();
    type Future = LocalBoxFuture<'static, Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let inner = self.inner.new_transform(service);
        let clock = self.clock.clone();
        Box::pin(async move {
            Ok(MountService {
                service: inner.await?,
                clock,
            })
        })
    }
}

/// The service [`SessionMount`] wraps a route in.
pub struct MountService<T> {
    service: T,
    clock: Arc<dyn Clock>,
}

impl<T, B> Service<ServiceRequest> for MountService<T>
where
    T: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = T::Future;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        req.extensions_mut().insert(Mounted(self.clock.clone()));
        self.service.call(req)
    }
}

/// `500 internal` unless `req` came through [`SessionMount`]: what signs someone in checks it
/// before doing anything else, so a misrouted handler changes nothing.
pub(crate) fn ensure_mounted(req: &HttpRequest) -> Result<(), ApiError> {
    mounted_clock(req).map(drop)
}

fn mounted_clock(req: &HttpRequest) -> Result<Arc<dyn Clock>, ApiError> {
    req.extensions()
        .get::<Mounted>()
        .map(|mounted| mounted.0.clone())
        .ok_or_else(|| ApiError::internal(NotMounted))
}

/// Signs `user` into the request's session under a new id (no fixation), bound to their token
/// version, recording the sign-in time (by the session store's clock, the one its expiry is
/// judged by) and the browser's user agent and address for the sessions list. The address
/// is the one a registered `web::Data<`[`ClientIp`]`>` sees (proxy-aware), else the TCP peer.
///
/// # Errors
/// `500 internal` when the session cannot hold the data, or when the route is not wrapped in
/// [`SessionLayer::middleware`] (no cookie could be set there: a programming error, logged).
pub fn log_in(session: &AuthSession, req: &HttpRequest, user: &User) -> Result<(), ApiError> {
    let now = mounted_clock(req)?.now();
    let client = req
        .app_data::<actix_web::web::Data<ClientIp>>()
        .map_or_else(ClientIp::default, |c| *c.get_ref());
    let ip = client.of_request(req).to_string();
    let device = Device {
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
        ip: Some(&ip),
    };
    session
        .log_in(&user.id, user.token_version, now, &device)
        .map_err(ApiError::internal)
}
