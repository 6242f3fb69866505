//! The OAuth parts of the page that need no provider: the buttons, and the return with
//! `?error=<code>`. The full provider round trips come with the OAuth routes: start the stack
//! with `Stack::start_with(&[("GOOGLE_AUTH_URL", mock), …])` and follow the buttons.

use crate::{browser::Browser, stack::Stack};

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
