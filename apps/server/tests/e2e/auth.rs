//! Email + password in the browser: sign up, reload, log out, wrong password, field errors,
//! rate limiting. The JWT path never creates a session document.

use serde_json::json;

use crate::{
    browser::Browser,
    common::{post_signup, TestUser},
    stack::{PageOrigin, Stack},
};

const NAME: &str = "Ada Lovelace";
const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "correct horse battery";

/// Signs up, through the API, the account the forms here type in.
async fn sign_up_through_the_api(stack: &Stack) {
    let ada = TestUser {
        name: NAME.to_owned(),
        email: EMAIL.to_owned(),
        password: PASSWORD.to_owned(),
    };
    post_signup(&stack.http, &stack.api, &ada).await;
}

/// Fills in and submits the sign-up form.
pub async fn sign_up(browser: &Browser, name: &str, email: &str, password: &str) {
    browser.fill("#signup-name", name).await;
    browser.fill("#signup-email", email).await;
    browser.fill("#signup-password", password).await;
    browser.click("#signup-submit").await;
}

/// Fills in and submits the login form.
pub async fn log_in(browser: &Browser, email: &str, password: &str) {
    browser.fill("#login-email", email).await;
    browser.fill("#login-password", password).await;
    browser.click("#login-submit").await;
}

async fn assert_signed_in_as(browser: &Browser, name: &str, email: &str) {
    browser.wait_for_state("signed-in").await;
    assert!(browser.is_displayed("#view-signed-in").await);
    assert!(!browser.is_displayed("#view-signed-out").await);
    assert_eq!(browser.text("#user-name").await, name);
    assert_eq!(browser.text("#user-email").await, email);
    assert_eq!(browser.text("#user-providers").await, "Email and password");
}

async fn assert_signed_out(browser: &Browser) {
    browser.wait_for_state("signed-out").await;
    assert!(browser.is_displayed("#view-signed-out").await);
    assert!(!browser.is_displayed("#view-signed-in").await);
    assert!(browser.is_displayed("#oauth-google").await);
    assert!(browser.is_displayed("#oauth-github").await);
}

/// Sign up → current user shown → reload keeps you signed in → log out → signed out.
/// `origin`: where the page comes from; `None` is the stack's default ([`Stack::page_url`]).
async fn sign_up_reload_log_out(origin: Option<PageOrigin>) {
    let stack = Stack::start().await;
    let origin = origin.unwrap_or(stack.default_origin());
    eprintln!("page origin: {origin:?}");
    let browser = Browser::launch().await;

    browser.goto(&stack.page_url_for(origin)).await;
    assert_signed_out(&browser).await;
    assert_eq!(browser.stored_token().await, None);

    sign_up(&browser, NAME, " Ada@Example.com ", PASSWORD).await;
    assert_signed_in_as(&browser, NAME, EMAIL).await;
    let token = browser.stored_token().await.expect("the JWT is kept");
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    assert_eq!(stack.session_count(), 0, "the JWT path writes no session");

    browser.reload().await;
    assert_signed_in_as(&browser, NAME, EMAIL).await;
    assert_eq!(
        browser.stored_token().await.as_deref(),
        Some(token.as_str())
    );

    browser.click("#logout").await;
    assert_signed_out(&browser).await;
    assert_eq!(
        browser.wait_for_message("notice").await,
        "You are signed out."
    );
    assert_eq!(browser.stored_token().await, None, "the token is forgotten");

    browser.reload().await;
    assert_signed_out(&browser).await;
    assert!(
        !browser.is_displayed("#message").await,
        "a plain signed-out load shows no error"
    );
    assert_eq!(stack.session_count(), 0, "the JWT path writes no session");
    browser.close().await;
}

#[tokio::test]
async fn sign_up_reload_and_log_out() {
    sign_up_reload_log_out(None).await;
}

#[tokio::test]
async fn sign_up_reload_and_log_out_from_another_origin() {
    sign_up_reload_log_out(Some(PageOrigin::CrossOrigin)).await;
}

#[tokio::test]
async fn wrong_password_shows_invalid_credentials_then_login_works() {
    let stack = Stack::start().await;
    sign_up_through_the_api(&stack).await;
    let browser = Browser::launch().await;
    browser.goto(&stack.page_url()).await;
    assert_signed_out(&browser).await;

    log_in(&browser, EMAIL, "not the password").await;
    assert_eq!(
        browser.wait_for_message("invalid_credentials").await,
        "Wrong email or password."
    );
    assert_eq!(
        browser.attr("body", "data-state").await.as_deref(),
        Some("signed-out")
    );
    assert_eq!(browser.stored_token().await, None);
    assert_eq!(stack.session_count(), 0);

    log_in(&browser, EMAIL, PASSWORD).await;
    assert_signed_in_as(&browser, NAME, EMAIL).await;
    assert!(
        !browser.is_displayed("#message").await,
        "the old error is cleared"
    );
    assert!(browser.stored_token().await.is_some());
    assert_eq!(stack.session_count(), 0, "the JWT path writes no session");

    browser.reload().await;
    assert_signed_in_as(&browser, NAME, EMAIL).await;
    assert_eq!(
        stack.session_count(),
        0,
        "GET /me with a JWT writes no session"
    );
    browser.close().await;
}

#[tokio::test]
async fn validation_errors_show_the_field_messages() {
    let stack = Stack::start().await;
    let browser = Browser::launch().await;
    browser.goto(&stack.page_url()).await;
    assert_signed_out(&browser).await;

    let (name, email, password) = ("  ", "not-an-email", "short");
    sign_up(&browser, name, email, password).await;
    assert_eq!(
        browser.wait_for_message("validation_failed").await,
        "Please correct the highlighted fields."
    );

    // The page shows exactly what the API says about each field.
    let (status, body) = stack
        .post_json(
            "/api/auth/signup",
            &json!({ "name": name, "email": email, "password": password }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let fields = body["error"]["fields"].as_array().unwrap();
    let named: Vec<&str> = fields.iter().filter_map(|f| f["field"].as_str()).collect();
    for field in ["name", "email", "password"] {
        assert!(named.contains(&field), "API reports {field}: {body}");
        let expected: Vec<&str> = fields
            .iter()
            .filter(|f| f["field"] == field)
            .filter_map(|f| f["message"].as_str())
            .collect();
        let slot = format!("#signup-{field}-error");
        assert!(browser.is_displayed(&slot).await, "{slot} is shown");
        assert_eq!(browser.text(&slot).await, expected.join(" "), "{slot}");
        assert_eq!(
            browser
                .attr(&format!("#signup-{field}"), "aria-invalid")
                .await
                .as_deref(),
            Some("true"),
            "{field} is marked invalid"
        );
    }
    assert_eq!(
        browser.attr("body", "data-state").await.as_deref(),
        Some("signed-out")
    );

    // Correcting the form clears the field messages and signs up.
    sign_up(&browser, NAME, EMAIL, PASSWORD).await;
    assert_signed_in_as(&browser, NAME, EMAIL).await;
    for field in ["name", "email", "password"] {
        assert!(
            !browser
                .is_displayed(&format!("#signup-{field}-error"))
                .await
        );
    }
    assert_eq!(stack.session_count(), 0);
    browser.close().await;
}

#[tokio::test]
async fn email_taken_is_explained() {
    let stack = Stack::start().await;
    sign_up_through_the_api(&stack).await;
    let browser = Browser::launch().await;
    browser.goto(&stack.page_url()).await;
    assert_signed_out(&browser).await;

    sign_up(&browser, "Someone Else", EMAIL, "another long password").await;
    assert_eq!(
        browser.wait_for_message("email_taken").await,
        "An account with this email already exists. Log in instead."
    );
    assert_eq!(browser.stored_token().await, None);
    browser.close().await;
}

/// Uses the custom-settings entry point: a one-attempt IP limit, so the second login is refused
/// with `Retry-After`, which the page must be able to read (exposed by CORS cross-origin).
#[tokio::test]
async fn rate_limited_shows_when_to_retry() {
    let stack = Stack::start_with(&[
        ("APP__RATE_LIMIT__PER_IP_BURST", "1"),
        ("APP__RATE_LIMIT__PER_IP_PER_MINUTE", "1"),
    ])
    .await;
    let browser = Browser::launch().await;
    browser.goto(&stack.page_url()).await;
    assert_signed_out(&browser).await;

    log_in(&browser, "nobody@example.com", "whatever password").await;
    browser.wait_for_message("invalid_credentials").await;
    log_in(&browser, "nobody@example.com", "whatever password").await;
    let text = browser.wait_for_message("rate_limited").await;
    let seconds: u64 = text
        .strip_prefix("Too many attempts. Try again in ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the message carries Retry-After: {text:?}"));
    assert!((1..=60).contains(&seconds), "{text}");
    browser.close().await;
}
