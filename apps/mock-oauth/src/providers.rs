//! The routes of both mock providers: consent pages, token endpoints and profile APIs.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::{
    pages::{self, AuthorizeForm, AuthorizeParams},
    store::{MockUser, Store, Which},
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

/// The code exchange request (client credentials in the body, `client_secret_post`).
#[derive(Debug, Deserialize)]
pub(crate) struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    code_verifier: Option<String>,
}

/// A refused exchange, worded as each provider words it.
struct Refusal {
    google_status: u16,
    google: &'static str,
    github: &'static str,
    description: &'static str,
}

fn check_exchange(
    store: &Store,
    which: Which,
    form: &TokenForm,
) -> Result<(String, MockUser), Refusal> {
    let client_id = form.client_id.as_deref().unwrap_or_default();
    let secret_ok = store
        .client_secret(which, client_id)
        .is_some_and(|secret| form.client_secret.as_deref() == Some(secret));
    if !secret_ok {
        return Err(Refusal {
            google_status: 401,
            google: "invalid_client",
            github: "incorrect_client_credentials",
            description: "The client_id and/or client_secret passed are incorrect.",
        });
    }
    if form.grant_type.as_deref() != Some("authorization_code") {
        return Err(Refusal {
            google_status: 400,
            google: "unsupported_grant_type",
            github: "unsupported_grant_type",
            description: "grant_type must be authorization_code.",
        });
    }
    let bad_code = Refusal {
        google_status: 400,
        google: "invalid_grant",
        github: "bad_verification_code",
        description: "The code passed is incorrect or expired.",
    };
    let grant = form
        .code
        .as_deref()
        .and_then(|code| store.redeem_code(code))
        .ok_or(bad_code)?;
    if grant.which != which || grant.client_id != client_id {
        return Err(Refusal {
            google_status: 400,
            google: "invalid_grant",
            github: "bad_verification_code",
            description: "The code was issued to another client.",
        });
    }
    if form.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return Err(Refusal {
            google_status: 400,
            google: "redirect_uri_mismatch",
            github: "redirect_uri_mismatch",
            description: "The redirect_uri does not match the one of the authorization request.",
        });
    }
    if !pages::verifier_matches(&grant, form.code_verifier.as_deref()) {
        return Err(Refusal {
            google_status: 400,
            google: "invalid_grant",
            github: "bad_verification_code",
            description: "The code_verifier does not match the code_challenge.",
        });
    }
    Ok((grant.scope, grant.user))
}

async fn token(
    store: web::Data<Store>,
    which: Which,
    request: HttpRequest,
    form: web::Form<TokenForm>,
) -> HttpResponse {
    let wants_json = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    match (check_exchange(&store, which, &form), which) {
        (Ok((scope, user)), Which::Google) => {
            let token = store.issue_token(which, user);
            HttpResponse::Ok().json(json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 3599,
                "scope": scope,
            }))
        }
        (Ok((scope, user)), Which::Github) => {
            let token = store.issue_token(which, user);
            // GitHub reports granted scopes comma-separated.
            let scope = scope.split_whitespace().collect::<Vec<_>>().join(",");
            github_answer(
                wants_json,
                &[
                    ("access_token", &token),
                    ("token_type", "bearer"),
                    ("scope", &scope),
                ],
            )
        }
        (Err(refusal), Which::Google) => {
            tracing::info!(
                error = refusal.google,
                "mock Google refused a code exchange"
            );
            HttpResponse::build(
                actix_web::http::StatusCode::from_u16(refusal.google_status)
                    .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
            )
            .json(json!({"error": refusal.google, "error_description": refusal.description}))
        }
        // Like the real GitHub: HTTP 200 with an error body.
        (Err(refusal), Which::Github) => {
            tracing::info!(
                error = refusal.github,
                "mock GitHub refused a code exchange"
            );
            github_answer(
                wants_json,
                &[
                    ("error", refusal.github),
                    ("error_description", refusal.description),
                    ("error_uri", "https://docs.github.com/apps/oauth-apps"),
                ],
            )
        }
    }
}

/// GitHub answers JSON only when asked with `Accept: application/json`, else a form body.
fn github_answer(json: bool, fields: &[(&str, &str)]) -> HttpResponse {
    if json {
        let map: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        HttpResponse::Ok().json(map)
    } else {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        HttpResponse::Ok()
            .content_type("application/x-www-form-urlencoded; charset=utf-8")
            .body(body)
    }
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
