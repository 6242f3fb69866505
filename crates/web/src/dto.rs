//! The JSON bodies of sign-up, login and the current user, as Altrion's API sends and reads
//! them (the OpenAPI schemas are derived from these types).

use altrion_auth::{LoginRequest, SignupRequest};
use altrion_domain::{Provider, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
pub struct TokenBody {
    pub token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    #[schema(example = 86400)]
    pub expires_in: u64,
    pub user: UserBody,
}

impl From<altrion_auth::Authenticated> for TokenBody {
    fn from(auth: altrion_auth::Authenticated) -> Self {
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
pub struct MeBody {
    pub user: UserBody,
}

impl MeBody {
    pub fn of(user: &User) -> Self {
        Self {
            user: UserBody::from(user),
        }
    }
}

/// Sign-up input.
#[derive(Deserialize, ToSchema)]
pub struct SignupBody {
    /// 1..=100 characters after trimming; no control or invisible format characters.
    #[schema(example = "Ada Lovelace", min_length = 1, max_length = 100)]
    pub name: String,
    /// Trimmed and lower-cased; at most 254 characters.
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    pub email: String,
    /// 8..=128 characters, any Unicode, not the email, not easily guessed (zxcvbn ≥ 2).
    #[schema(example = "correct horse battery", min_length = 8, max_length = 128)]
    pub password: String,
}

/// Login input.
#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    #[schema(example = "ada@example.com", format = Email)]
    pub email: String,
    /// Longer than 1,024 bytes is refused without hashing.
    #[schema(example = "correct horse battery", max_length = 1024)]
    pub password: String,
}

impl From<SignupBody> for SignupRequest {
    fn from(body: SignupBody) -> Self {
        let SignupBody {
            name,
            email,
            password,
        } = body;
        Self {
            name,
            email,
            password,
        }
    }
}

impl From<LoginBody> for LoginRequest {
    fn from(body: LoginBody) -> Self {
        let LoginBody { email, password } = body;
        Self { email, password }
    }
}
