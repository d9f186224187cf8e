//! Redis, the webhook and the EventBridge schedule: where they are and how to reach them.

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::env::{check_scheme, Env};
use super::ConfigError;
use crate::webhook::WebhookSigner;

pub(super) fn schedule_group(env: &Env) -> Result<Option<String>, ConfigError> {
    let group = env.text("SCHEDULE_GROUP");
    if group.is_some() && env.text("SCHEDULE_NAME").is_none() {
        return Err(ConfigError::new("SCHEDULE_GROUP", group.as_deref(), "SCHEDULE_NAME to be set as well"));
    }
    Ok(group)
}

pub(super) fn redis_url(env: &Env) -> Result<Option<SecretString>, ConfigError> {
    if let Some(url) = env.text("REDIS_URL") {
        check_scheme("REDIS_URL", &url, &["redis", "rediss"])?;
        return Ok(Some(url.into()));
    }
    let Some(host) = env.text("REDIS_HOST") else {
        return Ok(None);
    };
    let port: u16 = env.int("REDIS_PORT", 6379, 1, 65_535)?;
    Ok(Some(format!("redis://{host}:{port}").into()))
}

pub(super) fn webhook_url(env: &Env) -> Result<Option<Url>, ConfigError> {
    let Some(raw) = env.text("WEBHOOK_URL") else {
        return Ok(None);
    };
    check_scheme("WEBHOOK_URL", &raw, &["http", "https"]).map(Some)
}

/// WEBHOOK_SIGNING_SECRET: a bad secret stops start-up, naming its position, never its value.
pub(super) fn webhook_signer(env: &Env) -> Result<Option<WebhookSigner>, ConfigError> {
    let Some(secrets) = env.secret("WEBHOOK_SIGNING_SECRET") else {
        return Ok(None);
    };
    WebhookSigner::parse(secrets.expose_secret()).map(Some).map_err(|problem| {
        ConfigError::new(
            "WEBHOOK_SIGNING_SECRET",
            None,
            format!("space-separated whsec_<base64> secrets of 24 to 64 bytes; {problem}"),
        )
    })
}
