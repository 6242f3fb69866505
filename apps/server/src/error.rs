//! The one error type every handler returns, and the JSON shape every failure has:
//! `{"error": {"code": "<stable_snake_case>", "message": "<human text>"}}`.

use std::error::Error as StdError;

use actix_web::{
    error::{JsonPayloadError, PayloadError, QueryPayloadError},
    http::{header, StatusCode},
    HttpRequest, HttpResponse, ResponseError,
};
use altrion_domain::RepoError;
use serde::Serialize;

/// One invalid input field.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// An HTTP failure with a stable machine-readable code.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    fields: Box<[FieldError]>,
    retry_after_secs: Option<u64>,
    /// Set when the error leaves through a middleware, where no later layer can add headers.
    request_id: Option<Box<str>>,
    /// Close the connection after this answer (the request's body was not read to its end).
    close: bool,
    /// The underlying cause of a 5xx; logged, never sent.
    source: Option<Box<dyn StdError + Send + Sync>>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: BodyInner<'a>,
}

#[derive(Serialize)]
struct BodyInner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    fields: &'a [FieldError],
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: Box::default(),
            retry_after_secs: None,
            request_id: None,
            close: false,
            source: None,
        }
    }

    /// Carries the request id into the response headers.
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into().into_boxed_str());
        self
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this method is not allowed on this resource",
        )
    }

    pub fn malformed_json(detail: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the request body is not valid JSON: {detail}"),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the request body must be JSON (Content-Type: application/json)",
        )
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body exceeds {limit} bytes"),
        )
    }

    /// The body did not arrive within the body timeout; the connection is closed.
    pub fn request_timeout() -> Self {
        Self {
            close: true,
            ..Self::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "the request body did not arrive in time",
            )
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// One or more fields are invalid; each is listed under `fields`.
    pub fn validation(fields: Vec<FieldError>) -> Self {
        let message = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            fields: fields.into_boxed_slice(),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                message,
            )
        }
    }

    /// The body is JSON but not of the expected shape.
    pub fn validation_message(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        )
    }

    /// The provider has no client id and secret configured.
    pub fn provider_disabled(provider: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "provider_disabled",
            format!("login with {provider} is not configured on this server"),
        )
    }

    /// `redirect_to` is not an allowed return address.
    pub fn invalid_redirect() -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_redirect",
            "redirect_to must be on the frontend's origin or an allow-listed one",
        )
    }

    pub fn invalid_credentials() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "email or password is incorrect",
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "authentication required",
        )
    }

    /// A cookie-authenticated, state-changing request from another site (CSRF).
    pub fn forbidden_origin() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden_origin",
            "this request comes from an origin that may not act with your session",
        )
    }

    pub fn reauthentication_required() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "reauthentication_required",
            "confirm it is you: send your current password (or sign in again if your account has none)",
        )
    }

    pub fn last_sign_in_method() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "last_sign_in_method",
            "this is the account's last way to sign in; add another one first",
        )
    }

    pub fn email_taken() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "email_taken",
            "an account with this email already exists",
        )
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many attempts; retry later",
            )
        }
    }

    /// The store cannot serve now. The message is generic, except when the cause is the index
    /// gate, whose reason (index names only) tells operators why the instance is unready.
    pub fn service_unavailable(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        let source = source.into();
        let message = indexes_not_ready(&*source).map_or_else(
            || "the service is temporarily unavailable; retry shortly".to_owned(),
            |reason| format!("the service is temporarily unavailable: {reason}"),
        );
        Self {
            source: Some(source),
            retry_after_secs: Some(5),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                message,
            )
        }
    }

    pub fn internal(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            source: Some(source.into()),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "an unexpected error occurred",
            )
        }
    }

    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code,
            self.status.as_u16(),
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
    let mut next = Some(err);
    while let Some(cause) = next {
        if let Some(gate) = cause.downcast_ref::<altrion_storage::IndexesNotReady>() {
            return Some(gate.to_string());
        }
        next = cause.source();
    }
    None
}

/// The cause chain as one line, for logs.
fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, cause = %chain(self), "request failed");
        }
        let mut response = HttpResponse::build(self.status);
        if self.close {
            response.force_close();
        }
        if let Some(secs) = self.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let Some(id) = &self.request_id {
            response.insert_header((crate::request_id::REQUEST_ID_HEADER, &**id));
        }
        response.json(Body {
            error: BodyInner {
                code: self.code,
                message: &self.message,
                fields: &self.fields,
            },
        })
    }
}

impl From<RepoError> for ApiError {
    fn from(err: RepoError) -> Self {
        match err {
            RepoError::Unavailable(_) => Self::service_unavailable(err),
            RepoError::NotFound => Self::not_found(),
            RepoError::Conflict(_) | RepoError::Other(_) => Self::internal(err),
        }
    }
}

impl From<altrion_auth::AuthError> for ApiError {
    fn from(err: altrion_auth::AuthError) -> Self {
        use altrion_auth::AuthError as E;
        let retry_after = err.retry_after_secs();
        match err {
            E::Validation(fields) => Self::validation(
                fields
                    .into_iter()
                    .map(|f| FieldError {
                        field: f.field.to_owned(),
                        message: f.message,
                    })
                    .collect(),
            ),
            E::InvalidCredentials => Self::invalid_credentials(),
            E::EmailTaken => Self::email_taken(),
            E::Locked { .. } => Self::rate_limited(retry_after.unwrap_or(1)),
            E::Unauthorized => Self::unauthorized(),
            E::ReauthenticationRequired => Self::reauthentication_required(),
            E::LastSignInMethod => Self::last_sign_in_method(),
            E::NotLinked => Self::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no identity of this provider is linked to the account",
            ),
            E::InvalidToken => Self::new(
                StatusCode::BAD_REQUEST,
                "invalid_token",
                "this link is invalid, expired or already used; ask for a new one",
            ),
            E::EmailNotVerified => Self::new(
                StatusCode::FORBIDDEN,
                "email_not_verified",
                "confirm your email address first: open the link we mailed you, or ask for a new one",
            ),
            E::EmailAlreadyVerified => Self::new(
                StatusCode::CONFLICT,
                "email_already_verified",
                "this email address is verified already",
            ),
            E::MailQuotaExceeded { .. } => Self::rate_limited(retry_after.unwrap_or(1)),
            E::Busy => Self::service_unavailable("too many mail requests pending"),
            E::Unavailable(source) => Self::service_unavailable(source),
            E::Internal(source) => Self::internal(source),
        }
    }
}

/// Maps actix's JSON extractor failures onto the error contract.
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    match err {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => ApiError::payload_too_large(limit),
        JsonPayloadError::ContentType => ApiError::unsupported_media_type(),
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::validation_message(e.to_string())
        }
        JsonPayloadError::Deserialize(e) => ApiError::malformed_json(e),
        JsonPayloadError::Payload(PayloadError::Overflow) => ApiError::payload_too_large(0),
        JsonPayloadError::Payload(e) if crate::body_timeout::is_timed_out(&e) => {
            ApiError::request_timeout()
        }
        other => ApiError::bad_request(format!("the request body could not be read: {other}")),
    }
    .into()
}

/// Maps query-string extractor failures onto the error contract.
pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::validation_message(format!("invalid query string: {err}")).into()
}

/// The default service: no route matched the path.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found())
}

/// The default service of each resource: the path matched, the method did not. `allow` lists
/// the resource's methods (`Allow`, RFC 9110 §15.5.6).
pub fn method_not_allowed(allow: &str) -> HttpResponse {
    let mut response = ApiError::method_not_allowed().error_response();
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
        let gate = altrion_storage::IndexGate::closed("unique index users.email_1 is missing");
        let Err(RepoError::Unavailable(source)) = gate.check() else {
            panic!("a closed gate refuses");
        };
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
