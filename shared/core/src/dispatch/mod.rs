//! One dispatch run: claim a batch, send each message, record each outcome.
//! The dispatch Lambda, the local harness and the tests all drive [`Dispatcher::run_once`].

mod breaker;
pub mod claim;
mod expiry;
pub mod outcome;
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
use crate::sent_cache::SentCache;
use crate::webhook::WebhookClient;
use crate::Config;

pub use crate::repository::RunSummary;
pub use run::RECORD_CHUNK;

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
    /// Every setting a run reads, as loaded.
    config: Arc<Config>,
    /// Log each request in `message_attempts`: always, but in the benchmark, which turns it off
    /// to measure what the log costs.
    attempt_log: bool,
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
        config: Arc<Config>,
    ) -> Self {
        Self {
            pool,
            webhook,
            limiter,
            cache,
            config,
            attempt_log: true,
            purge_asked: Arc::default(),
            cursor: Arc::default(),
        }
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
        Ok(Self::new(pool, webhook, Arc::new(limiter), SentCache::new(redis), Arc::new(config.clone())))
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// This dispatcher logging no requests in `message_attempts`: only the benchmark, to
    /// measure what the log costs.
    pub fn without_attempt_log(mut self) -> Self {
        self.attempt_log = false;
        self
    }
}
