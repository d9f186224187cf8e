//! A function whose set-up fails (configuration missing or bad, database unreachable) says
//! why in one readable line (a JSON log record on Lambda, `error: ...` elsewhere, as the
//! harness prints it) and reports the same reason to the Runtime API's init error endpoint,
//! so the Lambda console shows it; then it exits 1. Rust's debug form never reaches the log.

use std::future::Future;
use std::time::Duration;

use serde::Serialize;

use crate::telemetry::LogFormat;
use crate::ConfigError;

/// The body of `POST /2018-06-01/runtime/init/error`.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct InitError {
    #[serde(rename = "errorType")]
    pub error_type: &'static str,
    #[serde(rename = "errorMessage")]
    pub error_message: String,
}

impl InitError {
    pub fn of(err: &anyhow::Error) -> Self {
        let error_type =
            if err.downcast_ref::<ConfigError>().is_some() { "InvalidConfiguration" } else { "InitError" };
        Self { error_type, error_message: format!("{err:#}") }
    }
}

/// Runs a function's set-up; on failure, reports it as above and exits.
pub async fn or_exit<T>(setup: impl Future<Output = anyhow::Result<T>>) -> T {
    match setup.await {
        Ok(ready) => ready,
        Err(err) => {
            let error = InitError::of(&err);
            match LogFormat::detect() {
                LogFormat::Json => tracing::error!(error_type = error.error_type, "{}", error.error_message),
                LogFormat::Text => eprintln!("error: {}", error.error_message),
            }
            if let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") {
                report(&api, &error).await;
            }
            std::process::exit(1)
        }
    }
}

/// Tells the Runtime API; a failure to do so is logged, and the exit goes on.
async fn report(api: &str, error: &InitError) {
    let url = format!("http://{api}/2018-06-01/runtime/init/error");
    let sent = reqwest::Client::new()
        .post(url)
        .header("Lambda-Runtime-Function-Error-Type", error.error_type)
        .timeout(Duration::from_secs(2))
        .json(error)
        .send()
        .await;
    if let Err(err) = sent {
        tracing::warn!(error = %err.without_url(), "could not report the init error to the Runtime API");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configuration_error_is_typed_and_reads_as_one_line() {
        let config_error: anyhow::Error = crate::config::DatabaseSettings::missing_url().into();
        let error = InitError::of(&config_error);
        assert_eq!(error.error_type, "InvalidConfiguration");
        assert!(error.error_message.starts_with("invalid DATABASE_URL (not set): expected"), "{error:?}");
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["errorType"], "InvalidConfiguration");
        let other = InitError::of(&anyhow::anyhow!("refused").context("cannot connect to PostgreSQL"));
        assert_eq!(
            other,
            InitError {
                error_type: "InitError",
                error_message: "cannot connect to PostgreSQL: refused".into()
            }
        );
    }
}
