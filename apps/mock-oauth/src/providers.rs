//! The routes of both mock providers: consent pages, token endpoints and profile APIs.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::{
    pages::{self, AuthorizeForm, AuthorizeParams},
    store::{MockUser, Store, Which},
    token::{token, TokenForm},
};

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route(
            "/google/o/oauth2/v2/auth",
            web::get().to(|s: web::Data<Store>, q: web::Query<AuthorizeParams>| {
                pages::show(s, Which::Google, q)
            }),
        )
        .route(
            "/google/o/oauth2/v2/auth",
            web::post().to(|s: web::Data<Store>, f: web::Form<AuthorizeForm>| {
                pages::decide(s, Which::Google, f)
            }),
        )
        .route(
            "/google/token",
            web::post().to(
                |s: web::Data<Store>, r: HttpRequest, f: web::Form<TokenForm>| {
                    token(s, Which::Google, r, f)
                },
            ),
        )
        .route("/google/userinfo", web::get().to(google_userinfo))
        .route(
            "/github/login/oauth/authorize",
            web::get().to(|s: web::Data<Store>, q: web::Query<AuthorizeParams>| {
                pages::show(s, Which::Github, q)
            }),
        )
        .route(
            "/github/login/oauth/authorize",
            web::post().to(|s: web::Data<Store>, f: web::Form<AuthorizeForm>| {
                pages::decide(s, Which::Github, f)
            }),
        )
        .route(
            "/github/login/oauth/access_token",
            web::post().to(
                |s: web::Data<Store>, r: HttpRequest, f: web::Form<TokenForm>| {
                    token(s, Which::Github, r, f)
                },
            ),
        )
        .route("/github/api/user", web::get().to(github_user))
        .route("/github/api/user/emails", web::get().to(github_emails))
        .route("/avatars/{id}.svg", web::get().to(avatar));
}

async fn index(store: web::Data<Store>) -> HttpResponse {
    let env: String = crate::server_env(&store.base_url, &store.config)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(format!(
            "Altrion mock OAuth providers (Google and GitHub).\n\nPoint the server at it with:\n\n{env}"
        ))
}

fn bearer(request: &HttpRequest) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

fn avatar_url(store: &Store, user: &MockUser) -> String {
    format!("{}/avatars/{}.svg", store.base_url, user.numeric_id())
}

async fn google_userinfo(store: web::Data<Store>, request: HttpRequest) -> HttpResponse {
    let Some(user) = bearer(&request).and_then(|t| store.user_for(Which::Google, t)) else {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""))
            .json(json!({"error": "invalid_request", "error_description": "Invalid Credentials"}));
    };
    HttpResponse::Ok().json(json!({
        "sub": format!("1{:020}", user.numeric_id()),
        "name": user.name,
        "picture": avatar_url(&store, &user),
        "email": user.email,
        "email_verified": user.email_verified,
    }))
}

/// Why GitHub's API refuses a call.
enum Denied {
    NoUserAgent,
    BadCredentials,
}

impl Denied {
    fn response(&self) -> HttpResponse {
        match self {
            Self::NoUserAgent => HttpResponse::Forbidden().json(json!({
                "message": "Request forbidden by administrative rules. Please make sure your request has a User-Agent header."
            })),
            Self::BadCredentials => HttpResponse::Unauthorized().json(json!({
                "message": "Bad credentials",
                "documentation_url": "https://docs.github.com/rest"
            })),
        }
    }
}

/// GitHub refuses API calls without a `User-Agent`, and unknown tokens.
fn github_caller(store: &Store, request: &HttpRequest) -> Result<MockUser, Denied> {
    if request.headers().get(header::USER_AGENT).is_none() {
        return Err(Denied::NoUserAgent);
    }
    bearer(request)
        .and_then(|t| store.user_for(Which::Github, t))
        .ok_or(Denied::BadCredentials)
}

async fn github_user(store: web::Data<Store>, request: HttpRequest) -> HttpResponse {
    match github_caller(&store, &request) {
        Ok(user) => HttpResponse::Ok().json(json!({
            "login": user.login(),
            "id": user.numeric_id(),
            "avatar_url": avatar_url(&store, &user),
            "type": "User",
            "name": user.name,
            "email": if user.public_email { Some(&user.email) } else { None },
        })),
        Err(denied) => denied.response(),
    }
}

async fn github_emails(store: web::Data<Store>, request: HttpRequest) -> HttpResponse {
    match github_caller(&store, &request) {
        Ok(user) => HttpResponse::Ok().json(json!([
            {
                "email": format!("{}+{}@users.noreply.github.com", user.numeric_id(), user.login()),
                "primary": false,
                "verified": true,
                "visibility": null,
            },
            {
                "email": user.email,
                "primary": true,
                "verified": user.email_verified,
                "visibility": if user.public_email { "public" } else { "private" },
            },
        ])),
        Err(denied) => denied.response(),
    }
}

async fn avatar(path: web::Path<String>) -> HttpResponse {
    let id: u64 = path.parse().unwrap_or(0);
    let hue = id % 360;
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\"><rect width=\"64\" height=\"64\" fill=\"hsl({hue},60%,55%)\"/></svg>"
        ))
}
