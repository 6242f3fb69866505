//! `AuthService::builder`: what it defaults to, and the policies it refuses to build with.

use std::sync::Arc;

use altrion_auth::{
    AuthError, AuthService, ConfigError, LockoutPolicy, LoginRequest, MailPolicy, SignupRequest,
    TokenService,
};
use altrion_domain::{Clock as _, Email, SessionRepository as _, UserRepository as _};
use altrion_storage::memory::{MemorySessionRepository, MemoryUserRepository};
use time::{Duration, OffsetDateTime};

use crate::helpers::{session_record, token_settings, TestApp, FRONTEND, PASSWORD, SECRET};

fn invalid_setting(built: Result<AuthService, ConfigError>) -> &'static str {
    match built {
        Err(ConfigError::Invalid { setting, .. }) => setting,
        other => panic!("expected an invalid setting, got {other:?}"),
    }
}

#[tokio::test]
async fn only_the_stores_and_keys_are_required_and_the_rest_defaults_safely() {
    let users = Arc::new(MemoryUserRepository::new());
    let tokens = TokenService::new(&token_settings()).unwrap();
    let service = AuthService::builder(
        users.clone(),
        Arc::new(MemorySessionRepository::new()),
        tokens,
    )
    .build()
    .unwrap();

    let drift = service.clock().now() - OffsetDateTime::now_utc();
    assert!(drift.abs() < Duration::minutes(1), "the system clock");
    assert!(service.tokens().shares_secret(SECRET.as_bytes()));
    service
        .signup(SignupRequest {
            name: "Ada".into(),
            email: "ada@example.com".into(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap();
    let stored = users
        .find_by_email(&Email::parse("ada@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    let hash = stored.password_hash.unwrap();
    assert!(
        hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "the default hasher is at OWASP's floor"
    );

    let login = |password: &str| {
        service.login(LoginRequest {
            email: "ada@example.com".into(),
            password: password.into(),
        })
    };
    login(PASSWORD)
        .await
        .expect("an unverified address may sign in by default");
    assert!(
        matches!(
            service.request_password_reset("ada@example.com"),
            Err(AuthError::Internal(_))
        ),
        "no mail, so no recovery, unless given"
    );
    // The default lockout: five wrong passwords lock the account, the right one included.
    for _ in 0..5 {
        assert!(matches!(
            login("wrong horse battery").await,
            Err(AuthError::InvalidCredentials)
        ));
    }
    assert!(matches!(
        login(PASSWORD).await,
        Err(AuthError::Locked { .. })
    ));
}

#[tokio::test]
async fn a_given_clock_and_hasher_are_used() {
    let app = TestApp::new();
    app.clock.advance(Duration::days(400));
    assert_eq!(app.service.clock().now(), app.clock.now());
    app.ada().await;
    let hash = app.stored("ada@example.com").await.password_hash.unwrap();
    assert!(hash.as_str().starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
}

#[test]
fn an_unusable_lockout_policy_is_refused() {
    let app = TestApp::new();
    let lockout = |policy| invalid_setting(app.builder().lockout(policy).build());
    assert_eq!(
        lockout(LockoutPolicy {
            threshold: 0,
            ..LockoutPolicy::default()
        }),
        "threshold"
    );
    assert_eq!(
        lockout(LockoutPolicy {
            base_delay: Duration::ZERO,
            ..LockoutPolicy::default()
        }),
        "base_delay"
    );
    assert!(app
        .builder()
        .lockout(LockoutPolicy::default())
        .build()
        .is_ok());
}

#[test]
fn an_unusable_mail_policy_is_refused() {
    let app = TestApp::new();
    let policy = || MailPolicy::new(url::Url::parse(FRONTEND).unwrap());
    let mail = |policy| invalid_setting(app.builder().mail(app.outbox.clone(), policy).build());
    assert_eq!(
        mail(MailPolicy::new(url::Url::parse("ftp://app.test").unwrap())),
        "frontend_url"
    );
    assert_eq!(
        mail(MailPolicy {
            reset_ttl: Duration::ZERO,
            ..policy()
        }),
        "reset_ttl"
    );
    assert_eq!(
        mail(MailPolicy {
            verification_ttl: Duration::seconds(-1),
            ..policy()
        }),
        "verification_ttl"
    );
    assert_eq!(
        mail(MailPolicy {
            max_pending_jobs: 0,
            ..policy()
        }),
        "max_pending_jobs"
    );
    // Past the semaphore's maximum the job limit would panic; it is refused instead.
    assert_eq!(
        mail(MailPolicy {
            max_pending_jobs: usize::MAX,
            ..policy()
        }),
        "max_pending_jobs"
    );
    assert_eq!(
        mail(MailPolicy {
            per_account_per_hour: 0,
            ..policy()
        }),
        "per_account_per_hour"
    );
}

#[test]
fn without_mail_recovery_is_unavailable() {
    let app = TestApp::new();
    let users = app.users.clone();
    let service = AuthService::builder(users, app.sessions.clone(), app.tokens.clone())
        .hasher(app.hasher.clone())
        .build()
        .unwrap();
    assert!(matches!(
        service.request_password_reset("ada@example.com"),
        Err(altrion_auth::AuthError::Internal(_))
    ));
}

/// `with_stores` is the same service over other stores: what it writes lands there, and its
/// tokens are the original's (one set of keys per process).
#[tokio::test]
async fn with_stores_serves_over_the_new_stores_with_the_same_keys() {
    let first = Arc::new(MemoryUserRepository::new());
    let second = Arc::new(MemoryUserRepository::new());
    let first_sessions = Arc::new(MemorySessionRepository::new());
    let second_sessions = Arc::new(MemorySessionRepository::new());
    let service = AuthService::builder(
        first.clone(),
        first_sessions.clone(),
        TokenService::new(&token_settings()).unwrap(),
    )
    .build()
    .unwrap();
    let worker = service.with_stores(second.clone(), second_sessions.clone());
    let signed_up = worker
        .signup(SignupRequest {
            name: "Ada".into(),
            email: "ada@example.com".into(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap();
    assert_eq!((first.len(), second.len()), (0, 1));
    assert!(worker.tokens().shares_secret(SECRET.as_bytes()));
    // The original, over the first store, does not know the user the token names.
    assert!(service
        .authenticate_token(&signed_up.token.token)
        .await
        .is_err());
    assert!(worker
        .authenticate_token(&signed_up.token.token)
        .await
        .is_ok());
    // Its sessions are the new store's: "log out everywhere" empties that one only.
    let ada = &signed_up.user.id;
    let now = service.clock().now();
    for sessions in [&first_sessions, &second_sessions] {
        sessions.insert(session_record(1, ada, now)).await.unwrap();
    }
    worker.logout_all(ada).await.unwrap();
    assert_eq!((first_sessions.len(), second_sessions.len()), (1, 0));
}
