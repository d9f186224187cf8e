//! Sent message ids in Redis (`sent_message:<id>`), written after the database commit.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;

use crate::domain::MessageId;
use crate::redis_connection::RedisConnection;

/// Seven days, as the design fixes.
pub const SENT_TTL_SECONDS: u64 = 7 * 24 * 60 * 60;

#[derive(Debug, Clone)]
pub struct SentEntry {
    pub id: MessageId,
    pub webhook_message_id: String,
    pub sent_at: DateTime<Utc>,
}

/// A cache that may be absent (REDIS_URL unset) or down: either way, callers carry on.
#[derive(Clone, Default)]
pub struct SentCache {
    redis: Option<RedisConnection>,
}

impl SentCache {
    pub fn new(redis: Option<RedisConnection>) -> Self {
        Self { redis }
    }

    pub fn key(id: MessageId) -> String {
        format!("sent_message:{id}")
    }

    /// Writes every entry in one round trip; failures are logged, never returned.
    pub async fn remember(&self, entries: &[SentEntry]) {
        let Some(redis) = &self.redis else { return };
        if entries.is_empty() {
            return;
        }
        let mut pipe = redis::pipe();
        for entry in entries {
            let value = json!({
                "message_id": entry.webhook_message_id,
                "sent_at": entry.sent_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            });
            pipe.set_ex(Self::key(entry.id), value.to_string(), SENT_TTL_SECONDS).ignore();
        }
        let mut conn = redis.manager();
        let result: redis::RedisResult<()> = pipe.query_async(&mut conn).await;
        redis.observe(result, "sent-message caching");
    }
}
