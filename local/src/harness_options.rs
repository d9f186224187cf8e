//! The harness's own settings, from the environment (the functions never read these).

use std::path::PathBuf;

use anyhow::bail;
use shared::Config;

use crate::serve::HarnessOptions;

/// APP_HOST (127.0.0.1), LOCAL_DATA_DIR (local/.data), LOCAL_POSTGRES_PORT (54329),
/// MOCK_RECEIVER_PORT (APP_PORT + 1, or 0 = any free port when APP_PORT is 0).
pub fn from_env(config: &Config) -> anyhow::Result<HarnessOptions> {
    let default_mock_port = if config.app_port == 0 { 0 } else { config.app_port.saturating_add(1) };
    Ok(HarnessOptions {
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
