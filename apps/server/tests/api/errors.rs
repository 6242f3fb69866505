use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn unknown_route_is_a_json_404() {
    let app = spawn_app().await;

    assert_error(app.get("/nope").await, 404, "not_found").await;
    let post = app.client.post(app.url("/api/nope")).send().await.unwrap();
    assert_error(post, 404, "not_found").await;
}

#[tokio::test]
async fn wrong_method_is_a_json_405() {
    let app = spawn_app().await;

    let response = app.client.delete(app.url("/api/health")).send().await.unwrap();

    assert_error(response, 405, "method_not_allowed").await;
}
