#![allow(clippy::unwrap_used, clippy::expect_used)]
use secrecy::SecretString;

use super::*;

const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn settings() -> TokenSettings {
    TokenSettings::with_secret(SecretString::from(SECRET))
}

fn invalid_setting(s: &TokenSettings) -> &'static str {
    match TokenService::new(s) {
        Err(ConfigError::Invalid { setting, .. }) => setting,
        other => panic!("expected an invalid setting, got {other:?}"),
    }
}

#[test]
fn refuses_weak_settings_naming_the_setting() {
    let short = TokenSettings::with_secret(SecretString::from(&SECRET[..31]));
    assert_eq!(invalid_setting(&short), "secret");
    assert!(TokenService::new(&settings()).is_ok(), "32 bytes is enough");

    let leeway = TokenSettings {
        leeway_secs: 31,
        ..settings()
    };
    assert_eq!(invalid_setting(&leeway), "leeway_secs");
    let ttl = TokenSettings {
        ttl: Duration::ZERO,
        ..settings()
    };
    assert_eq!(invalid_setting(&ttl), "ttl");
    let issuer = TokenSettings {
        issuer: " ".into(),
        ..settings()
    };
    assert_eq!(invalid_setting(&issuer), "issuer");
    let audience = TokenSettings {
        audience: String::new(),
        ..settings()
    };
    assert_eq!(invalid_setting(&audience), "audience");
}

#[test]
fn validation_pins_hs256_and_requires_the_claims() {
    let service = TokenService::new(&settings()).unwrap();
    assert_eq!(service.inner.validation.algorithms, vec![Algorithm::HS256]);
    let required = &service.inner.validation.required_spec_claims;
    for claim in ["exp", "sub", "iss", "aud"] {
        assert!(required.contains(claim), "{claim}");
    }
    assert!(service.inner.validation.validate_nbf);
    assert!(service.inner.validation.leeway <= MAX_LEEWAY_SECS);
}

#[test]
fn debug_never_shows_the_secret() {
    let s = settings();
    assert!(!format!("{s:?}").contains(SECRET));
    let service = TokenService::new(&s).unwrap();
    assert!(!format!("{service:?}").contains(SECRET));
}

#[test]
fn shares_secret_tells_the_signing_secret_from_any_other() {
    let service = TokenService::new(&settings()).unwrap();
    assert!(service.shares_secret(SECRET.as_bytes()));
    assert!(!service.shares_secret(b"0123456789abcdef0123456789abcdeF"));
    assert!(!service.shares_secret(&SECRET.as_bytes()[..31]));
    assert!(!service.shares_secret(b""));
}

#[test]
fn issued_token_debug_is_redacted() {
    let issued = IssuedToken {
        token: "eyJ.secret.part".into(),
        expires_in: 5,
    };
    assert!(!format!("{issued:?}").contains("eyJ"));
}

/// The derived keys are pinned to known answers (SHA-256 of label ‖ secret, computed apart with
/// Python's hashlib): a change to a label or to the byte order would invalidate every reset and
/// verification link already mailed, and every other test would still pass.
#[test]
fn the_derived_keys_are_stable_across_releases() {
    let secret = b"0123456789abcdef0123456789abcdef";
    let hex = |bytes: [u8; 32]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(
        hex(mail::key(secret)),
        "e53cd6416db1272cb740043ebcea8391b060fe99da28604cf46d02d5bdd99545"
    );
    assert_eq!(
        hex(fingerprint(secret)),
        "48d11a3caaf5c04df701b16deb4c9e8c79f8bc7ca0ce0058631f72748034e2ba"
    );
}
