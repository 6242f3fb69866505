//! What `database.uri` names, read in one place.

use std::path::PathBuf;

use secrecy::{ExposeSecret as _, SecretString};

use super::{validate::named, DatabaseSettings, SettingsError};

/// The database `MONGODB_URI` names.
#[derive(Debug, Clone)]
pub enum DatabaseUri {
    /// `mongodb://…` or `mongodb+srv://…`: a MongoDB deployment (the whole connection string).
    Mongo(SecretString),
    /// `embedded:<dir>`: the in-process embedded server, persisted in `<dir>`; `embedded:` keeps
    /// it in memory (`None`).
    Embedded(Option<PathBuf>),
    /// `memory:`: in-memory fakes, no database at all.
    Memory,
}

impl DatabaseSettings {
    /// What `uri` names.
    ///
    /// # Errors
    /// [`SettingsError::Invalid`] when `uri` is empty or has no known scheme.
    pub fn target(&self) -> Result<DatabaseUri, SettingsError> {
        self.parse_uri()
            .map_err(|problem| SettingsError::Invalid(vec![problem]))
    }

    /// What `uri` names, or the problem naming the setting.
    pub(super) fn parse_uri(&self) -> Result<DatabaseUri, String> {
        let uri = self.uri.expose_secret();
        if uri.trim().is_empty() {
            Err(format!("{} is not set", named("database.uri")))
        } else if uri.starts_with("mongodb://") || uri.starts_with("mongodb+srv://") {
            Ok(DatabaseUri::Mongo(self.uri.clone()))
        } else if let Some(dir) = uri.strip_prefix("embedded:") {
            Ok(DatabaseUri::Embedded(
                (!dir.is_empty()).then(|| PathBuf::from(dir)),
            ))
        } else if uri.starts_with("memory:") {
            Ok(DatabaseUri::Memory)
        } else {
            Err(format!(
                "{} must start with mongodb://, mongodb+srv://, embedded: or memory:",
                named("database.uri")
            ))
        }
    }
}
