use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A message's identity. Also the `Idempotency-Key` the receiver sees, so a
/// message re-sent after a crash can be recognised downstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(Uuid);

impl MessageId {
    /// Time-ordered (UUIDv7), so ids created together sit together in the primary key index.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for MessageId {
    fn default() -> Self {
        Self::new()
    }
}

impl From<Uuid> for MessageId {
    fn from(value: Uuid) -> Self {
        Self(value)
    }
}

impl FromStr for MessageId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_unique_and_round_trip_through_text() {
        let a = MessageId::new();
        let b = MessageId::new();
        assert_ne!(a, b);
        assert_eq!(a.to_string().parse::<MessageId>().unwrap(), a);
    }

    #[test]
    fn non_uuid_text_is_rejected() {
        assert!("not-a-uuid".parse::<MessageId>().is_err());
        assert!("".parse::<MessageId>().is_err());
    }
}
