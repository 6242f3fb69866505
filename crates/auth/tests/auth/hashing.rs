use altrion_auth::{Argon2Settings, Verified};

use crate::helpers::{cheap_argon2, TestApp, PASSWORD};

fn salt(phc: &str) -> &str {
    phc.split('$').nth(4).unwrap()
}

#[tokio::test]
async fn stored_hashes_are_argon2id_with_the_production_defaults_and_unique_salts() {
    let app = TestApp::with_argon2(&Argon2Settings::default());

    app.signup("Ada", "ada@example.com", PASSWORD)
        .await
        .unwrap();
    app.signup("Bob", "bob@example.com", PASSWORD)
        .await
        .unwrap();

    let ada = app.stored("ada@example.com").await.password_hash.unwrap();
    let bob = app.stored("bob@example.com").await.password_hash.unwrap();
    for phc in [ada.as_str(), bob.as_str()] {
        assert!(
            phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "unexpected hash shape"
        );
    }
    assert_ne!(ada, bob);
    assert_ne!(salt(ada.as_str()), salt(bob.as_str()));
    assert!(!ada.as_str().contains(PASSWORD));
}

#[tokio::test]
async fn login_rehashes_when_the_parameters_changed() {
    let old = TestApp::new();
    old.ada().await;
    let before = old.stored("ada@example.com").await.password_hash.unwrap();
    assert!(before
        .as_str()
        .starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));

    let new = old.reconfigured(&Argon2Settings {
        memory_kib: 2048,
        iterations: 2,
        ..cheap_argon2()
    });
    let auth = new.login("ada@example.com", PASSWORD).await.unwrap();

    let after = new.stored("ada@example.com").await.password_hash.unwrap();
    assert!(after.as_str().starts_with("$argon2id$v=19$m=2048,t=2,p=1$"));
    assert_eq!(auth.user.password_hash.as_ref(), Some(&after));
    assert_eq!(
        new.hasher.verify(PASSWORD, &after).await.unwrap(),
        Verified::Valid {
            needs_rehash: false
        }
    );
}

#[tokio::test]
async fn login_keeps_a_hash_made_with_the_current_parameters() {
    let app = TestApp::new();
    app.ada().await;
    let before = app.stored("ada@example.com").await.password_hash;
    app.login("ada@example.com", PASSWORD).await.unwrap();
    assert_eq!(app.stored("ada@example.com").await.password_hash, before);
}
