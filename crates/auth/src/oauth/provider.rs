//! The providers one can sign in with — the domain's [`Provider`] without `local`.

use std::{fmt, str::FromStr};

use altrion_domain::Provider;
use serde::{Deserialize, Serialize};

/// A provider of the OAuth flow. Converting into [`Provider`] is total; the other way,
/// `local` has no OAuth flow, so no match on it has an impossible arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OAuthProvider {
    Google,
    Github,
}

impl OAuthProvider {
    /// Both providers.
    pub const ALL: [Self; 2] = [Self::Google, Self::Github];

    /// The lower-case name used in URLs, storage and JSON (as [`Provider::as_str`]).
    pub fn as_str(self) -> &'static str {
        Provider::from(self).as_str()
    }
}

impl From<OAuthProvider> for Provider {
    fn from(provider: OAuthProvider) -> Self {
        match provider {
            OAuthProvider::Google => Self::Google,
            OAuthProvider::Github => Self::Github,
        }
    }
}

impl TryFrom<Provider> for OAuthProvider {
    type Error = Provider;

    /// `Err` gives back `local`, which has no OAuth flow.
    fn try_from(provider: Provider) -> Result<Self, Provider> {
        match provider {
            Provider::Google => Ok(Self::Google),
            Provider::Github => Ok(Self::Github),
            Provider::Local => Err(provider),
        }
    }
}

impl FromStr for OAuthProvider {
    type Err = String;

    /// `google` or `github`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<Provider>()? {
            Provider::Local => Err("local is not an OAuth provider".to_owned()),
            other => Self::try_from(other).map_err(|p| format!("{p} is not an OAuth provider")),
        }
    }
}

impl fmt::Display for OAuthProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_round_trip_and_local_is_refused() {
        for provider in OAuthProvider::ALL {
            assert_eq!(provider.as_str().parse::<OAuthProvider>(), Ok(provider));
            assert_eq!(
                OAuthProvider::try_from(Provider::from(provider)),
                Ok(provider)
            );
            assert_eq!(
                serde_json::to_string(&provider).unwrap(),
                serde_json::to_string(&Provider::from(provider)).unwrap(),
                "a pending flow's cookie keeps its format"
            );
        }
        assert!("local".parse::<OAuthProvider>().is_err());
        assert!("facebook".parse::<OAuthProvider>().is_err());
        assert_eq!(
            OAuthProvider::try_from(Provider::Local),
            Err(Provider::Local)
        );
    }
}
