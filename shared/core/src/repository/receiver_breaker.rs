//! The receiver breaker's one row, shared by every dispatch run. Each change is one
//! conditional UPDATE, so concurrent runs agree: one of them opens it, one takes the probe.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::domain::BreakerState;

/// The breaker as stored; also the `receiver` object of the scheduler status.
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

pub(super) struct BreakerRow {
    pub state: String,
    pub since: DateTime<Utc>,
    pub consecutive_failures: i32,
    pub last_error: Option<String>,
    pub next_probe_at: Option<DateTime<Utc>>,
    pub cooldown_seconds: f64,
}

impl TryFrom<BreakerRow> for ReceiverBreaker {
    type Error = sqlx::Error;

    fn try_from(row: BreakerRow) -> Result<Self, Self::Error> {
        Ok(Self {
            state: row.state.parse().map_err(|err| sqlx::Error::Decode(Box::new(err)))?,
            since: row.since,
            consecutive_failures: row.consecutive_failures,
            last_error: row.last_error,
            next_probe_at: row.next_probe_at,
            cooldown_seconds: row.cooldown_seconds,
        })
    }
}

/// The breaker now.
pub async fn get(executor: impl PgExecutor<'_>) -> sqlx::Result<ReceiverBreaker> {
    sqlx::query_as!(
        BreakerRow,
        "SELECT state, since, consecutive_failures, last_error, next_probe_at, cooldown_seconds
         FROM receiver_breaker"
    )
    .fetch_one(executor)
    .await?
    .try_into()
}

/// Adds a closed breaker's evidence: `failures` endpoint failures in a row, after an answer
/// that showed the receiver up when `reset` (so the count restarts from them). Returns the
/// breaker afterwards, or `None` if it was not closed (another run opened it).
pub async fn count_failures(
    executor: impl PgExecutor<'_>,
    reset: bool,
    failures: i32,
    last_error: Option<&str>,
) -> sqlx::Result<Option<ReceiverBreaker>> {
    sqlx::query_as!(
        BreakerRow,
        "UPDATE receiver_breaker
         SET consecutive_failures = CASE WHEN $1 THEN $2 ELSE consecutive_failures + $2 END,
             last_error = coalesce($3, last_error)
         WHERE state = 'closed'
         RETURNING state, since, consecutive_failures, last_error, next_probe_at, cooldown_seconds",
        reset,
        failures,
        last_error,
    )
    .fetch_optional(executor)
    .await?
    .map(TryInto::try_into)
    .transpose()
}

/// Opens a closed breaker whose failures reached `threshold`, for `cooldown`. Returns the
/// breaker if this call opened it: of concurrent runs, exactly one does.
pub async fn open_if_reached(
    executor: impl PgExecutor<'_>,
    threshold: i32,
    cooldown: Duration,
) -> sqlx::Result<Option<ReceiverBreaker>> {
    sqlx::query_as!(
        BreakerRow,
        "UPDATE receiver_breaker
         SET state = 'open', since = now(), cooldown_seconds = $2,
             next_probe_at = now() + make_interval(secs => $2)
         WHERE state = 'closed' AND consecutive_failures >= $1
         RETURNING state, since, consecutive_failures, last_error, next_probe_at, cooldown_seconds",
        threshold,
        cooldown.as_secs_f64(),
    )
    .fetch_optional(executor)
    .await?
    .map(TryInto::try_into)
    .transpose()
}

/// Takes the probe: an open breaker whose cooldown is over (or a probe that never reported
/// within `probe_timeout`) becomes `half_open`. Of concurrent runs, exactly one gets it.
pub async fn take_probe(
    executor: impl PgExecutor<'_>,
    probe_timeout: Duration,
) -> sqlx::Result<Option<ReceiverBreaker>> {
    sqlx::query_as!(
        BreakerRow,
        "UPDATE receiver_breaker
         SET state = 'half_open', since = now(), next_probe_at = now() + make_interval(secs => $1)
         WHERE state IN ('open', 'half_open') AND next_probe_at <= now()
         RETURNING state, since, consecutive_failures, last_error, next_probe_at, cooldown_seconds",
        probe_timeout.as_secs_f64(),
    )
    .fetch_optional(executor)
    .await?
    .map(TryInto::try_into)
    .transpose()
}

/// The probe was answered: closed again, count and cooldown reset. Returns the breaker as it
/// was before (for the log line), or `None` if this probe no longer held it.
pub async fn close(executor: impl PgExecutor<'_>) -> sqlx::Result<Option<ReceiverBreaker>> {
    sqlx::query_as!(
        BreakerRow,
        "UPDATE receiver_breaker AS b
         SET state = 'closed', since = now(), consecutive_failures = 0, cooldown_seconds = 0,
             next_probe_at = NULL
         FROM receiver_breaker AS before
         WHERE b.state = 'half_open'
         RETURNING before.state, before.since, before.consecutive_failures, before.last_error,
                   before.next_probe_at, before.cooldown_seconds"
    )
    .fetch_optional(executor)
    .await?
    .map(TryInto::try_into)
    .transpose()
}

/// The probe failed: open again with the cooldown doubled, up to `max_cooldown`.
pub async fn reopen(
    executor: impl PgExecutor<'_>,
    last_error: &str,
    max_cooldown: Duration,
) -> sqlx::Result<Option<ReceiverBreaker>> {
    sqlx::query_as!(
        BreakerRow,
        "UPDATE receiver_breaker
         SET state = 'open', since = now(), consecutive_failures = consecutive_failures + 1,
             last_error = $1, cooldown_seconds = least(cooldown_seconds * 2, $2),
             next_probe_at = now() + make_interval(secs => least(cooldown_seconds * 2, $2))
         WHERE state = 'half_open'
         RETURNING state, since, consecutive_failures, last_error, next_probe_at, cooldown_seconds",
        last_error,
        max_cooldown.as_secs_f64(),
    )
    .fetch_optional(executor)
    .await?
    .map(TryInto::try_into)
    .transpose()
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
