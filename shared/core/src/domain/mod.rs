//! Domain types: parsed once at the edge, trusted everywhere after.

mod attempt_outcome;
mod breaker_state;
mod claim;
mod content;
mod delivery_status;
mod error_code;
mod label;
mod message;
mod message_id;
mod message_status;
mod phone_number;
mod priority;
mod stored_text;
mod validated_text;

pub use attempt_outcome::{AttemptOutcome, UnknownAttemptOutcome};
pub use breaker_state::{BreakerState, UnknownBreakerState};
pub use claim::{Claim, Hold};
pub use content::{Content, ContentError, CONTENT_HARD_LIMIT};
pub use delivery_status::{DeliveryStatus, UnknownDeliveryStatus};
pub use error_code::ErrorCode;
pub use label::{Label, LabelError};
pub use message::{Delivery, Message, NewMessage};
pub use message_id::MessageId;
pub use message_status::{MessageStatus, UnknownStatus};
pub use phone_number::{PhoneNumber, PhoneNumberError};
pub use priority::{Priority, UnknownPriority};
