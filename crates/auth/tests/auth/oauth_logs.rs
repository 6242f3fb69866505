use altrion_domain::Provider;
use serde_json::json;
use wiremock::{
    matchers::{method, path},
    Mock, ResponseTemplate,
};

use crate::{
    oauth_support::{form, github_emails, github_octocat, OAuthTest, CODE, GITHUB_TOKEN},
    secrets::Captured,
};

/// Runs on the current thread so the thread-local subscriber sees every event, including the
/// HTTP client's.
#[tokio::test(flavor = "current_thread")]
async fn oauth_logs_never_contain_codes_tokens_states_verifiers_or_secrets() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = OAuthTest::new().await;
    app.github_token_ok().await;
    app.github_profile(github_octocat(), github_emails()).await;

    let (query, pending) = app.start(Provider::Github);
    let state = query["state"].clone();
    app.callback(Provider::Github, Some(state.clone()), Some(pending))
        .await
        .unwrap();
    let (_, pending) = app.start(Provider::Github);
    let mismatch = app
        .callback(Provider::Github, Some("forged".into()), Some(pending))
        .await;
    app.server.reset().await;
    Mock::given(method("POST"))
        .and(path("/github/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "error": "bad_verification_code"
        })))
        .mount(&app.server)
        .await;
    let refused = app.sign_in(Provider::Github).await;

    let logs = logs.text();
    assert!(mismatch.is_err() && refused.is_err());
    // Which events reach a thread-local subscriber depends on tracing's global callsite cache,
    // which concurrent tests share; so only check that capturing works, not each message.
    assert!(logs.contains("altrion_auth"), "nothing was logged:\n{logs}");
    let verifier = form(&app.requests_to("/github/token").await[0])["code_verifier"].clone();
    for secret in [
        "github-client-secret",
        CODE,
        GITHUB_TOKEN,
        state.as_str(),
        verifier.as_str(),
    ] {
        assert!(!logs.contains(secret), "log contains {secret:?}:\n{logs}");
    }
}
