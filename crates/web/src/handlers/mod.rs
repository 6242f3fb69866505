//! Altrion's handlers — sign-up and login (a JWT, no session), the
//! current user, logout and logout everywhere here, and [`session_login`] for services whose
//! browsers sign in with the session cookie; the sessions list, password change and
//! account deletion in [`account`]; recovery and email verification in [`recovery`]; Login
//! with Google and GitHub, linking and unlinking in [`oauth`] — for a
//! service to route as they are (Altrion's server does). Each of Altrion's routes carries its
//! OpenAPI description (`utoipa::path`, with Altrion's paths). They need `web::Data<AuthService>` ([`crate::api`]),
//! the routes that touch the session the session middleware, and the recovery routes an
//! `AuthService` built with mail.

pub mod account;
pub mod oauth;
pub mod recovery;

use actix_web::{web, HttpRequest, HttpResponse};
use altrion_auth::AuthService;
use altrion_session::AuthSession;

use crate::{
    ApiError, Authenticated, ErrorResponse, LoginBody, MaybeUnverified, MeBody, SignupBody,
    TokenBody,
};

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
    auth: web::Data<AuthService>,
    body: web::Json<SignupBody>,
) -> Result<HttpResponse, ApiError> {
    let signed_up = auth.signup(body.into_inner().into()).await?;
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
    auth: web::Data<AuthService>,
    body: web::Json<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let logged_in = auth.login(body.into_inner().into()).await?;
    Ok(HttpResponse::Ok().json(TokenBody::from(logged_in)))
}

/// Checks an email and password and signs the browser into a server-side session under a new
/// id ([`crate::log_in`]): the HttpOnly session cookie is the credential, and the body the user
/// only, never a token that page scripts could read. Answers `200` with [`MeBody`], and the
/// same errors as [`login`]. Not one of Altrion's routes (its password login answers with a
/// JWT): for services whose browsers sign in with the cookie. Route it inside the session
/// middleware; outside it [`crate::log_in`] answers `500 internal` (and logs why).
pub async fn session_login(
    auth: web::Data<AuthService>,
    session: AuthSession,
    req: HttpRequest,
    body: web::Json<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    // Before the password counts as an attempt.
    crate::sessions::ensure_mounted(&req)?;
    let logged_in = auth.login(body.into_inner().into()).await?;
    crate::log_in(&session, &req, &logged_in.user)?;
    Ok(HttpResponse::Ok().json(MeBody::of(&logged_in.user)))
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
pub async fn me(caller: Authenticated) -> HttpResponse {
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
pub async fn logout(session: AuthSession) -> HttpResponse {
    session.log_out();
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
    auth: web::Data<AuthService>,
    MaybeUnverified(caller): MaybeUnverified,
    session: AuthSession,
) -> Result<HttpResponse, ApiError> {
    auth.logout_all(&caller.user.id).await?;
    session.log_out();
    Ok(HttpResponse::NoContent().finish())
}
