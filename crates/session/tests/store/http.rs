//! The middleware as the app will wire it, driven through actix-web's test service on the
//! in-memory repository.

use std::sync::Arc;

use actix_web::{
    body::MessageBody,
    cookie::{Cookie, CookieJar, Key, SameSite},
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    error::ErrorInternalServerError,
    http::StatusCode,
    test, web, App, HttpResponse,
};
use altrion_domain::{Clock as _, SessionRepository, SessionState, TestClock, UserId};
use altrion_session::{
    derive_cookie_key, session_middleware, AuthSession, RepositorySessionStore,
    SessionCookieSettings, USER_ID_KEY,
};
use altrion_storage::memory::MemorySessionRepository;
use serde_json::json;
use time::Duration;

use crate::support::{
    record, start, CountingRepository, Counts, UnavailableRepository, TOUCH_AFTER, TTL,
};

const NAME: &str = "altrion.sid";

struct Harness {
    memory: Arc<MemorySessionRepository>,
    counting: Arc<CountingRepository>,
    repo: Arc<dyn SessionRepository>,
    clock: TestClock,
    settings: SessionCookieSettings,
}

impl Harness {
    fn new() -> Self {
        Self::with_cookie(NAME, false)
    }

    fn with_cookie(name: &str, secure: bool) -> Self {
        let memory = Arc::new(MemorySessionRepository::new());
        let counting = CountingRepository::new(memory.clone());
        Self {
            repo: counting.clone(),
            memory,
            counting,
            clock: TestClock::at(start()),
            settings: SessionCookieSettings {
                name: name.to_owned(),
                secure,
                ttl: TTL,
                key: derive_cookie_key(&[42; 32]).unwrap(),
            },
        }
    }

    fn failing() -> Self {
        let mut harness = Self::new();
        harness.repo = Arc::new(UnavailableRepository);
        harness
    }

    fn app(
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
            .route("/noop", web::get().to(|| async { "ok" }))
            .route("/me", web::get().to(me))
            .route("/login/{user}", web::post().to(login))
            .route("/logout", web::post().to(logout))
            .route("/flow", web::post().to(start_flow))
            .route("/flow", web::get().to(take_flow))
            .route("/raced", web::post().to(raced_by_log_out_everywhere))
    }

    /// Signs `raw` the way the middleware does, with the harness's key or another one.
    fn signed(&self, raw: &str, key: &Key) -> Cookie<'static> {
        let mut jar = CookieJar::new();
        jar.signed_mut(key)
            .add(Cookie::new(self.settings.name.clone(), raw.to_owned()));
        jar.get(&self.settings.name).unwrap().clone()
    }

    /// The session key inside a cookie the middleware set.
    fn key_in(&self, cookie: &Cookie<'static>) -> String {
        let mut jar = CookieJar::new();
        jar.add_original(cookie.clone());
        jar.signed(&self.settings.key)
            .get(&self.settings.name)
            .unwrap()
            .value()
            .to_owned()
    }
}

async fn me(session: AuthSession) -> actix_web::Result<String> {
    let user = session.current_user().map_err(ErrorInternalServerError)?;
    Ok(user.map_or_else(|| "anonymous".to_owned(), |u| u.to_string()))
}

async fn login(session: AuthSession, user: web::Path<String>) -> actix_web::Result<&'static str> {
    session
        .log_in(&UserId::new(user.into_inner()))
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

fn session_cookie<B>(res: &ServiceResponse<B>) -> Option<Cookie<'static>> {
    res.response()
        .cookies()
        .find(|c| c.name().ends_with(NAME))
        .map(Cookie::into_owned)
}

async fn body_of<B: MessageBody>(res: ServiceResponse<B>) -> String {
    String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
}

macro_rules! send {
    ($app:expr, $method:ident $uri:expr $(, $cookie:expr)?) => {{
        let req = test::TestRequest::$method().uri($uri);
        $(let req = req.cookie($cookie.clone());)?
        test::call_service(&$app, req.to_request()).await
    }};
}

#[actix_web::test]
async fn a_request_that_never_touches_the_session_sets_no_cookie_and_writes_nothing() {
    let h = Harness::new();
    let app = test::init_service(h.app()).await;

    let res = send!(app, get "/noop");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(session_cookie(&res).is_none());
    let res = send!(app, get "/me");
    assert!(session_cookie(&res).is_none());
    assert_eq!(body_of(res).await, "anonymous");

    assert_eq!(h.counting.counts.total(), 0);
    assert!(h.memory.is_empty());
}

#[actix_web::test]
async fn log_in_sets_a_hardened_session_cookie() {
    let h = Harness::new();
    let app = test::init_service(h.app()).await;

    let res = send!(app, post "/login/u1");
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = session_cookie(&res).unwrap();
    assert_eq!(cookie.name(), NAME);
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(SameSite::Lax));
    assert_eq!(cookie.path(), Some("/"));
    assert_eq!(cookie.max_age(), Some(Duration::seconds(86_400)));
    assert_eq!(cookie.domain(), None);
    assert_ne!(cookie.secure(), Some(true));

    let stored = h.memory.all();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].user_id, Some(UserId::new("u1")));
    assert_eq!(stored[0].expires, h.clock.now() + TTL);

    assert_eq!(body_of(send!(app, get "/me", cookie)).await, "u1");
}

#[actix_web::test]
async fn production_cookies_are_secure_and_host_prefixed() {
    let h = Harness::with_cookie("__Host-altrion.sid", true);
    let app = test::init_service(h.app()).await;
    let cookie = session_cookie(&send!(app, post "/login/u1")).unwrap();
    assert_eq!(cookie.name(), "__Host-altrion.sid");
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(cookie.path(), Some("/"));
    assert_eq!(cookie.domain(), None);

    // A prefixed name is useless without Secure, so it is forced on.
    let h = Harness::with_cookie("__Host-altrion.sid", false);
    let app = test::init_service(h.app()).await;
    let cookie = session_cookie(&send!(app, post "/login/u1")).unwrap();
    assert_eq!(cookie.secure(), Some(true));
}

#[actix_web::test]
async fn logging_in_again_moves_the_session_to_a_new_key() {
    let h = Harness::new();
    let app = test::init_service(h.app()).await;

    let first = session_cookie(&send!(app, post "/login/u1")).unwrap();
    let first_ids: Vec<_> = h.memory.all().into_iter().map(|r| r.id).collect();

    let second = session_cookie(&send!(app, post "/login/u2", first)).unwrap();
    assert_ne!(h.key_in(&first), h.key_in(&second));
    let stored = h.memory.all();
    assert_eq!(stored.len(), 1, "the old document must be gone");
    assert!(!first_ids.contains(&stored[0].id));
    assert_eq!(stored[0].user_id, Some(UserId::new("u2")));

    assert_eq!(body_of(send!(app, get "/me", first)).await, "anonymous");
    assert_eq!(body_of(send!(app, get "/me", second)).await, "u2");
}

#[actix_web::test]
async fn a_session_planted_before_log_in_is_worthless_after_it() {
    let h = Harness::new();
    let app = test::init_service(h.app()).await;

    // The attacker obtains an anonymous session and plants its cookie in the victim's browser.
    let planted = session_cookie(&send!(app, post "/flow")).unwrap();
    assert_eq!(h.memory.len(), 1);

    let victim = session_cookie(&send!(app, post "/login/victim", planted)).unwrap();
    assert_ne!(h.key_in(&planted), h.key_in(&victim));
    assert_eq!(body_of(send!(app, get "/me", planted)).await, "anonymous");
    assert_eq!(body_of(send!(app, get "/me", victim)).await, "victim");
    // log_in dropped the flow data along with the old key.
    assert_eq!(body_of(send!(app, get "/flow", victim)).await, "none");
    assert_eq!(h.memory.len(), 1);
}

#[actix_web::test]
async fn oauth_flow_data_is_single_use() {
    let h = Harness::new();
    let app = test::init_service(h.app()).await;

    let cookie = session_cookie(&send!(app, post "/flow")).unwrap();
    let stored = h.memory.all();
    assert_eq!(stored[0].state["oauth_state"], json!("s-123"));
    assert_eq!(stored[0].user_id, None);

    assert_eq!(body_of(send!(app, get "/flow", cookie)).await, "s-123");
    assert!(!h.memory.all()[0].state.contains_key("oauth_state"));
    let updates = Counts::get(&h.counting.counts.update_state);
    assert_eq!(body_of(send!(app, get "/flow", cookie)).await, "none");
    assert_eq!(
        Counts::get(&h.counting.counts.update_state),
        updates,
        "taking a missing value writes nothing"
    );
}

#[actix_web::test]
async fn log_out_purges_the_session_and_removes_the_cookie() {
    let h = Harness::new();
    let app = test::init_service(h.app()).await;
    let cookie = session_cookie(&send!(app, post "/login/u1")).unwrap();

    let res = send!(app, post "/logout", cookie);
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let removal = session_cookie(&res).unwrap();
    assert_eq!(removal.value(), "");
    assert_eq!(removal.max_age(), Some(Duration::ZERO));
    assert!(h.memory.is_empty());

    assert_eq!(body_of(send!(app, get "/me", cookie)).await, "anonymous");
}

#[actix_web::test]
async fn a_tampered_or_forged_cookie_is_ignored() {
    let h = Harness::new();
    let app = test::init_service(h.app()).await;
    let cookie = session_cookie(&send!(app, post "/login/u1")).unwrap();
    let raw = h.key_in(&cookie);
    let loads_before = Counts::get(&h.counting.counts.find_active);

    let mut tampered = cookie.value().to_owned();
    let last = if tampered.ends_with('a') { 'b' } else { 'a' };
    tampered.pop();
    tampered.push(last);
    let tampered = Cookie::new(NAME, tampered);
    assert_eq!(body_of(send!(app, get "/me", tampered)).await, "anonymous");

    let forged = h.signed(&raw, &derive_cookie_key(&[7; 32]).unwrap());
    assert_eq!(body_of(send!(app, get "/me", forged)).await, "anonymous");

    let unsigned = Cookie::new(NAME, raw.clone());
    assert_eq!(body_of(send!(app, get "/me", unsigned)).await, "anonymous");
    assert_eq!(
        Counts::get(&h.counting.counts.find_active),
        loads_before,
        "a cookie failing verification never reaches the store"
    );

    // Control: the same key, correctly signed, is accepted.
    let genuine = h.signed(&raw, &h.settings.key);
    assert_eq!(body_of(send!(app, get "/me", genuine)).await, "u1");
}

#[actix_web::test]
async fn an_expired_session_gives_no_user() {
    let h = Harness::new();
    let app = test::init_service(h.app()).await;
    let cookie = session_cookie(&send!(app, post "/login/u1")).unwrap();

    h.clock.advance(TTL);
    let res = send!(app, get "/me", cookie);
    assert!(session_cookie(&res).is_none());
    assert_eq!(body_of(res).await, "anonymous");
    assert_eq!(Counts::get(&h.counting.counts.touch), 0);
}

#[actix_web::test]
async fn requests_slide_the_expiry_at_most_once_per_touch_window() {
    let h = Harness::new();
    let app = test::init_service(h.app()).await;
    let cookie = session_cookie(&send!(app, post "/login/u1")).unwrap();
    let saved = h.memory.all()[0].clone();
    let writes_before =
        Counts::get(&h.counting.counts.insert) + Counts::get(&h.counting.counts.update_state);

    h.clock.advance(TOUCH_AFTER - Duration::minutes(1));
    let res = send!(app, get "/me", cookie);
    // The cookie's Max-Age is refreshed on every request...
    assert_eq!(
        session_cookie(&res).unwrap().max_age(),
        Some(Duration::seconds(86_400))
    );
    // ...but the document is not rewritten inside the window.
    assert_eq!(Counts::get(&h.counting.counts.touch), 1);
    assert_eq!(Counts::get(&h.counting.counts.touch_wrote), 0);
    assert_eq!(h.memory.all()[0], saved);

    h.clock.advance(Duration::minutes(2));
    let _ = send!(app, get "/me", cookie);
    assert_eq!(Counts::get(&h.counting.counts.touch_wrote), 1);
    assert_eq!(h.memory.all()[0].expires, h.clock.now() + TTL);
    assert_eq!(
        Counts::get(&h.counting.counts.insert) + Counts::get(&h.counting.counts.update_state),
        writes_before
    );
}

#[actix_web::test]
async fn a_state_change_racing_log_out_everywhere_leaves_no_session() {
    let h = Harness::new();
    let app = test::init_service(h.app()).await;
    let cookie = session_cookie(&send!(app, post "/login/u1")).unwrap();

    let res = send!(app, post "/raced", cookie);
    assert_eq!(res.status(), StatusCode::OK);
    assert!(h.memory.is_empty(), "the session must not be recreated");
    assert_eq!(
        Counts::get(&h.counting.counts.insert),
        1,
        "only the log-in saved"
    );
    let replayed = session_cookie(&res).unwrap_or(cookie);
    assert_eq!(body_of(send!(app, get "/me", replayed)).await, "anonymous");
}

#[actix_web::test]
async fn an_undecodable_stored_state_signs_nobody_in_and_is_not_an_error() {
    let h = Harness::new();
    let app = test::init_service(h.app()).await;
    let raw = "Q".repeat(64);
    let mut state = SessionState::new();
    state.insert(USER_ID_KEY.into(), json!("u1"));
    // The state names u1 but the mirror does not: "log out everywhere" could not find it.
    h.memory
        .insert(record(&raw, state, None, h.clock.now()))
        .await
        .unwrap();

    let res = send!(app, get "/me", h.signed(&raw, &h.settings.key));
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_of(res).await, "anonymous");
}

#[actix_web::test]
async fn an_unavailable_store_is_an_opaque_500_only_for_session_requests() {
    let h = Harness::failing();
    let app = test::init_service(h.app()).await;

    assert_eq!(send!(app, get "/noop").status(), StatusCode::OK);

    let valid_cookie = h.signed(&"Q".repeat(64), &h.settings.key);
    for req in [
        test::TestRequest::post().uri("/login/u1").to_request(),
        test::TestRequest::get()
            .uri("/me")
            .cookie(valid_cookie)
            .to_request(),
    ] {
        // The middleware fails the request; actix-web's HTTP layer renders the error.
        let err = match test::try_call_service(&app, req).await {
            Err(err) => err,
            Ok(res) => panic!("expected a store error, got {}", res.status()),
        };
        let res = err.error_response();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        assert!(body.is_empty(), "no internals in the body");
    }
}
