//! One dispatch run: claim a batch, send each message, record each outcome.
//! The dispatch Lambda, the local harness and the tests all drive [`Dispatcher::run_once`].

mod outcomes;
mod run;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;
use sqlx::PgPool;

use crate::rate_limit::{self, RateLimiter};
use crate::redis_connection::RedisConnection;
use crate::repository::RunCounts;
use crate::retry_policy::RetryPolicy;
use crate::sent_cache::SentCache;
use crate::webhook::WebhookClient;
use crate::Config;

pub use outcomes::OutcomeRecords;

/// What a run needs to know from the configuration.
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    pub batch_size: u32,
    pub worker_count: usize,
    pub lease: Duration,
    pub char_limit: usize,
    pub webhook_timeout: Duration,
    pub retry: RetryPolicy,
}

impl DispatchSettings {
    pub fn from_config(config: &Config) -> Self {
        Self {
            batch_size: config.batch_size,
            worker_count: config.worker_count,
            lease: config.lease,
            char_limit: config.char_limit,
            webhook_timeout: config.webhook_timeout,
            retry: RetryPolicy { base: config.retry_base, max: config.retry_max },
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

/// What a run did; also written to `dispatch_runs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub run_id: i64,
    pub claimed: i32,
    pub sent: i32,
    pub retried: i32,
    pub failed: i32,
    /// Claims handed back unsent because time ran short.
    pub released: i32,
    pub duration_ms: u64,
}

impl RunSummary {
    fn new(run_id: i64, counts: RunCounts, duration: Duration) -> Self {
        Self {
            run_id,
            claimed: counts.claimed,
            sent: counts.sent,
            retried: counts.retried,
            failed: counts.failed,
            released: counts.released,
            duration_ms: duration.as_millis().try_into().unwrap_or(u64::MAX),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("database unavailable during dispatch: {0}")]
    Database(#[from] sqlx::Error),
}

/// Everything a run uses, built once per process and shared by every run.
#[derive(Clone)]
pub struct Dispatcher {
    pool: PgPool,
    webhook: WebhookClient,
    limiter: Arc<RateLimiter>,
    cache: SentCache,
    settings: DispatchSettings,
}

impl Dispatcher {
    pub fn new(
        pool: PgPool,
        webhook: WebhookClient,
        limiter: Arc<RateLimiter>,
        cache: SentCache,
        settings: DispatchSettings,
    ) -> Self {
        Self { pool, webhook, limiter, cache, settings }
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
            config.webhook_auth_key.as_ref(),
            config.webhook_timeout,
            config.worker_count,
        )
        .context("building the webhook client")?;
        if redis.is_none() {
            tracing::warn!(
                "REDIS_URL is not set: no sent-message cache, and the rate limit holds per process only"
            );
        }
        let per_second = NonZeroU32::new(config.rate_limit_per_second).unwrap_or(NonZeroU32::MIN);
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

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
