//! SQL over sqlx, checked at compile time against `migrations/` (data in `.sqlx/`).
//! Functions take an executor so they compose with transactions.

pub mod claims;
mod message_row;
pub mod messages;

pub use claims::{Claim, ClaimedRow, FailedRecord, RetryRecord, SentRecord};
pub use messages::{Inserted, SentPage, Stats};
