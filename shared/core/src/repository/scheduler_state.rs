//! The local scheduler backend's switch: the one `scheduler_state` row.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerStateRow {
    /// `running` or `stopped` (a CHECK constraint holds it to these).
    pub state: String,
    pub updated_at: DateTime<Utc>,
}

/// The row, or `None` if another tool deleted it (the harness then starts `running`).
pub async fn get(executor: impl PgExecutor<'_>) -> sqlx::Result<Option<SchedulerStateRow>> {
    sqlx::query_as!(SchedulerStateRow, "SELECT state, updated_at FROM scheduler_state")
        .fetch_optional(executor)
        .await
}

/// Sets the state; `updated_at` moves only when the state changes, so a repeat is a no-op.
pub async fn set(executor: impl PgExecutor<'_>, state: &str) -> sqlx::Result<SchedulerStateRow> {
    sqlx::query_as!(
        SchedulerStateRow,
        "INSERT INTO scheduler_state (id, state) VALUES (true, $1)
         ON CONFLICT (id) DO UPDATE
         SET state = EXCLUDED.state,
             updated_at = CASE WHEN scheduler_state.state = EXCLUDED.state
                               THEN scheduler_state.updated_at ELSE now() END
         RETURNING state, updated_at",
        state,
    )
    .fetch_one(executor)
    .await
}
