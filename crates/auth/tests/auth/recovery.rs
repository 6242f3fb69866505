//! Password recovery and email verification by mailed link.

use std::sync::{atomic::Ordering, Arc};

use altrion_auth::{AuthError, Purpose};
use altrion_domain::{Clock, SessionRepository as _, UserRepository as _};
use futures_util::future::join_all;
use time::Duration;

use crate::helpers::{link_token, TestApp, FRONTEND, PASSWORD};

const NEW_PASSWORD: &str = "a brand new passphrase";

/// Signs Ada up and drains her verification mail.
async fn ada(app: &TestApp) -> altrion_auth::Authenticated {
    let ada = app.ada().await;
    app.outbox.next().await;
    ada
}

/// Asks for a reset of `email`, waits for the background job, and returns the mailed token.
async fn forgot(app: &TestApp, email: &str) -> Option<String> {
    app.service
        .request_password_reset(email)
        .unwrap()
        .finished()
        .await;
    app.outbox.try_next().await.map(|mail| link_token(&mail))
}

#[tokio::test]
async fn a_reset_link_is_mailed_only_to_an_existing_account() {
    let app = TestApp::new();
    ada(&app).await;

    app.service
        .request_password_reset("nobody@example.com")
        .unwrap()
        .finished()
        .await;
    assert!(app.outbox.try_next().await.is_none());

    app.service
        .request_password_reset("  Ada@Example.com ")
        .unwrap()
        .finished()
        .await;
    let mail = app.outbox.next().await;
    assert_eq!(mail.to.as_str(), "ada@example.com");
    assert!(mail.subject.contains("Reset"), "{}", mail.subject);
    assert!(
        mail.text
            .contains(&format!("{FRONTEND}/reset-password?token=")),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("30 minutes"));
    assert!(
        !format!("{mail:?}").contains(&link_token(&mail)),
        "Debug hides the link"
    );
}

#[tokio::test]
async fn a_malformed_email_is_refused_but_no_account_is_revealed() {
    let app = TestApp::new();
    match app.service.request_password_reset("not an email") {
        Err(AuthError::Validation(fields)) => assert_eq!(fields[0].field, "email"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn each_account_gets_at_most_three_reset_mails_an_hour() {
    let app = TestApp::new();
    ada(&app).await;
    let mut mailed = 0;
    for _ in 0..5 {
        mailed += usize::from(forgot(&app, "ada@example.com").await.is_some());
    }
    assert_eq!(mailed, 3);
    app.clock.advance(Duration::minutes(61));
    assert!(forgot(&app, "ada@example.com").await.is_some());
}

#[tokio::test]
async fn a_reset_sets_the_password_ends_every_credential_and_signs_in() {
    let app = TestApp::new();
    let ada = ada(&app).await;
    app.insert_session(1, &ada.user.id).await;
    for _ in 0..3 {
        let _ = app.login("ada@example.com", "wrong guess").await;
    }
    let token = forgot(&app, "ada@example.com").await.unwrap();

    let reset = app
        .service
        .reset_password(&token, NEW_PASSWORD.into())
        .await
        .unwrap();

    assert!(reset.user.email_verified, "the link proved the address");
    assert_eq!(reset.user.failed_logins, 0);
    assert!(app.login("ada@example.com", NEW_PASSWORD).await.is_ok());
    assert!(matches!(
        app.login("ada@example.com", PASSWORD).await,
        Err(AuthError::InvalidCredentials)
    ));
    assert!(matches!(
        app.service.authenticate_token(&ada.token.token).await,
        Err(AuthError::Unauthorized)
    ));
    assert!(app
        .service
        .authenticate_token(&reset.token.token)
        .await
        .is_ok());
    let live = app
        .sessions
        .list_for_user(&ada.user.id, app.clock.now())
        .await
        .unwrap();
    assert!(live.is_empty(), "every session ended");
    // Used once: the same link fails.
    assert!(matches!(
        app.service
            .reset_password(&token, "yet another passphrase".into())
            .await,
        Err(AuthError::InvalidToken)
    ));
}

#[tokio::test]
async fn concurrent_uses_of_one_link_reset_exactly_once() {
    let app = Arc::new(TestApp::new());
    ada(&app).await;
    let token = forgot(&app, "ada@example.com").await.unwrap();
    let uses = (0..8).map(|n| {
        let app = app.clone();
        let token = token.clone();
        async move {
            app.service
                .reset_password(&token, format!("{NEW_PASSWORD} number {n}"))
                .await
        }
    });
    let results = join_all(uses).await;
    let won: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(won.len(), 1);
    for lost in results.iter().filter(|r| r.is_err()) {
        assert!(matches!(lost, Err(AuthError::InvalidToken)), "{lost:?}");
    }
    let stored = app.stored("ada@example.com").await;
    assert_eq!(stored.token_version, won[0].user.token_version);
}

#[tokio::test]
async fn using_one_link_or_changing_the_password_voids_every_other_link() {
    let app = TestApp::new();
    let ada = ada(&app).await;
    let first = forgot(&app, "ada@example.com").await.unwrap();
    let second = forgot(&app, "ada@example.com").await.unwrap();
    app.service
        .reset_password(&second, NEW_PASSWORD.into())
        .await
        .unwrap();
    assert!(matches!(
        app.service
            .reset_password(&first, "another passphrase here".into())
            .await,
        Err(AuthError::InvalidToken)
    ));

    let third = forgot(&app, "ada@example.com").await.unwrap();
    let user = app.stored("ada@example.com").await;
    app.service
        .change_password(
            &user,
            altrion_auth::Reauthentication {
                password: Some(NEW_PASSWORD),
                signed_in_at: None,
            },
            "changed while a link was out".into(),
        )
        .await
        .unwrap();
    assert!(matches!(
        app.service
            .reset_password(&third, "another passphrase here".into())
            .await,
        Err(AuthError::InvalidToken)
    ));
    let _ = ada;
}

#[tokio::test]
async fn a_weak_new_password_is_refused_and_the_link_still_works() {
    let app = TestApp::new();
    ada(&app).await;
    let token = forgot(&app, "ada@example.com").await.unwrap();
    match app.service.reset_password(&token, "password".into()).await {
        Err(AuthError::Validation(fields)) => assert_eq!(fields[0].field, "password"),
        other => panic!("{:?}", other.map(|_| ())),
    }
    assert!(app
        .service
        .reset_password(&token, NEW_PASSWORD.into())
        .await
        .is_ok());
}

#[tokio::test]
async fn tampered_expired_and_wrong_purpose_tokens_are_one_invalid_token() {
    let app = TestApp::new();
    let ada = ada(&app).await;
    let token = forgot(&app, "ada@example.com").await.unwrap();
    fn invalid<T>(result: Result<T, AuthError>) -> bool {
        matches!(result, Err(AuthError::InvalidToken))
    }

    // Tampered: one character of the signature changed.
    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert!(invalid(
        app.service
            .reset_password(&tampered, NEW_PASSWORD.into())
            .await
    ));
    assert!(invalid(
        app.service
            .reset_password("garbage", NEW_PASSWORD.into())
            .await
    ));

    // An access token is not a reset token, and a reset token is not an access token.
    assert!(invalid(
        app.service
            .reset_password(&ada.token.token, NEW_PASSWORD.into())
            .await
    ));
    assert!(matches!(
        app.service.authenticate_token(&token).await,
        Err(AuthError::Unauthorized)
    ));

    // A verification token is not a reset token, and the other way round.
    let user = app.stored("ada@example.com").await;
    let verification = app
        .tokens
        .issue_mail_token(
            Purpose::EmailVerification,
            &user,
            app.clock.now(),
            Duration::hours(1),
        )
        .unwrap();
    assert!(invalid(
        app.service
            .reset_password(&verification, NEW_PASSWORD.into())
            .await
    ));
    assert!(invalid(app.service.verify_email(&token).await));

    // Expired: issued 31 minutes ago with a 30-minute lifetime.
    let expired = app
        .tokens
        .issue_mail_token(
            Purpose::PasswordReset,
            &user,
            app.clock.now() - Duration::minutes(31),
            Duration::minutes(30),
        )
        .unwrap();
    assert!(invalid(
        app.service
            .reset_password(&expired, NEW_PASSWORD.into())
            .await
    ));

    // None of these spent the real link.
    assert!(app
        .service
        .reset_password(&token, NEW_PASSWORD.into())
        .await
        .is_ok());
}

#[tokio::test]
async fn an_account_without_a_password_can_set_one_by_reset() {
    let app = TestApp::new();
    app.oauth_only("octo@example.com").await;
    let token = forgot(&app, "octo@example.com").await.unwrap();
    app.service
        .reset_password(&token, NEW_PASSWORD.into())
        .await
        .unwrap();
    assert!(app.login("octo@example.com", NEW_PASSWORD).await.is_ok());
}

#[tokio::test]
async fn sign_up_mails_a_verification_link_that_works_once() {
    let app = TestApp::new();
    let ada = app.ada().await;
    assert!(!ada.user.email_verified);
    let mail = app.outbox.next().await;
    assert_eq!(mail.to.as_str(), "ada@example.com");
    assert!(mail
        .text
        .contains(&format!("{FRONTEND}/verify-email?token=")));

    let user = app.service.verify_email(&link_token(&mail)).await.unwrap();
    assert!(user.email_verified);
    assert!(app.stored("ada@example.com").await.email_verified);
    assert!(matches!(
        app.service.verify_email(&link_token(&mail)).await,
        Err(AuthError::InvalidToken)
    ));
    assert!(matches!(
        app.service.resend_verification(&user).await,
        Err(AuthError::EmailAlreadyVerified)
    ));
}

#[tokio::test]
async fn resending_is_limited_per_account() {
    let app = TestApp::new();
    let ada = ada(&app).await; // the sign-up mail is the first of three
    for _ in 0..2 {
        app.service.resend_verification(&ada.user).await.unwrap();
        app.outbox.next().await;
    }
    match app.service.resend_verification(&ada.user).await {
        Err(err @ AuthError::MailQuotaExceeded { .. }) => {
            assert_eq!(err.retry_after_secs(), Some(3600));
        }
        other => panic!("{other:?}"),
    }
    // Any of the links verifies.
    app.clock.advance(Duration::minutes(61));
    app.service.resend_verification(&ada.user).await.unwrap();
    let mail = app.outbox.next().await;
    assert!(app.service.verify_email(&link_token(&mail)).await.is_ok());
}

#[tokio::test]
async fn a_full_mail_queue_fails_neither_sign_up_nor_a_reset_request() {
    let app = TestApp::new();
    app.outbox.refuse.store(true, Ordering::SeqCst);
    let ada = app.ada().await;
    assert!(app.outbox.try_next().await.is_none());
    app.service
        .request_password_reset("ada@example.com")
        .unwrap()
        .finished()
        .await;
    assert!(app.outbox.try_next().await.is_none());
    assert!(app.service.resend_verification(&ada.user).await.is_ok());
}

#[tokio::test]
async fn requiring_verification_refuses_login_only_after_the_password() {
    let app = TestApp::new();
    let service = app.builder().require_verified_email(true).build().unwrap();
    let ada = ada(&app).await;
    let login = |password: &str| {
        service.login(altrion_auth::LoginRequest {
            email: "ada@example.com".into(),
            password: password.into(),
        })
    };
    assert!(matches!(
        login("wrong guess").await,
        Err(AuthError::InvalidCredentials)
    ));
    assert!(matches!(
        login(PASSWORD).await,
        Err(AuthError::EmailNotVerified)
    ));
    assert!(matches!(
        service.ensure_verified(&ada.user),
        Err(AuthError::EmailNotVerified)
    ));
    service.resend_verification(&ada.user).await.unwrap();
    let mail = app.outbox.next().await;
    let verified = service.verify_email(&link_token(&mail)).await.unwrap();
    assert!(service.ensure_verified(&verified).is_ok());
    assert!(login(PASSWORD).await.is_ok());
    assert!(
        app.service.ensure_verified(&ada.user).is_ok(),
        "off by default"
    );
}

#[tokio::test]
async fn a_verification_link_dies_with_its_account() {
    let app = TestApp::new();
    let ada = app.ada().await;
    let mail = app.outbox.next().await;
    app.users
        .delete(&ada.user.id, ada.user.token_version)
        .await
        .unwrap();
    // Another account with the same address: the old link names the old account.
    app.signup("Ada", "ada@example.com", PASSWORD)
        .await
        .unwrap();
    assert!(matches!(
        app.service.verify_email(&link_token(&mail)).await,
        Err(AuthError::InvalidToken)
    ));
}

/// A password change authorised by a credential that was revoked meanwhile (a take-over, a
/// reset, "log out everywhere" landed between the check and the write) writes nothing: the
/// write itself is conditional on the version the caller was read with. An account without a
/// password proves itself by a recent sign-in, which writes nothing, so the version condition
/// on the password write is the only thing that can refuse it.
#[tokio::test]
async fn a_password_change_racing_a_revocation_writes_nothing() {
    let app = TestApp::new();
    let as_read = app.oauth_only("octo@example.com").await;
    app.service.logout_all(&as_read.id).await.unwrap();
    let changed = app
        .service
        .change_password(
            &as_read,
            altrion_auth::Reauthentication {
                password: None,
                signed_in_at: Some(app.clock.now()),
            },
            NEW_PASSWORD.into(),
        )
        .await;
    assert!(
        matches!(changed, Err(AuthError::Unauthorized)),
        "{:?}",
        changed.map(|_| ())
    );
    let stored = app.stored("octo@example.com").await;
    assert!(stored.password_hash.is_none(), "no password was set");
    assert!(app.login("octo@example.com", NEW_PASSWORD).await.is_err());
}

/// A service and its `with_stores` (a server mounts one per worker) share one limit on
/// background reset jobs; past it a request is refused with `Busy`, before any lookup.
/// (A current-thread runtime: the spawned job cannot run, and free its slot, until the test
/// awaits.)
#[tokio::test(flavor = "current_thread")]
async fn a_service_and_its_worker_copies_share_one_job_limit() {
    let app = TestApp::new();
    let policy = altrion_auth::MailPolicy {
        max_pending_jobs: 1,
        ..altrion_auth::MailPolicy::new(url::Url::parse(crate::helpers::FRONTEND).unwrap())
    };
    let first = app
        .builder()
        .mail(app.outbox.clone(), policy)
        .build()
        .unwrap();
    let second = first.with_stores(app.users.clone(), app.sessions.clone());
    let pending = first.request_password_reset("ada@example.com").unwrap();
    assert!(matches!(
        second.request_password_reset("ada@example.com"),
        Err(AuthError::Busy)
    ));
    pending.finished().await;
    assert!(second.request_password_reset("ada@example.com").is_ok());
}
