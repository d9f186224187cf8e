//! The harness's own settings, from the environment (the functions never read these), with the
//! same rules and one-line errors as the rest of the configuration.

use std::path::PathBuf;

use dispatcher_core::config::{ConfigError, Env};

/// Harness-only settings (not part of the functions' configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarnessOptions {
    /// APP_PORT: where the API is served (0: any free port).
    pub app_port: u16,
    /// APP_HOST: the address the API and the mock receiver listen on.
    pub host: String,
    /// LOCAL_DATA_DIR: where the private PostgreSQL keeps its data.
    pub data_dir: PathBuf,
    /// LOCAL_POSTGRES_PORT: the private PostgreSQL's port.
    pub postgres_port: u16,
    /// MOCK_RECEIVER_PORT: the built-in receiver's port when WEBHOOK_URL is unset.
    pub mock_receiver_port: u16,
    /// SEED_MESSAGE_COUNT: how many messages `local seed` inserts when not told.
    pub seed_message_count: u32,
}

impl HarnessOptions {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|var| std::env::var(var).ok())
    }

    /// APP_PORT (8080), APP_HOST (127.0.0.1), LOCAL_DATA_DIR (local/.data), LOCAL_POSTGRES_PORT
    /// (54329), MOCK_RECEIVER_PORT (APP_PORT + 1, or 0 = any free port when APP_PORT is 0),
    /// SEED_MESSAGE_COUNT (100).
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(lookup);
        let app_port: u16 = env.int("APP_PORT", 8080, 0, 65_535)?;
        let default_mock_port = if app_port == 0 { 0 } else { app_port.saturating_add(1) };
        Ok(Self {
            app_port,
            host: env.text("APP_HOST").unwrap_or_else(|| "127.0.0.1".into()),
            data_dir: env
                .text("LOCAL_DATA_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".data")),
            postgres_port: env.int("LOCAL_POSTGRES_PORT", 54329, 0, 65_535)?,
            mock_receiver_port: env.int("MOCK_RECEIVER_PORT", default_mock_port, 0, 65_535)?,
            seed_message_count: env.int("SEED_MESSAGE_COUNT", 100, 0, 10_000_000)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> Result<HarnessOptions, ConfigError> {
        HarnessOptions::from_lookup(&|var| {
            pairs.iter().find(|(name, _)| *name == var).map(|(_, value)| value.to_string())
        })
    }

    #[test]
    fn defaults_serve_on_8080_with_the_mock_receiver_next_to_it() {
        let options = options(&[]).unwrap();
        assert_eq!((options.app_port, options.mock_receiver_port), (8080, 8081));
        assert_eq!((options.host.as_str(), options.postgres_port), ("127.0.0.1", 54329));
        assert!(options.data_dir.ends_with("local/.data"), "{:?}", options.data_dir);
        assert_eq!(options.seed_message_count, 100);
        assert_eq!(self::options(&[("APP_PORT", "0")]).unwrap().mock_receiver_port, 0, "any free port");
    }

    #[test]
    fn every_port_is_read_with_the_same_one_line_error() {
        for var in ["APP_PORT", "LOCAL_POSTGRES_PORT", "MOCK_RECEIVER_PORT"] {
            let err = options(&[(var, "70000")]).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("invalid {var}=\"70000\": expected an integer from 0 to 65535")
            );
        }
        assert_eq!(options(&[("APP_HOST", "  ")]).unwrap().host, "127.0.0.1", "blank means unset");
    }
}
