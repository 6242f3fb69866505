//! State, redirect and store behaviour shared by both providers.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use altrion_auth::{OAuthError, OAuthService, ProviderConfig};
use altrion_domain::{
    Email, Identity, NewUser, PasswordHash, Provider, RepoError, Timestamp, User, UserId,
    UserRepository,
};
use altrion_storage::memory::MemoryUserRepository;
use async_trait::async_trait;
use secrecy::SecretString;

use crate::oauth_support::{
    code_of, config, github_emails, github_octocat, google_ada, provider_config, OAuthTest,
};

#[tokio::test]
async fn a_callback_without_state_is_refused_before_any_provider_call() {
    let app = OAuthTest::new().await;
    let (_, pending) = app.start(Provider::Google);

    let result = app.callback(Provider::Google, None, Some(pending)).await;

    assert_eq!(code_of(result), "invalid_state");
    assert!(app.no_provider_calls().await);
    assert!(app.users.is_empty());
}

#[tokio::test]
async fn a_mismatched_state_is_refused() {
    let app = OAuthTest::new().await;
    let (_, pending) = app.start(Provider::Github);
    // A state minted for another flow (another browser) does not fit this session's flow.
    let (other, _) = app.start(Provider::Github);

    let result = app
        .callback(
            Provider::Github,
            Some(other["state"].clone()),
            Some(pending),
        )
        .await;

    assert!(matches!(
        result,
        Err(OAuthError::InvalidState(
            altrion_auth::oauth::StateProblem::Mismatch
        ))
    ));
    assert!(app.no_provider_calls().await);
}

#[tokio::test]
async fn a_replayed_callback_finds_no_pending_flow() {
    let app = OAuthTest::new().await;
    app.google_token_ok().await;
    app.google_userinfo(google_ada()).await;
    let (query, pending) = app.start(Provider::Google);
    let state = query["state"].clone();
    app.callback(Provider::Google, Some(state.clone()), Some(pending))
        .await
        .unwrap();

    // The route took the pending flow out of the session the first time.
    let replay = app.callback(Provider::Google, Some(state), None).await;

    assert_eq!(code_of(replay), "invalid_state");
    assert_eq!(app.requests_to("/google/token").await.len(), 1);
}

#[tokio::test]
async fn a_flow_older_than_ten_minutes_is_expired() {
    let app = OAuthTest::new().await;
    let (query, pending) = app.start(Provider::Google);

    app.clock.advance(time::Duration::minutes(11));
    let result = app
        .callback(
            Provider::Google,
            Some(query["state"].clone()),
            Some(pending),
        )
        .await;

    assert!(matches!(
        result,
        Err(OAuthError::InvalidState(
            altrion_auth::oauth::StateProblem::Expired
        ))
    ));
    assert!(app.no_provider_calls().await);
}

#[tokio::test]
async fn a_flow_started_for_one_provider_cannot_finish_at_the_other() {
    let app = OAuthTest::new().await;
    let (query, pending) = app.start(Provider::Google);

    let result = app
        .callback(
            Provider::Github,
            Some(query["state"].clone()),
            Some(pending),
        )
        .await;

    assert_eq!(code_of(result), "invalid_state");
    assert!(app.no_provider_calls().await);
}

#[tokio::test]
async fn redirect_targets_must_be_the_frontend_or_allow_listed() {
    let app = OAuthTest::new().await;
    let target = |raw| {
        app.service
            .start(altrion_auth::OAuthProvider::Google, Some(raw), None)
            .map(|(_, pending)| pending.redirect_to().to_string())
    };

    assert_eq!(
        target("/dashboard?tab=2").unwrap(),
        "http://app.test:3000/dashboard?tab=2"
    );
    assert_eq!(
        target("http://app.test:3000/x").unwrap(),
        "http://app.test:3000/x"
    );
    assert_eq!(
        target("https://admin.test/users").unwrap(),
        "https://admin.test/users"
    );
    for bad in [
        "https://evil.com/",
        "javascript:alert(document.cookie)",
        "//evil.com",
        "//evil.com/%2f..",
        "/\\evil.com",
        "http://admin.test/",
        "https://app.test:3000.evil.com/",
    ] {
        assert_eq!(
            target(bad).map_err(|e| e.code()),
            Err("invalid_redirect"),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn error_redirects_go_to_the_frontend_or_the_pending_target() {
    let app = OAuthTest::new().await;

    assert_eq!(
        app.service.error_redirect("access_denied", None).as_str(),
        "http://app.test:3000/?error=access_denied"
    );
    let (_, pending) = app
        .service
        .start(
            altrion_auth::OAuthProvider::Google,
            Some("/settings?tab=accounts"),
            None,
        )
        .unwrap();
    assert_eq!(
        app.service
            .error_redirect("account_exists", Some(pending.redirect_to()))
            .as_str(),
        "http://app.test:3000/settings?tab=accounts&error=account_exists"
    );
}

#[tokio::test]
async fn a_provider_without_credentials_is_disabled() {
    let app = OAuthTest::new().await;
    let mut github = provider_config(&app.server, Provider::Github);
    github.client_secret = SecretString::from("");
    let service = OAuthService::builder(
        app.users.clone(),
        app.sessions.clone(),
        config(Duration::from_secs(5)),
    )
    .clock(Arc::new(app.clock.clone()))
    .github(github)
    .build()
    .unwrap();

    assert!(!service.enabled(altrion_auth::OAuthProvider::Google));
    assert!(!service.enabled(altrion_auth::OAuthProvider::Github));
    assert!(app.service.enabled(altrion_auth::OAuthProvider::Google));
    // `local` has no OAuth flow: `OAuthProvider` cannot even name it.
    for provider in altrion_auth::OAuthProvider::ALL {
        let err = service.start(provider, None, None).unwrap_err();
        assert_eq!(err.code(), "provider_disabled");
    }
}

#[tokio::test]
async fn an_enabled_provider_with_a_bad_endpoint_fails_at_start_up() {
    let app = OAuthTest::new().await;
    let google = ProviderConfig {
        token_url: "not a url".into(),
        ..provider_config(&app.server, Provider::Google)
    };

    let err = OAuthService::builder(
        app.users.clone(),
        app.sessions.clone(),
        config(Duration::from_secs(5)),
    )
    .google(google)
    .build()
    .unwrap_err();

    let message = err.to_string();
    assert!(
        message.contains("`token_url`") && message.contains("google"),
        "{message}"
    );
}

/// Delegates to the memory fake; can be "down", or lose the create race once.
#[derive(Debug, Default)]
struct FlakyUsers {
    inner: MemoryUserRepository,
    down: AtomicBool,
    lose_race: AtomicBool,
}

impl FlakyUsers {
    fn check(&self) -> Result<(), RepoError> {
        if self.down.load(Ordering::SeqCst) {
            Err(RepoError::Unavailable("connection refused".into()))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl UserRepository for FlakyUsers {
    async fn create(&self, user: NewUser) -> Result<User, RepoError> {
        self.check()?;
        if self.lose_race.swap(false, Ordering::SeqCst) {
            // Another callback for the same identity commits first.
            self.inner.create(user).await?;
            return Err(RepoError::Conflict(altrion_domain::ConflictKey::Identity));
        }
        self.inner.create(user).await
    }
    async fn find_by_id(&self, id: &UserId) -> Result<Option<User>, RepoError> {
        self.check()?;
        self.inner.find_by_id(id).await
    }
    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, RepoError> {
        self.check()?;
        self.inner.find_by_email(email).await
    }
    async fn find_by_identity(&self, p: Provider, s: &str) -> Result<Option<User>, RepoError> {
        self.check()?;
        self.inner.find_by_identity(p, s).await
    }
    async fn claim_login_attempt(
        &self,
        id: &UserId,
        attempt: altrion_domain::LoginAttempt,
    ) -> Result<bool, RepoError> {
        self.inner.claim_login_attempt(id, attempt).await
    }
    async fn record_login(
        &self,
        id: &UserId,
        at: Timestamp,
        rehashed: Option<PasswordHash>,
        version: i64,
    ) -> Result<User, RepoError> {
        self.inner.record_login(id, at, rehashed, version).await
    }
    async fn unlink_provider(
        &self,
        id: &UserId,
        provider: Provider,
        at: Timestamp,
        version: i64,
    ) -> Result<altrion_domain::Unlinked, RepoError> {
        self.inner.unlink_provider(id, provider, at, version).await
    }
    async fn replace_password(
        &self,
        id: &UserId,
        hash: PasswordHash,
        at: Timestamp,
        version: i64,
    ) -> Result<User, RepoError> {
        self.inner.replace_password(id, hash, at, version).await
    }
    async fn delete(&self, id: &UserId, version: i64) -> Result<bool, RepoError> {
        self.inner.delete(id, version).await
    }
    async fn claim_mail_quota(
        &self,
        id: &UserId,
        kind: altrion_domain::MailKind,
        quota: altrion_domain::MailQuota,
    ) -> Result<bool, RepoError> {
        self.inner.claim_mail_quota(id, kind, quota).await
    }
    async fn mark_email_verified(
        &self,
        id: &UserId,
        email: &Email,
        at: Timestamp,
    ) -> Result<Option<User>, RepoError> {
        self.inner.mark_email_verified(id, email, at).await
    }
    async fn reset_password(
        &self,
        id: &UserId,
        hash: PasswordHash,
        at: Timestamp,
        version: i64,
    ) -> Result<Option<User>, RepoError> {
        self.inner.reset_password(id, hash, at, version).await
    }
    async fn take_over(
        &self,
        id: &UserId,
        email: &Email,
        identity: Identity,
        at: Timestamp,
    ) -> Result<Option<User>, RepoError> {
        self.check()?;
        self.inner.take_over(id, email, identity, at).await
    }
    async fn bump_token_version(&self, id: &UserId, at: Timestamp) -> Result<i64, RepoError> {
        self.inner.bump_token_version(id, at).await
    }
    async fn link_identity(
        &self,
        id: &UserId,
        identity: Identity,
        at: Timestamp,
        token_version: i64,
    ) -> Result<User, RepoError> {
        self.check()?;
        self.inner
            .link_identity(id, identity, at, token_version)
            .await
    }
}

async fn flaky_app() -> (OAuthTest, Arc<FlakyUsers>, OAuthService) {
    let app = OAuthTest::new().await;
    let users = Arc::new(FlakyUsers::default());
    let service = OAuthService::builder(
        users.clone(),
        app.sessions.clone(),
        config(Duration::from_secs(5)),
    )
    .clock(Arc::new(app.clock.clone()))
    .github(provider_config(&app.server, Provider::Github))
    .build()
    .unwrap();
    app.github_token_ok().await;
    app.github_profile(github_octocat(), github_emails()).await;
    (app, users, service)
}

async fn github_sign_in(service: &OAuthService) -> Result<altrion_auth::SignedIn, OAuthError> {
    let (url, pending) = service
        .start(altrion_auth::OAuthProvider::Github, None, None)
        .unwrap();
    let state = crate::oauth_support::query_map(&url)["state"].clone();
    service
        .finish(
            altrion_auth::OAuthProvider::Github,
            altrion_auth::CallbackQuery {
                code: Some("c".into()),
                state: Some(state),
                error: None,
            },
            Some(pending),
        )
        .await
}

#[tokio::test]
async fn losing_the_create_race_signs_in_to_the_winners_account() {
    let (_app, users, service) = flaky_app().await;
    users.lose_race.store(true, Ordering::SeqCst);

    let signed_in = github_sign_in(&service).await.unwrap();

    assert!(!signed_in.created);
    assert_eq!(users.inner.len(), 1);
    assert_eq!(signed_in.user.identities[0].subject, "583231");
}

#[tokio::test]
async fn a_store_outage_is_unavailable() {
    let (_app, users, service) = flaky_app().await;
    users.down.store(true, Ordering::SeqCst);

    let result = github_sign_in(&service).await;

    assert_eq!(code_of(result), "unavailable");
    assert!(users.inner.is_empty());
}

#[tokio::test]
async fn errors_and_debug_output_never_show_codes_tokens_or_secrets() {
    let app = OAuthTest::new().await;
    app.github_token_ok().await;
    app.github_profile(github_octocat(), json_bad_emails())
        .await;
    let (url, pending) = app
        .service
        .start(altrion_auth::OAuthProvider::Github, None, None)
        .unwrap();
    let state = crate::oauth_support::query_map(&url)["state"].clone();

    let debug = format!("{:?} {:?}", app.service, pending);
    let result = app
        .callback(Provider::Github, Some(state.clone()), Some(pending))
        .await;
    let error = result.unwrap_err();
    let shown = format!("{debug} {error} {error:?}");

    for secret in [
        "github-client-secret",
        crate::oauth_support::GITHUB_TOKEN,
        crate::oauth_support::CODE,
        state.as_str(),
    ] {
        assert!(!shown.contains(secret), "{secret} leaked in {shown}");
    }
}

fn json_bad_emails() -> serde_json::Value {
    serde_json::json!({"not": "a list"})
}
