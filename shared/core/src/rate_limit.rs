//! WEBHOOK_RATE_LIMIT_PER_SECOND across every concurrent run.
//!
//! With Redis, a GCRA in one Lua script: each caller atomically reserves the next free slot
//! (server clock, microseconds) and sleeps until it. Without Redis, or while it is down, an
//! in-process limiter with the same pace keeps this process within the limit.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter as Governor};
use tokio::time::Instant;

use crate::redis_connection::RedisConnection;

/// Reserves the next slot; returns how many microseconds the caller must wait for it.
/// KEYS[1]: the limiter's key. ARGV[1]: emission interval in microseconds.
const RESERVE_SLOT: &str = r#"
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now_us then tat = now_us end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now_us) / 1000) + 1000)
return tat - now_us
"#;

pub const DEFAULT_KEY: &str = "dispatcher:webhook_rate_limit";

pub struct RateLimiter {
    redis: Option<RedisConnection>,
    key: String,
    interval: Duration,
    script: redis::Script,
    local: DefaultDirectRateLimiter,
}

impl RateLimiter {
    /// `per_second` requests per second, evenly spaced (no burst), shared through `redis` when given.
    pub fn new(per_second: NonZeroU32, redis: Option<RedisConnection>, key: impl Into<String>) -> Self {
        let interval = Duration::from_secs(1) / per_second.get();
        let quota = Quota::with_period(interval.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(per_second))
            .allow_burst(NonZeroU32::MIN);
        Self {
            redis,
            key: key.into(),
            interval,
            script: redis::Script::new(RESERVE_SLOT),
            local: Governor::direct(quota),
        }
    }

    /// Waits for a slot. Returns false, without waiting, when the slot would come after
    /// `not_after`: the caller should not start the request.
    pub async fn acquire(&self, not_after: Instant) -> bool {
        if let Some(wait) = self.reserve_shared().await {
            let ready_at = Instant::now() + wait;
            if ready_at > not_after {
                return false;
            }
            tokio::time::sleep_until(ready_at).await;
            return true;
        }
        tokio::time::timeout_at(not_after, self.local.until_ready()).await.is_ok()
    }

    async fn reserve_shared(&self) -> Option<Duration> {
        let redis = self.redis.as_ref()?;
        let interval_us = self.interval.as_micros().max(1) as u64;
        let mut conn = redis.manager();
        let result: redis::RedisResult<i64> =
            self.script.key(&self.key).arg(interval_us).invoke_async(&mut conn).await;
        let wait_us = redis.observe(result, "the shared rate limit (now per process)")?;
        Some(Duration::from_micros(wait_us.max(0) as u64))
    }
}
