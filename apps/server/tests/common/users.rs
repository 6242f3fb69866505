//! Sign-up and login through the API, typed, for the many tests that need an account or a
//! token and are about something else than these requests' exact shape.

use reqwest::{Client, Response};
use serde_json::{json, Value};

/// An account a test signs up.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub name: String,
    pub email: String,
    pub password: String,
}

impl TestUser {
    /// Ada, `ada@example.com`, `correct horse battery`: the default account.
    pub fn ada() -> Self {
        Self::new("ada@example.com")
    }

    /// Ada's name and password at another address.
    pub fn new(email: &str) -> Self {
        Self {
            name: "Ada".to_owned(),
            email: email.to_owned(),
            password: "correct horse battery".to_owned(),
        }
    }

    /// Grace, `grace@example.com`, `a long passphrase`: the OAuth scenarios' user.
    pub fn grace() -> Self {
        Self {
            name: "Grace".to_owned(),
            email: "grace@example.com".to_owned(),
            password: "a long passphrase".to_owned(),
        }
    }
}

/// What a sign-up answered.
#[derive(Debug)]
pub struct SignedUp {
    /// The access token (a JWT).
    pub token: String,
    pub user_id: String,
    /// The whole JSON body.
    pub body: Value,
}

/// `POST /api/auth/signup` as `user` on the API at `base_url`; asserts `201`.
pub async fn post_signup(http: &Client, base_url: &str, user: &TestUser) -> SignedUp {
    let response = http
        .post(format!("{base_url}/api/auth/signup"))
        .json(&json!({ "name": user.name, "email": user.email, "password": user.password }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 201, "sign-up of {}: {body}", user.email);
    SignedUp {
        token: body["token"].as_str().expect("a token").to_owned(),
        user_id: body["user"]["id"].as_str().expect("a user id").to_owned(),
        body,
    }
}

/// `POST /api/auth/login` with these credentials; the answer as it came, for tests of failures.
pub async fn post_login(http: &Client, base_url: &str, email: &str, password: &str) -> Response {
    http.post(format!("{base_url}/api/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
}

/// Logs `user` in; asserts `200` and returns the access token.
pub async fn login_token(http: &Client, base_url: &str, user: &TestUser) -> String {
    let response = post_login(http, base_url, &user.email, &user.password).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "login of {}: {body}", user.email);
    body["token"].as_str().expect("a token").to_owned()
}
