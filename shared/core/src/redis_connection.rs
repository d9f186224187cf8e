//! The optional Redis connection: lazy, reconnecting, with short timeouts, and an outage
//! logged once (not per message) so a Redis that is down never slows or stops sending.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::{ExposeSecret, SecretString};

use crate::config::redact_url;

#[derive(Clone)]
pub struct RedisConnection {
    manager: ConnectionManager,
    down: Arc<AtomicBool>,
    target: Arc<str>,
}

impl RedisConnection {
    /// Prepares a connection without connecting: a Redis that is down at start-up is not fatal.
    pub fn lazy(url: &SecretString) -> anyhow::Result<Self> {
        let client = redis::Client::open(url.expose_secret())
            .map_err(|_| anyhow::anyhow!("REDIS_URL {} is not a valid Redis URL", redact_url(url)))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self { manager, down: Arc::new(AtomicBool::new(false)), target: redact_url(url).into() })
    }

    pub fn manager(&self) -> ConnectionManager {
        self.manager.clone()
    }

    /// Notes the result of a Redis call: the first failure of an outage and the recovery are logged.
    pub fn observe<T>(&self, result: redis::RedisResult<T>, purpose: &str) -> Option<T> {
        match result {
            Ok(value) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::info!(redis = %self.target, "Redis is reachable again; {purpose} resumed");
                }
                Some(value)
            }
            Err(err) => {
                if !self.down.swap(true, Ordering::Relaxed) {
                    tracing::warn!(redis = %self.target, error = %err, "Redis unavailable: {purpose} degraded, sending goes on");
                }
                None
            }
        }
    }

    /// Whether Redis answers a PING within `timeout` (an outage is noted as any call's is).
    pub async fn ping(&self, timeout: Duration) -> bool {
        let mut conn = self.manager();
        let command = redis::cmd("PING");
        let ping = command.query_async::<String>(&mut conn);
        match tokio::time::timeout(timeout, ping).await {
            Ok(result) => self.observe(result, "health check").is_some(),
            Err(_) => false,
        }
    }

    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }
}
