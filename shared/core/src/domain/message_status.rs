use super::stored_text::stored_as_text;

/// Where a message is in its life. The stored form is the lowercase name,
/// limited by a CHECK constraint in the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    Pending,
    Processing,
    Sent,
    Failed,
    /// Withdrawn before it was sent; terminal, never claimed.
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown message status {0:?}")]
pub struct UnknownStatus(pub String);

impl MessageStatus {
    pub const ALL: [MessageStatus; 5] =
        [Self::Pending, Self::Processing, Self::Sent, Self::Failed, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

stored_as_text!(MessageStatus, UnknownStatus);
