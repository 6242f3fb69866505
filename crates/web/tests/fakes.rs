//! The web layer over the in-memory fakes, as `docs/library.md` shows: the extractor's rules
//! (Bearer spelling, orphaned and outdated sessions) and the error table, through
//! `actix_web::test`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::{test, web, App, HttpResponse};
use altrion_domain::{SessionRepository, UserRepository};
use altrion_web::{Authenticated, MeBody, SessionLayer};
use serde_json::{json, Value};

// docs/library.md shows this group and `fast_auth` as they are.
use altrion_auth::{
    Argon2Settings, AuthService, PasswordHasher, SecretString, TokenService, TokenSettings,
};
use altrion_domain::TestClock;
use altrion_storage::memory::{MemorySessionRepository, MemoryUserRepository};
use std::sync::Arc;

fn fast_auth(
    users: Arc<MemoryUserRepository>,
    sessions: Arc<MemorySessionRepository>,
) -> AuthService {
    let fast = Argon2Settings {
        memory_kib: 64,
        iterations: 1,
        ..Argon2Settings::default()
    };
    let secret = SecretString::from("a-test-jwt-secret-of-at-least-32-bytes");
    AuthService::builder(
        users,
        sessions,
        TokenService::new(&TokenSettings::with_secret(secret)).unwrap(),
    )
    .hasher(PasswordHasher::insecure_fast(&fast).unwrap())
    .clock(Arc::new(TestClock::starting_now()))
    .build()
    .unwrap()
}

const SESSION_SECRET: &str = "a-test-session-secret-of-at-least-32-bytes";

async fn me(caller: Authenticated) -> HttpResponse {
    HttpResponse::Ok().json(MeBody::of(&caller.user))
}

struct Fixture {
    users: Arc<MemoryUserRepository>,
    sessions: Arc<MemorySessionRepository>,
    auth: AuthService,
    token: String,
}

async fn fixture() -> Fixture {
    let users = Arc::new(MemoryUserRepository::new());
    let sessions = Arc::new(MemorySessionRepository::new());
    let auth = fast_auth(users.clone(), sessions.clone());
    let signed_up = auth
        .signup(altrion_auth::SignupRequest {
            name: "Ada".into(),
            email: "ada@example.com".into(),
            password: "correct horse battery".into(),
        })
        .await
        .unwrap();
    Fixture {
        users,
        sessions,
        auth,
        token: signed_up.token.token,
    }
}

/// `/me` and `/sign-in` behind `layer`.
macro_rules! app_with {
    ($fixture:expr, $layer:expr) => {
        test::init_service(
            App::new()
                .configure(altrion_web::api($fixture.auth.clone()))
                .wrap($layer.middleware())
                .route("/me", web::get().to(me))
                .route(
                    "/sign-in",
                    web::post().to(altrion_web::handlers::session_login),
                )
                .route(
                    "/password",
                    web::post().to(altrion_web::handlers::account::change_password),
                ),
        )
        .await
    };
}

/// The app over the fixture's sessions, with a plain-HTTP cookie `t.sid`.
macro_rules! app {
    ($fixture:expr) => {{
        let layer = SessionLayer::builder($fixture.sessions.clone(), &SESSION_SECRET.into())
            .insecure_development()
            .cookie_name("t.sid")
            .build(&$fixture.auth)
            .unwrap();
        app_with!($fixture, layer)
    }};
}

async fn code_of(response: actix_web::dev::ServiceResponse) -> String {
    let body: Value = test::read_body_json(response).await;
    body["error"]["code"].as_str().unwrap().to_owned()
}

/// Signs in through the app (as Ada, or as the email given) and returns the session cookie.
macro_rules! session_cookie {
    ($app:expr) => {
        session_cookie!($app, "ada@example.com")
    };
    ($app:expr, $email:expr) => {{
        let req = test::TestRequest::post()
            .uri("/sign-in")
            .set_json(json!({ "email": $email, "password": "correct horse battery" }))
            .to_request();
        let response = test::call_service($app, req).await;
        assert_eq!(response.status(), 200);
        response
            .response()
            .cookies()
            .find(|c| c.name() == "t.sid")
            .expect("a session cookie")
            .into_owned()
    }};
}

macro_rules! me_with {
    ($app:expr, $cookie:expr) => {{
        let req = test::TestRequest::get()
            .uri("/me")
            .cookie($cookie.clone())
            .to_request();
        test::call_service($app, req).await
    }};
}

#[actix_web::test]
async fn the_bearer_scheme_is_case_insensitive_and_the_token_trimmed() {
    let f = fixture().await;
    let app = app!(f);
    for header in [
        format!("Bearer {}", f.token),
        format!("bearer {}", f.token),
        format!("BEARER   {}  ", f.token),
    ] {
        let req = test::TestRequest::get()
            .uri("/me")
            .insert_header(("authorization", header.as_str()))
            .to_request();
        let response = test::call_service(&app, req).await;
        assert_eq!(response.status(), 200, "{header:?}");
    }
    // With a signed-in browser's cookie too: a header that is not a usable token is a 401,
    // never a fall-back to the cookie.
    let cookie = session_cookie!(&app);
    for header in ["Basic abc", "Bearer", "Bearer ", "Token x"] {
        for with_cookie in [false, true] {
            let mut req = test::TestRequest::get()
                .uri("/me")
                .insert_header(("authorization", header));
            if with_cookie {
                req = req.cookie(cookie.clone());
            }
            let response = test::call_service(&app, req.to_request()).await;
            assert_eq!(response.status(), 401, "{header:?}, cookie: {with_cookie}");
            assert_eq!(code_of(response).await, "unauthorized");
        }
    }
    assert_eq!(
        me_with!(&app, cookie).status(),
        200,
        "the cookie alone works"
    );
}

fn ada() -> altrion_domain::Email {
    altrion_domain::Email::parse("ada@example.com").unwrap()
}

#[actix_web::test]
async fn a_session_whose_user_is_gone_is_deleted() {
    let f = fixture().await;
    let app = app!(f);
    let cookie = session_cookie!(&app);
    assert_eq!(me_with!(&app, cookie).status(), 200);
    assert_eq!(f.sessions.len(), 1);

    let user = f.users.find_by_email(&ada()).await.unwrap().unwrap();
    assert!(f.users.delete(&user.id, user.token_version).await.unwrap());
    let response = me_with!(&app, cookie);
    assert_eq!(response.status(), 401);
    assert_eq!(code_of(response).await, "unauthorized");
    assert_eq!(f.sessions.len(), 0, "the orphaned session is deleted");
}

#[actix_web::test]
async fn a_session_from_before_log_out_everywhere_is_void() {
    let f = fixture().await;
    let app = app!(f);
    let cookie = session_cookie!(&app);
    let user = f.users.find_by_email(&ada()).await.unwrap().unwrap();
    // The version moves on behind the session's back (as if deleting it had failed).
    f.users
        .bump_token_version(&user.id, f.auth.clock().now())
        .await
        .unwrap();
    let response = me_with!(&app, cookie);
    assert_eq!(response.status(), 401);
    assert_eq!(f.sessions.len(), 0);
    assert!(f
        .sessions
        .list_for_user(&user.id, f.auth.clock().now())
        .await
        .unwrap()
        .is_empty());
}

#[actix_web::test]
async fn session_login_answers_the_user_only_and_a_wrong_password_writes_no_session() {
    let f = fixture().await;
    let app = app!(f);
    let req = test::TestRequest::post()
        .uri("/sign-in")
        .set_json(json!({"email": "ada@example.com", "password": "wrong horse battery"}))
        .to_request();
    let response = test::call_service(&app, req).await;
    assert_eq!(response.status(), 401);
    assert_eq!(response.response().cookies().count(), 0);
    assert_eq!(code_of(response).await, "invalid_credentials");
    assert_eq!(f.sessions.len(), 0);

    let req = test::TestRequest::post()
        .uri("/sign-in")
        .set_json(json!({"email": "ada@example.com", "password": "correct horse battery"}))
        .to_request();
    let response = test::call_service(&app, req).await;
    assert_eq!(response.status(), 200);
    let cookie = response.response().cookies().next().unwrap().into_owned();
    assert_eq!(cookie.http_only(), Some(true));
    let body: Value = test::read_body_json(response).await;
    assert_eq!(body["user"]["email"], "ada@example.com");
    // Every JWT starts with its base64url header, `eyJ`.
    assert!(
        !body.to_string().contains("eyJ"),
        "no token in the body: {body}"
    );
    assert_eq!(f.sessions.len(), 1);
    assert_eq!(me_with!(&app, cookie).status(), 200);
}

#[actix_web::test]
async fn signing_in_outside_the_session_middleware_fails_instead_of_pretending() {
    let f = fixture().await;
    let app = test::init_service(
        App::new()
            .configure(altrion_web::api(f.auth.clone()))
            .route(
                "/sign-in",
                web::post().to(altrion_web::handlers::session_login),
            ),
    )
    .await;
    let req = test::TestRequest::post()
        .uri("/sign-in")
        .set_json(json!({"email": "ada@example.com", "password": "correct horse battery"}))
        .to_request();
    let response = test::call_service(&app, req).await;
    assert_eq!(response.status(), 500);
    assert_eq!(response.response().cookies().count(), 0);
    assert_eq!(code_of(response).await, "internal");
    assert_eq!(f.sessions.len(), 0);
    // Refused before the password is checked: wrong ones answer the same and count for
    // nothing, so more of them than the lockout allows leave the account open.
    for _ in 0..6 {
        let req = test::TestRequest::post()
            .uri("/sign-in")
            .set_json(json!({"email": "ada@example.com", "password": "wrong horse battery"}))
            .to_request();
        assert_eq!(test::call_service(&app, req).await.status(), 500);
    }
    f.auth
        .login(altrion_auth::LoginRequest {
            email: "ada@example.com".into(),
            password: "correct horse battery".into(),
        })
        .await
        .expect("no failed attempt was counted");
}

#[actix_web::test]
async fn use_case_errors_answer_from_the_table() {
    let f = fixture().await;
    let app = app!(f);
    let req = test::TestRequest::post()
        .uri("/sign-in")
        .set_json(json!({"email": "nobody@example.com", "password": "correct horse battery"}))
        .to_request();
    let response = test::call_service(&app, req).await;
    assert_eq!(response.status(), 401);
    assert_eq!(code_of(response).await, "invalid_credentials");
    let req = test::TestRequest::post()
        .uri("/sign-in")
        .insert_header(("content-type", "text/plain"))
        .set_payload("{}")
        .to_request();
    let response = test::call_service(&app, req).await;
    assert_eq!(response.status(), 415);
    assert_eq!(code_of(response).await, "unsupported_media_type");
}

#[actix_web::test]
async fn the_session_cookie_is_secure_unless_development_is_asked_for() {
    let f = fixture().await;
    macro_rules! signed_in_cookie {
        ($layer:expr) => {{
            let layer = $layer;
            let app = app_with!(f, layer);
            let req = test::TestRequest::post()
                .uri("/sign-in")
                .set_json(json!({"email": "ada@example.com", "password": "correct horse battery"}))
                .to_request();
            let response = test::call_service(&app, req).await;
            let cookie = response.response().cookies().next().expect("a session cookie");
            cookie.into_owned()
        }};
    }
    let builder = || SessionLayer::builder(f.sessions.clone(), &SESSION_SECRET.into());

    let layer = builder().build(&f.auth).unwrap();
    assert_eq!(layer.cookie_name(), "__Host-altrion.sid");
    let cookie = signed_in_cookie!(layer);
    assert_eq!(cookie.name(), "__Host-altrion.sid");
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(actix_web::cookie::SameSite::Lax));

    let development = builder().insecure_development().cookie_name("dev.sid");
    let cookie = signed_in_cookie!(development.build(&f.auth).unwrap());
    assert_eq!(cookie.secure(), None);

    // Development mode with a `__Host-` name is refused: browsers drop such a cookie.
    let prefixed = builder().insecure_development().build(&f.auth);
    assert!(matches!(
        prefixed,
        Err(altrion_web::SetupError::PrefixedNameNeedsSecure(_))
    ));
}

#[actix_web::test]
async fn the_session_layer_refuses_weak_or_reused_secrets_and_empty_lifetimes() {
    let f = fixture().await;
    let build =
        |secret: &str| SessionLayer::builder(f.sessions.clone(), &secret.into()).build(&f.auth);
    assert!(matches!(
        build("too short"),
        Err(altrion_web::SetupError::WeakSecret(_))
    ));
    assert!(matches!(
        build("a-test-jwt-secret-of-at-least-32-bytes"),
        Err(altrion_web::SetupError::SharedSecret)
    ));
    assert!(build(SESSION_SECRET).is_ok());
    let builder = || SessionLayer::builder(f.sessions.clone(), &SESSION_SECRET.into());
    let zero = altrion_auth::Duration::ZERO;
    for (layer, name) in [
        (builder().ttl(zero), "ttl"),
        (builder().touch_after(zero), "touch_after"),
        (builder().absolute_ttl(zero), "absolute_ttl"),
    ] {
        assert!(
            matches!(layer.build(&f.auth), Err(altrion_web::SetupError::NonPositive(n)) if n == name),
            "{name}"
        );
    }
    let hour = altrion_auth::Duration::hours(1);
    for contradictory in [
        builder().ttl(hour).touch_after(hour),
        builder()
            .ttl(hour)
            .absolute_ttl(hour - altrion_auth::Duration::SECOND),
    ] {
        assert!(matches!(
            contradictory.build(&f.auth),
            Err(altrion_web::SetupError::Lifetimes)
        ));
    }
    assert!(builder()
        .ttl(hour)
        .absolute_ttl(hour)
        .build(&f.auth)
        .is_ok());
}

#[actix_web::test]
async fn a_session_store_outage_is_a_json_503() {
    let f = fixture().await;
    let app = app!(f);
    let cookie = session_cookie!(&app);
    // The same cookie key, over a database that is down.
    let down = Arc::new(altrion_storage::memory::Unreachable);
    let layer = SessionLayer::builder(down, &SESSION_SECRET.into())
        .insecure_development()
        .cookie_name("t.sid")
        .build(&f.auth)
        .unwrap();
    let app = test::init_service(
        App::new()
            .configure(altrion_web::api(f.auth.clone()))
            .wrap(layer.middleware())
            .wrap(actix_web::middleware::from_fn(
                altrion_web::middleware_errors_as_json,
            ))
            .route("/me", web::get().to(me)),
    )
    .await;
    let req = test::TestRequest::get()
        .uri("/me")
        .cookie(cookie.clone())
        .to_request();
    // What actix sends for a middleware's error is that error's response.
    let err = test::try_call_service(&app, req)
        .await
        .expect_err("the session middleware fails");
    let response = err.error_response();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers().get("retry-after").unwrap(), "5");
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    assert_eq!(
        response.headers().get("x-content-type-options").unwrap(),
        "nosniff"
    );
    let body = actix_web::body::to_bytes(response.into_body())
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "service_unavailable");
}

/// A password change by Bearer token renews the cookie session only when it is the caller's:
/// a request with Ada's JWT and Bob's cookie must not sign Bob's browser in as Ada.
#[actix_web::test]
async fn a_password_change_never_hands_another_users_session_to_the_caller() {
    let f = fixture().await;
    f.auth
        .signup(altrion_auth::SignupRequest {
            name: "Bob".into(),
            email: "bob@example.com".into(),
            password: "correct horse battery".into(),
        })
        .await
        .unwrap();
    let app = app!(f);
    let bobs = session_cookie!(&app, "bob@example.com");
    let req = test::TestRequest::post()
        .uri("/password")
        .insert_header(("authorization", format!("Bearer {}", f.token)))
        .cookie(bobs.clone())
        .set_json(json!({
            "current_password": "correct horse battery",
            "new_password": "a brand new passphrase"
        }))
        .to_request();
    let response = test::call_service(&app, req).await;
    assert_eq!(response.status(), 200);
    // The cookie slides on every request, so Bob's may come back, but only as it was: no new
    // session id for the browser.
    assert!(
        response
            .response()
            .cookies()
            .all(|c| c.name() != "t.sid" || c.value() == bobs.value()),
        "Bob's browser is handed another session"
    );
    let response = me_with!(&app, bobs);
    assert_eq!(response.status(), 200);
    let body: Value = test::read_body_json(response).await;
    assert_eq!(body["user"]["email"], "bob@example.com");
}
