//! What only the core's tests need: the records a run would write, and a Standard Webhooks
//! verifier. Messages one at a time, the dispatcher with test-sized settings and the messages
//! table held locked come from `testkit`.

pub mod standardwebhooks;

pub use testkit::dispatch;
pub use testkit::messages::{count, insert, insert_each, new_message, set_created_at, status_of, update_one};
pub use testkit::table_lock;

use chrono::{DateTime, Utc};
use dispatcher_core::dispatch::outcome::{Outcome, OutcomeRecord, Request};
use dispatcher_core::domain::ErrorCode;
use dispatcher_core::repository::claims::ClaimedRow;

/// `outcome` for each claimed row, under its claim's version, after a request that took 5 ms
/// (none for a released claim, which sent nothing).
pub fn records(rows: &[ClaimedRow], outcome: Outcome) -> Vec<OutcomeRecord> {
    let request = (outcome != Outcome::Released).then(|| Request {
        started_at: Utc::now(),
        duration_ms: 5,
        status_code: Some(202),
    });
    rows.iter().map(|r| OutcomeRecord { hold: r.hold(), outcome: outcome.clone(), request }).collect()
}

/// Each claimed row sent, as a run would record it after a 202.
pub fn sent_records(rows: &[ClaimedRow]) -> Vec<OutcomeRecord> {
    records(rows, Outcome::Sent { webhook_message_id: "w".into(), response: None })
}

/// Each claimed row failed for good: HTTP 400, "bad request".
pub fn failed_records(rows: &[ClaimedRow]) -> Vec<OutcomeRecord> {
    records(
        rows,
        Outcome::Failed {
            error_code: ErrorCode::Http(400),
            last_error: "bad request".into(),
            response: None,
        },
    )
}

/// Each claimed row to be retried at `due`: HTTP 503, the attempt counted.
pub fn retry_records(rows: &[ClaimedRow], due: DateTime<Utc>) -> Vec<OutcomeRecord> {
    let outcome = Outcome::Retry {
        next_attempt_at: due,
        counted: true,
        error_code: ErrorCode::Http(503),
        last_error: "HTTP 503".into(),
        response: None,
    };
    records(rows, outcome)
}

/// Each claimed row ended `expired` unsent: its `expires_at` came before the request.
pub fn expired_records(rows: &[ClaimedRow]) -> Vec<OutcomeRecord> {
    let outcome = Outcome::Expired {
        counted: false,
        error_code: ErrorCode::Expired,
        last_error: "expired before it was sent".into(),
        response: None,
    };
    rows.iter().map(|r| OutcomeRecord { hold: r.hold(), outcome: outcome.clone(), request: None }).collect()
}

/// Each claimed row handed back unsent.
pub fn released_records(rows: &[ClaimedRow]) -> Vec<OutcomeRecord> {
    records(rows, Outcome::Released)
}
