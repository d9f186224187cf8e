//! SQL over sqlx, checked at compile time against `migrations/` (data in `.sqlx/`).
//! Functions take an executor so they compose with transactions.

pub mod attempts;
pub mod cancellation;
pub mod claim_cursor;
pub mod claims;
mod columns;
pub mod dispatch_runs;
pub mod expiry;
pub mod gauges;
mod insert_batching;
pub mod listing;
pub mod messages;
pub mod outcomes;
pub mod receipts;
pub mod receiver_breaker;
pub mod retention;
pub mod scheduler_state;
pub mod stats;
pub mod throughput;
pub mod transitions;

pub use claims::ClaimedRow;
pub use dispatch_runs::{DispatchRun, RunSummary};
pub use insert_batching::InsertBatcher;
pub use listing::{ListCursor, MessageFilter, MessageList};
pub use messages::{Inserted, SentPage};
pub use receiver_breaker::ReceiverBreaker;
pub use stats::Stats;
pub use throughput::{MinuteCounts, Throughput};
pub use transitions::Transition;
