//! Self-service on the page: the list of devices a user is signed in on (ending one of them),
//! and changing the password.

use reqwest::{header, Response};
use url::Url;

use crate::{
    auth::{log_in, sign_up},
    browser::Browser,
    mongo_stack::MongoStack,
    stack::Stack,
};

const OTHER_AGENT: &str = "OtherDevice/1.0 (e2e)";

/// `name=value` of every `Set-Cookie` of `response`.
fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect()
}

fn location(response: &Response) -> Url {
    Url::parse(response.headers()[header::LOCATION].to_str().unwrap()).unwrap()
}

/// A GitHub sign-in through the mock provider from outside the browser, as another device
/// would make it (its own user agent); returns its session cookie (`name=value`).
async fn github_sign_in_elsewhere(stack: &MongoStack, email: &str, name: &str) -> String {
    let start = stack
        .http
        .get(format!("{}/api/auth/github", stack.origin))
        .header(header::USER_AGENT, OTHER_AGENT)
        .send()
        .await
        .unwrap();
    assert_eq!(start.status().as_u16(), 302);
    let flow = set_cookies(&start).join("; ");
    let authorize = location(&start);
    assert!(authorize.as_str().starts_with(stack.mock_url()));

    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    for (k, v) in [
        ("email", email),
        ("name", name),
        ("email_verified", "on"),
        ("action", "allow"),
    ] {
        form.push((k.to_owned(), v.to_owned()));
    }
    let mut action = authorize.clone();
    action.set_query(None);
    let consent = stack.http.post(action).form(&form).send().await.unwrap();
    assert_eq!(consent.status().as_u16(), 303);

    let callback = stack
        .http
        .get(location(&consent))
        .header(header::USER_AGENT, OTHER_AGENT)
        .header(header::COOKIE, flow)
        .send()
        .await
        .unwrap();
    assert_eq!(callback.status().as_u16(), 302);
    assert_eq!(
        location(&callback).query(),
        None,
        "signed in, no ?error: {}",
        location(&callback)
    );
    let prefix = format!("{}=", stack.cookie_name());
    set_cookies(&callback)
        .into_iter()
        .find(|c| c.starts_with(&prefix))
        .expect("the callback sets the session cookie")
}

/// Two GitHub sign-ins (this browser, another device): the page lists both, marks this one,
/// and ending the other one signs that device out for real.
#[tokio::test]
async fn the_page_lists_both_devices_and_signs_the_other_one_out() {
    let stack = MongoStack::start().await;
    let browser = Browser::launch().await;
    browser.goto(&stack.page_url()).await;
    browser.wait_for_state("signed-out").await;

    browser.click("#oauth-github").await;
    browser.wait_for("form#consent #sign-in").await;
    browser.fill("#email", "grace@example.com").await;
    browser.fill("#name", "Grace Hopper").await;
    browser.click("#sign-in").await;
    browser.wait_for_state("signed-in").await;
    browser.wait_for("#sessions li[data-current=true]").await;
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('#sessions li').length;")
            .await,
        1
    );
    let mine = browser
        .cookie(&stack.cookie_name())
        .await
        .expect("signed in by the session cookie");

    let other = github_sign_in_elsewhere(&stack, "grace@example.com", "Grace Hopper").await;
    assert_eq!(stack.me_with_cookie(&other).await, 200);
    assert_eq!(stack.session_count().await, 2);

    browser.reload().await;
    browser.wait_for_state("signed-in").await;
    browser.wait_for("#sessions li:nth-child(2)").await;
    let current = browser
        .text("#sessions li[data-current=true] .session-device")
        .await;
    assert!(current.ends_with("This device"), "{current}");
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('#sessions li[data-current=true]').length;")
            .await,
        1,
        "exactly one session is this device"
    );
    assert_eq!(
        browser
            .text("#sessions li[data-current=false] .session-device")
            .await,
        OTHER_AGENT
    );
    let meta = browser
        .text("#sessions li[data-current=false] .session-meta")
        .await;
    assert!(meta.starts_with("127.0.0.1 · last seen "), "{meta}");
    assert_eq!(
        browser.eval("return document.querySelectorAll('#sessions li[data-current=true] button').length;").await,
        0,
        "this device has no sign-out button of its own (Log out is that)"
    );

    browser
        .click("#sessions li[data-current=false] button[data-session-id]")
        .await;
    assert_eq!(
        browser.wait_for_message("notice").await,
        "That device is signed out."
    );
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('#sessions li').length;")
            .await,
        1
    );
    assert_eq!(
        browser
            .attr("#sessions li", "data-current")
            .await
            .as_deref(),
        Some("true")
    );
    assert_eq!(
        stack.me_with_cookie(&other).await,
        401,
        "the other device is signed out"
    );
    assert_eq!(stack.me_with_cookie(&mine).await, 200, "this one is not");
    assert_eq!(stack.session_count().await, 1);
    browser.close().await;
    stack.finish().await;
}

/// Sign up by password, change it on the page: the old JWT no longer works, the new password
/// logs in. A password sign-in keeps no server session, and the page says so.
#[tokio::test]
async fn changing_the_password_ends_the_old_token_and_the_new_one_logs_in() {
    let stack = Stack::start().await;
    let browser = Browser::launch().await;
    browser.goto(&stack.page_url()).await;
    browser.wait_for_state("signed-out").await;
    sign_up(
        &browser,
        "Ada Lovelace",
        "ada@example.com",
        "correct horse battery",
    )
    .await;
    browser.wait_for_state("signed-in").await;
    let old_token = browser.stored_token().await.expect("the JWT is kept");
    browser.wait_for("#sessions-panel[aria-busy=false]").await;
    let none = browser.text("#sessions-status").await;
    assert!(none.starts_with("No browser sessions."), "{none}");
    assert!(
        browser.is_displayed("#password-current").await,
        "the account has a password"
    );

    // Wrong current password: refused, nothing changes.
    browser.fill("#password-current", "not my password").await;
    browser
        .fill("#password-new", "a brand new passphrase")
        .await;
    browser.click("#password-submit").await;
    let refused = browser.wait_for_message("reauthentication_required").await;
    assert!(refused.contains("current password"), "{refused}");

    // A guessable new password: the field says why.
    browser
        .fill("#password-current", "correct horse battery")
        .await;
    browser.fill("#password-new", "password").await;
    browser.click("#password-submit").await;
    browser.wait_for_message("validation_failed").await;
    let why = browser.wait_for("#password-new-error:not([hidden])").await;
    assert!(!why.text().await.unwrap().is_empty());
    assert_eq!(
        browser
            .attr("#password-new", "aria-invalid")
            .await
            .as_deref(),
        Some("true")
    );

    browser
        .fill("#password-current", "correct horse battery")
        .await;
    browser
        .fill("#password-new", "a brand new passphrase")
        .await;
    browser.click("#password-submit").await;
    assert_eq!(
        browser.wait_for_message("notice").await,
        "Your password is changed. Every other device is signed out."
    );
    assert!(!browser.is_displayed("#password-new-error").await);
    let new_token = browser.stored_token().await.expect("the new JWT is kept");
    assert_ne!(new_token, old_token);

    let me = |token: String| {
        let request = stack
            .http
            .get(format!("{}/api/auth/me", stack.api))
            .bearer_auth(token);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(me(old_token).await, 401, "the old JWT is revoked");
    assert_eq!(me(new_token).await, 200);

    browser.reload().await;
    browser.wait_for_state("signed-in").await;
    browser.click("#logout").await;
    browser.wait_for_state("signed-out").await;
    log_in(&browser, "ada@example.com", "correct horse battery").await;
    browser.wait_for_message("invalid_credentials").await;
    log_in(&browser, "ada@example.com", "a brand new passphrase").await;
    browser.wait_for_state("signed-in").await;
    assert_eq!(browser.text("#user-email").await, "ada@example.com");
    assert_eq!(stack.session_count(), 0, "the JWT path writes no session");
    browser.close().await;
}

/// Deleting the account takes two clicks and the current password; then the page is signed
/// out and the account is gone.
#[tokio::test]
async fn deleting_the_account_asks_twice_and_signs_out() {
    let stack = Stack::start().await;
    let browser = Browser::launch().await;
    browser.goto(&stack.page_url()).await;
    browser.wait_for_state("signed-out").await;
    sign_up(
        &browser,
        "Ada Lovelace",
        "ada@example.com",
        "correct horse battery",
    )
    .await;
    browser.wait_for_state("signed-in").await;
    assert!(
        !browser.is_displayed("#delete-confirm").await,
        "not before the first click"
    );

    browser.click("[data-testid=delete-account]").await;
    assert!(browser.is_displayed("#delete-confirm").await);
    browser.click("[data-testid=delete-cancel]").await;
    assert!(!browser.is_displayed("#delete-confirm").await);
    assert!(browser.is_displayed("[data-testid=delete-account]").await);

    // Without the password: refused, still signed in.
    browser.click("[data-testid=delete-account]").await;
    browser.click("[data-testid=delete-confirm]").await;
    browser.wait_for_message("reauthentication_required").await;
    assert!(browser.is_displayed("#view-signed-in").await);

    browser
        .fill("#delete-password", "correct horse battery")
        .await;
    browser.click("[data-testid=delete-account]").await;
    browser.click("[data-testid=delete-confirm]").await;
    browser.wait_for_state("signed-out").await;
    assert_eq!(
        browser.wait_for_message("notice").await,
        "Your account is deleted. You are signed out."
    );
    assert_eq!(browser.stored_token().await, None, "the token is forgotten");

    log_in(&browser, "ada@example.com", "correct horse battery").await;
    browser.wait_for_message("invalid_credentials").await;
    browser.close().await;
}
