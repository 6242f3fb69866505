//! The token endpoints: the code exchange with client credentials, single-use codes, the
//! `redirect_uri` check and PKCE, answered as Google (JSON, 4xx on errors) or GitHub (HTTP 200
//! with an `error` body; JSON only when asked with `Accept: application/json`) would.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::{
    pages,
    store::{MockUser, Store, Which},
};

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

pub(crate) async fn token(
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
