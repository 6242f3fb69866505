//! The session over several requests: flow data, expiry, sliding, races and failures.

use actix_web::{http::StatusCode, test};
use altrion_domain::{Clock as _, SessionRepository as _, SessionState};
use altrion_session::USER_ID_KEY;
use serde_json::json;
use time::Duration;

use super::harness::{body_of, send, session_cookie, Harness};
use crate::support::{record, Counts, TOUCH_AFTER, TTL};

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
    // ...but inside the window the document is not rewritten, nor is a touch even sent: the
    // store saw `lastModified` when it loaded the session for this request.
    assert_eq!(Counts::get(&h.counting.counts.touch), 0);
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

    let res = send!(app, get "/me", h.signed(&raw, &h.key));
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_of(res).await, "anonymous");
}

#[actix_web::test]
async fn an_unavailable_store_is_an_opaque_500_only_for_session_requests() {
    let h = Harness::failing();
    let app = test::init_service(h.app()).await;

    assert_eq!(send!(app, get "/noop").status(), StatusCode::OK);

    let valid_cookie = h.signed(&"Q".repeat(64), &h.key);
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
