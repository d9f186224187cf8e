//! The receiver breaker's one row, shared by every dispatch run. Each change is one
//! conditional UPDATE, so concurrent runs agree: one of them opens it, one takes the probe.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::domain::BreakerState;

/// The breaker as stored (the scheduler status shows it as its `receiver`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiverBreaker {
    pub state: BreakerState,
    /// When the current state began.
    pub since: DateTime<Utc>,
    /// Endpoint-level failures in a row (connection errors, timeouts, 5xx, 429 without a usable
    /// Retry-After); any answer that shows the receiver is up resets it.
    pub consecutive_failures: i32,
    /// The last endpoint-level failure.
    pub last_error: Option<String>,
    /// `open`: when the next probe may go; `half_open`: when a probe that never reported is
    /// given up; `closed`: `null`.
    pub next_probe_at: Option<DateTime<Utc>>,
    /// The current opening's cooldown (0 when closed).
    pub cooldown_seconds: f64,
}

/// The breaker now.
pub async fn get(executor: impl PgExecutor<'_>) -> sqlx::Result<ReceiverBreaker> {
    sqlx::query_as!(
        ReceiverBreaker,
        r#"SELECT state AS "state: _", since, consecutive_failures, last_error, next_probe_at, cooldown_seconds
         FROM receiver_breaker"#
    )
    .fetch_one(executor)
    .await
}

/// Adds a closed breaker's evidence: `failures` endpoint failures in a row, after an answer
/// that showed the receiver up when `reset` (so the count restarts from them); at `threshold`
/// it opens, for `cooldown`. Returns the breaker afterwards (`open` if this call opened it), or
/// `None` if it was not closed (another run opened it). The row is locked while it is counted,
/// so of concurrent runs exactly one opens it.
pub async fn count_failures(
    executor: impl PgExecutor<'_>,
    reset: bool,
    failures: i32,
    last_error: Option<&str>,
    threshold: i32,
    cooldown: Duration,
) -> sqlx::Result<Option<ReceiverBreaker>> {
    sqlx::query_as!(
        ReceiverBreaker,
        r#"WITH counted AS (
               SELECT CASE WHEN $1 THEN $2 ELSE consecutive_failures + $2 END AS failures,
                      CASE WHEN $1 THEN $2 ELSE consecutive_failures + $2 END >= $4 AS opens
               FROM receiver_breaker WHERE state = 'closed' FOR UPDATE
           )
           UPDATE receiver_breaker AS b
           SET consecutive_failures = c.failures, last_error = coalesce($3, b.last_error),
               state = CASE WHEN c.opens THEN 'open' ELSE 'closed' END,
               since = CASE WHEN c.opens THEN now() ELSE b.since END,
               cooldown_seconds = CASE WHEN c.opens THEN $5 ELSE b.cooldown_seconds END,
               next_probe_at = CASE WHEN c.opens THEN now() + make_interval(secs => $5) END
           FROM counted AS c
           RETURNING b.state AS "state: _", b.since, b.consecutive_failures, b.last_error, b.next_probe_at,
                     b.cooldown_seconds"#,
        reset,
        failures,
        last_error,
        threshold,
        cooldown.as_secs_f64(),
    )
    .fetch_optional(executor)
    .await
}

/// Takes the probe: an open breaker whose cooldown is over (or a probe that never reported
/// within `probe_timeout`) becomes `half_open`. Of concurrent runs, exactly one gets it.
pub async fn take_probe(
    executor: impl PgExecutor<'_>,
    probe_timeout: Duration,
) -> sqlx::Result<Option<ReceiverBreaker>> {
    sqlx::query_as!(
        ReceiverBreaker,
        r#"UPDATE receiver_breaker
         SET state = 'half_open', since = now(), next_probe_at = now() + make_interval(secs => $1)
         WHERE state IN ('open', 'half_open') AND next_probe_at <= now()
         RETURNING state AS "state: _", since, consecutive_failures, last_error, next_probe_at, cooldown_seconds"#,
        probe_timeout.as_secs_f64(),
    )
    .fetch_optional(executor)
    .await
}

/// The probe was answered: closed again, count and cooldown reset. Returns the breaker as it
/// was before (for the log line), or `None` if this probe no longer held it.
pub async fn close(executor: impl PgExecutor<'_>) -> sqlx::Result<Option<ReceiverBreaker>> {
    sqlx::query_as!(
        ReceiverBreaker,
        r#"UPDATE receiver_breaker AS b
         SET state = 'closed', since = now(), consecutive_failures = 0, cooldown_seconds = 0,
             next_probe_at = NULL
         FROM receiver_breaker AS before
         WHERE b.state = 'half_open'
         RETURNING before.state AS "state: _", before.since, before.consecutive_failures, before.last_error,
                   before.next_probe_at, before.cooldown_seconds"#
    )
    .fetch_optional(executor)
    .await
}

/// The probe failed: open again with the cooldown doubled, up to `max_cooldown`.
pub async fn reopen(
    executor: impl PgExecutor<'_>,
    last_error: &str,
    max_cooldown: Duration,
) -> sqlx::Result<Option<ReceiverBreaker>> {
    sqlx::query_as!(
        ReceiverBreaker,
        r#"UPDATE receiver_breaker
         SET state = 'open', since = now(), consecutive_failures = consecutive_failures + 1,
             last_error = $1, cooldown_seconds = least(cooldown_seconds * 2, $2),
             next_probe_at = now() + make_interval(secs => least(cooldown_seconds * 2, $2))
         WHERE state = 'half_open'
         RETURNING state AS "state: _", since, consecutive_failures, last_error, next_probe_at, cooldown_seconds"#,
        last_error,
        max_cooldown.as_secs_f64(),
    )
    .fetch_optional(executor)
    .await
}

/// A probe that could not be sent (nothing was due, or the run was stopping) gives the probe
/// back at once: open, the next run may take it.
pub async fn give_back_probe(executor: impl PgExecutor<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE receiver_breaker SET state = 'open', since = now(), next_probe_at = now()
         WHERE state = 'half_open'"
    )
    .execute(executor)
    .await?;
    Ok(())
}
