//! What only the core's tests need: the records a run would write, and a Standard Webhooks
//! verifier. Messages one at a time, the dispatcher with test-sized settings and the messages
//! table held locked come from `testkit`.

pub mod standardwebhooks;

pub use testkit::dispatch;
pub use testkit::messages::{count, insert, insert_each, new_message, set_created_at, status_of, update_one};
pub use testkit::table_lock;

use chrono::{DateTime, Utc};
use dispatcher_core::domain::ErrorCode;
use dispatcher_core::repository::claims::{ClaimedRow, FailedRecord, RetryRecord, SentRecord};

/// Sent records for claimed rows, as a run would write them after 202s.
pub fn sent_records(rows: &[ClaimedRow]) -> Vec<SentRecord> {
    rows.iter()
        .map(|r| SentRecord {
            id: r.id.into(),
            version: r.version,
            webhook_message_id: "w".into(),
            response: None,
        })
        .collect()
}

/// Each claimed row failed for good: HTTP 400, "bad request".
pub fn failed_records(rows: &[ClaimedRow]) -> Vec<FailedRecord> {
    rows.iter()
        .map(|r| FailedRecord {
            id: r.id.into(),
            version: r.version,
            error_code: ErrorCode::Http(400),
            last_error: "bad request".into(),
            response: None,
        })
        .collect()
}

/// Each claimed row to be retried at `due`: HTTP 503, the attempt counted.
pub fn retry_records(rows: &[ClaimedRow], due: DateTime<Utc>) -> Vec<RetryRecord> {
    rows.iter()
        .map(|r| RetryRecord {
            id: r.id.into(),
            version: r.version,
            next_attempt_at: due,
            counted: true,
            error_code: ErrorCode::Http(503),
            last_error: "HTTP 503".into(),
            response: None,
        })
        .collect()
}
