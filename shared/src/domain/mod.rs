//! Domain types: parsed once at the edge, trusted everywhere after.

mod breaker_state;
mod content;
mod message;
mod message_id;
mod message_status;
mod phone_number;

pub use breaker_state::{BreakerState, UnknownBreakerState};
pub use content::{Content, ContentError, CONTENT_HARD_LIMIT};
pub use message::{Message, NewMessage};
pub use message_id::MessageId;
pub use message_status::{MessageStatus, UnknownStatus};
pub use phone_number::{PhoneNumber, PhoneNumberError};
