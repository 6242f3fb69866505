//! The OpenAPI document, generated from the handlers' annotations and served at
//! `GET /api/openapi.json`.

use actix_web::HttpResponse;
use utoipa::{
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

use altrion_web::{handlers, handlers::oauth};

use super::{health, page};

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
        handlers::signup, handlers::login, handlers::me, handlers::logout, handlers::logout_all,
        oauth::start, oauth::callback, oauth::link, oauth::unlink,
        handlers::account::sessions, handlers::account::revoke_session, handlers::account::change_password, handlers::account::delete_account,
        handlers::recovery::forgot, handlers::recovery::reset, handlers::recovery::verify, handlers::recovery::resend,
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

    /// docs/api.md's error table is the code's, row for row (status and code, both ways), and
    /// every code an OpenAPI description names is one the API can answer (a table code, or an
    /// OAuth redirect code).
    #[test]
    fn the_error_table_the_reference_and_the_document_agree() {
        use altrion_web::ErrorCode;
        let reference = include_str!("../../../../docs/api.md");
        // Rows such as "| 401 | `unauthorized` | … |".
        let mut documented: Vec<(u16, &str)> = reference
            .lines()
            .filter_map(|line| {
                let mut cells = line.strip_prefix("| ")?.split(" | ");
                let status = cells.next()?.parse().ok()?;
                let code = cells.next()?.strip_prefix('`')?.strip_suffix('`')?;
                Some((status, code))
            })
            .collect();
        let mut table: Vec<(u16, &str)> = ErrorCode::ALL
            .iter()
            .map(|c| (c.status().as_u16(), c.as_str()))
            .collect();
        documented.sort_unstable();
        table.sort_unstable();
        assert_eq!(
            documented, table,
            "docs/api.md's error table and ErrorCode differ"
        );
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let known = |code: &str| {
            ErrorCode::ALL.iter().any(|c| c.as_str() == code)
                || altrion_auth::OAuthError::CODES.contains(&code)
        };
        // Request fields the descriptions name beside the codes.
        const FIELDS: &[&str] = &["redirect_to", "new_password", "current_password"];
        let mut named = 0;
        for item in doc["paths"].as_object().unwrap().values() {
            for operation in item.as_object().unwrap().values() {
                for response in operation["responses"].as_object().unwrap().values() {
                    let description = response["description"].as_str().unwrap_or_default();
                    for code in description.split('`').skip(1).step_by(2).filter(|c| {
                        c.contains('_') && c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_')
                    }) {
                        named += 1;
                        assert!(
                            known(code) || FIELDS.contains(&code),
                            "`{code}` in the OpenAPI document is no error code"
                        );
                    }
                }
            }
        }
        assert!(named > 50, "the descriptions name the codes ({named})");
    }

    /// The schema is the type every error response is serialized from.
    #[actix_web::test]
    async fn the_error_schema_is_the_body_sent() {
        use actix_web::{body::to_bytes, ResponseError as _};
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let schema = &doc["components"]["schemas"]["ErrorDetail"]["properties"];
        let error = altrion_web::ApiError::validation(vec![altrion_web::FieldError {
            field: "email".into(),
            message: "bad".into(),
        }]);
        let bytes = to_bytes(error.error_response().into_body()).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let mut sent: Vec<&String> = body["error"].as_object().unwrap().keys().collect();
        let mut described: Vec<&String> = schema.as_object().unwrap().keys().collect();
        sent.sort();
        described.sort();
        assert_eq!(sent, described);
    }
}
