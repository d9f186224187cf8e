//! Logging set-up: JSON lines on Lambda (CloudWatch parses them), readable text locally.

use tracing_subscriber::{fmt, EnvFilter};

/// The log filter (tracing's `EnvFilter` syntax).
pub const FILTER_VARIABLE: &str = "RUST_LOG";
/// `json` or `text`, over the detection.
pub const FORMAT_VARIABLE: &str = "LOG_FORMAT";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

impl LogFormat {
    /// JSON when running inside Lambda, text otherwise; `LOG_FORMAT=json|text` overrides.
    pub fn detect() -> Self {
        match std::env::var(FORMAT_VARIABLE).as_deref() {
            Ok("json") => Self::Json,
            Ok("text") => Self::Text,
            _ if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() => Self::Json,
            _ => Self::Text,
        }
    }
}

/// Installs the global subscriber once; `RUST_LOG` filters (default `info`, sqlx notices hidden).
pub fn init(format: LogFormat) {
    init_with_filter(format, "info,sqlx=warn");
}

/// [`init`] with another default filter (used when `RUST_LOG` is unset).
pub fn init_with_filter(format: LogFormat, default: &str) {
    let filter = EnvFilter::try_from_env(FILTER_VARIABLE).unwrap_or_else(|_| EnvFilter::new(default));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .without_time()
            .try_init(),
        LogFormat::Text => builder.with_target(false).try_init(),
    };
    // A second init (tests, or a harness embedding a function) keeps the first subscriber.
    drop(result);
}
