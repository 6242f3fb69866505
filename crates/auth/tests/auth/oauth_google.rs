use std::time::Duration;

use altrion_domain::{Email, Provider, UserRepository};
use serde_json::json;
use wiremock::{
    matchers::{method, path},
    Mock, ResponseTemplate,
};

use crate::oauth_support::{code_of, form, google_ada, s256, OAuthTest, CODE, FRONTEND};

#[tokio::test]
async fn authorize_url_asks_for_code_with_pkce_s256_and_the_minimal_scopes() {
    let app = OAuthTest::new().await;

    let (url, _) = app
        .service
        .start(altrion_auth::OAuthProvider::Google, None, None)
        .unwrap();

    assert!(url
        .as_str()
        .starts_with(&format!("{}/google/authorize?", app.server.uri())));
    let query = crate::oauth_support::query_map(&url);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], "google-client-id");
    assert_eq!(
        query["redirect_uri"],
        "http://api.test:8080/api/auth/google/callback"
    );
    assert_eq!(query["scope"], "openid email profile");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["code_challenge"].len(), 43, "SHA-256, base64url");
    // 128-bit state: 16 bytes, base64url without padding.
    assert_eq!(query["state"].len(), 22);
    let (again, _) = app
        .service
        .start(altrion_auth::OAuthProvider::Google, None, None)
        .unwrap();
    assert_ne!(
        crate::oauth_support::query_map(&again)["state"],
        query["state"]
    );
}

#[tokio::test]
async fn first_sign_in_creates_an_account_from_the_verified_profile() {
    let app = OAuthTest::new().await;
    app.google_token_ok().await;
    app.google_userinfo(google_ada()).await;

    let (query, pending) = app.start(Provider::Google);
    let signed_in = app
        .callback(
            Provider::Google,
            Some(query["state"].clone()),
            Some(pending),
        )
        .await
        .unwrap();

    assert!(signed_in.created && !signed_in.linked);
    assert_eq!(signed_in.redirect_to.as_str(), FRONTEND);
    let user = &signed_in.user;
    assert_eq!(user.provider, Provider::Google);
    assert_eq!(user.email.as_str(), "ada@gmail.com");
    assert_eq!(user.name.as_str(), "Ada Lovelace");
    assert!(user.password_hash.is_none());
    assert_eq!(
        user.avatar_url.as_deref(),
        Some("https://lh3.googleusercontent.com/a/ada")
    );
    assert_eq!(user.identities.len(), 1);
    assert_eq!(user.identities[0].subject, "108234567890123456789");
    assert!(user.identities[0].email_verified);
    let stored = app
        .users
        .find_by_identity(Provider::Google, "108234567890123456789")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.id, user.id);

    // The token request proves possession of the PKCE verifier behind the challenge.
    let token_requests = app.requests_to("/google/token").await;
    assert_eq!(token_requests.len(), 1);
    let body = form(&token_requests[0]);
    assert_eq!(body["grant_type"], "authorization_code");
    assert_eq!(body["code"], CODE);
    assert_eq!(body["client_id"], "google-client-id");
    assert_eq!(body["client_secret"], "google-client-secret");
    assert_eq!(
        body["redirect_uri"],
        "http://api.test:8080/api/auth/google/callback"
    );
    assert_eq!(s256(&body["code_verifier"]), query["code_challenge"]);
}

#[tokio::test]
async fn a_second_sign_in_reuses_the_account_and_changes_nothing() {
    let app = OAuthTest::new().await;
    app.google_token_ok().await;
    app.google_userinfo(google_ada()).await;
    let first = app.sign_in(Provider::Google).await.unwrap();

    app.server.reset().await;
    app.google_token_ok().await;
    let mut renamed = google_ada();
    renamed["name"] = json!("Countess of Lovelace");
    app.google_userinfo(renamed).await;
    let second = app.sign_in(Provider::Google).await.unwrap();

    assert!(!second.created && !second.linked);
    assert_eq!(second.user.id, first.user.id);
    assert_eq!(second.user.name.as_str(), "Ada Lovelace");
    assert_eq!(app.users.len(), 1);
}

#[tokio::test]
async fn an_unverified_email_creates_nothing() {
    let app = OAuthTest::new().await;
    app.google_token_ok().await;
    let mut unverified = google_ada();
    unverified["email_verified"] = json!(false);
    app.google_userinfo(unverified).await;

    assert_eq!(
        code_of(app.sign_in(Provider::Google).await),
        "email_not_verified"
    );
    assert!(app.users.is_empty());
}

#[tokio::test]
async fn an_email_of_an_existing_verified_account_is_not_merged() {
    let app = OAuthTest::new().await;
    let local = app.verified_local_user("ada@gmail.com").await;
    app.google_token_ok().await;
    app.google_userinfo(google_ada()).await;

    assert_eq!(
        code_of(app.sign_in(Provider::Google).await),
        "account_exists"
    );
    assert_eq!(app.users.len(), 1);
    let stored = app
        .users
        .find_by_email(&Email::parse("ada@gmail.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.id, local.id);
    assert!(stored.identities.is_empty(), "no identity was attached");
}

/// Someone signed up with Ada's address and never verified it; Ada's verified Google sign-in
/// takes the account over: the squatter's password, linked identities, JWTs and sessions go.
#[tokio::test]
async fn an_unverified_account_with_the_email_is_taken_over_by_its_verified_owner() {
    use altrion_domain::{Clock as _, Identity, SessionRepository as _};
    let app = OAuthTest::new().await;
    let squatted = app.local_user("ada@gmail.com").await;
    let now = app.clock.now();
    let squatter_github = Identity {
        provider: Provider::Github,
        subject: "666".into(),
        email: None,
        email_verified: true,
        linked_at: now,
    };
    app.users
        .link_identity(&squatted.id, squatter_github, now, 0)
        .await
        .unwrap();
    let session = altrion_domain::SessionRecord {
        id: altrion_domain::SessionId::from_hex("ab".repeat(32)).unwrap(),
        state: serde_json::Map::new(),
        expires: now + time::Duration::hours(1),
        last_modified: now,
        created_at: now,
        user_id: Some(squatted.id.clone()),
    };
    app.sessions.insert(session).await.unwrap();
    app.google_token_ok().await;
    app.google_userinfo(google_ada()).await;

    let signed_in = app.sign_in(Provider::Google).await.unwrap();

    assert!(signed_in.taken_over && signed_in.linked && !signed_in.created);
    let user = signed_in.user;
    assert_eq!(user.id, squatted.id);
    assert_eq!(user.password_hash, None, "the squatter's password is gone");
    assert_eq!(user.providers(), vec![Provider::Google]);
    assert!(user.email_verified);
    assert_eq!(
        user.token_version,
        squatted.token_version + 1,
        "squatter JWTs die"
    );
    assert!(app
        .sessions
        .list_for_user(&user.id, now)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(app.users.len(), 1);
    // Signing in again is an ordinary sign-in.
    let again = app.sign_in(Provider::Google).await.unwrap();
    assert!(!again.taken_over && !again.linked);
    assert_eq!(again.user.id, squatted.id);
}

#[tokio::test]
async fn provider_failures_are_provider_errors() {
    let app = OAuthTest::new().await;
    Mock::given(method("POST"))
        .and(path("/google/token"))
        .respond_with(ResponseTemplate::new(500).set_body_string("oops"))
        .mount(&app.server)
        .await;
    assert_eq!(
        code_of(app.sign_in(Provider::Google).await),
        "provider_error"
    );

    app.server.reset().await;
    Mock::given(method("POST"))
        .and(path("/google/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant", "error_description": "Bad Request"
        })))
        .mount(&app.server)
        .await;
    assert_eq!(
        code_of(app.sign_in(Provider::Google).await),
        "provider_error"
    );

    app.server.reset().await;
    app.google_token_ok().await;
    Mock::given(method("GET"))
        .and(path("/google/userinfo"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&app.server)
        .await;
    assert_eq!(
        code_of(app.sign_in(Provider::Google).await),
        "provider_error"
    );

    app.server.reset().await;
    app.google_token_ok().await;
    Mock::given(method("GET"))
        .and(path("/google/userinfo"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>not json</html>"))
        .mount(&app.server)
        .await;
    assert_eq!(
        code_of(app.sign_in(Provider::Google).await),
        "provider_error"
    );
    assert!(app.users.is_empty());
}

#[tokio::test]
async fn a_slow_provider_times_out() {
    let app = OAuthTest::with_timeout(Duration::from_millis(200)).await;
    Mock::given(method("POST"))
        .and(path("/google/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "x", "token_type": "Bearer"}))
                .set_delay(Duration::from_secs(5)),
        )
        .mount(&app.server)
        .await;

    assert_eq!(code_of(app.sign_in(Provider::Google).await), "timeout");
    assert!(app.users.is_empty());
}

#[tokio::test]
async fn a_slow_profile_endpoint_times_out_too() {
    let app = OAuthTest::with_timeout(Duration::from_millis(200)).await;
    app.google_token_ok().await;
    Mock::given(method("GET"))
        .and(path("/google/userinfo"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(google_ada())
                .set_delay(Duration::from_secs(5)),
        )
        .mount(&app.server)
        .await;

    assert_eq!(code_of(app.sign_in(Provider::Google).await), "timeout");
    assert!(app.users.is_empty());
}

#[tokio::test]
async fn a_declined_consent_is_access_denied_without_calling_the_provider() {
    let app = OAuthTest::new().await;
    let (query, pending) = app.start(Provider::Google);

    let result = app
        .service
        .finish(
            altrion_auth::OAuthProvider::Google,
            altrion_auth::CallbackQuery {
                code: None,
                state: Some(query["state"].clone()),
                error: Some("access_denied".into()),
            },
            Some(pending),
        )
        .await;

    assert_eq!(code_of(result), "access_denied");
    assert!(app.no_provider_calls().await);
}

#[tokio::test]
async fn the_client_does_not_follow_provider_redirects() {
    let app = OAuthTest::new().await;
    Mock::given(method("POST"))
        .and(path("/google/token"))
        .respond_with(ResponseTemplate::new(307).insert_header(
            "location",
            format!("{}/internal", app.server.uri()).as_str(),
        ))
        .mount(&app.server)
        .await;

    assert_eq!(
        code_of(app.sign_in(Provider::Google).await),
        "provider_error"
    );
    assert!(app.requests_to("/internal").await.is_empty());
}
