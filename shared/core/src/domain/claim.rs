use chrono::{DateTime, Utc};

use super::{Content, MessageId, PhoneNumber};

/// A claimed message that passed the domain rules: ready to send. The repository makes one from
/// a claimed row; the webhook client sends it; every record of its outcome names its `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub id: MessageId,
    pub phone_number: PhoneNumber,
    pub content: Content,
    /// Attempts including this one.
    pub attempts: i32,
    pub max_attempts: i32,
    /// The version this claim holds; every record of its outcome is conditional on it.
    pub version: i64,
    /// Not sent at or after this time.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it became due and when it was created: its place in the claim order, which a claim
    /// handed back unsent keeps.
    pub due_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl Claim {
    /// Whether the message may no longer be sent at `now`.
    pub fn expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|expires_at| expires_at <= now)
    }
}
