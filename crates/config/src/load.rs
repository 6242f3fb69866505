use std::{collections::HashMap, io::Write as _, path::Path};

use config::{Config, File, FileFormat};

use super::{DatabaseSettings, Environment, Settings, SettingsError};

const DEFAULTS: &str = include_str!("defaults.toml");

/// Conventional environment variable names and the setting each one sets. Every other setting
/// is reachable as `APP__SECTION__KEY` (e.g. `APP__JWT__TTL_SECS`), which wins over these.
pub const ENV_ALIASES: &[(&str, &str)] = &[
    ("PORT", "server.port"),
    ("PUBLIC_URL", "server.public_url"),
    ("FRONTEND_URL", "server.frontend_url"),
    ("METRICS_ADDR", "server.metrics_addr"),
    ("MONGODB_URI", "database.uri"),
    ("MONGODB_DB", "database.name"),
    ("MONGODB_EMBEDDED_PORT", "database.embedded_port"),
    ("JWT_SECRET", "jwt.secret"),
    ("SESSION_SECRET", "session.secret"),
    ("GOOGLE_CLIENT_ID", "oauth.google.client_id"),
    ("GOOGLE_CLIENT_SECRET", "oauth.google.client_secret"),
    ("GOOGLE_AUTH_URL", "oauth.google.auth_url"),
    ("GOOGLE_TOKEN_URL", "oauth.google.token_url"),
    ("GOOGLE_USERINFO_URL", "oauth.google.userinfo_url"),
    ("GITHUB_CLIENT_ID", "oauth.github.client_id"),
    ("GITHUB_CLIENT_SECRET", "oauth.github.client_secret"),
    ("GITHUB_AUTH_URL", "oauth.github.auth_url"),
    ("GITHUB_TOKEN_URL", "oauth.github.token_url"),
    ("GITHUB_API_URL", "oauth.github.api_url"),
    ("SMTP_URL", "mail.smtp_url"),
    ("MAIL_FROM", "mail.from"),
];

/// The variable that sets `key`: its conventional name, else `APP__SECTION__KEY`.
pub(super) fn variable_for(key: &str) -> String {
    ENV_ALIASES
        .iter()
        .find(|(_, k)| *k == key)
        .map(|(var, _)| (*var).to_owned())
        .unwrap_or_else(|| app_variable(key))
}

/// The `APP__SECTION__KEY` form of `key`, which every setting accepts.
fn app_variable(key: &str) -> String {
    format!("APP__{}", key.replace('.', "__").to_uppercase())
}

/// Loads and validates the settings from `./.env`, the process environment and `./config/`.
///
/// # Errors
/// A [`SettingsError`] naming the setting that is missing, malformed or unsafe.
pub fn load() -> Result<Settings, SettingsError> {
    let mut vars = environment()?;
    let development = matches!(
        vars.get("APP_ENV").map(String::as_str),
        None | Some("" | "development")
    );
    let unset = |var: &str, key: &str| {
        [var.to_owned(), app_variable(key)]
            .iter()
            .all(|name| vars.get(name).is_none_or(|v| v.is_empty()))
    };
    let missing_jwt = unset("JWT_SECRET", "jwt.secret");
    let missing_session = unset("SESSION_SECRET", "session.secret");
    if development && (missing_jwt || missing_session) {
        let generated = dev_secrets(Path::new("var"))?;
        if missing_jwt {
            vars.insert("JWT_SECRET".to_owned(), generated.jwt);
        }
        if missing_session {
            vars.insert("SESSION_SECRET".to_owned(), generated.session);
        }
    }
    load_from(&vars, Path::new("config"))
}

/// `./.env` overlaid with the process environment (which wins).
fn environment() -> Result<HashMap<String, String>, SettingsError> {
    let mut vars = HashMap::new();
    match dotenvy::from_path_iter(".env") {
        Ok(entries) => {
            for entry in entries {
                let (key, value) = entry?;
                vars.insert(key, value);
            }
        }
        Err(err) if err.not_found() => {}
        Err(err) => return Err(err.into()),
    }
    vars.extend(std::env::vars());
    Ok(vars)
}

/// The settings as [`load`] reads them, validating only the database part: what a tool that
/// talks to the database alone (the `altrion` CLI) needs. No secret is required or generated.
///
/// # Errors
/// A [`SettingsError`] naming a database setting that is missing, malformed or unsafe.
pub fn load_database() -> Result<DatabaseSettings, SettingsError> {
    let settings = build(&environment()?, Path::new("config"))?;
    let problems = settings.database_problems();
    if problems.is_empty() {
        Ok(settings.database)
    } else {
        Err(SettingsError::Invalid(problems))
    }
}

/// The development profile's own secrets, generated on first use.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct DevSecrets {
    pub jwt: String,
    pub session: String,
}

/// Reads `dir/dev-secrets.json`, or creates it (mode 0600, in a directory created if missing)
/// with two fresh 64-character secrets from the OS's CSPRNG. There is no secret in the
/// repository: every development checkout has its own, and they survive restarts, so
/// sessions do too.
///
/// # Errors
/// [`SettingsError::DevSecrets`] when the file cannot be read, parsed or written.
pub fn dev_secrets(dir: &Path) -> Result<DevSecrets, SettingsError> {
    let path = dir.join("dev-secrets.json");
    let fail = |err: &dyn std::fmt::Display| {
        SettingsError::DevSecrets(format!("{}: {err}", path.display()))
    };
    match std::fs::read(&path) {
        Ok(bytes) => return serde_json::from_slice(&bytes).map_err(|e| fail(&e)),
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(fail(&err)),
        Err(_) => {}
    }
    let secrets = DevSecrets {
        jwt: random_secret(),
        session: random_secret(),
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(|e| fail(&e))?;
    let json = serde_json::to_vec_pretty(&secrets).map_err(|e| fail(&e))?;
    file.write_all(&json).map_err(|e| fail(&e))?;
    tracing::info!(file = %path.display(), "generated development secrets");
    Ok(secrets)
}

fn random_secret() -> String {
    use rand::{distr::Alphanumeric, Rng as _};
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(64)
        .map(char::from)
        .collect()
}

/// Loads and validates the settings from `vars` (instead of the process environment) and the
/// optional files `config_dir/default.toml` and `config_dir/<APP_ENV>.toml`.
///
/// # Errors
/// A [`SettingsError`] naming the setting that is missing, malformed or unsafe.
pub fn load_from(
    vars: &HashMap<String, String>,
    config_dir: &Path,
) -> Result<Settings, SettingsError> {
    let settings = build(vars, config_dir)?;
    settings.validate()?;
    Ok(settings)
}

/// The layered settings, unvalidated.
fn build(vars: &HashMap<String, String>, config_dir: &Path) -> Result<Settings, SettingsError> {
    let env = match vars.get("APP_ENV").map(String::as_str) {
        None | Some("" | "development") => Environment::Development,
        Some("test") => Environment::Test,
        Some("production") => Environment::Production,
        Some(other) => return Err(SettingsError::UnknownEnvironment(other.to_owned())),
    };
    let profile = match env {
        Environment::Development => include_str!("development.toml"),
        Environment::Test => include_str!("test.toml"),
        Environment::Production => include_str!("production.toml"),
    };

    // Conventional names become `APP__…` entries; explicit `APP__…` variables win.
    let mut app_vars: HashMap<String, String> = ENV_ALIASES
        .iter()
        .filter_map(|(var, key)| vars.get(*var).map(|v| (app_variable(key), v.clone())))
        .collect();
    app_vars.extend(
        vars.iter()
            .filter(|(k, _)| k.starts_with("APP__"))
            .map(|(k, v)| (k.clone(), v.clone())),
    );

    let settings: Settings = Config::builder()
        .add_source(File::from_str(DEFAULTS, FileFormat::Toml))
        .add_source(File::from_str(profile, FileFormat::Toml))
        .add_source(
            File::from(config_dir.join("default.toml"))
                .format(FileFormat::Toml)
                .required(false),
        )
        .add_source(
            File::from(config_dir.join(format!("{}.toml", env.as_str())))
                .format(FileFormat::Toml)
                .required(false),
        )
        .add_source(
            config::Environment::with_prefix("APP")
                .prefix_separator("__")
                .separator("__")
                .source(Some(app_vars)),
        )
        .set_override("env", env.as_str())?
        .build()?
        .try_deserialize()?;
    Ok(settings)
}
