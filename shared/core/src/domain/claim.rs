use chrono::{DateTime, Utc};

use super::{Content, MessageId, PhoneNumber, Priority};

/// A claimed message that passed the domain rules: ready to send. The repository makes one from
/// a claimed row; the webhook client sends it; every record of its outcome names its `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub id: MessageId,
    pub phone_number: PhoneNumber,
    pub content: Content,
    /// Its lane: a claim handed back goes back to its place there.
    pub priority: Priority,
    /// Attempts including this one.
    pub attempts: i32,
    pub max_attempts: i32,
    /// Webhook requests made for the message before this claim.
    pub request_count: i32,
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

    pub fn hold(&self) -> Hold {
        Hold {
            id: self.id,
            version: self.version,
            attempts: self.attempts,
            request_count: self.request_count,
            due_at: self.due_at,
        }
    }
}

/// What a claim knows of its message's row: the version its outcome is recorded under, and the
/// columns an outcome starts from. While the claim holds, nothing else changes the row, so an
/// outcome's columns can be decided from these alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    pub id: MessageId,
    pub version: i64,
    /// Attempts including the claim's own.
    pub attempts: i32,
    /// Webhook requests made before the claim.
    pub request_count: i32,
    /// `next_attempt_at` when claimed: a claim handed back unsent is due again then.
    pub due_at: DateTime<Utc>,
}
