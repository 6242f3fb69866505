//! Password recovery and email verification on the page, following the mailed links.

use crate::{
    auth::{log_in, sign_up},
    browser::Browser,
    common::{post_login, post_signup, TestUser},
    stack::Stack,
};

const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "a brand new passphrase";

/// The link in a mail, and its token.
fn mailed_link(mail: &altrion_domain::OutgoingMail, page: &str) -> (url::Url, String) {
    crate::common::mailed_link(&mail.text, page)
}

/// The page the stack serves, opened at `page?token=…` as a mailed link would.
fn open_link(stack: &Stack, page: &str, token: &str) -> String {
    let mut url = url::Url::parse(&stack.page_url())
        .unwrap()
        .join(page)
        .unwrap();
    url.query_pairs_mut().append_pair("token", token);
    url.to_string()
}

/// Forgot password → the mail → its link → a new password → signed in; the old password and
/// the old JWT fail, and the link does not work twice.
#[tokio::test]
async fn forgot_mail_reset_and_sign_in() {
    let stack = Stack::start().await;
    let ada = TestUser {
        name: "Ada".to_owned(),
        email: EMAIL.to_owned(),
        password: PASSWORD.to_owned(),
    };
    let old_token = post_signup(&stack.http, &stack.api, &ada).await.token;
    let browser = Browser::launch().await;
    browser.goto(&stack.page_url()).await;
    browser.wait_for_state("signed-out").await;

    browser.click("#forgot-open").await;
    assert!(browser.is_displayed("#forgot-form").await);
    assert!(!browser.is_displayed("#login-form").await);
    browser.fill("#forgot-email", EMAIL).await;
    browser.click("#forgot-submit").await;
    let notice = browser.wait_for_message("notice").await;
    assert!(
        notice.contains("If an account uses that address"),
        "{notice}"
    );
    assert!(browser.is_displayed("#login-form").await);

    let mail = stack.next_mail("Reset").await;
    assert_eq!(mail.to.as_str(), EMAIL);
    let (link, token) = mailed_link(&mail, "reset-password");
    let frontend = url::Url::parse(&stack.settings.server.frontend_url).unwrap();
    assert_eq!(
        link.origin(),
        frontend.origin(),
        "the link points at the frontend"
    );

    browser
        .goto(&open_link(&stack, "reset-password", &token))
        .await;
    browser.wait_for_state("reset").await;
    assert!(
        !browser.current_url().await.contains("token="),
        "the token leaves the address bar"
    );
    browser.fill("#reset-password", "password").await;
    browser.click("#reset-submit").await;
    browser.wait_for_message("validation_failed").await;
    assert!(browser.is_displayed("#reset-password-error").await);

    browser.fill("#reset-password", NEW_PASSWORD).await;
    browser.click("#reset-submit").await;
    browser.wait_for_state("signed-in").await;
    let notice = browser.wait_for_message("notice").await;
    assert!(notice.contains("new password is set"), "{notice}");
    assert!(
        !browser.is_displayed("#verify-banner").await,
        "the reset proved the address"
    );

    let old = post_login(&stack.http, &stack.api, EMAIL, PASSWORD).await;
    assert_eq!(old.status().as_u16(), 401, "the old password fails");
    let me = stack
        .http
        .get(format!("{}/api/auth/me", stack.api))
        .bearer_auth(&old_token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 401, "the old JWT fails");

    browser.click("#logout").await;
    browser.wait_for_state("signed-out").await;
    log_in(&browser, EMAIL, NEW_PASSWORD).await;
    browser.wait_for_state("signed-in").await;

    // The same link again.
    browser.click("#logout").await;
    browser.wait_for_state("signed-out").await;
    browser
        .goto(&open_link(&stack, "reset-password", &token))
        .await;
    browser.wait_for_state("reset").await;
    browser
        .fill("#reset-password", "yet another passphrase")
        .await;
    browser.click("#reset-submit").await;
    let refused = browser.wait_for_message("invalid_token").await;
    assert!(refused.contains("already used"), "{refused}");
    assert!(
        browser.is_displayed("#forgot-form").await,
        "offers a new link"
    );
    browser.assert_clean_console().await;
    browser.close().await;
}

/// Sign-up shows the "verify your email" banner; resend mails a new link; opening it verifies
/// the address and the banner goes.
#[tokio::test]
async fn the_verification_banner_resend_and_link() {
    let stack = Stack::start().await;
    let browser = Browser::launch().await;
    browser.goto(&stack.page_url()).await;
    browser.wait_for_state("signed-out").await;
    sign_up(&browser, "Ada", EMAIL, PASSWORD).await;
    browser.wait_for_state("signed-in").await;
    browser.wait_for("#verify-banner:not([hidden])").await;
    assert_eq!(browser.text("#verify-banner-email").await, EMAIL);
    let first = stack.next_mail("Confirm").await;

    browser.click("#verify-resend").await;
    let notice = browser.wait_for_message("notice").await;
    assert!(notice.contains("new confirmation link"), "{notice}");
    let second = stack.next_mail("Confirm").await;
    assert_ne!(
        mailed_link(&first, "verify-email").1,
        mailed_link(&second, "verify-email").1
    );

    let (_, token) = mailed_link(&second, "verify-email");
    browser
        .goto(&open_link(&stack, "verify-email", &token))
        .await;
    let confirmed = browser.wait_for_message("notice").await;
    assert!(confirmed.contains("confirmed"), "{confirmed}");
    browser.wait_for_state("signed-in").await;
    assert!(!browser.is_displayed("#verify-banner").await);
    assert!(!browser.current_url().await.contains("token="));

    // The first link is spent too: the address is verified.
    browser
        .goto(&open_link(
            &stack,
            "verify-email",
            &mailed_link(&first, "verify-email").1,
        ))
        .await;
    browser.wait_for_message("invalid_token").await;
    browser.assert_clean_console().await;
    browser.close().await;
}
