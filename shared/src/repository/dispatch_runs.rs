//! One row per dispatch run: counts and error, for the status endpoint and history.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgExecutor;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DispatchRun {
    pub id: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub claimed: i32,
    pub sent: i32,
    pub retried: i32,
    pub failed: i32,
    pub released: i32,
    pub error: Option<String>,
}

/// The counts a run reports when it ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RunCounts {
    pub claimed: i32,
    pub sent: i32,
    pub retried: i32,
    pub failed: i32,
    pub released: i32,
}

pub async fn start(executor: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar!("INSERT INTO dispatch_runs DEFAULT VALUES RETURNING id").fetch_one(executor).await
}

pub async fn finish(
    executor: impl PgExecutor<'_>,
    id: i64,
    counts: RunCounts,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE dispatch_runs
         SET finished_at = now(), claimed = $2, sent = $3, retried = $4, failed = $5, released = $6, error = $7
         WHERE id = $1",
        id,
        counts.claimed,
        counts.sent,
        counts.retried,
        counts.failed,
        counts.released,
        error,
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// The newest runs first.
pub async fn recent(executor: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<DispatchRun>> {
    sqlx::query_as!(
        DispatchRun,
        "SELECT id, started_at, finished_at, claimed, sent, retried, failed, released, error
         FROM dispatch_runs ORDER BY started_at DESC, id DESC LIMIT $1",
        limit,
    )
    .fetch_all(executor)
    .await
}
