use altrion_auth::AuthError;
use time::Duration;

use crate::helpers::{assert_invalid_credentials, TestApp, PASSWORD};

const WRONG: &str = "wrong password!";

async fn locked_for(app: &TestApp) -> Duration {
    // The right password: a locked account must refuse it too.
    match app.login("ada@example.com", PASSWORD).await {
        Err(AuthError::Locked { retry_after }) => retry_after,
        other => panic!("expected Locked, got {other:?}"),
    }
}

#[tokio::test]
async fn backoff_starts_at_the_fifth_failure_and_doubles_to_the_cap() {
    let app = TestApp::new();
    app.ada().await;

    for _ in 0..4 {
        assert_invalid_credentials(app.login("ada@example.com", WRONG).await);
    }
    assert_eq!(app.stored("ada@example.com").await.locked_until, None);

    let expected_secs = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900];
    for (i, secs) in expected_secs.into_iter().enumerate() {
        assert_invalid_credentials(app.login("ada@example.com", WRONG).await);
        assert_eq!(
            locked_for(&app).await,
            Duration::seconds(secs),
            "after failure {}",
            i + 5
        );
        app.clock.advance(Duration::seconds(secs));
    }
    assert_eq!(app.stored("ada@example.com").await.failed_logins, 16);
}

#[tokio::test]
async fn attempts_while_locked_are_not_verified_counted_or_extending() {
    let app = TestApp::new();
    app.ada().await;
    for _ in 0..5 {
        assert_invalid_credentials(app.login("ada@example.com", WRONG).await);
    }
    let verifications = app.hasher.verifications();
    let locked_until = app.stored("ada@example.com").await.locked_until;

    for _ in 0..50 {
        let result = app.login("ada@example.com", WRONG).await;
        assert!(
            matches!(result, Err(AuthError::Locked { .. })),
            "{result:?}"
        );
    }
    app.clock.advance(Duration::milliseconds(400));
    assert_eq!(locked_for(&app).await, Duration::milliseconds(600));

    assert_eq!(
        app.hasher.verifications(),
        verifications,
        "a locked attempt verified"
    );
    let stored = app.stored("ada@example.com").await;
    assert_eq!(stored.failed_logins, 5);
    assert_eq!(stored.locked_until, locked_until);
}

#[tokio::test]
async fn the_lock_expires_and_a_success_resets_the_count() {
    let app = TestApp::new();
    app.ada().await;
    for _ in 0..6 {
        let _ = app.login("ada@example.com", WRONG).await;
        app.clock.advance(Duration::seconds(1));
    }
    assert_eq!(locked_for(&app).await, Duration::seconds(1));

    app.clock.advance(Duration::seconds(1));
    app.login("ada@example.com", PASSWORD).await.unwrap();

    let stored = app.stored("ada@example.com").await;
    assert_eq!((stored.failed_logins, stored.locked_until), (0, None));
    for _ in 0..4 {
        assert_invalid_credentials(app.login("ada@example.com", WRONG).await);
    }
    app.login("ada@example.com", PASSWORD).await.unwrap();
}

#[tokio::test]
async fn retry_after_is_whole_seconds_rounded_up() {
    let app = TestApp::new();
    app.ada().await;
    for _ in 0..5 {
        let _ = app.login("ada@example.com", WRONG).await;
    }
    app.clock.advance(Duration::milliseconds(300));
    let err = app.login("ada@example.com", PASSWORD).await.unwrap_err();
    assert_eq!(err.retry_after_secs(), Some(1));
}

/// The burst that broke the read-then-write lockout: 40 simultaneous wrong guesses, spread
/// over two service instances sharing one store. Each attempt is claimed in the store before
/// its verdict counts, so exactly `threshold` are evaluated and the rest are refused as locked;
/// the right password afterwards, inside the lock window, is refused too.
#[tokio::test]
async fn forty_concurrent_wrong_guesses_get_only_the_threshold_evaluated() {
    let app = TestApp::new();
    app.ada().await;
    let other_instance = app.reconfigured(&crate::helpers::cheap_argon2());
    let guesses = (0..40).map(|i| {
        let service = if i % 2 == 0 {
            app.service.clone()
        } else {
            other_instance.service.clone()
        };
        async move {
            service
                .login(altrion_auth::LoginRequest {
                    email: "ada@example.com".into(),
                    password: format!("wrong guess {i}"),
                })
                .await
        }
    });
    let results = futures_util::future::join_all(guesses).await;
    let evaluated = results
        .iter()
        .filter(|r| matches!(r, Err(AuthError::InvalidCredentials)))
        .count();
    let locked = results
        .iter()
        .filter(|r| matches!(r, Err(AuthError::Locked { .. })))
        .count();
    assert_eq!((evaluated, locked), (5, 35), "{results:?}");
    assert_eq!(app.stored("ada@example.com").await.failed_logins, 5);
    assert!(matches!(
        app.login("ada@example.com", PASSWORD).await,
        Err(AuthError::Locked { .. })
    ));
}
