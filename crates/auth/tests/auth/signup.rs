use std::sync::Arc;

use altrion_auth::AuthError;
use altrion_domain::Provider;

use crate::helpers::{invalid_fields, TestApp, PASSWORD};

#[tokio::test]
async fn signup_creates_a_local_account_and_returns_a_working_token() {
    let app = TestApp::new();

    let auth = app
        .signup("  Ada Lovelace ", " Ada@Example.COM ", PASSWORD)
        .await
        .unwrap();

    assert_eq!(auth.user.name.as_str(), "Ada Lovelace");
    assert_eq!(auth.user.email.as_str(), "ada@example.com");
    assert_eq!(auth.user.provider, Provider::Local);
    assert_eq!(auth.token.expires_in, 24 * 3600);
    let me = app
        .service
        .authenticate_token(&auth.token.token)
        .await
        .unwrap();
    assert_eq!(me.user.id, auth.user.id);
}

#[tokio::test]
async fn password_length_boundaries_count_characters() {
    let app = TestApp::new();
    // Patternless strings, so only the length rules decide (zxcvbn refuses "aaaaaaaa").
    let cases = [
        (varied(7, 'a', 26), false),
        (varied(8, 'a', 26), true),
        (varied(128, '!', 94), true),
        (varied(129, '!', 94), false),
        // 8 characters but 24 bytes; 7 characters but 21 bytes.
        (varied(8, '\u{4e00}', 2000), true),
        (varied(7, '\u{4e00}', 2000), false),
        (varied(128, '\u{1f300}', 600), true),
        (varied(129, '\u{1f300}', 600), false),
    ];
    for (i, (password, accepted)) in cases.into_iter().enumerate() {
        let email = format!("user{i}@example.com");
        let result = app.signup("Ada", &email, &password).await;
        if accepted {
            assert!(
                result.is_ok(),
                "{} chars refused: {result:?}",
                password.chars().count()
            );
        } else {
            assert_eq!(invalid_fields(result), vec!["password"], "{password:?}");
        }
    }
}

/// `n` characters drawn by a small LCG from the `range` code points starting at `first`.
fn varied(n: usize, first: char, range: u32) -> String {
    let mut x: u32 = 12_345;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            char::from_u32(u32::from(first) + (x >> 8) % range).unwrap()
        })
        .collect()
}

#[tokio::test]
async fn common_passwords_are_refused_naming_why() {
    let app = TestApp::new();
    for password in ["password", "12345678", "Password1"] {
        let result = app.signup("Ada", "ada@example.com", password).await;
        match result {
            Err(altrion_auth::AuthError::Validation(errors)) => {
                assert_eq!(errors[0].field, "password");
                assert!(errors[0].message.contains("too common"), "{errors:?}");
            }
            other => panic!("{password:?} accepted: {other:?}"),
        }
    }
    assert!(app.users.is_empty(), "nothing was written");
}

#[tokio::test]
async fn password_equal_to_the_email_is_refused() {
    let app = TestApp::new();
    let result = app
        .signup("Ada", "ada@example.com", "ADA@example.com")
        .await;
    assert_eq!(invalid_fields(result), vec!["password"]);
}

#[tokio::test]
async fn invalid_email_and_empty_name_are_refused() {
    let app = TestApp::new();
    assert_eq!(
        invalid_fields(app.signup("Ada", "not-an-email", PASSWORD).await),
        vec!["email"]
    );
    assert_eq!(
        invalid_fields(app.signup("   ", "ada@example.com", PASSWORD).await),
        vec!["name"]
    );
    assert!(app.users.is_empty());
}

#[tokio::test]
async fn every_bad_field_is_reported_together_without_echoing_values() {
    let app = TestApp::new();
    let result = app.signup("", "nope@", "short").await;
    let Err(AuthError::Validation(errors)) = result else {
        panic!("expected a validation error");
    };
    let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
    assert_eq!(fields, vec!["name", "email", "password"]);
    assert!(errors.iter().all(|e| !e.message.is_empty()));
    assert!(errors.iter().all(|e| !e.message.contains("short")));
}

#[tokio::test]
async fn a_taken_email_in_any_case_is_email_taken() {
    let app = TestApp::new();
    app.ada().await;
    let result = app
        .signup("Eve", "ADA@example.com", "another password")
        .await;
    assert!(matches!(result, Err(AuthError::EmailTaken)), "{result:?}");
    assert_eq!(app.users.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_signups_of_one_email_create_one_account() {
    let app = Arc::new(TestApp::new());
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let app = Arc::clone(&app);
            tokio::spawn(async move {
                app.signup(&format!("Racer {i}"), "race@example.com", PASSWORD)
                    .await
            })
        })
        .collect();

    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(AuthError::EmailTaken) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(app.users.len(), 1);
}

#[tokio::test]
async fn signup_and_login_never_write_sessions() {
    let app = TestApp::new();
    app.ada().await;
    app.login("ada@example.com", PASSWORD).await.unwrap();
    let _ = app.login("ada@example.com", "wrong password").await;
    assert!(app.sessions.is_empty());
}
