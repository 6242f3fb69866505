//! The cookie: what it looks like, when it is set, and that only a genuine one is honoured.

use actix_web::{
    cookie::{Cookie, SameSite},
    http::StatusCode,
    test,
};
use altrion_domain::{Clock as _, UserId};
use altrion_session::derive_cookie_key;
use time::Duration;

use super::harness::{body_of, send, session_cookie, Harness, NAME};
use crate::support::{Counts, TTL};

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

    // Renaming the cookie keeps it Secure; only `insecure_development` drops that.
    let h = Harness::with_cookie(NAME, true);
    let app = test::init_service(h.app()).await;
    let cookie = session_cookie(&send!(app, post "/login/u1")).unwrap();
    assert_eq!(cookie.name(), NAME);
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
    let genuine = h.signed(&raw, &h.key);
    assert_eq!(body_of(send!(app, get "/me", genuine)).await, "u1");
}
