use altrion_auth::AuthError;
use altrion_domain::UserId;

use crate::helpers::{TestApp, PASSWORD};

#[tokio::test]
async fn logout_all_revokes_tokens_and_deletes_only_that_users_sessions() {
    let app = TestApp::new();
    let ada = app.ada().await;
    let bob = app
        .signup("Bob", "bob@example.com", PASSWORD)
        .await
        .unwrap();
    app.insert_session(1, &ada.user.id).await;
    app.insert_session(2, &ada.user.id).await;
    app.insert_session(3, &bob.user.id).await;

    app.service.logout_all(&ada.user.id).await.unwrap();

    let left: Vec<_> = app.sessions.all().into_iter().map(|s| s.user_id).collect();
    assert_eq!(left, vec![Some(bob.user.id.clone())]);
    let stale = app.service.authenticate_token(&ada.token.token).await;
    assert!(matches!(stale, Err(AuthError::Unauthorized)), "{stale:?}");
    assert!(
        app.tokens.verify(&ada.token.token).is_ok(),
        "refused for tv, not signature"
    );
    app.service
        .authenticate_token(&bob.token.token)
        .await
        .unwrap();

    let fresh = app.login("ada@example.com", PASSWORD).await.unwrap();
    let me = app
        .service
        .authenticate_token(&fresh.token.token)
        .await
        .unwrap();
    assert_eq!(me.user.token_version, 1);
}

#[tokio::test]
async fn logout_all_and_current_user_refuse_unknown_users() {
    let app = TestApp::new();
    let ghost = UserId::new("ffffffffffffffffffffffff");
    assert!(matches!(
        app.service.logout_all(&ghost).await,
        Err(AuthError::Unauthorized)
    ));
    assert!(matches!(
        app.service.current_user(&ghost).await,
        Err(AuthError::Unauthorized)
    ));
}

#[tokio::test]
async fn current_user_loads_the_session_user() {
    let app = TestApp::new();
    let ada = app.ada().await;
    let user = app.service.current_user(&ada.user.id).await.unwrap();
    assert_eq!(user.email.as_str(), "ada@example.com");
}
