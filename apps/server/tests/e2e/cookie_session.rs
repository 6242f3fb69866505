//! The session-cookie path of the page (what an OAuth login leaves behind): with no JWT stored,
//! the page asks `GET /api/auth/me` with credentials, and logging out purges the session.
//! The session is planted in the store directly, so this checks the page alone; the real OAuth
//! round trip that leaves such a session behind is in `oauth_login.rs`.

use serde_json::json;

use crate::{
    browser::Browser,
    common::{plant_session, post_signup, CookieSigning, TestUser},
    stack::Stack,
};

#[tokio::test]
async fn a_session_cookie_signs_in_and_logout_purges_it() {
    let stack = Stack::start().await;
    let grace = TestUser {
        name: "Grace Hopper".to_owned(),
        ..TestUser::grace()
    };
    let user_id = post_signup(&stack.http, &stack.api, &grace).await.user_id;
    let browser = Browser::launch().await;
    browser.goto(&stack.page_url()).await;
    browser.wait_for_state("signed-out").await;

    // Cookies are per host, not per port: set on the page's host, the API receives it too.
    // (Set from script: chromedriver refuses a Domain attribute that is an IP address.)
    let signing = CookieSigning::of(&stack.settings);
    let now = time::OffsetDateTime::now_utc();
    let cookie = plant_session(
        stack.sessions.as_ref(),
        signing.name,
        &signing.key,
        &user_id,
        now,
    )
    .await;
    browser
        .client()
        .execute(
            "document.cookie = arguments[0] + '; path=/; SameSite=Lax';",
            vec![json!(cookie)],
        )
        .await
        .unwrap();
    assert_eq!(stack.session_count(), 1);

    browser.reload().await;
    browser.wait_for_state("signed-in").await;
    assert_eq!(browser.text("#user-name").await, "Grace Hopper");
    assert_eq!(browser.text("#user-email").await, "grace@example.com");
    assert_eq!(
        browser.stored_token().await,
        None,
        "signed in by the cookie alone"
    );

    browser.click("#logout").await;
    browser.wait_for_state("signed-out").await;
    assert_eq!(
        browser.wait_for_message("notice").await,
        "You are signed out."
    );
    assert_eq!(stack.session_count(), 0, "logout purges the session");

    browser.reload().await;
    browser.wait_for_state("signed-out").await;
    assert!(!browser.is_displayed("#message").await);
    browser.close().await;
}
