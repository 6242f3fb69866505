//! Login with Google and GitHub: start the flow, finish it on the callback, link a provider.

use actix_web::{http::header, web, HttpResponse};
use altrion_auth::{CallbackQuery, OAuthError, PendingLogin};
use altrion_domain::Provider;
use altrion_session::AuthSession;
use serde::{Deserialize, Serialize};

use crate::{
    authenticated::AuthenticatedUser, error::ApiError, routes::openapi::ErrorResponse,
    state::AppState,
};

/// Where the pending flow (state, PKCE verifier, return target) waits for the callback.
const PENDING_KEY: &str = "oauth_pending";

/// `google` or `github`; anything else is not a route.
fn provider(name: &str) -> Result<Provider, ApiError> {
    match name {
        "google" => Ok(Provider::Google),
        "github" => Ok(Provider::Github),
        _ => Err(ApiError::not_found()),
    }
}

fn found(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// Failures before anything was sent to the provider are the caller's: plain JSON errors.
fn start_error(err: OAuthError) -> ApiError {
    match err {
        OAuthError::ProviderDisabled(provider) => ApiError::provider_disabled(provider.as_str()),
        OAuthError::InvalidRedirect => ApiError::invalid_redirect(),
        OAuthError::Unavailable(source) => ApiError::service_unavailable(source),
        other => ApiError::internal(other),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StartQuery {
    /// Where to return after the login: a path, or a URL on the frontend's origin or an
    /// allow-listed one.
    redirect_to: Option<String>,
}

/// `GET /api/auth/{provider}?redirect_to=…`: keeps a single-use `state` and the PKCE verifier
/// in the session and sends the browser to the provider. A signed-in session links instead.
#[utoipa::path(
    get, path = "/api/auth/{provider}", tag = "oauth",
    params(("provider" = String, Path, description = "`google` or `github`"), StartQuery),
    responses(
        (status = 302, description = "To the provider's consent page; sets the session cookie"),
        (status = 404, description = "`provider_disabled` (no client id and secret) or `not_found` (unknown provider)", body = ErrorResponse),
        (status = 422, description = "`invalid_redirect`", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse),
    )
)]
pub async fn start(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<StartQuery>,
    session: AuthSession,
) -> Result<HttpResponse, ApiError> {
    let provider = provider(&path)?;
    let linking = session.current_user().ok().flatten();
    let (authorize, pending) = state
        .oauth
        .start(provider, query.redirect_to.as_deref(), linking)
        .map_err(start_error)?;
    session
        .insert(PENDING_KEY, &pending)
        .map_err(ApiError::internal)?;
    Ok(found(authorize.as_str()))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct LinkBody {
    /// Where to return after linking.
    redirect_to: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct LinkResponse {
    /// Send the browser here.
    authorize_url: String,
}

/// `POST /api/auth/{provider}/link`: for a signed-in user (Bearer or cookie), prepares the
/// flow that links this provider and returns the URL to send the browser to. A password user
/// needs this because a browser navigation carries no Bearer token.
#[utoipa::path(
    post, path = "/api/auth/{provider}/link", tag = "oauth",
    params(("provider" = String, Path, description = "`google` or `github`")),
    request_body(content = Option<LinkBody>, description = "Optional return target"),
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "The provider URL to send the browser to; sets the session cookie holding the pending flow", body = LinkResponse),
        (status = 401, description = "`unauthorized`", body = ErrorResponse),
        (status = 404, description = "`provider_disabled` or `not_found`", body = ErrorResponse),
        (status = 422, description = "`invalid_redirect`", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse),
    )
)]
pub async fn link(
    state: web::Data<AppState>,
    path: web::Path<String>,
    caller: AuthenticatedUser,
    body: Option<web::Json<LinkBody>>,
    session: AuthSession,
) -> Result<HttpResponse, ApiError> {
    let provider = provider(&path)?;
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    let (authorize, pending) = state
        .oauth
        .start(provider, body.redirect_to.as_deref(), Some(caller.user.id))
        .map_err(start_error)?;
    session
        .insert(PENDING_KEY, &pending)
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(LinkResponse {
        authorize_url: authorize.into(),
    }))
}

/// `GET /api/auth/{provider}/callback?code&state`: checks the flow, signs in through the
/// session (new id) and returns to the frontend — with `?error=<code>` on any failure, leaving
/// no user and no session behind.
#[utoipa::path(
    get, path = "/api/auth/{provider}/callback", tag = "oauth",
    params(
        ("provider" = String, Path, description = "`google` or `github`"),
        ("code" = Option<String>, Query, description = "Authorization code"),
        ("state" = Option<String>, Query, description = "The state sent to the provider"),
        ("error" = Option<String>, Query, description = "The provider's error, e.g. `access_denied`"),
    ),
    responses(
        (status = 302, description = "To the frontend (`redirect_to` or `FRONTEND_URL`), signed in with a new session id; on failure with `?error=` one of `access_denied`, `invalid_state`, `provider_error`, `timeout`, `email_not_verified`, `account_exists`, `unavailable`, `internal`"),
        (status = 404, description = "`not_found` (unknown provider)", body = ErrorResponse),
    )
)]
pub async fn callback(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<CallbackQuery>,
    session: AuthSession,
) -> Result<HttpResponse, ApiError> {
    let provider = provider(&path)?;
    // Taking it makes `state` single-use; an undecodable flow counts as none.
    let pending: Option<PendingLogin> = session.take(PENDING_KEY).unwrap_or(None);
    let target = pending.as_ref().map(|p| p.redirect_to().clone());
    match state
        .oauth
        .finish(provider, query.into_inner(), pending)
        .await
    {
        Ok(signed_in) => {
            session
                .log_in(&signed_in.user.id)
                .map_err(ApiError::internal)?;
            tracing::info!(
                user_id = %signed_in.user.id,
                %provider,
                created = signed_in.created,
                linked = signed_in.linked,
                "signed in with provider"
            );
            Ok(found(signed_in.redirect_to.as_str()))
        }
        Err(err) => {
            match &err {
                OAuthError::Unavailable(_) | OAuthError::Internal(_) => {
                    tracing::error!(%provider, error = %err, "OAuth sign-in failed");
                }
                _ => tracing::info!(%provider, code = err.code(), "OAuth sign-in refused"),
            }
            if matches!(session.current_user(), Ok(None) | Err(_)) {
                session.log_out();
            }
            Ok(found(
                state
                    .oauth
                    .error_redirect(err.code(), target.as_ref())
                    .as_str(),
            ))
        }
    }
}
