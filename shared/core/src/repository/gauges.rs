//! The operator's gauges, computed from the database, so every process reports the same
//! figures: `GET /metrics` shows them, and each dispatch run's metrics record carries the age.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::domain::Priority;

/// What `GET /metrics` reports besides the counts by status.
#[derive(Debug, Clone, PartialEq)]
pub struct Gauges {
    /// How long the oldest due `pending` message of any lane has been due; 0 when none is due.
    pub oldest_pending_age_seconds: f64,
    /// The same in each lane (`Priority::lane` order): the next message that lane's claim takes.
    /// Strict lanes starve a lower lane while a higher one never empties; this shows it.
    pub oldest_pending_age_by_priority: [f64; Priority::LANES],
    /// The receiver breaker is open or probing.
    pub breaker_open: bool,
    /// The share of endpoint failures in the breaker's window (what opens it); 0 when empty.
    pub receiver_failure_rate: f64,
    /// When the newest dispatch run started.
    pub last_run_at: Option<DateTime<Utc>>,
}

/// One statement; each lane's age is its first entry in the claim's due index
/// (`messages_due_lane_idx`).
pub async fn read(executor: impl PgExecutor<'_>) -> sqlx::Result<Gauges> {
    let row = sqlx::query!(
        r#"SELECT coalesce((SELECT extract(epoch FROM now() - next_attempt_at)::float8 FROM messages
                             WHERE status = 'pending' AND priority = 0 AND next_attempt_at <= now()
                             ORDER BY next_attempt_at, created_at, id LIMIT 1), 0) AS "high!",
                  coalesce((SELECT extract(epoch FROM now() - next_attempt_at)::float8 FROM messages
                             WHERE status = 'pending' AND priority = 1 AND next_attempt_at <= now()
                             ORDER BY next_attempt_at, created_at, id LIMIT 1), 0) AS "normal!",
                  coalesce((SELECT extract(epoch FROM now() - next_attempt_at)::float8 FROM messages
                             WHERE status = 'pending' AND priority = 2 AND next_attempt_at <= now()
                             ORDER BY next_attempt_at, created_at, id LIMIT 1), 0) AS "low!",
                  coalesce((SELECT state <> 'closed' FROM receiver_breaker), false) AS "breaker_open!",
                  coalesce((SELECT window_failures::float8 / nullif(window_results, 0)
                            FROM receiver_breaker), 0) AS "receiver_failure_rate!",
                  (SELECT max(started_at) FROM dispatch_runs) AS last_run_at"#
    )
    .fetch_one(executor)
    .await?;
    let by_priority = [row.high, row.normal, row.low].map(|age| age.max(0.0));
    Ok(Gauges {
        oldest_pending_age_seconds: by_priority.into_iter().fold(0.0, f64::max),
        oldest_pending_age_by_priority: by_priority,
        breaker_open: row.breaker_open,
        receiver_failure_rate: row.receiver_failure_rate,
        last_run_at: row.last_run_at,
    })
}
