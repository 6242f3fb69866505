//! Email/password sign-up and login (JWT), the current user, and logout.

use actix_session::Session;
use actix_web::{web, HttpResponse};
use altrion_auth::{Authenticated, LoginRequest, SignupRequest};
use altrion_domain::{Provider, User};
use altrion_session::AuthSession;
use serde::Serialize;

use crate::{authenticated::AuthenticatedUser, error::ApiError, state::AppState};

/// A user as the API shows it: never the password hash, token version or counters.
#[derive(Debug, Serialize)]
pub struct UserBody {
    pub id: String,
    pub name: String,
    pub email: String,
    pub provider: Provider,
    pub providers: Vec<Provider>,
    pub avatar_url: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

impl From<&User> for UserBody {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            name: user.name.as_str().to_owned(),
            email: user.email.as_str().to_owned(),
            provider: user.provider,
            providers: user.providers(),
            avatar_url: user.avatar_url.clone(),
            created_at: user.created_at,
        }
    }
}

#[derive(Serialize)]
struct TokenBody {
    token: String,
    token_type: &'static str,
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

#[derive(Serialize)]
struct MeBody {
    user: UserBody,
}

/// `POST /api/auth/signup`
pub async fn signup(
    state: web::Data<AppState>,
    body: web::Json<SignupRequest>,
) -> Result<HttpResponse, ApiError> {
    let signed_up = state.auth.signup(body.into_inner()).await?;
    Ok(HttpResponse::Created().json(TokenBody::from(signed_up)))
}

/// `POST /api/auth/login`
pub async fn login(
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let logged_in = state.auth.login(body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(TokenBody::from(logged_in)))
}

/// `GET /api/auth/me`
pub async fn me(caller: AuthenticatedUser) -> HttpResponse {
    HttpResponse::Ok().json(MeBody {
        user: UserBody::from(&caller.user),
    })
}

/// `POST /api/auth/logout`: purges the session (cookie path); a bare JWT has nothing to end.
pub async fn logout(session: Session) -> HttpResponse {
    AuthSession::new(session).log_out();
    HttpResponse::NoContent().finish()
}

/// `POST /api/auth/logout-all`: every JWT and every session of the caller dies.
pub async fn logout_all(
    state: web::Data<AppState>,
    caller: AuthenticatedUser,
    session: Session,
) -> Result<HttpResponse, ApiError> {
    state.auth.logout_all(&caller.user.id).await?;
    AuthSession::new(session).log_out();
    Ok(HttpResponse::NoContent().finish())
}
