use altrion_auth::{AuthError, MAX_LOGIN_PASSWORD_BYTES};
use altrion_domain::{Clock, PasswordHash, UserRepository};
use argon2::{
    password_hash::{PasswordHasher, SaltString},
    Algorithm, Argon2, Params, Version,
};

use crate::helpers::{assert_invalid_credentials, TestApp, PASSWORD};

#[tokio::test]
async fn login_with_the_right_password_issues_a_token_and_records_the_login() {
    let app = TestApp::new();
    let signed_up = app.ada().await;
    // Token times come from this clock but are checked against the system clock: stay close.
    app.clock.advance(time::Duration::seconds(10));

    let auth = app.login("  ADA@example.com ", PASSWORD).await.unwrap();

    assert_eq!(auth.user.id, signed_up.user.id);
    assert_eq!(auth.user.last_login_at, Some(app.clock.now()));
    let stored = app.stored("ada@example.com").await;
    assert_eq!(stored.last_login_at, Some(app.clock.now()));
    assert_eq!(stored.failed_logins, 0);
    let me = app
        .service
        .authenticate_token(&auth.token.token)
        .await
        .unwrap();
    assert_eq!(me.user.id, signed_up.user.id);
}

/// Each way of not having the right credentials: one verification, the same error.
#[tokio::test]
async fn failures_are_indistinguishable_and_cost_one_verification_each() {
    let app = TestApp::new();
    app.ada().await;
    app.oauth_only("octo@example.com").await;
    let overlong = "x".repeat(MAX_LOGIN_PASSWORD_BYTES + 1);

    let attempts = [
        ("unknown email", "nobody@example.com", PASSWORD),
        ("wrong password", "ada@example.com", "wrong password!"),
        ("oauth-only account", "octo@example.com", PASSWORD),
        ("malformed email", "not an email", PASSWORD),
        ("overlong password", "ada@example.com", overlong.as_str()),
    ];
    let mut messages = Vec::new();
    for (case, email, password) in attempts {
        let before = app.hasher.verifications();
        let result = app.login(email, password).await;
        assert_eq!(app.hasher.verifications() - before, 1, "{case}");
        let Err(error) = result else {
            panic!("{case}: logged in");
        };
        assert!(
            matches!(error, AuthError::InvalidCredentials),
            "{case}: {error:?}"
        );
        messages.push(error.to_string());
    }
    messages.dedup();
    assert_eq!(messages.len(), 1, "messages differ: {messages:?}");
}

#[tokio::test]
async fn the_right_password_over_the_length_cap_is_refused() {
    let app = TestApp::new();
    let long = "p".repeat(MAX_LOGIN_PASSWORD_BYTES + 1);
    // Bypass the sign-up policy: store a hash of an over-long password directly.
    let user = app.ada().await.user;
    let hash = cheap_hash(&long);
    app.users
        .record_login(&user.id, app.clock.now(), Some(hash), user.token_version)
        .await
        .unwrap();

    assert_invalid_credentials(app.login("ada@example.com", &long).await);
}

#[tokio::test]
async fn failures_on_oauth_only_accounts_count_like_any_other() {
    let app = TestApp::new();
    app.oauth_only("octo@example.com").await;
    for _ in 0..5 {
        assert_invalid_credentials(app.login("octo@example.com", PASSWORD).await);
    }
    let result = app.login("octo@example.com", PASSWORD).await;
    assert!(
        matches!(result, Err(AuthError::Locked { .. })),
        "{result:?}"
    );
}

fn cheap_hash(plaintext: &str) -> PasswordHash {
    let argon2 = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(1024, 1, 1, None).unwrap(),
    );
    let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
    PasswordHash::new(
        argon2
            .hash_password(plaintext.as_bytes(), &salt)
            .unwrap()
            .to_string(),
    )
}
