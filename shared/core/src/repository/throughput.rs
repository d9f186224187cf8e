//! Sent and failed messages per minute, for the dashboard's chart.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteCounts {
    /// The start of the minute (UTC).
    pub minute: DateTime<Utc>,
    pub sent: i64,
    /// Messages that became `failed` in this minute (a failed row's last update).
    pub failed: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throughput {
    pub minutes: u32,
    /// Exactly `minutes` points, oldest first, zero-filled; the last is the current minute.
    pub points: Vec<MinuteCounts>,
}

/// Counts for the last `minutes` minutes, the current one included. Each count walks only
/// its window in a partial index (`messages_sent_at_idx`, `messages_failed_at_idx`).
#[tracing::instrument(skip(executor))]
pub async fn per_minute(executor: impl PgExecutor<'_>, minutes: u32) -> sqlx::Result<Throughput> {
    let span = i32::try_from(minutes).unwrap_or(i32::MAX);
    let points = sqlx::query_as!(
        MinuteCounts,
        r#"WITH bounds AS (
               SELECT date_trunc('minute', now()) - make_interval(mins => $1 - 1) AS since
           ), sent AS (
               SELECT date_trunc('minute', sent_at) AS minute, count(*) AS n
               FROM messages, bounds WHERE status = 'sent' AND sent_at >= bounds.since
               GROUP BY 1
           ), failed AS (
               SELECT date_trunc('minute', updated_at) AS minute, count(*) AS n
               FROM messages, bounds WHERE status = 'failed' AND updated_at >= bounds.since
               GROUP BY 1
           )
           SELECT series.minute AS "minute!", coalesce(sent.n, 0) AS "sent!", coalesce(failed.n, 0) AS "failed!"
           FROM bounds,
                generate_series(bounds.since, date_trunc('minute', now()), interval '1 minute') AS series(minute)
                LEFT JOIN sent ON sent.minute = series.minute
                LEFT JOIN failed ON failed.minute = series.minute
           ORDER BY series.minute"#,
        span,
    )
    .fetch_all(executor)
    .await?;
    Ok(Throughput { minutes, points })
}
