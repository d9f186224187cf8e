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
    /// Endpoint failures among the last `window_results` results, which decide whether it opens.
    pub window_failures: i32,
    /// Endpoint results the breaker has counted since it last closed, up to its window.
    pub window_results: i32,
}

impl ReceiverBreaker {
    /// The share of endpoint failures among the results its decision uses; `None` before any.
    pub fn failure_rate(&self) -> Option<f64> {
        (self.window_results > 0).then(|| f64::from(self.window_failures) / f64::from(self.window_results))
    }
}

/// A chunk's endpoint results in arrival order, for the window: one bit each, the newest lowest,
/// 1 for an endpoint failure; only the last WINDOW_MAX are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResultBits {
    pub bits: i64,
    /// Results in `bits`, up to WINDOW_MAX.
    pub count: i32,
}

/// The largest window a bigint holds with room to shift (RECEIVER_BREAKER_WINDOW's maximum).
pub const WINDOW_MAX: i32 = 62;

impl ResultBits {
    pub fn push(&mut self, failed: bool) {
        self.bits = ((self.bits << 1) | i64::from(failed)) & ((1 << WINDOW_MAX) - 1);
        self.count = (self.count + 1).min(WINDOW_MAX);
    }
}

/// How the breaker decides (RECEIVER_BREAKER_WINDOW, RECEIVER_BREAKER_FAILURE_RATE).
#[derive(Debug, Clone, Copy)]
pub struct OpenRule {
    /// It decides on this many most recent results, and not before it has them.
    pub window: i32,
    /// It opens at this percentage of endpoint failures among them.
    pub failure_rate: i32,
    pub cooldown: Duration,
}

/// The breaker now.
pub async fn get(executor: impl PgExecutor<'_>) -> sqlx::Result<ReceiverBreaker> {
    sqlx::query_as!(
        ReceiverBreaker,
        r#"SELECT state AS "state: _", since, consecutive_failures, last_error, next_probe_at, cooldown_seconds,
                  window_failures, window_results
         FROM receiver_breaker"#
    )
    .fetch_one(executor)
    .await
}

/// Adds a closed breaker's evidence: the chunk's endpoint `results` shift into the window, and
/// `failures` in a row at its end add to `consecutive_failures` (restarting from them when
/// `reset`: an answer showed the receiver up). Once the window holds `rule.window` results of
/// which at least `rule.failure_rate` percent are endpoint failures, it opens for
/// `rule.cooldown`. Returns the breaker afterwards (`open` if this call opened it), or `None` if
/// it was not closed (another run opened it). The row is locked while it is counted, so of
/// concurrent runs exactly one opens it.
pub async fn add_results(
    executor: impl PgExecutor<'_>,
    results: ResultBits,
    reset: bool,
    failures: i32,
    last_error: Option<&str>,
    rule: OpenRule,
) -> sqlx::Result<Option<ReceiverBreaker>> {
    sqlx::query_as!(
        ReceiverBreaker,
        r#"WITH counted AS (
               SELECT CASE WHEN $1 THEN $2 ELSE consecutive_failures + $2 END AS failures,
                      ((window_bits << $5) | $6) & ((1::int8 << $7) - 1) AS bits,
                      least(window_results + $5, $7) AS results
               FROM receiver_breaker WHERE state = 'closed' FOR UPDATE
           ), decided AS (
               SELECT failures, bits, results,
                      results >= $7 AND bit_count(bits::bit(64)) * 100 >= $8 * results AS opens
               FROM counted
           )
           UPDATE receiver_breaker AS b
           SET consecutive_failures = d.failures, last_error = coalesce($3, b.last_error),
               window_bits = d.bits, window_results = d.results,
               state = CASE WHEN d.opens THEN 'open' ELSE 'closed' END,
               since = CASE WHEN d.opens THEN now() ELSE b.since END,
               cooldown_seconds = CASE WHEN d.opens THEN $4 ELSE b.cooldown_seconds END,
               next_probe_at = CASE WHEN d.opens THEN now() + make_interval(secs => $4) END
           FROM decided AS d
           RETURNING b.state AS "state: _", b.since, b.consecutive_failures, b.last_error, b.next_probe_at,
                     b.cooldown_seconds, b.window_failures, b.window_results"#,
        reset,
        failures,
        last_error,
        rule.cooldown.as_secs_f64(),
        results.count,
        results.bits,
        rule.window,
        rule.failure_rate,
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
         RETURNING state AS "state: _", since, consecutive_failures, last_error, next_probe_at, cooldown_seconds,
                   window_failures, window_results"#,
        probe_timeout.as_secs_f64(),
    )
    .fetch_optional(executor)
    .await
}

/// What closing the breaker did, for its log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The breaker's last endpoint failure and failures in a row before it closed.
    pub last_error: Option<String>,
    pub consecutive_failures: i32,
    /// Messages that waited for the receiver and are due now.
    pub released: i64,
}

/// The probe was answered: closed again, count, window and cooldown reset, and in the same
/// statement every pending message that waits for the receiver (a retry that spent no attempt,
/// a failed probe's message pushed back) is due at once; one already due keeps its place.
/// Returns `None` if this probe no longer held the breaker.
pub async fn close(executor: impl PgExecutor<'_>) -> sqlx::Result<Option<Closed>> {
    sqlx::query_as!(
        Closed,
        r#"WITH closed AS (
               UPDATE receiver_breaker AS b
               SET state = 'closed', since = now(), consecutive_failures = 0, cooldown_seconds = 0,
                   next_probe_at = NULL, window_bits = 0, window_results = 0
               FROM receiver_breaker AS before
               WHERE b.state = 'half_open'
               RETURNING before.last_error, before.consecutive_failures
           ), released AS (
               UPDATE messages
               SET next_attempt_at = least(next_attempt_at, now()), awaits_receiver = false, updated_at = now()
               WHERE awaits_receiver AND status = 'pending' AND EXISTS (SELECT FROM closed)
               RETURNING 1
           )
           SELECT last_error, consecutive_failures AS "consecutive_failures!",
                  (SELECT count(*) FROM released) AS "released!"
           FROM closed"#
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
         RETURNING state AS "state: _", since, consecutive_failures, last_error, next_probe_at, cooldown_seconds,
                   window_failures, window_results"#,
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
