//! The metrics listener, scraped: a test binary of its own, because the recorder is global
//! and other tests' traffic would move the counters too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

use altrion_server::{database::memory_stores, Application};
use common::{post_login, post_signup, TestUser};

/// The value of the sample `name{labels}` in a Prometheus text page (0 when absent).
fn sample(page: &str, name_and_labels: &str) -> f64 {
    page.lines()
        .find_map(|line| {
            let (key, value) = line.rsplit_once(' ')?;
            (key == name_and_labels).then(|| value.parse().unwrap())
        })
        .unwrap_or(0.0)
}

#[tokio::test]
async fn a_scrape_shows_logins_by_outcome_and_requests_by_route() {
    let settings = common::test_settings(&[("METRICS_ADDR", "127.0.0.1:0")]);
    let app = Application::build_with(settings, memory_stores()).unwrap();
    let api = format!("http://127.0.0.1:{}", app.port());
    let metrics = format!("http://127.0.0.1:{}/metrics", app.metrics_port().unwrap());
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();
    let scrape = || async {
        http.get(&metrics)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };

    let ada = TestUser::ada();
    post_signup(&http, &api, &ada).await;
    for (password, status) in [
        (ada.password.as_str(), 200),
        ("not the password", 401),
        ("nor this one", 401),
    ] {
        let login = post_login(&http, &api, &ada.email, password).await;
        assert_eq!(login.status().as_u16(), status);
    }

    let page = scrape().await;
    assert_eq!(sample(&page, "altrion_signups_total"), 1.0, "{page}");
    assert_eq!(
        sample(&page, r#"altrion_logins_total{outcome="success"}"#),
        1.0,
        "{page}"
    );
    assert_eq!(
        sample(&page, r#"altrion_logins_total{outcome="invalid"}"#),
        2.0,
        "{page}"
    );
    assert_eq!(
        sample(&page, r#"altrion_logins_total{outcome="locked"}"#),
        0.0
    );
    assert_eq!(
        sample(
            &page,
            r#"altrion_http_requests_total{method="POST",route="/api/auth/login",status="401"}"#
        ),
        2.0,
        "{page}"
    );
    assert!(
        page.contains("altrion_http_request_duration_seconds_bucket"),
        "{page}"
    );
    assert!(
        page.contains("altrion_password_hash_queue_seconds"),
        "{page}"
    );
    // The API's own port does not serve them.
    let public = http.get(format!("{api}/metrics")).send().await.unwrap();
    assert_eq!(public.status().as_u16(), 404);
}
