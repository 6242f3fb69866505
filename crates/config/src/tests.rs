#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeSet, collections::HashMap, path::Path};

use secrecy::ExposeSecret;

use super::*;

const STRONG_JWT: &str = "Zq8v1Lr3Tx6Wm0Np4Hs7Kc2Bd9Fy5Ge+Aj/Uo";
const STRONG_SESSION: &str = "Pn4Yc8Rv2Mw6Qx0Ls3Kd7Hb1Tf5Gj9Ze/Ua+Io";

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Loads `pairs`, with strong secrets unless `pairs` names them (`load()` would generate them
/// in development; `load_from` never does).
fn load(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    let mut vars = vars(pairs);
    vars.entry("JWT_SECRET".into())
        .or_insert_with(|| STRONG_JWT.into());
    vars.entry("SESSION_SECRET".into())
        .or_insert_with(|| STRONG_SESSION.into());
    load_from(&vars, Path::new("/nonexistent-config-dir"))
}

fn production(extra: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    let mut pairs: Vec<(&'static str, String)> = vec![
        ("APP_ENV", "production".into()),
        ("JWT_SECRET", STRONG_JWT.into()),
        ("SESSION_SECRET", STRONG_SESSION.into()),
        ("MONGODB_URI", "mongodb://db.internal:27017".into()),
        ("PUBLIC_URL", "https://api.example.com".into()),
        ("FRONTEND_URL", "https://app.example.com".into()),
        ("SMTP_URL", "smtps://mailer:hunter2@smtp.example.com".into()),
        ("MAIL_FROM", "Altrion <no-reply@example.com>".into()),
    ];
    for (k, v) in extra {
        pairs.retain(|(key, _)| key != k);
        if let Some(static_key) = [
            "APP_ENV",
            "JWT_SECRET",
            "SESSION_SECRET",
            "MONGODB_URI",
            "PUBLIC_URL",
            "APP__SESSION__COOKIE_SECURE",
            "APP__PASSWORD__MEMORY_KIB",
            "SMTP_URL",
            "MAIL_FROM",
        ]
        .into_iter()
        .find(|s| s == k)
        {
            pairs.push((static_key, (*v).to_owned()));
        }
    }
    pairs
}

fn load_owned(pairs: &[(&'static str, String)]) -> Result<Settings, SettingsError> {
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    load(&borrowed)
}

fn problems(result: Result<Settings, SettingsError>) -> String {
    match result {
        Err(err) => err.to_string(),
        Ok(_) => panic!("expected the configuration to be refused"),
    }
}

#[test]
fn development_needs_no_configuration() {
    let settings = load(&[]).unwrap();
    assert_eq!(settings.env, Environment::Development);
    assert_eq!(settings.database.uri.expose_secret(), "embedded:var/devdb");
    assert!(!settings.session.cookie_secure);
    assert_eq!(settings.session.cookie_name(), "altrion.sid");
    assert_eq!(settings.server.port, 8080);
    assert_eq!(settings.password.memory_kib, 19_456);
    assert_eq!(settings.log.format, LogFormat::Pretty);
}

#[test]
fn no_profile_ships_a_secret() {
    for env in ["development", "test", "production"] {
        let message = problems(load_from(
            &vars(&[("APP_ENV", env)]),
            Path::new("/nonexistent-config-dir"),
        ));
        assert!(
            message.contains("JWT_SECRET (jwt.secret) is not set")
                && message.contains("SESSION_SECRET (session.secret) is not set"),
            "{env}: {message}"
        );
    }
}

#[test]
fn the_secrets_this_repository_once_published_are_refused_everywhere() {
    for env in ["development", "test", "production"] {
        for published in [
            "dev-only-jwt-secret-do-not-use-in-production-0123456789",
            "test-only-session-secret-do-not-use-in-production-0123456789",
        ] {
            let message = problems(load(&[
                ("APP_ENV", env),
                ("JWT_SECRET", published),
                ("MONGODB_URI", "mongodb://db.internal:27017"),
            ]));
            assert!(
                message.contains("JWT_SECRET (jwt.secret) is a published example"),
                "{env}: {message}"
            );
        }
    }
}

#[test]
fn development_secrets_are_generated_once_private_and_kept() {
    let dir = std::env::temp_dir().join(format!("altrion-dev-secrets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let first = dev_secrets(&dir).unwrap();
    assert_eq!(first.jwt.len(), 64);
    assert_ne!(first.jwt, first.session);
    let again = dev_secrets(&dir).unwrap();
    assert_eq!(
        (again.jwt, again.session),
        (first.jwt.clone(), first.session)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("dev-secrets.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let other = std::env::temp_dir().join(format!("altrion-dev-secrets-b-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&other);
    assert_ne!(
        dev_secrets(&other).unwrap().jwt,
        first.jwt,
        "each checkout has its own"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&other).unwrap();
}

#[test]
fn production_without_secrets_names_every_missing_setting() {
    let message = problems(load_from(
        &vars(&[("APP_ENV", "production")]),
        Path::new("/nonexistent-config-dir"),
    ));
    assert!(
        message.contains("JWT_SECRET (jwt.secret) is not set"),
        "{message}"
    );
    assert!(
        message.contains("SESSION_SECRET (session.secret) is not set"),
        "{message}"
    );
    assert!(
        message.contains("MONGODB_URI (database.uri) is not set"),
        "{message}"
    );
}

#[test]
fn production_accepts_a_sound_configuration() {
    let settings = load_owned(&production(&[])).unwrap();
    assert_eq!(settings.env, Environment::Production);
    assert!(settings.session.cookie_secure);
    assert_eq!(settings.session.cookie_name(), "__Host-altrion.sid");
    assert_eq!(settings.log.format, LogFormat::Json);
    assert_eq!(settings.server.host, "0.0.0.0");
}

#[test]
fn production_refuses_weak_secrets() {
    let short = problems(load_owned(&production(&[("JWT_SECRET", "short-secret")])));
    assert!(
        short.contains("JWT_SECRET (jwt.secret) must be at least 32 bytes"),
        "{short}"
    );

    let example = problems(load_owned(&production(&[(
        "SESSION_SECRET",
        "dev-only-session-secret-do-not-use-in-production-0123456789",
    )])));
    assert!(
        example.contains("SESSION_SECRET (session.secret) is a published example"),
        "{example}"
    );

    let repetitive = problems(load_owned(&production(&[("JWT_SECRET", &"ab".repeat(32))])));
    assert!(
        repetitive.contains("JWT_SECRET (jwt.secret) is too predictable"),
        "{repetitive}"
    );

    let same = problems(load_owned(&production(&[("SESSION_SECRET", STRONG_JWT)])));
    assert!(same.contains("must differ from JWT_SECRET"), "{same}");
}

#[test]
fn production_refuses_embedded_database_and_insecure_cookies() {
    let embedded = problems(load_owned(&production(&[(
        "MONGODB_URI",
        "embedded:var/db",
    )])));
    assert!(
        embedded.contains("MONGODB_URI (database.uri) must point at a MongoDB"),
        "{embedded}"
    );

    let cookies = problems(load_owned(&production(&[(
        "APP__SESSION__COOKIE_SECURE",
        "false",
    )])));
    assert!(
        cookies.contains("APP__SESSION__COOKIE_SECURE (session.cookie_secure) must be true"),
        "{cookies}"
    );

    let http = problems(load_owned(&production(&[(
        "PUBLIC_URL",
        "http://api.example.com",
    )])));
    assert!(
        http.contains("PUBLIC_URL (server.public_url) must use https"),
        "{http}"
    );

    let argon = problems(load_owned(&production(&[(
        "APP__PASSWORD__MEMORY_KIB",
        "4096",
    )])));
    assert!(argon.contains("APP__PASSWORD__MEMORY_KIB"), "{argon}");
}

#[test]
fn every_profile_refuses_short_secrets_and_bad_values() {
    let message = problems(load(&[
        ("JWT_SECRET", "tiny"),
        ("APP__JWT__LEEWAY_SECS", "31"),
    ]));
    assert!(
        message.contains("JWT_SECRET (jwt.secret) must be at least 32 bytes"),
        "{message}"
    );
    assert!(message.contains("APP__JWT__LEEWAY_SECS (jwt.leeway_secs) must be at most 30"));

    let touch = problems(load(&[("APP__SESSION__TOUCH_AFTER_SECS", "90000")]));
    assert!(touch.contains("APP__SESSION__TOUCH_AFTER_SECS"), "{touch}");

    let uri = problems(load(&[("MONGODB_URI", "postgres://x")]));
    assert!(
        uri.contains("MONGODB_URI (database.uri) must start with"),
        "{uri}"
    );
}

#[test]
fn the_database_uri_names_mongodb_an_embedded_directory_or_memory() {
    let target = |uri: &str| load(&[("MONGODB_URI", uri)]).map(|s| s.database.target().unwrap());
    assert!(matches!(
        target("embedded:var/devdb").unwrap(),
        DatabaseUri::Embedded(Some(dir)) if dir == Path::new("var/devdb")
    ));
    assert!(matches!(
        target("embedded:").unwrap(),
        DatabaseUri::Embedded(None)
    ));
    assert!(matches!(target("memory:").unwrap(), DatabaseUri::Memory));
    for uri in [
        "mongodb://u:hunter2@db/",
        "mongodb+srv://cluster0.example.net",
    ] {
        let DatabaseUri::Mongo(secret) = target(uri).unwrap() else {
            panic!("{uri}")
        };
        assert_eq!(secret.expose_secret(), uri);
        assert!(!format!("{:?}", target(uri).unwrap()).contains("hunter2"));
    }
}

#[test]
fn each_component_is_built_from_its_settings() {
    let settings = load(&[
        ("FRONTEND_URL", "http://localhost:3000/app"),
        (
            "APP__OAUTH__REDIRECT_ALLOWLIST",
            " https://a.example.com , ,http://b.example.com:8000",
        ),
        ("APP__JWT__TTL_SECS", "600"),
        ("APP__RATE_LIMIT__LOCKOUT_MAX_DELAY_SECS", "3600"),
    ])
    .unwrap();
    let argon2 = settings.password.argon2();
    assert_eq!((argon2.memory_kib, argon2.iterations), (19_456, 2));
    assert_eq!(
        argon2.max_concurrent, 0,
        "passed on: auth reads 0 as one per core"
    );
    assert_eq!(settings.jwt.tokens().ttl, time::Duration::minutes(10));
    assert_eq!(
        settings.rate_limit.lockout().max_delay,
        time::Duration::hours(1)
    );
    assert_eq!(settings.mail_policy().unwrap().frontend_url.path(), "/app");
    let oauth = settings.oauth.oauth_config(&settings.server).unwrap();
    assert_eq!(oauth.redirect_allowlist.len(), 2);
    assert_eq!(oauth.http_timeout, std::time::Duration::from_secs(10));
    let github = settings.oauth.github.provider("http://api/callback".into());
    assert_eq!(github.profile_url, "https://api.github.com");
    assert_eq!(github.redirect_url, "http://api/callback");
}

/// defaults.toml and auth's `ProviderConfig::github` / `::google` name the same endpoints:
/// two homes for them, pinned together.
#[test]
fn the_default_provider_endpoints_are_auths() {
    let settings = load(&[
        ("JWT_SECRET", STRONG_JWT),
        ("SESSION_SECRET", STRONG_SESSION),
    ])
    .unwrap();
    let endpoints = |p: &altrion_auth::ProviderConfig| {
        (
            p.auth_url.clone(),
            p.token_url.clone(),
            p.profile_url.clone(),
        )
    };
    let (github, google) = (
        settings.oauth.github.provider("u".into()),
        settings.oauth.google.provider("u".into()),
    );
    assert_eq!(
        endpoints(&github),
        endpoints(&altrion_auth::ProviderConfig::github("", "".into(), "u"))
    );
    assert_eq!(
        endpoints(&google),
        endpoints(&altrion_auth::ProviderConfig::google("", "".into(), "u"))
    );
}

#[test]
fn oauth_values_are_checked_with_the_others() {
    let message = problems(load(&[
        (
            "APP__OAUTH__REDIRECT_ALLOWLIST",
            "https://ok.example.com,javascript:x",
        ),
        ("APP__OAUTH__HTTP_TIMEOUT_SECS", "0"),
    ]));
    assert!(
        message.contains("(oauth.redirect_allowlist) has an entry that is not an http(s) URL"),
        "{message}"
    );
    assert!(
        message.contains("(oauth.http_timeout_secs) must be greater than 0"),
        "{message}"
    );
}

#[test]
fn conventional_names_and_app_overrides() {
    let settings = load(&[("PORT", "9000"), ("APP__JWT__TTL_SECS", "600")]).unwrap();
    assert_eq!(settings.server.port, 9000);
    assert_eq!(settings.jwt.ttl_secs, 600);

    let both = load(&[("PORT", "9000"), ("APP__SERVER__PORT", "9100")]).unwrap();
    assert_eq!(
        both.server.port, 9100,
        "APP__ wins over the conventional name"
    );

    let nested = load(&[("GITHUB_API_URL", "http://127.0.0.1:9999")]).unwrap();
    assert_eq!(nested.oauth.github.api_url, "http://127.0.0.1:9999");
}

#[test]
fn malformed_values_and_unknown_keys_are_named() {
    let port = load(&[("PORT", "eighty")]).unwrap_err().to_string();
    assert!(port.contains("port"), "{port}");

    let unknown = load(&[("APP__JWT__SECRT", "x")]).unwrap_err().to_string();
    assert!(unknown.contains("secrt"), "{unknown}");

    let env = load(&[("APP_ENV", "staging")]).unwrap_err().to_string();
    assert!(env.contains("staging"), "{env}");
}

#[test]
fn files_in_the_config_dir_layer_under_the_environment() {
    let dir = std::env::temp_dir().join(format!("altrion-config-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("default.toml"),
        "[server]\nport = 7000\nworkers = 3\n",
    )
    .unwrap();
    std::fs::write(dir.join("development.toml"), "[server]\nport = 7100\n").unwrap();

    let secrets = vars(&[
        ("JWT_SECRET", STRONG_JWT),
        ("SESSION_SECRET", STRONG_SESSION),
    ]);
    let from_files = load_from(&secrets, &dir).unwrap();
    assert_eq!(
        from_files.server.port, 7100,
        "the profile file wins over default.toml"
    );
    assert_eq!(from_files.server.workers, 3);

    let mut with_port = secrets.clone();
    with_port.insert("PORT".into(), "7200".into());
    let env_wins = load_from(&with_port, &dir).unwrap();
    assert_eq!(env_wins.server.port, 7200);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn debug_output_redacts_secrets() {
    let settings = load(&[
        ("MONGODB_URI", "mongodb://admin:hunter2hunter2@db:27017"),
        ("GOOGLE_CLIENT_SECRET", "google-client-secret-value"),
        (
            "SMTP_URL",
            "smtp://mailer:smtp-password-value@127.0.0.1:1025",
        ),
        ("APP__MAIL__SMTP_PASSWORD", "separate-smtp-password"),
    ])
    .unwrap();
    let debug = format!("{settings:?}");
    for secret in [
        "hunter2hunter2",
        STRONG_JWT,
        STRONG_SESSION,
        "google-client-secret-value",
        "smtp-password-value",
        "separate-smtp-password",
    ] {
        assert!(!debug.contains(secret), "{secret} leaked into Debug");
    }
}

#[test]
fn production_refuses_to_start_without_smtp_or_with_a_localhost_sender() {
    let settings = load_owned(&production(&[])).unwrap();
    let options = settings.mail.mail_options();
    assert_eq!(
        options.smtp_url.unwrap().expose_secret(),
        "smtps://mailer:hunter2@smtp.example.com"
    );
    assert_eq!(options.from, "Altrion <no-reply@example.com>");

    let unset = problems(load_owned(&production(&[("SMTP_URL", "")])));
    assert!(
        unset.contains("SMTP_URL (mail.smtp_url) is not set"),
        "{unset}"
    );

    let localhost = problems(load_owned(&production(&[(
        "MAIL_FROM",
        "Altrion <no-reply@localhost>",
    )])));
    assert!(
        localhost.contains("MAIL_FROM (mail.from) must be a sender address in a real domain"),
        "{localhost}"
    );
}

#[test]
fn development_mail_goes_to_the_outbox_and_the_aliases_set_smtp() {
    let outbox = load(&[]).unwrap().mail.mail_options();
    assert!(outbox.smtp_url.is_none());
    assert_eq!(outbox.outbox_dir, Path::new("var/outbox"));
    assert_eq!(outbox.from, "Altrion <no-reply@localhost>");
    assert_eq!(
        (
            outbox.timeout.as_secs(),
            outbox.queue_capacity,
            outbox.max_attempts
        ),
        (10, 1000, 3)
    );
    assert_eq!(outbox.validate(), Ok(()));

    let smtp = load(&[
        ("SMTP_URL", "smtp://127.0.0.1:1025"),
        ("MAIL_FROM", "Team <team@example.com>"),
        ("APP__MAIL__SMTP_USERNAME", "mailer"),
        ("APP__MAIL__QUEUE_CAPACITY", "5"),
    ])
    .unwrap()
    .mail
    .mail_options();
    assert_eq!(
        smtp.smtp_url.unwrap().expose_secret(),
        "smtp://127.0.0.1:1025"
    );
    assert_eq!(smtp.from, "Team <team@example.com>");
    assert_eq!(smtp.username.unwrap().expose_secret(), "mailer");
    assert!(smtp.password.is_none(), "empty means unset");
    assert_eq!(smtp.queue_capacity, 5);
}

#[test]
fn every_profile_refuses_a_bad_sender_url_or_queue_capacity() {
    for env in ["development", "test", "production"] {
        let message = problems(load_owned(&[
            ("APP_ENV", env.to_owned()),
            ("MONGODB_URI", "mongodb://db.internal:27017".to_owned()),
            ("MAIL_FROM", "not a mailbox".to_owned()),
            ("APP__MAIL__QUEUE_CAPACITY", "0".to_owned()),
        ]));
        assert!(
            message.contains("MAIL_FROM (mail.from) is invalid"),
            "{env}: {message}"
        );
        assert!(
            message
                .contains("APP__MAIL__QUEUE_CAPACITY (mail.queue_capacity) must be greater than 0"),
            "{env}: {message}"
        );
    }
    let scheme = problems(load(&[("SMTP_URL", "https://user:pw@mail.example.com")]));
    assert!(
        scheme.contains("SMTP_URL (mail.smtp_url) is invalid") && !scheme.contains("pw@"),
        "{scheme}"
    );
}

/// Every variable `.env.example` mentions, commented or not.
fn example_keys() -> (BTreeSet<String>, HashMap<String, String>) {
    let text = include_str!("../../../.env.example");
    let mut keys = BTreeSet::new();
    let mut active = HashMap::new();
    for line in text.lines() {
        let commented = line.trim_start().starts_with('#');
        let body = line.trim_start().trim_start_matches('#').trim_start();
        let Some((key, value)) = body.split_once('=') else {
            continue;
        };
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            continue;
        }
        keys.insert(key.to_owned());
        if !commented {
            active.insert(
                key.to_owned(),
                value
                    .split(" #")
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
            );
        }
    }
    (keys, active)
}

/// Every variable the settings understand, derived from the built-in defaults (which the
/// struct's `deny_unknown_fields` keeps exact).
fn settings_keys() -> BTreeSet<String> {
    let defaults = config::Config::builder()
        .add_source(config::File::from_str(
            include_str!("defaults.toml"),
            config::FileFormat::Toml,
        ))
        .build()
        .unwrap();
    let table: config::Map<String, config::Value> = defaults.try_deserialize().unwrap();
    let mut keys = BTreeSet::from(["APP_ENV".to_owned()]);
    fn walk(prefix: &str, table: &config::Map<String, config::Value>, out: &mut BTreeSet<String>) {
        for (name, value) in table {
            let key = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            match value.clone().into_table() {
                Ok(inner) => walk(&key, &inner, out),
                Err(_) if key == "env" => {}
                Err(_) => {
                    out.insert(super::load::variable_for(&key));
                }
            }
        }
    }
    walk("", &table, &mut keys);
    keys
}

#[test]
fn env_example_documents_exactly_the_settings() {
    let (documented, _) = example_keys();
    let expected = settings_keys();
    let missing: Vec<_> = expected.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&expected).collect();
    assert!(missing.is_empty(), ".env.example lacks {missing:?}");
    assert!(unknown.is_empty(), ".env.example lists unknown {unknown:?}");
}

#[test]
fn env_example_values_load_in_development() {
    let (_, mut active) = example_keys();
    // `.env.example` leaves the secrets unset; `load()` generates them in development.
    active.insert("JWT_SECRET".into(), STRONG_JWT.into());
    active.insert("SESSION_SECRET".into(), STRONG_SESSION.into());
    let settings = load_from(&active, Path::new("/nonexistent-config-dir")).unwrap();
    assert_eq!(settings.env, Environment::Development);
    assert_eq!(settings.database.uri.expose_secret(), "embedded:var/devdb");
}
