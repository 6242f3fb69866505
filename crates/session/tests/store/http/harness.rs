//! The app the tests drive: the middleware as apps/server will wire it, a handful of handlers
//! using `AuthSession`, and helpers to send requests and read cookies.

use std::sync::Arc;

use actix_web::{
    body::MessageBody,
    cookie::{Cookie, CookieJar, Key},
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    error::ErrorInternalServerError,
    test, web, App, HttpResponse,
};
use altrion_domain::{SessionRepository, TestClock, UserId};
use altrion_session::{
    derive_cookie_key, session_middleware, AuthSession, RepositorySessionStore,
    SessionCookieSettings,
};
use altrion_storage::memory::MemorySessionRepository;

use altrion_storage::memory::Unreachable;

use crate::support::{start, CountingRepository, TOUCH_AFTER, TTL};

pub const NAME: &str = "altrion.sid";
/// The session secret the harness's cookies are signed with.
const SECRET: [u8; 32] = [42; 32];

pub struct Harness {
    pub memory: Arc<MemorySessionRepository>,
    pub counting: Arc<CountingRepository>,
    pub repo: Arc<dyn SessionRepository>,
    pub clock: TestClock,
    pub settings: SessionCookieSettings,
    /// The key `settings` signs with.
    pub key: Key,
}

impl Harness {
    pub fn new() -> Self {
        Self::with_cookie(NAME, false)
    }

    pub fn with_cookie(name: &str, secure: bool) -> Self {
        let memory = Arc::new(MemorySessionRepository::new());
        let counting = CountingRepository::new(memory.clone());
        let settings = SessionCookieSettings::new(&SECRET)
            .unwrap()
            .name(name)
            .ttl(TTL);
        Self {
            repo: counting.clone(),
            memory,
            counting,
            clock: TestClock::at(start()),
            settings: if secure {
                settings
            } else {
                settings.insecure_development()
            },
            key: derive_cookie_key(&SECRET).unwrap(),
        }
    }

    pub fn failing() -> Self {
        let mut harness = Self::new();
        harness.repo = Arc::new(Unreachable);
        harness
    }

    pub fn app(
        &self,
    ) -> App<
        impl ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<impl MessageBody>,
            Error = actix_web::Error,
            InitError = (),
        >,
    > {
        let store = RepositorySessionStore::new(
            self.repo.clone(),
            Arc::new(self.clock.clone()),
            TOUCH_AFTER,
        );
        App::new()
            .wrap(session_middleware(store, &self.settings))
            .app_data(web::Data::from(self.memory.clone()))
            .app_data(web::Data::new(self.clock.clone()))
            .route("/noop", web::get().to(|| async { "ok" }))
            .route("/me", web::get().to(me))
            .route("/login/{user}", web::post().to(login))
            .route("/logout", web::post().to(logout))
            .route("/flow", web::post().to(start_flow))
            .route("/flow", web::get().to(take_flow))
            .route("/raced", web::post().to(raced_by_log_out_everywhere))
    }

    /// Signs `raw` the way the middleware does, with the harness's key or another one.
    pub fn signed(&self, raw: &str, key: &Key) -> Cookie<'static> {
        let mut jar = CookieJar::new();
        jar.signed_mut(key).add(Cookie::new(
            self.settings.cookie_name().to_owned(),
            raw.to_owned(),
        ));
        jar.get(self.settings.cookie_name()).unwrap().clone()
    }

    /// The session key inside a cookie the middleware set.
    pub fn key_in(&self, cookie: &Cookie<'static>) -> String {
        let mut jar = CookieJar::new();
        jar.add_original(cookie.clone());
        jar.signed(&self.key)
            .get(self.settings.cookie_name())
            .unwrap()
            .value()
            .to_owned()
    }
}

async fn me(session: AuthSession) -> actix_web::Result<String> {
    let user = session.current_user().map_err(ErrorInternalServerError)?;
    Ok(user.map_or_else(|| "anonymous".to_owned(), |u| u.to_string()))
}

async fn login(
    session: AuthSession,
    user: web::Path<String>,
    clock: web::Data<TestClock>,
) -> actix_web::Result<&'static str> {
    let now = altrion_domain::Clock::now(clock.get_ref());
    session
        .log_in(
            &UserId::new(user.into_inner()),
            0,
            now,
            &altrion_session::Device {
                user_agent: Some("harness/1.0"),
                ip: Some("192.0.2.1"),
            },
        )
        .map_err(ErrorInternalServerError)?;
    Ok("ok")
}

async fn logout(session: AuthSession) -> HttpResponse {
    session.log_out();
    HttpResponse::NoContent().finish()
}

async fn start_flow(session: AuthSession) -> actix_web::Result<&'static str> {
    session
        .insert("oauth_state", &"s-123")
        .map_err(ErrorInternalServerError)?;
    Ok("ok")
}

async fn take_flow(session: AuthSession) -> actix_web::Result<String> {
    let state = session
        .take::<String>("oauth_state")
        .map_err(ErrorInternalServerError)?;
    Ok(state.unwrap_or_else(|| "none".to_owned()))
}

/// Changes the session while "log out everywhere" completes on another device.
async fn raced_by_log_out_everywhere(
    session: AuthSession,
    repo: web::Data<MemorySessionRepository>,
) -> actix_web::Result<&'static str> {
    let user = session
        .current_user()
        .map_err(ErrorInternalServerError)?
        .ok_or_else(|| ErrorInternalServerError("not signed in"))?;
    session
        .insert("last_page", &"/settings")
        .map_err(ErrorInternalServerError)?;
    repo.delete_for_user(&user)
        .await
        .map_err(ErrorInternalServerError)?;
    Ok("ok")
}

pub fn session_cookie<B>(res: &ServiceResponse<B>) -> Option<Cookie<'static>> {
    res.response()
        .cookies()
        .find(|c| c.name().ends_with(NAME))
        .map(Cookie::into_owned)
}

pub async fn body_of<B: MessageBody>(res: ServiceResponse<B>) -> String {
    String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
}

/// Sends `METHOD uri` (optionally with a cookie) through the test service.
macro_rules! send {
    ($app:expr, $method:ident $uri:expr $(, $cookie:expr)?) => {{
        let req = test::TestRequest::$method().uri($uri);
        $(let req = req.cookie($cookie.clone());)?
        test::call_service(&$app, req.to_request()).await
    }};
}

pub(crate) use send;
