use chrono::{DateTime, Utc};

use super::{Content, MessageId, MessageStatus, PhoneNumber};

/// A stored message and where it is in its life; read straight from its row (see
/// `repository::columns`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Message {
    pub id: MessageId,
    pub phone_number: PhoneNumber,
    pub content: Content,
    pub status: MessageStatus,
    pub attempts: i32,
    pub max_attempts: i32,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub webhook_message_id: Option<String>,
    pub last_error: Option<String>,
    pub error_code: Option<String>,
}

/// A message ready to be stored: every field already parsed.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub phone_number: PhoneNumber,
    pub content: Content,
    pub max_attempts: i32,
    /// Not sent before this time; `None` means as soon as possible.
    pub send_at: Option<DateTime<Utc>>,
    /// A repeat of the same key returns the first message instead of storing a second.
    pub idempotency_key: Option<String>,
}

impl NewMessage {
    pub fn new(phone_number: PhoneNumber, content: Content, max_attempts: i32) -> Self {
        Self { phone_number, content, max_attempts, send_at: None, idempotency_key: None }
    }
}
