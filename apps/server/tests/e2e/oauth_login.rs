//! Login with GitHub and Google in the browser, through the mock provider, on the real stack
//! (mongo-embedded): the page's button → the mock's consent page → our callback → back on the
//! page, signed in by the session cookie alone; the session survives a server restart (same
//! database, same port); logging out deletes the session document and the old cookie no
//! longer signs anyone in. Every step is real navigation: nothing is intercepted.

use crate::{
    auth::{log_in, sign_up},
    browser::Browser,
    mongo_stack::MongoStack,
};

struct Person {
    provider_button: &'static str,
    provider_label: &'static str,
    email: &'static str,
    name: &'static str,
}

async fn assert_signed_in_as(browser: &Browser, person: &Person) {
    browser.wait_for_state("signed-in").await;
    assert_eq!(browser.text("#user-name").await, person.name);
    assert_eq!(browser.text("#user-email").await, person.email);
    assert_eq!(browser.text("#user-providers").await, person.provider_label);
    assert!(!browser.is_displayed("#message").await, "no error shown");
    assert_eq!(
        browser.stored_token().await,
        None,
        "signed in by the session cookie, not a JWT"
    );
}

async fn sign_in_survive_restart_log_out(person: Person) {
    let mut stack = MongoStack::start().await;
    let browser = Browser::launch().await;
    let page = stack.page_url();

    browser.goto(&page).await;
    browser.wait_for_state("signed-out").await;
    assert_eq!(
        stack.session_count().await,
        0,
        "asking who is signed in stores nothing"
    );

    // The page's button → the API's start route → the mock's consent page.
    browser.click(person.provider_button).await;
    browser.wait_for("form#consent #sign-in").await;
    let consent = browser.current_url().await;
    assert!(
        consent.starts_with(stack.mock_url()),
        "on the provider's consent page: {consent}"
    );
    browser.fill("#email", person.email).await;
    browser.fill("#name", person.name).await;
    assert_eq!(
        browser.attr("#email_verified", "checked").await.as_deref(),
        Some("true")
    );
    // The form posts to the mock, which 303s to our callback, which 302s to the page.
    browser.click("#sign-in").await;

    assert_signed_in_as(&browser, &person).await;
    assert_eq!(
        browser.current_url().await,
        page,
        "back on the page, no ?error"
    );
    assert_eq!(
        stack.session_count().await,
        1,
        "one session: the sign-in renewed the flow's session id"
    );
    let cookie_name = stack.cookie_name();
    let cookie = browser
        .cookie(&cookie_name)
        .await
        .expect("the session cookie is set for the page's origin");
    assert_eq!(stack.me_with_cookie(&cookie).await, 200);

    // A new server process on the same database and port: the session is still there.
    stack.restart().await;
    browser.reload().await;
    assert_signed_in_as(&browser, &person).await;
    assert_eq!(stack.session_count().await, 1);
    let cookie = browser.cookie(&cookie_name).await.expect("still set");
    assert_eq!(stack.me_with_cookie(&cookie).await, 200);

    browser.click("#logout").await;
    browser.wait_for_state("signed-out").await;
    assert_eq!(
        browser.wait_for_message("notice").await,
        "You are signed out."
    );
    assert_eq!(
        stack.me_with_cookie(&cookie).await,
        401,
        "the old cookie signs no one in"
    );
    assert_eq!(stack.session_count().await, 0, "logout deletes the session");

    browser.reload().await;
    browser.wait_for_state("signed-out").await;
    assert_eq!(stack.session_count().await, 0);
    browser.close().await;
    stack.finish().await;
}

#[tokio::test]
async fn github_login_survives_a_restart_and_logout_deletes_the_session() {
    sign_in_survive_restart_log_out(Person {
        provider_button: "#oauth-github",
        provider_label: "GitHub",
        email: "grace@example.com",
        name: "Grace Hopper",
    })
    .await;
}

#[tokio::test]
async fn google_login_survives_a_restart_and_logout_deletes_the_session() {
    sign_in_survive_restart_log_out(Person {
        provider_button: "#oauth-google",
        provider_label: "Google",
        email: "katherine@example.com",
        name: "Katherine Johnson",
    })
    .await;
}

/// Email and password on MongoDB: the JWT path never writes a session document — not on the
/// first visit, sign-up, reload, a server restart, logout or login.
#[tokio::test]
async fn the_jwt_path_writes_no_session_on_mongodb() {
    let mut stack = MongoStack::start().await;
    let browser = Browser::launch().await;
    browser.goto(&stack.page_url()).await;
    browser.wait_for_state("signed-out").await;
    assert_eq!(stack.session_count().await, 0);

    sign_up(
        &browser,
        "Ada Lovelace",
        "ada@example.com",
        "correct horse battery",
    )
    .await;
    browser.wait_for_state("signed-in").await;
    assert!(browser.stored_token().await.is_some(), "the JWT is kept");
    assert_eq!(stack.session_count().await, 0);

    stack.restart().await;
    browser.reload().await;
    browser.wait_for_state("signed-in").await;
    assert_eq!(browser.text("#user-email").await, "ada@example.com");
    assert_eq!(stack.session_count().await, 0);

    browser.click("#logout").await;
    browser.wait_for_state("signed-out").await;
    assert_eq!(
        browser.wait_for_message("notice").await,
        "You are signed out."
    );
    assert_eq!(stack.session_count().await, 0);

    log_in(&browser, "ada@example.com", "correct horse battery").await;
    browser.wait_for_state("signed-in").await;
    assert_eq!(browser.text("#user-providers").await, "Email and password");
    assert_eq!(stack.session_count().await, 0);
    assert_eq!(
        browser.cookie(&stack.cookie_name()).await,
        None,
        "no session cookie either"
    );
    browser.close().await;
    stack.finish().await;
}

/// Linking from the page needs the current password: without it the API refuses and the page
/// says why; with it the browser goes through the provider and comes back linked. Unlinking
/// asks for the password again.
#[tokio::test]
async fn a_password_user_links_github_with_their_password_then_unlinks_it() {
    let stack = MongoStack::start().await;
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
    assert!(browser.is_displayed("#reauth-password").await);

    browser.click("[data-testid=link-github]").await;
    let refused = browser.wait_for_message("reauthentication_required").await;
    assert!(refused.contains("current password"), "{refused}");

    browser
        .fill("#reauth-password", "correct horse battery")
        .await;
    browser.click("[data-testid=link-github]").await;
    browser.wait_for("form#consent #sign-in").await;
    browser.fill("#email", "ada@example.com").await;
    browser.fill("#name", "Ada Lovelace").await;
    browser.click("#sign-in").await;

    browser.wait_for_state("signed-in").await;
    assert_eq!(
        browser.text("#user-providers").await,
        "Email and password, GitHub"
    );
    assert_eq!(
        browser.text("[data-testid=link-github]").await,
        "Unlink GitHub"
    );

    browser
        .fill("#reauth-password", "correct horse battery")
        .await;
    browser.click("[data-testid=link-github]").await;
    assert_eq!(
        browser.wait_for_message("notice").await,
        "GitHub is no longer linked."
    );
    assert_eq!(browser.text("#user-providers").await, "Email and password");
    browser.close().await;
    stack.finish().await;
}
