//! The OpenAPI document, generated from the handlers' annotations and served at
//! `GET /api/openapi.json`.

use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::{
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi, ToSchema,
};

use super::{account, auth, health, oauth, page, recovery};
use crate::error::FieldError;

/// The error shape every failure has.
#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorResponse {
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorDetail {
    /// Stable, snake_case; docs/api.md lists every code.
    #[schema(example = "validation_failed")]
    code: String,
    /// Human-readable; never carries internals.
    message: String,
    /// Only on `validation_failed` from the use cases.
    fields: Option<Vec<FieldError>>,
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "altrion.sid",
                "The OAuth session cookie (`__Host-altrion.sid` in production)",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Altrion auth API",
        description = "Accounts and sign-in: email + password with JWTs, Google and GitHub with server-side sessions. Every error is `{\"error\": {\"code\", \"message\"}}`; see docs/api.md."
    ),
    paths(
        page::index, page::reset_password, page::verify_email, page::app_js, page::style,
        health::health, health::ready, document,
        auth::signup, auth::login, auth::me, auth::logout, auth::logout_all,
        oauth::start, oauth::callback, oauth::link, oauth::unlink,
        account::sessions, account::revoke_session, account::change_password, account::delete_account,
        recovery::forgot, recovery::reset, recovery::verify, recovery::resend,
    ),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Email + password and the current user"),
        (name = "oauth", description = "Login with Google and GitHub"),
        (name = "self-service", description = "Sessions, password change, account deletion"),
        (name = "recovery", description = "Password recovery and email verification by mailed link"),
        (name = "probes", description = "Liveness, readiness and this document"),
    )
)]
pub(crate) struct ApiDoc;

/// `GET /api/openapi.json`
#[utoipa::path(
    get, path = "/api/openapi.json", tag = "probes",
    responses((status = 200, description = "This OpenAPI document"))
)]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::routes::ROUTES;

    #[test]
    fn every_route_is_documented_with_its_method() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        for (method, path) in ROUTES {
            let operation = &doc["paths"][*path][*method];
            assert!(
                operation.is_object(),
                "{method} {path} is missing from the OpenAPI document"
            );
            assert!(
                operation["responses"].is_object(),
                "{method} {path} has no responses"
            );
        }
        let documented: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| item.as_object().unwrap().len())
            .sum();
        assert_eq!(
            documented,
            ROUTES.len(),
            "the document lists routes that don't exist"
        );
    }

    #[test]
    fn request_bodies_carry_the_validation_rules() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let signup = &doc["components"]["schemas"]["SignupBody"]["properties"];
        assert_eq!(signup["password"]["minLength"], 8, "{signup}");
        assert_eq!(signup["password"]["maxLength"], 128);
        assert_eq!(signup["name"]["maxLength"], 100);
        assert_eq!(signup["email"]["format"], "email");
        let change = &doc["components"]["schemas"]["PasswordBody"]["properties"];
        assert_eq!(change["new_password"]["minLength"], 8, "{change}");
    }

    #[test]
    fn every_documented_error_code_is_in_the_api_reference() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let reference = include_str!("../../../../docs/api.md");
        let mut codes = std::collections::BTreeSet::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for operation in item.as_object().unwrap().values() {
                for response in operation["responses"].as_object().unwrap().values() {
                    let description = response["description"].as_str().unwrap_or_default();
                    codes.extend(
                        description
                            .split('`')
                            .skip(1)
                            .step_by(2)
                            .filter(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'))
                            .map(str::to_owned),
                    );
                }
            }
        }
        assert!(codes.contains("email_taken") && codes.contains("invalid_state"));
        for code in codes {
            assert!(
                reference.contains(&format!("`{code}`")),
                "`{code}` is not in docs/api.md"
            );
        }
    }
}
