//! The OAuth parts of the page that need no provider: the buttons, and the return with
//! `?error=<code>`. The full provider round trips, through the mock provider, are in
//! `oauth_login.rs`.

use crate::{browser::Browser, stack::Stack};

/// The API reference: its error table lists every code the API answers.
const API_DOC: &str = include_str!("../../../../docs/api.md");

/// The codes the OAuth callback may put in `?error=` (design §4, §7).
const OAUTH_CODES: &[&str] = &[
    "access_denied",
    "invalid_state",
    "provider_error",
    "timeout",
    "email_not_verified",
    "account_exists",
    "provider_disabled",
    "invalid_redirect",
    "unavailable",
    "internal",
];

/// The `code` column of the error table in docs/api.md (`| 401 | `unauthorized` | … |`).
fn documented_api_codes() -> Vec<String> {
    API_DOC
        .lines()
        .filter_map(|line| {
            let mut cells = line.split('|').map(str::trim).skip(1);
            let status = cells.next()?;
            let code = cells.next()?.strip_prefix('`')?.strip_suffix('`')?;
            (status.len() == 3 && status.bytes().all(|b| b.is_ascii_digit()))
                .then(|| code.to_owned())
        })
        .collect()
}

#[tokio::test]
async fn provider_buttons_point_at_the_api() {
    let stack = Stack::start().await;
    let browser = Browser::launch().await;
    browser.goto(&stack.page_url()).await;
    browser.wait_for_state("signed-out").await;

    for (id, label, path) in [
        ("#oauth-google", "Login with Google", "/api/auth/google"),
        ("#oauth-github", "Login with GitHub", "/api/auth/github"),
    ] {
        assert!(browser.is_displayed(id).await, "{id} is shown");
        assert_eq!(browser.text(id).await, label);
        let href = browser
            .eval(&format!("return document.querySelector('{id}').href;"))
            .await;
        assert_eq!(href.as_str(), Some(format!("{}{path}", stack.api).as_str()));
    }
    browser.close().await;
}

#[tokio::test]
async fn an_oauth_error_is_explained_and_removed_from_the_url() {
    let stack = Stack::start().await;
    let browser = Browser::launch().await;

    for (code, text) in [
        ("access_denied", "Sign-in was cancelled at the provider."),
        (
            "account_exists",
            "An account with this email already exists. Log in with your password, then link the provider.",
        ),
    ] {
        let page = stack.page_url();
        browser.goto(&format!("{page}?error={code}&keep=1#top")).await;
        browser.wait_for_state("signed-out").await;
        assert_eq!(browser.wait_for_message(code).await, text);
        assert_eq!(
            browser.current_url().await,
            format!("{page}?keep=1#top"),
            "only the error parameter is removed"
        );
    }

    // An unknown code still reads as an error, never as raw markup.
    let page = stack.page_url();
    browser
        .goto(&format!("{page}?error=%3Cb%3Eodd%3C%2Fb%3E"))
        .await;
    let text = browser.wait_for_message("<b>odd</b>").await;
    assert_eq!(text, "Something went wrong (<b>odd</b>).");
    assert_eq!(browser.current_url().await, page);
    browser.close().await;
}

/// Every documented API error code and every OAuth redirect code has its own readable text
/// (the page's fallback for unknown codes is "Something went wrong (<code>).").
#[tokio::test]
async fn every_error_code_has_a_readable_message() {
    let api_codes = documented_api_codes();
    assert!(
        api_codes.len() >= 13,
        "docs/api.md error table: {api_codes:?}"
    );
    let stack = Stack::start().await;
    let browser = Browser::launch().await;
    let page = stack.page_url();
    let mut texts = std::collections::HashMap::new();
    for code in api_codes
        .iter()
        .map(String::as_str)
        .chain(OAUTH_CODES.iter().copied())
    {
        browser.goto(&format!("{page}?error={code}")).await;
        let text = browser.wait_for_message(code).await;
        assert!(
            !text.starts_with("Something went wrong ("),
            "{code} has its own message, got {text:?}"
        );
        assert!(text.ends_with('.'), "{code}: a sentence: {text:?}");
        texts.insert(code.to_owned(), text);
    }
    assert_eq!(
        texts.get("rate_limited").map(String::as_str),
        Some("Too many attempts. Please wait a moment and try again.")
    );
    browser.close().await;
}
