//! Retention: terminal messages (`sent`, `failed`, `cancelled`, `expired`) whose last change is older
//! than a cutoff are deleted, a bounded chunk per statement, oldest first; `pending` and
//! `processing` rows never. The counts stay exact: message_counts' triggers see each DELETE.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool};
use tokio::time::Instant;

/// Rows deleted per statement: short transactions, short row locks, a steady WAL rate.
pub const PURGE_CHUNK: i64 = 1000;

/// Deletes up to `chunk` terminal messages last changed before `cutoff`. Returns how many.
#[tracing::instrument(skip(executor))]
pub async fn purge_chunk(
    executor: impl PgExecutor<'_>,
    cutoff: DateTime<Utc>,
    chunk: i64,
) -> sqlx::Result<u64> {
    let deleted = sqlx::query!(
        r#"DELETE FROM messages
           WHERE id = ANY (ARRAY(
               SELECT id FROM (
                   (SELECT id FROM messages WHERE status = 'sent' AND sent_at < $1 ORDER BY sent_at LIMIT $2)
                   UNION ALL
                   (SELECT id FROM messages WHERE status = 'failed' AND updated_at < $1 ORDER BY updated_at LIMIT $2)
                   UNION ALL
                   (SELECT id FROM messages WHERE status = 'cancelled' AND updated_at < $1 ORDER BY updated_at LIMIT $2)
                   UNION ALL
                   (SELECT id FROM messages WHERE status = 'expired' AND updated_at < $1 ORDER BY updated_at LIMIT $2)
               ) AS past
               LIMIT $2))
             AND status IN ('sent', 'failed', 'cancelled', 'expired') AND updated_at < $1"#,
        cutoff,
        chunk,
    )
    .execute(executor)
    .await?
    .rows_affected();
    Ok(deleted)
}

/// Deletes messages past the retention chunk by chunk (each its own short statement) until none are left
/// or `until` passes; `progress` hears the running total after each chunk. The dispatch path,
/// `local purge` and the benchmark all purge through this.
pub async fn purge_past(
    pool: &PgPool,
    cutoff: DateTime<Utc>,
    until: Option<Instant>,
    mut progress: impl FnMut(u64),
) -> sqlx::Result<u64> {
    let mut purged = 0;
    while until.is_none_or(|until| Instant::now() < until) {
        let deleted = purge_chunk(pool, cutoff, PURGE_CHUNK).await?;
        purged += deleted;
        progress(purged);
        if deleted < PURGE_CHUNK as u64 {
            break;
        }
    }
    Ok(purged)
}

/// Takes this minute's purge turn: true for exactly one caller per `every`, across processes.
pub async fn take_turn(executor: impl PgExecutor<'_>, every: Duration) -> sqlx::Result<bool> {
    let taken = sqlx::query!(
        "UPDATE retention_state SET last_purge_at = now()
         WHERE last_purge_at < now() - make_interval(secs => $1)",
        every.as_secs_f64(),
    )
    .execute(executor)
    .await?
    .rows_affected();
    Ok(taken == 1)
}
