//! The one error type every handler returns, and the JSON shape every failure has:
//! `{"error": {"code": "<stable_snake_case>", "message": "<human text>"}}`.

use std::{borrow::Cow, error::Error as StdError};

use actix_web::{
    error::{JsonPayloadError, PayloadError, QueryPayloadError},
    http::{header, StatusCode},
    HttpRequest, HttpResponse, ResponseError,
};
use altrion_domain::RepoError;
use serde::Serialize;

/// The header carrying the request id, in both directions; an [`ApiError`] that leaves through
/// a middleware sets it itself ([`ApiError::with_request_id`]).
pub const REQUEST_ID_HEADER: header::HeaderName = header::HeaderName::from_static("x-request-id");

/// One invalid input field.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Declares every error code once: its status, its stable string and its default message.
macro_rules! error_codes {
    ($($variant:ident => $status:ident, $code:literal, $message:literal;)+) => {
        /// Every error the API answers with; `docs/api.md` lists them all (a test checks).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $($variant),+ }

        impl ErrorCode {
            /// Every code, in the table's order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn status(self) -> StatusCode {
                match self { $(Self::$variant => StatusCode::$status),+ }
            }

            /// The stable snake_case string clients match on.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $code),+ }
            }

            /// The human-readable message used unless a more precise one is given.
            pub fn default_message(self) -> &'static str {
                match self { $(Self::$variant => $message),+ }
            }
        }
    };
}

error_codes! {
    MalformedJson => BAD_REQUEST, "malformed_json", "the request body is not valid JSON";
    BadRequest => BAD_REQUEST, "bad_request", "the request could not be read";
    InvalidToken => BAD_REQUEST, "invalid_token", "this link is invalid, expired or already used; ask for a new one";
    InvalidCredentials => UNAUTHORIZED, "invalid_credentials", "email or password is incorrect";
    Unauthorized => UNAUTHORIZED, "unauthorized", "authentication required";
    ForbiddenOrigin => FORBIDDEN, "forbidden_origin", "this request comes from an origin that may not act with your session";
    EmailNotVerified => FORBIDDEN, "email_not_verified", "confirm your email address first: open the link we mailed you, or ask for a new one";
    ReauthenticationRequired => FORBIDDEN, "reauthentication_required", "confirm it is you: send your current password (or sign in again if your account has none)";
    NotFound => NOT_FOUND, "not_found", "no such resource";
    ProviderDisabled => NOT_FOUND, "provider_disabled", "login with this provider is not configured on this server";
    MethodNotAllowed => METHOD_NOT_ALLOWED, "method_not_allowed", "this method is not allowed on this resource";
    RequestTimeout => REQUEST_TIMEOUT, "request_timeout", "the request body did not arrive in time";
    EmailTaken => CONFLICT, "email_taken", "an account with this email already exists";
    EmailAlreadyVerified => CONFLICT, "email_already_verified", "this email address is verified already";
    LastSignInMethod => CONFLICT, "last_sign_in_method", "this is the account's last way to sign in; add another one first";
    PayloadTooLarge => PAYLOAD_TOO_LARGE, "payload_too_large", "the request body is too large";
    UnsupportedMediaType => UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "the request body must be JSON (Content-Type: application/json)";
    ValidationFailed => UNPROCESSABLE_ENTITY, "validation_failed", "the request is not valid";
    InvalidRedirect => UNPROCESSABLE_ENTITY, "invalid_redirect", "redirect_to must be on the frontend's origin or an allow-listed one";
    RateLimited => TOO_MANY_REQUESTS, "rate_limited", "too many attempts; retry later";
    Internal => INTERNAL_SERVER_ERROR, "internal", "an unexpected error occurred";
    ServiceUnavailable => SERVICE_UNAVAILABLE, "service_unavailable", "the service is temporarily unavailable; retry shortly";
}

/// An HTTP failure with a stable machine-readable code.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: Cow<'static, str>,
    fields: Vec<FieldError>,
    retry_after_secs: Option<u64>,
    /// Set when the error leaves through a middleware, where no later layer can add headers.
    request_id: Option<Box<str>>,
    /// Close the connection after this answer (the request's body was not read to its end).
    close: bool,
    /// The underlying cause of a 5xx; logged, never sent.
    source: Option<Box<dyn StdError + Send + Sync>>,
}

/// The body of every failure: what is sent, and what the OpenAPI document describes.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorResponse {
    error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, snake_case; docs/api.md lists every code.
    #[schema(example = "validation_failed")]
    code: &'static str,
    /// Human-readable; never carries internals.
    message: String,
    /// Only on `validation_failed` from the use cases.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldError>,
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Self {
            code,
            message: Cow::Borrowed(code.default_message()),
            fields: Vec::new(),
            retry_after_secs: None,
            request_id: None,
            close: false,
            source: None,
        }
    }
}

impl ApiError {
    /// `code` with a more precise message than its default.
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            message: Cow::Owned(message.into()),
            ..Self::from(code)
        }
    }

    /// Carries the request id into the response headers.
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into().into_boxed_str());
        self
    }

    /// Renders the response now, so a server error is logged in the caller's current tracing
    /// span, and returns an actix error that answers with that response. For a middleware's
    /// failure, which actix would otherwise render only after it has left every middleware (and
    /// their spans).
    pub fn rendered(self) -> actix_web::Error {
        let response = self.error_response();
        actix_web::error::InternalError::from_response(self, response).into()
    }

    /// One or more fields are invalid; each is listed under `fields`.
    pub fn validation(fields: Vec<FieldError>) -> Self {
        let message = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            fields,
            ..Self::with_message(ErrorCode::ValidationFailed, message)
        }
    }

    /// With `Retry-After`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::from(ErrorCode::RateLimited)
        }
    }

    /// The store cannot serve now. The message is generic, except when the cause is the index
    /// gate, whose reason (index names only) tells operators why the instance is unready.
    pub fn service_unavailable(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        let source = source.into();
        let error = match indexes_not_ready(&*source) {
            Some(reason) => Self::with_message(
                ErrorCode::ServiceUnavailable,
                format!("the service is temporarily unavailable: {reason}"),
            ),
            None => Self::from(ErrorCode::ServiceUnavailable),
        };
        Self {
            source: Some(source),
            retry_after_secs: Some(5),
            ..error
        }
    }

    pub fn internal(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            source: Some(source.into()),
            ..Self::from(ErrorCode::Internal)
        }
    }

    /// The body did not arrive within the body timeout; the connection is closed.
    pub fn request_timeout() -> Self {
        Self {
            close: true,
            ..Self::from(ErrorCode::RequestTimeout)
        }
    }

    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        self.code.as_str()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code.as_str(),
            self.code.status().as_u16(),
            self.message
        )
    }
}

impl StdError for ApiError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// The index gate's reason, if it is somewhere in `err`'s cause chain.
fn indexes_not_ready(err: &(dyn StdError + 'static)) -> Option<String> {
    altrion_domain::causes(err)
        .find_map(|cause| cause.downcast_ref::<altrion_domain::IndexesNotReady>())
        .map(ToString::to_string)
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.code.status();
        if status.is_server_error() {
            tracing::error!(
                code = self.code.as_str(),
                cause = %altrion_domain::chain(self),
                "request failed"
            );
        }
        let mut response = HttpResponse::build(status);
        if self.close {
            response.force_close();
        }
        if let Some(secs) = self.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let Some(id) = &self.request_id {
            response.insert_header((REQUEST_ID_HEADER, &**id));
        }
        for header in crate::headers::SECURITY_HEADERS {
            response.insert_header(header);
        }
        response.json(ErrorResponse {
            error: ErrorDetail {
                code: self.code.as_str(),
                message: self.message.to_string(),
                fields: self.fields.clone(),
            },
        })
    }
}

impl From<RepoError> for ApiError {
    fn from(err: RepoError) -> Self {
        match err {
            RepoError::Unavailable(_) => Self::service_unavailable(err),
            RepoError::NotFound => ErrorCode::NotFound.into(),
            RepoError::Conflict(_) | RepoError::Other(_) => Self::internal(err),
        }
    }
}

impl From<altrion_auth::AuthError> for ApiError {
    fn from(err: altrion_auth::AuthError) -> Self {
        use altrion_auth::AuthError as E;
        let retry_after = err.retry_after_secs();
        let code = match err {
            E::Validation(fields) => {
                return Self::validation(
                    fields
                        .into_iter()
                        .map(|f| FieldError {
                            field: f.field.to_owned(),
                            message: f.message,
                        })
                        .collect(),
                )
            }
            E::Locked { .. } | E::MailQuotaExceeded { .. } => {
                return Self::rate_limited(retry_after.unwrap_or(1))
            }
            E::Busy => return Self::service_unavailable("too many mail requests pending"),
            E::Unavailable(source) => return Self::service_unavailable(source),
            E::Internal(source) => return Self::internal(source),
            E::NotLinked => {
                return Self::with_message(
                    ErrorCode::NotFound,
                    "no identity of this provider is linked to the account",
                )
            }
            E::InvalidCredentials => ErrorCode::InvalidCredentials,
            E::EmailTaken => ErrorCode::EmailTaken,
            E::Unauthorized => ErrorCode::Unauthorized,
            E::ReauthenticationRequired => ErrorCode::ReauthenticationRequired,
            E::LastSignInMethod => ErrorCode::LastSignInMethod,
            E::InvalidToken => ErrorCode::InvalidToken,
            E::EmailNotVerified => ErrorCode::EmailNotVerified,
            E::EmailAlreadyVerified => ErrorCode::EmailAlreadyVerified,
        };
        code.into()
    }
}

/// The failures of starting an OAuth flow (start and link); the callback's failures are
/// redirects, not errors.
impl From<altrion_auth::OAuthError> for ApiError {
    fn from(err: altrion_auth::OAuthError) -> Self {
        use altrion_auth::OAuthError as E;
        match err {
            E::ProviderDisabled(provider) => Self::with_message(
                ErrorCode::ProviderDisabled,
                format!("login with {provider} is not configured on this server"),
            ),
            E::InvalidRedirect => ErrorCode::InvalidRedirect.into(),
            E::Unavailable(source) => Self::service_unavailable(source),
            other => Self::internal(other),
        }
    }
}

/// Maps actix's JSON extractor failures onto the error contract.
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    match err {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => ApiError::with_message(
            ErrorCode::PayloadTooLarge,
            format!("the request body exceeds {limit} bytes"),
        ),
        JsonPayloadError::ContentType => ErrorCode::UnsupportedMediaType.into(),
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::with_message(ErrorCode::ValidationFailed, e.to_string())
        }
        JsonPayloadError::Deserialize(e) => ApiError::with_message(
            ErrorCode::MalformedJson,
            format!("the request body is not valid JSON: {e}"),
        ),
        JsonPayloadError::Payload(PayloadError::Overflow) => ErrorCode::PayloadTooLarge.into(),
        JsonPayloadError::Payload(e) if crate::body_timeout::is_timed_out(&e) => {
            ApiError::request_timeout()
        }
        other => ApiError::with_message(
            ErrorCode::BadRequest,
            format!("the request body could not be read: {other}"),
        ),
    }
    .into()
}

/// Maps query-string extractor failures onto the error contract.
pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::with_message(
        ErrorCode::ValidationFailed,
        format!("invalid query string: {err}"),
    )
    .into()
}

/// The default service: no route matched the path.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ErrorCode::NotFound.into())
}

/// The default service of each resource: the path matched, the method did not. `allow` lists
/// the resource's methods (`Allow`, RFC 9110 §15.5.6).
pub fn method_not_allowed(allow: &str) -> HttpResponse {
    let mut response = ApiError::from(ErrorCode::MethodNotAllowed).error_response();
    if let Ok(value) = header::HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use actix_web::body::to_bytes;

    use super::*;

    async fn body_of(err: &ApiError) -> serde_json::Value {
        let bytes = to_bytes(err.error_response().into_body()).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[actix_web::test]
    async fn server_errors_never_leak_their_cause() {
        let err = ApiError::internal("connection string mongodb://admin:hunter2@db");
        let body = body_of(&err).await;
        assert_eq!(body["error"]["code"], "internal");
        assert!(!body.to_string().contains("hunter2"));
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[actix_web::test]
    async fn rate_limited_sets_retry_after() {
        let response = ApiError::rate_limited(7).error_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "7");
    }

    #[actix_web::test]
    async fn validation_lists_fields() {
        let err = ApiError::validation(vec![FieldError {
            field: "email".into(),
            message: "email is required".into(),
        }]);
        let body = body_of(&err).await;
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(body["error"]["fields"][0]["field"], "email");
        assert_eq!(err.status_code(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[actix_web::test]
    async fn unready_indexes_say_why_without_other_causes() {
        let source =
            altrion_domain::IndexesNotReady("unique index users.email_1 is missing".into());
        let body = body_of(&ApiError::service_unavailable(source)).await;
        assert_eq!(body["error"]["code"], "service_unavailable");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("users.email_1 is missing"),
            "{body}"
        );
        let other = body_of(&ApiError::service_unavailable("mongodb://admin:hunter2@db")).await;
        assert!(!other.to_string().contains("hunter2"));
    }

    #[actix_web::test]
    async fn method_not_allowed_lists_the_allowed_methods() {
        let response = method_not_allowed("POST");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers().get(header::ALLOW).unwrap(), "POST");
    }

    #[test]
    fn unavailable_store_is_503() {
        let err: ApiError = RepoError::Unavailable("timeout".into()).into();
        assert_eq!(err.code(), "service_unavailable");
        assert_eq!(err.status_code(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
