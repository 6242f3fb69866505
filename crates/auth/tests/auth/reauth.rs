//! Fresh proof of identity before sensitive changes, and unlinking.

use altrion_auth::{AuthError, Reauthentication};
use altrion_domain::{Clock as _, Provider, UserRepository as _};
use time::Duration;

use crate::helpers::{TestApp, PASSWORD};

fn with_password(password: &str) -> Reauthentication<'_> {
    Reauthentication {
        password: Some(password),
        signed_in_at: None,
    }
}

#[tokio::test]
async fn a_password_account_must_give_its_current_password() {
    let app = TestApp::new();
    let ada = app.ada().await.user;

    // A stolen token alone, however fresh, is not enough.
    let token_only = Reauthentication {
        password: None,
        signed_in_at: Some(app.clock.now()),
    };
    assert!(matches!(
        app.service.reauthenticate(&ada, token_only).await,
        Err(AuthError::ReauthenticationRequired)
    ));
    assert!(matches!(
        app.service
            .reauthenticate(&ada, with_password("wrong guess!"))
            .await,
        Err(AuthError::ReauthenticationRequired)
    ));
    assert_eq!(
        app.stored("ada@example.com").await.failed_logins,
        1,
        "a wrong password here counts towards the lockout"
    );
    app.service
        .reauthenticate(&ada, with_password(PASSWORD))
        .await
        .unwrap();
    assert_eq!(app.stored("ada@example.com").await.failed_logins, 0);
}

#[tokio::test]
async fn re_authentication_guesses_are_locked_out_like_logins() {
    let app = TestApp::new();
    let ada = app.ada().await.user;
    for _ in 0..5 {
        let _ = app
            .service
            .reauthenticate(&ada, with_password("wrong guess!"))
            .await;
    }
    let ada = app.stored("ada@example.com").await;
    assert!(matches!(
        app.service
            .reauthenticate(&ada, with_password(PASSWORD))
            .await,
        Err(AuthError::Locked { .. })
    ));
}

#[tokio::test]
async fn an_account_without_a_password_needs_a_recent_sign_in() {
    let app = TestApp::new();
    let octo = app.oauth_only("octo@example.com").await;
    let signed_in = app.clock.now();
    let proof = Reauthentication {
        password: None,
        signed_in_at: Some(signed_in),
    };
    app.clock.advance(Duration::minutes(9));
    app.service.reauthenticate(&octo, proof).await.unwrap();
    app.clock.advance(Duration::minutes(1));
    assert!(matches!(
        app.service.reauthenticate(&octo, proof).await,
        Err(AuthError::ReauthenticationRequired)
    ));
    assert!(matches!(
        app.service
            .reauthenticate(&octo, Reauthentication::default())
            .await,
        Err(AuthError::ReauthenticationRequired)
    ));

    let wider = app
        .builder()
        .reauth_window(Duration::minutes(30))
        .build()
        .unwrap();
    wider.reauthenticate(&octo, proof).await.unwrap();
}

#[tokio::test]
async fn unlinking_refuses_the_last_way_to_sign_in() {
    let app = TestApp::new();
    let octo = app.oauth_only("octo@example.com").await;
    assert!(matches!(
        app.service.unlink(&octo, Provider::Github).await,
        Err(AuthError::LastSignInMethod)
    ));
    assert!(matches!(
        app.service.unlink(&octo, Provider::Google).await,
        Err(AuthError::NotLinked)
    ));
    let now = app.clock.now();
    app.users
        .link_identity(
            &octo.id,
            altrion_domain::Identity {
                provider: Provider::Google,
                subject: "g-1".into(),
                email: None,
                email_verified: true,
                linked_at: now,
            },
            now,
            octo.token_version,
        )
        .await
        .unwrap();
    let after = app.service.unlink(&octo, Provider::Github).await.unwrap();
    assert_eq!(after.providers(), vec![Provider::Google]);
    assert!(app
        .users
        .find_by_identity(Provider::Github, "583231")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn changing_the_password_revokes_every_token_and_session() {
    let app = TestApp::new();
    let signed_up = app.ada().await;
    let ada = signed_up.user.clone();
    app.insert_session(1, &ada.id).await;

    assert!(matches!(
        app.service
            .change_password(
                &ada,
                with_password("wrong guess!"),
                "a brand new passphrase".into()
            )
            .await,
        Err(AuthError::ReauthenticationRequired)
    ));
    assert!(matches!(
        app.service
            .change_password(&ada, with_password(PASSWORD), "password".into())
            .await,
        Err(AuthError::Validation(fields)) if fields[0].field == "new_password"
    ));
    let changed = app
        .service
        .change_password(
            &ada,
            with_password(PASSWORD),
            "a brand new passphrase".into(),
        )
        .await
        .unwrap();

    assert!(matches!(
        app.service.authenticate_token(&signed_up.token.token).await,
        Err(AuthError::Unauthorized)
    ));
    let me = app
        .service
        .authenticate_token(&changed.token.token)
        .await
        .unwrap();
    assert_eq!(me.user.id, ada.id);
    assert!(app.sessions.is_empty(), "every session ended");
    assert!(app.login("ada@example.com", PASSWORD).await.is_err());
    app.login("ada@example.com", "a brand new passphrase")
        .await
        .unwrap();
}

#[tokio::test]
async fn an_account_without_a_password_sets_one_after_a_recent_sign_in() {
    let app = TestApp::new();
    let octo = app.oauth_only("octo@example.com").await;
    let proof = Reauthentication {
        password: None,
        signed_in_at: Some(app.clock.now()),
    };
    app.service
        .change_password(&octo, proof, "octocat's own passphrase".into())
        .await
        .unwrap();
    app.login("octo@example.com", "octocat's own passphrase")
        .await
        .unwrap();
}

#[tokio::test]
async fn deleting_the_account_removes_the_user_and_their_sessions() {
    let app = TestApp::new();
    let signed_up = app.ada().await;
    app.insert_session(1, &signed_up.user.id).await;
    assert!(matches!(
        app.service
            .delete_account(&signed_up.user, Reauthentication::default())
            .await,
        Err(AuthError::ReauthenticationRequired)
    ));
    app.service
        .delete_account(&signed_up.user, with_password(PASSWORD))
        .await
        .unwrap();
    assert!(app.users.is_empty());
    assert!(app.sessions.is_empty());
    assert!(matches!(
        app.service.authenticate_token(&signed_up.token.token).await,
        Err(AuthError::Unauthorized)
    ));
    app.ada().await;
}

/// An account without a password proves itself by a recent sign-in, which writes nothing: a
/// deletion or an unlink read before a revocation ("log out everywhere", a reset, a take-over)
/// and written after it must write nothing, so the store's version condition is what refuses.
#[tokio::test]
async fn a_deletion_or_unlink_racing_a_revocation_writes_nothing() {
    let app = TestApp::new();
    let octo = app.oauth_only("octo@example.com").await;
    // A second way in, so that without the version condition the unlink would land.
    let now = app.clock.now();
    let google = altrion_domain::Identity {
        provider: Provider::Google,
        subject: "g-1".into(),
        email: Some(octo.email.clone()),
        email_verified: true,
        linked_at: now,
    };
    let as_read = app
        .users
        .link_identity(&octo.id, google, now, octo.token_version)
        .await
        .unwrap();
    let fresh = || Reauthentication {
        password: None,
        signed_in_at: Some(app.clock.now()),
    };
    app.service.logout_all(&as_read.id).await.unwrap();

    let deleted = app.service.delete_account(&as_read, fresh()).await;
    assert!(
        matches!(deleted, Err(AuthError::Unauthorized)),
        "{deleted:?}"
    );
    app.service.reauthenticate(&as_read, fresh()).await.unwrap();
    let unlinked = app.service.unlink(&as_read, Provider::Github).await;
    assert!(
        matches!(unlinked, Err(AuthError::Unauthorized)),
        "{:?}",
        unlinked.map(|_| ())
    );
    let stored = app.stored("octo@example.com").await;
    assert_eq!(stored.identities.len(), 2, "both ways in are still linked");
}
