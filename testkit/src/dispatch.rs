//! Building a dispatcher for tests: the real one, with test-sized settings.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use dispatcher_core::dispatch::{Dispatcher, RunLimits, RunSummary};
use dispatcher_core::rate_limit::RateLimiter;
use dispatcher_core::redis_connection::RedisConnection;
use dispatcher_core::sent_cache::SentCache;
use dispatcher_core::webhook::{WebhookClient, WebhookSigner};
use dispatcher_core::Config;
use secrecy::SecretString;
use sqlx::PgPool;

pub const AUTH_KEY: &str = "test-auth-key-5b1c";

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub struct Setup {
    /// The settings the dispatcher reads: the defaults, with test-sized batches and timeout.
    pub config: Config,
    pub rate_per_second: u32,
    pub redis_url: Option<String>,
    pub rate_limit_key: String,
    /// WEBHOOK_SIGNING_SECRET, parsed; `None` sends unsigned requests.
    pub signer: Option<WebhookSigner>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            config: Config::from_pairs(&[
                ("MESSAGE_BATCH_SIZE", "10"),
                ("MESSAGE_WORKER_COUNT", "5"),
                ("WEBHOOK_TIMEOUT_SECONDS", "5"),
            ])
            .expect("the test settings are valid"),
            rate_per_second: 1_000_000,
            redis_url: None,
            rate_limit_key: format!("test:rate_limit:{}", uuid::Uuid::new_v4()),
            signer: None,
        }
    }
}

impl Setup {
    /// This set-up claiming `batch_size` messages per run and sending them with `worker_count`
    /// workers.
    pub fn with_batches(mut self, batch_size: u32, worker_count: usize) -> Self {
        self.config.dispatch.batch_size = batch_size;
        self.config.dispatch.worker_count = worker_count;
        self
    }

    /// This set-up with `change` made to its settings.
    pub fn with_settings(mut self, change: impl FnOnce(&mut Config)) -> Self {
        change(&mut self.config);
        self
    }

    pub fn build(&self, pool: &PgPool, webhook_url: &str) -> Dispatcher {
        let key = SecretString::from(AUTH_KEY);
        let webhook = WebhookClient::new(
            webhook_url.parse().unwrap(),
            Some(&key),
            self.signer.clone(),
            self.config.webhook.timeout,
            self.config.dispatch.worker_count,
        )
        .unwrap();
        let redis = self
            .redis_url
            .as_ref()
            .map(|url| RedisConnection::lazy(&SecretString::from(url.as_str())).unwrap());
        let limiter = RateLimiter::new(
            NonZeroU32::new(self.rate_per_second).unwrap(),
            redis.clone(),
            self.rate_limit_key.clone(),
        );
        Dispatcher::new(
            pool.clone(),
            webhook,
            Arc::new(limiter),
            SentCache::new(redis),
            Arc::new(self.config.clone()),
        )
    }
}

pub fn limits() -> RunLimits {
    RunLimits { batch_size: None, budget: Duration::from_secs(60) }
}

/// Runs until a run claims nothing; returns every summary.
pub async fn drain(dispatcher: &Dispatcher) -> Vec<RunSummary> {
    let mut summaries = Vec::new();
    loop {
        let summary = dispatcher.run_once(limits()).await.unwrap();
        if summary.claimed == 0 {
            return summaries;
        }
        summaries.push(summary);
    }
}
