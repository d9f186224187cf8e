//! One row per dispatch run: what it did and its error, for the status endpoint and history.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgExecutor;

use super::receiver_breaker::ReceiverBreaker;
use crate::domain::BreakerState;

/// A run as stored, read back: its summary (zero counts while it goes), when, and its error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchRun {
    pub summary: RunSummary,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

/// What a run did: the one type for its counts, written to its row when it ends, answered by
/// the dispatch function, printed by `local dispatch` (JSON, flat) and turned into its metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub run_id: i64,
    pub claimed: i32,
    pub sent: i32,
    pub retried: i32,
    pub failed: i32,
    /// Claims handed back unsent (time ran short, a shutdown, or the receiver breaker opened),
    /// their attempt not counted.
    pub released: i32,
    /// Messages past MESSAGE_RETENTION_DAYS the run deleted.
    pub purged: u64,
    /// Messages that ended `expired` in this run: not sent by their `expires_at`.
    pub expired: i32,
    /// The run held back sends because the receiver breaker was open.
    pub breaker_open: bool,
    pub duration_ms: u64,
}

impl RunSummary {
    /// Each count by the name its JSON field has: the dispatch function's metrics follow from it.
    pub fn counts(&self) -> [(&'static str, i64); 7] {
        [
            ("claimed", self.claimed.into()),
            ("sent", self.sent.into()),
            ("retried", self.retried.into()),
            ("failed", self.failed.into()),
            ("released", self.released.into()),
            ("expired", self.expired.into()),
            ("purged", i64::try_from(self.purged).unwrap_or(i64::MAX)),
        ]
    }
}

/// What a run learns as it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStart {
    pub run_id: i64,
    /// The receiver breaker it runs under.
    pub breaker: ReceiverBreaker,
}

/// Records a run's start and reads the receiver breaker it runs under, in one round trip.
pub async fn start(executor: impl PgExecutor<'_>) -> sqlx::Result<RunStart> {
    let row = sqlx::query!(
        r#"WITH run AS (INSERT INTO dispatch_runs DEFAULT VALUES RETURNING id)
           SELECT run.id AS "id!", b.state AS "state: BreakerState", b.since, b.consecutive_failures, b.last_error,
                  b.next_probe_at, b.cooldown_seconds, b.window_failures,
                  b.window_results
           FROM run CROSS JOIN receiver_breaker AS b"#,
    )
    .fetch_one(executor)
    .await?;
    let breaker = ReceiverBreaker {
        state: row.state,
        since: row.since,
        consecutive_failures: row.consecutive_failures,
        last_error: row.last_error,
        next_probe_at: row.next_probe_at,
        cooldown_seconds: row.cooldown_seconds,
        window_failures: row.window_failures,
        window_results: row.window_results,
    };
    Ok(RunStart { run_id: row.id, breaker })
}

pub async fn finish(
    executor: impl PgExecutor<'_>,
    run: &RunSummary,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE dispatch_runs
         SET finished_at = now(), claimed = $2, sent = $3, retried = $4, failed = $5, released = $6,
             breaker_open = $7, purged = $8, error = $9, expired = $10
         WHERE id = $1",
        run.run_id,
        run.claimed,
        run.sent,
        run.retried,
        run.failed,
        run.released,
        run.breaker_open,
        i32::try_from(run.purged).unwrap_or(i32::MAX),
        error,
        run.expired,
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// The newest runs first.
pub async fn recent(executor: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<DispatchRun>> {
    let rows = sqlx::query!(
        r#"SELECT id, started_at, finished_at, claimed, sent, retried, failed, released, expired, breaker_open,
                purged::int8 AS "purged!", error,
                (extract(epoch FROM finished_at - started_at) * 1000)::int8 AS duration_ms
         FROM dispatch_runs ORDER BY started_at DESC, id DESC LIMIT $1"#,
        limit,
    )
    .fetch_all(executor)
    .await?;
    let runs = rows.into_iter().map(|row| DispatchRun {
        summary: RunSummary {
            run_id: row.id,
            claimed: row.claimed,
            sent: row.sent,
            retried: row.retried,
            failed: row.failed,
            released: row.released,
            purged: u64::try_from(row.purged).unwrap_or(0),
            expired: row.expired,
            breaker_open: row.breaker_open,
            duration_ms: row.duration_ms.and_then(|ms| u64::try_from(ms).ok()).unwrap_or(0),
        },
        started_at: row.started_at,
        finished_at: row.finished_at,
        error: row.error,
    });
    Ok(runs.collect())
}
