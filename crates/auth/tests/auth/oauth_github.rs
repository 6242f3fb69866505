use altrion_domain::{Provider, UserRepository};
use serde_json::json;
use wiremock::{
    matchers::{method, path},
    Mock, ResponseTemplate,
};

use crate::oauth_support::{
    code_of, form, github_emails, github_octocat, query_map, s256, OAuthTest,
};

#[tokio::test]
async fn a_private_email_is_found_through_user_emails() {
    let app = OAuthTest::new().await;
    app.github_token_ok().await;
    app.github_profile(github_octocat(), github_emails()).await;

    let (query, pending) = app.start(Provider::Github);
    assert_eq!(query["scope"], "read:user user:email");
    assert_eq!(query["code_challenge_method"], "S256");
    let signed_in = app
        .callback(
            Provider::Github,
            Some(query["state"].clone()),
            Some(pending),
        )
        .await
        .unwrap();

    assert!(signed_in.created);
    let user = &signed_in.user;
    assert_eq!(user.provider, Provider::Github);
    assert_eq!(user.email.as_str(), "octocat@github.com");
    assert_eq!(user.name.as_str(), "The Octocat");
    assert_eq!(user.identities[0].subject, "583231");
    assert!(user.identities[0].email_verified);
    assert!(app
        .users
        .find_by_identity(Provider::Github, "583231")
        .await
        .unwrap()
        .is_some());

    let token_requests = app.requests_to("/github/token").await;
    let body = form(&token_requests[0]);
    assert_eq!(body["client_id"], "github-client-id");
    assert_eq!(
        body["redirect_uri"],
        "http://api.test:8080/api/auth/github/callback"
    );
    assert_eq!(s256(&body["code_verifier"]), query["code_challenge"]);
}

#[tokio::test]
async fn the_login_names_an_account_without_a_display_name() {
    let app = OAuthTest::new().await;
    app.github_token_ok().await;
    let mut user = github_octocat();
    user["name"] = json!(null);
    app.github_profile(user, github_emails()).await;

    let signed_in = app.sign_in(Provider::Github).await.unwrap();

    assert_eq!(signed_in.user.name.as_str(), "octocat");
}

#[tokio::test]
async fn a_200_with_an_error_body_is_a_provider_error() {
    let app = OAuthTest::new().await;
    Mock::given(method("POST"))
        .and(path("/github/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "error": "bad_verification_code",
            "error_description": "The code passed is incorrect or expired.",
            "error_uri": "https://docs.github.com/apps/troubleshooting"
        })))
        .mount(&app.server)
        .await;

    assert_eq!(
        code_of(app.sign_in(Provider::Github).await),
        "provider_error"
    );
    assert!(app.requests_to("/github/api/user").await.is_empty());
    assert!(app.users.is_empty());
}

#[tokio::test]
async fn without_a_primary_and_verified_email_no_account_is_created() {
    let app = OAuthTest::new().await;
    app.github_token_ok().await;
    app.github_profile(
        github_octocat(),
        json!([
            {"email": "primary@example.com", "primary": true, "verified": false},
            {"email": "verified@example.com", "primary": false, "verified": true}
        ]),
    )
    .await;

    assert_eq!(
        code_of(app.sign_in(Provider::Github).await),
        "email_not_verified"
    );
    assert!(app.users.is_empty());
}

#[tokio::test]
async fn a_signed_in_user_links_github_to_their_account() {
    let app = OAuthTest::new().await;
    let ada = app.local_user("ada@example.com").await;
    app.github_token_ok().await;
    app.github_profile(github_octocat(), github_emails()).await;

    let (url, pending) = app
        .service
        .start(
            altrion_auth::OAuthProvider::Github,
            Some("/settings"),
            Some(&ada),
        )
        .unwrap();
    let signed_in = app
        .callback(
            Provider::Github,
            Some(query_map(&url)["state"].clone()),
            Some(pending),
        )
        .await
        .unwrap();

    assert!(signed_in.linked && !signed_in.created);
    assert_eq!(signed_in.user.id, ada.id);
    assert_eq!(
        signed_in.redirect_to.as_str(),
        "http://app.test:3000/settings"
    );
    assert_eq!(
        signed_in.user.provider,
        Provider::Local,
        "creation path kept"
    );
    assert_eq!(
        signed_in.user.providers(),
        vec![Provider::Local, Provider::Github]
    );
    assert_eq!(app.users.len(), 1);
    let found = app
        .users
        .find_by_identity(Provider::Github, "583231")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, ada.id);
}

#[tokio::test]
async fn linking_an_identity_owned_by_another_account_is_refused() {
    let app = OAuthTest::new().await;
    app.github_token_ok().await;
    app.github_profile(github_octocat(), github_emails()).await;
    let owner = app.sign_in(Provider::Github).await.unwrap().user;
    let ada = app.local_user("ada@example.com").await;

    let (url, pending) = app
        .service
        .start(altrion_auth::OAuthProvider::Github, None, Some(&ada))
        .unwrap();
    let result = app
        .callback(
            Provider::Github,
            Some(query_map(&url)["state"].clone()),
            Some(pending),
        )
        .await;

    assert_eq!(code_of(result), "account_exists");
    let found = app
        .users
        .find_by_identity(Provider::Github, "583231")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, owner.id);
    let ada = app.users.find_by_id(&ada.id).await.unwrap().unwrap();
    assert!(ada.identities.is_empty());
}

#[tokio::test]
async fn the_same_identity_signs_in_to_the_same_account() {
    let app = OAuthTest::new().await;
    app.github_token_ok().await;
    app.github_profile(github_octocat(), github_emails()).await;

    let first = app.sign_in(Provider::Github).await.unwrap();
    let second = app.sign_in(Provider::Github).await.unwrap();

    assert!(first.created);
    assert!(!second.created);
    assert_eq!(first.user.id, second.user.id);
    assert_eq!(app.users.len(), 1);
}

#[tokio::test]
async fn a_failing_emails_call_is_a_provider_error() {
    let app = OAuthTest::new().await;
    app.github_token_ok().await;
    Mock::given(method("GET"))
        .and(path("/github/api/user"))
        .respond_with(ResponseTemplate::new(200).set_body_json(github_octocat()))
        .mount(&app.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/github/api/user/emails"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "message": "Resource not accessible by integration"
        })))
        .mount(&app.server)
        .await;

    assert_eq!(
        code_of(app.sign_in(Provider::Github).await),
        "provider_error"
    );
    assert!(app.users.is_empty());
}

/// A link started with a stolen token must not outlive the victim's "log out everywhere":
/// the pending flow carries the token version it was started under, and the callback refuses
/// it once that changed — before anything is linked.
#[tokio::test]
async fn log_out_everywhere_cancels_a_pending_link() {
    let app = OAuthTest::new().await;
    let ada = app.local_user("ada@example.com").await;
    app.github_token_ok().await;
    app.github_profile(github_octocat(), github_emails()).await;
    let (url, pending) = app
        .service
        .start(altrion_auth::OAuthProvider::Github, None, Some(&ada))
        .unwrap();

    app.users
        .bump_token_version(&ada.id, altrion_domain::Clock::now(&app.clock))
        .await
        .unwrap();
    let result = app
        .callback(
            Provider::Github,
            Some(query_map(&url)["state"].clone()),
            Some(pending),
        )
        .await;

    assert_eq!(code_of(result), "invalid_state");
    assert!(app
        .users
        .find_by_identity(Provider::Github, "583231")
        .await
        .unwrap()
        .is_none());
    assert_eq!(app.users.len(), 1);
}
