//! Typed reads of the environment (or any lookup), shared by every section.

use secrecy::SecretString;
use url::Url;

use super::ConfigError;

/// Typed reads over the lookup; empty values count as unset. Public so that the harness reads
/// its own settings with the same rules and the same one-line errors.
pub struct Env<'a>(pub &'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    pub fn text(&self, var: &str) -> Option<String> {
        (self.0)(var).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    pub fn secret(&self, var: &str) -> Option<SecretString> {
        self.text(var).map(SecretString::from)
    }

    pub fn optional_int<T>(&self, var: &'static str, min: T, max: T) -> Result<Option<T>, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let Some(raw) = self.text(var) else {
            return Ok(None);
        };
        match raw.parse::<T>() {
            Ok(value) if value >= min && value <= max => Ok(Some(value)),
            _ => Err(ConfigError::new(var, Some(&raw), format!("an integer from {min} to {max}"))),
        }
    }

    pub fn int<T>(&self, var: &'static str, default: T, min: T, max: T) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        Ok(self.optional_int(var, min, max)?.unwrap_or(default))
    }
}

pub(super) fn check_scheme(var: &'static str, raw: &str, schemes: &[&str]) -> Result<Url, ConfigError> {
    let expected = || format!("a URL starting with {}", schemes.join("://, ") + "://");
    match Url::parse(raw) {
        Ok(url) if schemes.contains(&url.scheme()) && url.has_host() => Ok(url),
        _ => Err(ConfigError::new(var, Some(raw), expected())),
    }
}
