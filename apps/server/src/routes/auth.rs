//! Email/password sign-up and login (JWT), the current user, and logout.

use actix_session::Session;
use actix_web::{web, HttpResponse};
use altrion_auth::{Authenticated, LoginRequest, SignupRequest};
use altrion_domain::{Provider, User};
use altrion_session::AuthSession;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    authenticated::{AuthenticatedUser, MaybeUnverified},
    error::ApiError,
    error::ErrorResponse,
    state::AppState,
};

/// A user as the API shows it: never the password hash, token version or counters.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserBody {
    #[schema(example = "65f1c0a2b3c4d5e6f7a8b9c0")]
    pub id: String,
    pub name: String,
    pub email: String,
    /// Whether the owner proved the address: a mailed link was used, or the provider asserted
    /// it.
    pub email_verified: bool,
    /// How the account was created: `local`, `google` or `github`.
    #[schema(value_type = String, example = "local")]
    pub provider: Provider,
    /// Every way the user can sign in.
    #[schema(value_type = Vec<String>, example = json!(["local", "github"]))]
    pub providers: Vec<Provider>,
    pub avatar_url: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: time::OffsetDateTime,
}

impl From<&User> for UserBody {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            name: user.name.as_str().to_owned(),
            email: user.email.as_str().to_owned(),
            email_verified: user.email_verified,
            provider: user.provider,
            providers: user.providers(),
            avatar_url: user.avatar_url.clone(),
            created_at: user.created_at,
        }
    }
}

/// A new access token and its user.
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenBody {
    token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    token_type: &'static str,
    /// Seconds until the token expires.
    #[schema(example = 86400)]
    expires_in: u64,
    user: UserBody,
}

impl From<Authenticated> for TokenBody {
    fn from(auth: Authenticated) -> Self {
        Self {
            token: auth.token.token,
            token_type: "Bearer",
            expires_in: auth.token.expires_in,
            user: UserBody::from(&auth.user),
        }
    }
}

/// The signed-in user.
#[derive(Serialize, ToSchema)]
pub(crate) struct MeBody {
    user: UserBody,
}

impl MeBody {
    pub(crate) fn of(user: &User) -> Self {
        Self {
            user: UserBody::from(user),
        }
    }
}

/// Sign-up input.
#[derive(Deserialize, ToSchema)]
pub(crate) struct SignupBody {
    /// 1..=100 characters after trimming; no control or invisible format characters.
    #[schema(example = "Ada Lovelace", min_length = 1, max_length = 100)]
    name: String,
    /// Trimmed and lower-cased; at most 254 characters.
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    email: String,
    /// 8..=128 characters, any Unicode, not the email, not easily guessed (zxcvbn ≥ 2).
    #[schema(example = "correct horse battery", min_length = 8, max_length = 128)]
    password: String,
}

/// Login input.
#[derive(Deserialize, ToSchema)]
pub(crate) struct LoginBody {
    #[schema(example = "ada@example.com", format = Email)]
    email: String,
    /// Longer than 1,024 bytes is refused without hashing.
    #[schema(example = "correct horse battery", max_length = 1024)]
    password: String,
}

/// Creates an account and returns its first token; writes no session.
#[utoipa::path(
    post, path = "/api/auth/signup", tag = "auth", request_body = SignupBody,
    responses(
        (status = 201, description = "Account created", body = TokenBody),
        (status = 400, description = "`malformed_json`", body = ErrorResponse),
        (status = 409, description = "`email_taken`", body = ErrorResponse),
        (status = 413, description = "`payload_too_large`", body = ErrorResponse),
        (status = 415, description = "`unsupported_media_type`", body = ErrorResponse),
        (status = 422, description = "`validation_failed` (see `fields`)", body = ErrorResponse),
        (status = 429, description = "`rate_limited` (see `Retry-After`)", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse),
    )
)]
pub async fn signup(
    state: web::Data<AppState>,
    body: web::Json<SignupBody>,
) -> Result<HttpResponse, ApiError> {
    let SignupBody {
        name,
        email,
        password,
    } = body.into_inner();
    let signed_up = state
        .auth
        .signup(SignupRequest {
            name,
            email,
            password,
        })
        .await?;
    Ok(HttpResponse::Created().json(TokenBody::from(signed_up)))
}

/// Checks an email and password and returns a token; writes no session.
#[utoipa::path(
    post, path = "/api/auth/login", tag = "auth", request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in", body = TokenBody),
        (status = 400, description = "`malformed_json`", body = ErrorResponse),
        (status = 401, description = "`invalid_credentials` — the same for unknown emails, wrong passwords and accounts without a password", body = ErrorResponse),
        (status = 403, description = "`email_not_verified`: the password is right but the address is unverified (only with `APP__AUTH__REQUIRE_VERIFIED_EMAIL`)", body = ErrorResponse),
        (status = 413, description = "`payload_too_large`", body = ErrorResponse),
        (status = 415, description = "`unsupported_media_type`", body = ErrorResponse),
        (status = 422, description = "`validation_failed` (wrong JSON shape)", body = ErrorResponse),
        (status = 429, description = "`rate_limited`: per IP, or the account is locked (see `Retry-After`)", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse),
    )
)]
pub async fn login(
    state: web::Data<AppState>,
    body: web::Json<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let LoginBody { email, password } = body.into_inner();
    let logged_in = state.auth.login(LoginRequest { email, password }).await?;
    Ok(HttpResponse::Ok().json(TokenBody::from(logged_in)))
}

/// The signed-in user, by Bearer JWT or session cookie.
#[utoipa::path(
    get, path = "/api/auth/me", tag = "auth",
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = MeBody),
        (status = 401, description = "`unauthorized`", body = ErrorResponse),
        (status = 403, description = "`email_not_verified` (only with `APP__AUTH__REQUIRE_VERIFIED_EMAIL`)", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse),
    )
)]
pub async fn me(caller: AuthenticatedUser) -> HttpResponse {
    HttpResponse::Ok().json(MeBody::of(&caller.user))
}

/// Purges the session (cookie path); a bare JWT has nothing server-side to end.
#[utoipa::path(
    post, path = "/api/auth/logout", tag = "auth",
    responses(
        (status = 204, description = "Signed out; the session cookie is cleared"),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse),
    )
)]
pub async fn logout(session: Session) -> HttpResponse {
    AuthSession::new(session).log_out();
    HttpResponse::NoContent().finish()
}

/// Every JWT and every session of the caller dies.
#[utoipa::path(
    post, path = "/api/auth/logout-all", tag = "auth",
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 204, description = "Token version bumped; all sessions deleted"),
        (status = 401, description = "`unauthorized`", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse),
    )
)]
pub async fn logout_all(
    state: web::Data<AppState>,
    MaybeUnverified(caller): MaybeUnverified,
    session: Session,
) -> Result<HttpResponse, ApiError> {
    state.auth.logout_all(&caller.user.id).await?;
    AuthSession::new(session).log_out();
    Ok(HttpResponse::NoContent().finish())
}
