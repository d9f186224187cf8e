//! `Message`, as every message route answers it.

use chrono::{DateTime, Utc};
use dispatcher_core::domain::{Delivery, DeliveryStatus, Message, MessageStatus, Priority};
use serde::Serialize;
use uuid::Uuid;

use super::stored_enum::wire_enum;

/// A stored message. Times are RFC 3339 UTC; absent values are `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = Message)]
pub struct MessageOut {
    pub id: Uuid,
    #[schema(example = "+905551111111")]
    pub phone_number: String,
    #[schema(example = "Your verification code is 482913")]
    pub content: String,
    pub status: MessageStatusOut,
    pub priority: PriorityOut,
    /// The campaign it was created with; `null`: none.
    pub campaign: Option<String>,
    /// Attempts spent so far (a claim spends one; an attempt lost to a receiver outage is given back).
    pub attempts: i32,
    pub max_attempts: i32,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// When a pending message is due (its `send_at`, or its next retry).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's `messageId` for a sent message.
    pub webhook_message_id: Option<String>,
    pub last_error: Option<String>,
    pub error_code: Option<String>,
    /// Never sent at or after this time (RFC 3339); `null`: no limit.
    pub expires_at: Option<DateTime<Utc>>,
    /// The provider's latest delivery receipt; `null` until one arrives.
    pub delivery: Option<DeliveryOut>,
}

/// What the provider last said of a sent message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = Delivery)]
pub struct DeliveryOut {
    pub status: DeliveryStatusOut,
    /// When it happened, as the receipt says (else when the receipt arrived).
    pub at: DateTime<Utc>,
    /// The provider's reason for an undelivered message.
    pub error_code: Option<String>,
}

wire_enum! {
    /// `delivered`: on the phone; `undelivered`: the carrier gave up on it.
    DeliveryStatusOut for DeliveryStatus, named "DeliveryStatus"
}

wire_enum! {
    /// Where a message is in its life.
    MessageStatusOut for MessageStatus, named "MessageStatus"
}

wire_enum! {
    /// A message's lane: every due `high` message is claimed before any `normal` one, and those
    /// before any `low` one; first due first inside a lane.
    PriorityOut for Priority, named "Priority"
}

impl From<Delivery> for DeliveryOut {
    fn from(delivery: Delivery) -> Self {
        Self { status: delivery.status.into(), at: delivery.at, error_code: delivery.error_code }
    }
}

impl From<Message> for MessageOut {
    fn from(message: Message) -> Self {
        let delivery = message.delivery().map(DeliveryOut::from);
        Self {
            id: message.id.as_uuid(),
            phone_number: message.phone_number.to_string(),
            content: message.content.to_string(),
            status: message.status.into(),
            priority: message.priority.into(),
            campaign: message.campaign.map(|campaign| campaign.to_string()),
            attempts: message.attempts,
            max_attempts: message.max_attempts,
            created_at: message.created_at,
            sent_at: message.sent_at,
            next_attempt_at: message.next_attempt_at,
            webhook_message_id: message.webhook_message_id,
            last_error: message.last_error,
            error_code: message.error_code,
            expires_at: message.expires_at,
            delivery,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire spelling of every status is its stored spelling: clients filter the listing
    /// (`?status=`) with the same words the answers carry.
    #[test]
    fn every_status_is_spelled_on_the_wire_as_it_is_stored() {
        for &status in MessageStatus::ALL {
            let wire = serde_json::to_value(MessageStatusOut::from(status)).unwrap();
            assert_eq!(wire, status.as_str());
        }
    }
}
