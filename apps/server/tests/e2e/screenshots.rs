//! Screenshots of the page signed out and signed in. Every run takes and checks them;
//! with `ALTRION_SCREENSHOTS=1` they are also written to `docs/screenshots/`.

use std::path::PathBuf;

use crate::{auth::sign_up, browser::Browser, stack::Stack};

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
}

fn save(name: &str, png: &[u8]) {
    assert!(png.starts_with(PNG_MAGIC), "{name} is a PNG");
    assert!(png.len() > 5_000, "{name} shows a rendered page");
    if std::env::var("ALTRION_SCREENSHOTS").as_deref() == Ok("1") {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), png).unwrap();
    }
}

#[tokio::test]
async fn screenshots_signed_out_and_signed_in() {
    let stack = Stack::start().await;
    let browser = Browser::launch().await;
    browser.goto(&stack.page_url()).await;
    browser.wait_for_state("signed-out").await;
    save("signed-out.png", &browser.screenshot().await);

    sign_up(
        &browser,
        "Ada Lovelace",
        "ada@example.com",
        "correct horse battery",
    )
    .await;
    browser.wait_for_state("signed-in").await;
    // Take the picture without the focus ring the page puts on the heading after sign-in.
    browser
        .eval("document.activeElement.blur(); return null;")
        .await;
    save("signed-in.png", &browser.screenshot().await);
    browser.close().await;
}
