use chrono::{DateTime, Utc};

use super::{Content, DeliveryStatus, Label, MessageId, MessageStatus, PhoneNumber, Priority};

/// A stored message and where it is in its life; read straight from its row (see
/// `repository::columns`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Message {
    pub id: MessageId,
    pub phone_number: PhoneNumber,
    pub content: Content,
    pub status: MessageStatus,
    /// Its lane: claimed strictly after every due message of a higher one.
    pub priority: Priority,
    /// The campaign it belongs to, if any: listed, counted and cancelled together.
    pub campaign: Option<Label>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub webhook_message_id: Option<String>,
    pub last_error: Option<String>,
    pub error_code: Option<String>,
    /// Not sent at or after this time.
    pub expires_at: Option<DateTime<Utc>>,
    /// The provider's latest receipt (see [`Message::delivery`]).
    pub delivery_status: Option<DeliveryStatus>,
    pub delivery_at: Option<DateTime<Utc>>,
    pub delivery_error_code: Option<String>,
}

/// What the provider last said of a sent message: delivered to the phone, or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub status: DeliveryStatus,
    /// When the provider says it happened (its receipt's timestamp, else when it arrived).
    pub at: DateTime<Utc>,
    pub error_code: Option<String>,
}

impl Message {
    /// The latest receipt's word; `None` until one arrives.
    pub fn delivery(&self) -> Option<Delivery> {
        Some(Delivery {
            status: self.delivery_status?,
            at: self.delivery_at?,
            error_code: self.delivery_error_code.clone(),
        })
    }
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
    /// Never sent at or after this time; `None` means no limit.
    pub expires_at: Option<DateTime<Utc>>,
    pub priority: Priority,
    pub campaign: Option<Label>,
}

impl NewMessage {
    pub fn new(phone_number: PhoneNumber, content: Content, max_attempts: i32) -> Self {
        Self {
            phone_number,
            content,
            max_attempts,
            send_at: None,
            idempotency_key: None,
            expires_at: None,
            priority: Priority::Normal,
            campaign: None,
        }
    }
}
