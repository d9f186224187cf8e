//! The harness's own settings, from the environment (the functions never read these).

use std::path::PathBuf;

use anyhow::bail;
use dispatcher_core::config::{ConfigError, Env};

use crate::serve::HarnessOptions;

/// APP_PORT (8080), APP_HOST (127.0.0.1), LOCAL_DATA_DIR (local/.data), LOCAL_POSTGRES_PORT
/// (54329), MOCK_RECEIVER_PORT (APP_PORT + 1, or 0 = any free port when APP_PORT is 0).
pub fn from_env() -> anyhow::Result<HarnessOptions> {
    let app_port = app_port(&process_env)?;
    let default_mock_port = if app_port == 0 { 0 } else { app_port.saturating_add(1) };
    Ok(HarnessOptions {
        app_port,
        host: std::env::var("APP_HOST")
            .ok()
            .filter(|h| !h.trim().is_empty())
            .unwrap_or_else(|| "127.0.0.1".into()),
        data_dir: std::env::var_os("LOCAL_DATA_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".data")),
        postgres_port: port("LOCAL_POSTGRES_PORT", 54329)?,
        mock_receiver_port: port("MOCK_RECEIVER_PORT", default_mock_port)?,
    })
}

fn port(var: &str, default: u16) -> anyhow::Result<u16> {
    match std::env::var(var) {
        Ok(raw) if !raw.trim().is_empty() => match raw.trim().parse::<u16>() {
            Ok(port) => Ok(port),
            Err(_) => bail!("invalid {var}={raw:?}: expected a port from 0 to 65535"),
        },
        _ => Ok(default),
    }
}

/// The process's environment, as `Env` reads it.
fn process_env(var: &str) -> Option<String> {
    std::env::var(var).ok()
}

/// APP_PORT: where the harness serves the API.
fn app_port(lookup: &dyn Fn(&str) -> Option<String>) -> Result<u16, ConfigError> {
    Env(lookup).int("APP_PORT", 8080, 0, 65_535)
}

/// SEED_MESSAGE_COUNT: how many messages `local seed` inserts when not told.
pub fn seed_message_count() -> Result<u32, ConfigError> {
    Env(&process_env).int("SEED_MESSAGE_COUNT", 100, 0, 10_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_port_defaults_to_8080_and_a_bad_one_is_one_line() {
        assert_eq!(app_port(&|_| None).unwrap(), 8080);
        let err = app_port(&|var| (var == "APP_PORT").then(|| "-1".to_owned())).unwrap_err();
        assert_eq!(err.to_string(), "invalid APP_PORT=\"-1\": expected an integer from 0 to 65535");
    }
}
