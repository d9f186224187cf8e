//! `ConfigError`: one line naming the variable and what it expects, never a secret's value.

/// One bad variable: `invalid MESSAGE_BATCH_SIZE="abc": expected an integer from 1 to 10000`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {var}{shown}: expected {expected}")]
pub struct ConfigError {
    pub var: &'static str,
    /// The offending value, quoted; empty for secrets, which are never echoed.
    shown: String,
    pub expected: String,
}

impl ConfigError {
    pub(super) fn new(var: &'static str, value: Option<&str>, expected: impl Into<String>) -> Self {
        let shown = match value {
            Some(v) if !is_secret(var) => format!("={v:?}"),
            _ => String::new(),
        };
        Self { var, shown, expected: expected.into() }
    }

    pub fn missing(var: &'static str, expected: impl Into<String>) -> Self {
        Self { var, shown: " (not set)".into(), expected: expected.into() }
    }
}

fn is_secret(var: &str) -> bool {
    matches!(
        var,
        "DATABASE_URL"
            | "DB_PASSWORD"
            | "REDIS_URL"
            | "WEBHOOK_AUTH_KEY"
            | "WEBHOOK_SIGNING_SECRET"
            | "API_AUTH_TOKEN"
    )
}
