//! Configuration from the environment, loaded and validated once at start-up.
//! Every bad value fails with one line naming the variable and what it expects.

mod database;
mod env;
mod error;
mod services;

use std::collections::HashMap;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use self::database::{database_secret_arn, database_url};
pub use self::database::{redact_url, DatabaseLocation, DatabaseSettings};
pub use self::env::Env;
pub use self::error::ConfigError;
use self::services::{redis_url, schedule_group, webhook_signer, webhook_url};
use crate::domain::CONTENT_HARD_LIMIT;
use crate::retry_policy::RetryPolicy;
use crate::webhook::WebhookSigner;

/// Every setting, grouped by the part of the system it tunes (zero-to-production's
/// `configuration.rs`). The harness's own settings (APP_PORT, SEED_MESSAGE_COUNT, ...) are in
/// `local`'s harness options: the functions never read them.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseSettings,
    /// From REDIS_URL, else REDIS_HOST/REDIS_PORT. `None`: no cache, in-process rate limit.
    pub redis_url: Option<SecretString>,
    pub messages: MessageConfig,
    pub webhook: WebhookConfig,
    pub dispatch: DispatchConfig,
    pub scheduler: SchedulerConfig,
    pub api: ApiConfig,
}

/// What a message may be: the API checks it on create, the dispatcher again on claim.
#[derive(Debug, Clone)]
pub struct MessageConfig {
    /// MESSAGE_CHAR_LIMIT, in characters.
    pub char_limit: usize,
    /// MESSAGE_MAX_ATTEMPTS for new messages.
    pub max_attempts: i32,
}

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: Option<Url>,
    pub auth_key: Option<SecretString>,
    /// WEBHOOK_SIGNING_SECRET, parsed and keyed once: Standard Webhooks signatures when set.
    pub signer: Option<WebhookSigner>,
    pub timeout: Duration,
    pub rate_limit_per_second: u32,
}

/// What a dispatch run reads (with the char limit and the webhook timeout): the dispatcher
/// keeps the whole `Config`, so a setting is defined here once and never copied.
#[derive(Debug, Clone)]
pub struct DispatchConfig {
    pub batch_size: u32,
    pub worker_count: usize,
    pub lease: Duration,
    /// MESSAGE_RETRY_BASE_SECONDS and MESSAGE_RETRY_MAX_SECONDS.
    pub retry: RetryPolicy,
    pub breaker: BreakerConfig,
    /// MESSAGE_RETENTION_DAYS: terminal messages older than this are purged; 0 keeps everything.
    pub retention_days: u32,
}

impl DispatchConfig {
    /// MESSAGE_RETENTION_DAYS as an age; `None` keeps everything.
    pub fn retention(&self) -> Option<Duration> {
        (self.retention_days > 0).then(|| Duration::from_secs(u64::from(self.retention_days) * 86_400))
    }
}

/// RECEIVER_BREAKER_WINDOW, RECEIVER_BREAKER_FAILURE_RATE, RECEIVER_BREAKER_COOLDOWN_SECONDS,
/// RECEIVER_BREAKER_MAX_COOLDOWN_SECONDS.
#[derive(Debug, Clone)]
pub struct BreakerConfig {
    /// The breaker decides on this many most recent endpoint results (1..=62; at least this many
    /// before it may open)...
    pub window: u32,
    /// ...and opens when at least this percentage of them are endpoint failures.
    pub failure_rate: u32,
    /// Time the breaker stays open before one probe; doubles after each failed probe.
    pub cooldown: Duration,
    pub max_cooldown: Duration,
}

#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    pub interval_minutes: u32,
    /// MESSAGE_INTERVAL_SECONDS: a period under a minute, for the harness's local scheduler.
    pub interval_seconds: Option<u32>,
    /// SCHEDULE_NAME and SCHEDULE_GROUP: the EventBridge schedule start/stop drive.
    pub schedule_name: Option<String>,
    pub schedule_group: Option<String>,
    /// The dispatch function `start` invokes once at once (EventBridge backend).
    pub dispatch_function_name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// API_AUTH_TOKEN: the bearer every /api route but health requires, when set.
    pub auth_token: Option<SecretString>,
}

pub const MAX_BATCH_SIZE: u32 = 10_000;

/// Settings that are read only to refuse them, naming what replaced them.
pub const REFUSED: &[&str] = &[BREAKER_FAILURES];
/// The breaker opened on failures in a row before it opened on a failure rate.
const BREAKER_FAILURES: &str = "RECEIVER_BREAKER_FAILURES";

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|var| std::env::var(var).ok())
    }

    /// Same as [`Config::from_env`] over any source, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&lookup);
        let retry_base = Duration::from_secs(env.int("MESSAGE_RETRY_BASE_SECONDS", 30, 1, 86_400)?);
        let retry_max = Duration::from_secs(env.int("MESSAGE_RETRY_MAX_SECONDS", 1800, 1, 604_800)?);
        if retry_max < retry_base {
            return Err(ConfigError::new(
                "MESSAGE_RETRY_MAX_SECONDS",
                Some(&retry_max.as_secs().to_string()),
                "a value no smaller than MESSAGE_RETRY_BASE_SECONDS",
            ));
        }
        let webhook_timeout = Duration::from_secs(env.int("WEBHOOK_TIMEOUT_SECONDS", 10, 1, 900)?);
        let lease = lease(&env, webhook_timeout)?;
        let breaker_cooldown =
            Duration::from_secs(env.int("RECEIVER_BREAKER_COOLDOWN_SECONDS", 30, 1, 86_400)?);
        let breaker_max_cooldown =
            Duration::from_secs(env.int("RECEIVER_BREAKER_MAX_COOLDOWN_SECONDS", 600, 1, 604_800)?);
        if let Some(old) = env.text(BREAKER_FAILURES) {
            return Err(ConfigError::new(
                BREAKER_FAILURES,
                Some(&old),
                "it unset: the breaker opens on a failure rate now; set RECEIVER_BREAKER_WINDOW \
                 and RECEIVER_BREAKER_FAILURE_RATE instead (docs/design.md, \"Receiver breaker\")",
            ));
        }
        if breaker_max_cooldown < breaker_cooldown {
            return Err(ConfigError::new(
                "RECEIVER_BREAKER_MAX_COOLDOWN_SECONDS",
                Some(&breaker_max_cooldown.as_secs().to_string()),
                "a value no smaller than RECEIVER_BREAKER_COOLDOWN_SECONDS",
            ));
        }
        Ok(Self {
            database: DatabaseSettings {
                url: database_url(&env)?,
                secret_arn: database_secret_arn(&env)?,
                location: DatabaseLocation {
                    host: env.text("DB_HOST"),
                    port: env.int("DB_PORT", 5432, 1, 65_535)?,
                    name: env.text("DB_NAME").unwrap_or_else(|| "postgres".into()),
                },
                statement_cache_capacity: env.int(
                    "DATABASE_STATEMENT_CACHE_CAPACITY",
                    database::DEFAULT_STATEMENT_CACHE,
                    0,
                    10_000,
                )?,
            },
            redis_url: redis_url(&env)?,
            messages: MessageConfig {
                char_limit: env.int("MESSAGE_CHAR_LIMIT", 160, 1, CONTENT_HARD_LIMIT)?,
                max_attempts: env.int("MESSAGE_MAX_ATTEMPTS", 3, 1, 100)?,
            },
            webhook: WebhookConfig {
                url: webhook_url(&env)?,
                auth_key: env.secret("WEBHOOK_AUTH_KEY"),
                signer: webhook_signer(&env)?,
                timeout: webhook_timeout,
                rate_limit_per_second: env.int("WEBHOOK_RATE_LIMIT_PER_SECOND", 10, 1, 1_000_000)?,
            },
            dispatch: DispatchConfig {
                batch_size: env.int("MESSAGE_BATCH_SIZE", 2, 1, MAX_BATCH_SIZE)?,
                worker_count: env.int("MESSAGE_WORKER_COUNT", 5, 1, 1000)?,
                lease,
                retry: RetryPolicy { base: retry_base, max: retry_max },
                breaker: BreakerConfig {
                    window: env.int("RECEIVER_BREAKER_WINDOW", 20, 1, 62)?,
                    failure_rate: env.int("RECEIVER_BREAKER_FAILURE_RATE", 95, 1, 100)?,
                    cooldown: breaker_cooldown,
                    max_cooldown: breaker_max_cooldown,
                },
                retention_days: env.int("MESSAGE_RETENTION_DAYS", 0, 0, 36_500)?,
            },
            scheduler: SchedulerConfig {
                interval_minutes: env.int("MESSAGE_INTERVAL_MINUTES", 2, 1, 1440)?,
                interval_seconds: env.optional_int("MESSAGE_INTERVAL_SECONDS", 1, 86_400)?,
                schedule_name: env.text("SCHEDULE_NAME"),
                schedule_group: schedule_group(&env)?,
                dispatch_function_name: env.text("DISPATCH_FUNCTION_NAME"),
            },
            api: ApiConfig { auth_token: env.secret("API_AUTH_TOKEN") },
        })
    }

    /// Settings from a list of pairs, for tests and tools.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Result<Self, ConfigError> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Self::from_lookup(|var| map.get(var).cloned())
    }

    pub fn require_webhook_url(&self) -> Result<&Url, ConfigError> {
        self.webhook
            .url
            .as_ref()
            .ok_or_else(|| ConfigError::missing("WEBHOOK_URL", "an http:// or https:// URL"))
    }
}

impl SchedulerConfig {
    /// The period between dispatch runs: MESSAGE_INTERVAL_SECONDS (local only) or the minutes.
    pub fn interval(&self) -> Duration {
        match self.interval_seconds {
            Some(seconds) => Duration::from_secs(seconds.into()),
            None => Duration::from_secs(u64::from(self.interval_minutes) * 60),
        }
    }
}

/// MESSAGE_LEASE_SECONDS, which must leave room for one webhook request and its record: a
/// shorter lease would make every run claim its batch and hand it straight back, forever.
fn lease(env: &Env, webhook_timeout: Duration) -> Result<Duration, ConfigError> {
    let lease = Duration::from_secs(env.int("MESSAGE_LEASE_SECONDS", 60, 1, 86_400)?);
    if lease <= crate::deadline::room_for_one_send(webhook_timeout) {
        let least = webhook_timeout.as_secs() + 1;
        return Err(ConfigError::new(
            "MESSAGE_LEASE_SECONDS",
            Some(&lease.as_secs().to_string()),
            format!(
                "at least {least}: a claim must outlast one webhook request \
                 (WEBHOOK_TIMEOUT_SECONDS={}) plus the time to record it",
                webhook_timeout.as_secs()
            ),
        ));
    }
    Ok(lease)
}

#[cfg(test)]
mod tests;
