//! One dispatch run: claim a batch, send each message, record each outcome.
//! The dispatch Lambda, the local harness and the tests all drive [`Dispatcher::run_once`].

mod breaker;
mod expiry;
mod receipts;
mod records;
mod retention;
mod run;
mod tally;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;

use crate::rate_limit::{self, RateLimiter};
use crate::redis_connection::RedisConnection;
use crate::repository::claim_cursor::ClaimCursor;
use crate::retry_policy::RetryPolicy;
use crate::sent_cache::SentCache;
use crate::webhook::WebhookClient;
use crate::Config;

pub use crate::repository::RunSummary;
pub use breaker::BreakerSettings;

/// What a run needs to know from the configuration.
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    pub batch_size: u32,
    pub worker_count: usize,
    pub lease: Duration,
    pub char_limit: usize,
    pub webhook_timeout: Duration,
    pub retry: RetryPolicy,
    pub breaker: BreakerSettings,
    /// MESSAGE_RETENTION_DAYS as an age; `None` keeps everything.
    pub retention: Option<Duration>,
    /// Log each request in `message_attempts`. Always on but in the benchmark, which turns it
    /// off to measure what the log costs.
    pub attempt_log: bool,
}

impl DispatchSettings {
    pub fn from_config(config: &Config) -> Self {
        Self {
            batch_size: config.dispatch.batch_size,
            worker_count: config.dispatch.worker_count,
            lease: config.dispatch.lease,
            char_limit: config.messages.char_limit,
            webhook_timeout: config.webhook.timeout,
            retry: RetryPolicy { base: config.dispatch.retry_base, max: config.dispatch.retry_max },
            breaker: BreakerSettings {
                window: config.dispatch.breaker_window,
                failure_rate: config.dispatch.breaker_failure_rate,
                cooldown: config.dispatch.breaker_cooldown,
                max_cooldown: config.dispatch.breaker_max_cooldown,
            },
            retention: (config.dispatch.retention_days > 0)
                .then(|| Duration::from_secs(u64::from(config.dispatch.retention_days) * 86_400)),
            attempt_log: true,
        }
    }
}

/// Bounds on one run.
#[derive(Debug, Clone, Copy)]
pub struct RunLimits {
    /// Overrides MESSAGE_BATCH_SIZE for this run.
    pub batch_size: Option<u32>,
    /// Time the run may take (the Lambda deadline, or the harness's period).
    pub budget: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("database unavailable during dispatch: {0}")]
    Database(#[from] sqlx::Error),
    /// Claiming would only hand the batch straight back: nothing claimed.
    #[error(
        "the run's time ({:.1} s) cannot fit one webhook request (WEBHOOK_TIMEOUT_SECONDS={}) plus {} ms to record it; nothing was claimed",
        budget.as_secs_f64(),
        webhook_timeout.as_secs(),
        crate::deadline::RECORD_MARGIN.as_millis()
    )]
    BudgetTooShort { budget: Duration, webhook_timeout: Duration },
}

/// Everything a run uses, built once per process and shared by every run.
#[derive(Clone)]
pub struct Dispatcher {
    pool: PgPool,
    webhook: WebhookClient,
    limiter: Arc<RateLimiter>,
    cache: SentCache,
    settings: DispatchSettings,
    /// When this process last asked for the retention turn.
    purge_asked: Arc<std::sync::Mutex<Option<tokio::time::Instant>>>,
    /// Where this process's claims start, shared by its runs.
    cursor: Arc<ClaimCursor>,
}

impl Dispatcher {
    pub fn new(
        pool: PgPool,
        webhook: WebhookClient,
        limiter: Arc<RateLimiter>,
        cache: SentCache,
        settings: DispatchSettings,
    ) -> Self {
        Self { pool, webhook, limiter, cache, settings, purge_asked: Arc::default(), cursor: Arc::default() }
    }

    /// Builds the webhook client, the Redis connection (lazy) and the rate limiter from `config`.
    pub fn from_config(config: &Config, pool: PgPool) -> anyhow::Result<Self> {
        let redis = config.redis_url.as_ref().map(RedisConnection::lazy).transpose()?;
        Self::with_redis(config, pool, redis)
    }

    /// [`Dispatcher::from_config`] over a Redis connection the caller also uses elsewhere (the
    /// harness shares one with its API), so there is one connection and one outage log.
    pub fn with_redis(config: &Config, pool: PgPool, redis: Option<RedisConnection>) -> anyhow::Result<Self> {
        let url = config.require_webhook_url()?.clone();
        let webhook = WebhookClient::new(
            url,
            config.webhook.auth_key.as_ref(),
            config.webhook.signer.clone(),
            config.webhook.timeout,
            config.dispatch.worker_count,
        )
        .context("building the webhook client")?;
        if redis.is_none() {
            tracing::warn!(
                "REDIS_URL is not set: no sent-message cache, and the rate limit holds per process only"
            );
        }
        let per_second = NonZeroU32::new(config.webhook.rate_limit_per_second).unwrap_or(NonZeroU32::MIN);
        let limiter = RateLimiter::new(per_second, redis.clone(), rate_limit::DEFAULT_KEY);
        Ok(Self::new(
            pool,
            webhook,
            Arc::new(limiter),
            SentCache::new(redis),
            DispatchSettings::from_config(config),
        ))
    }

    pub fn settings(&self) -> &DispatchSettings {
        &self.settings
    }

    /// This dispatcher with other settings (its clients kept).
    pub fn with_settings(mut self, settings: DispatchSettings) -> Self {
        self.settings = settings;
        self
    }
}
