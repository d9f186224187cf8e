//! Retention on the dispatch path: after its sends, a run deletes terminal messages past the
//! retention (and delivery receipts that never named a message), so the schedule keeps the
//! tables bounded on Lambda and in the harness alike. Of all the runs
//! everywhere one purges a minute (a turn taken in the database), for a bounded time, in
//! bounded chunks; a process asks for the turn at most once a minute.

use std::time::Duration;

use tokio::time::Instant;

use super::Dispatcher;
use crate::repository::{receipts, retention};

/// How often, at most, messages past the retention are purged.
pub const PURGE_EVERY: Duration = Duration::from_secs(60);

/// How long a receipt that names no message is kept when MESSAGE_RETENTION_DAYS is 0.
const UNMATCHED_RECEIPTS_KEPT: Duration = Duration::from_secs(7 * 86_400);

/// How long one turn may delete for.
const PURGE_BUDGET: Duration = Duration::from_secs(2);

/// Below this much time left, a run does not start purging.
const LEAST_PURGE_TIME: Duration = Duration::from_millis(200);

impl Dispatcher {
    /// If this minute's turn is free: deletes a chunk of unmatched receipts past their keeping,
    /// then messages past the retention if it is on, until the backlog is gone, PURGE_BUDGET
    /// has passed, or `run_ends`. Returns how many messages it deleted; a failure is logged,
    /// not the run's: its sends are already recorded.
    pub(super) async fn purge_if_due(&self, run_ends: Instant) -> u64 {
        let until = run_ends.min(Instant::now() + PURGE_BUDGET);
        if until.saturating_duration_since(Instant::now()) < LEAST_PURGE_TIME || !self.may_ask_for_turn() {
            return 0;
        }
        match self.purge(until).await {
            Ok(purged) => purged,
            Err(err) => {
                tracing::warn!(error = %err, "retention: purge failed; the next turn retries");
                0
            }
        }
    }

    /// This process asks the database for the turn at most once a PURGE_EVERY.
    fn may_ask_for_turn(&self) -> bool {
        let mut asked = self.purge_asked.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if asked.is_some_and(|at| at.elapsed() < PURGE_EVERY) {
            return false;
        }
        *asked = Some(Instant::now());
        true
    }

    async fn purge(&self, until: Instant) -> sqlx::Result<u64> {
        if !retention::take_turn(&self.pool, PURGE_EVERY).await? {
            return Ok(0);
        }
        let before = |age: Duration| {
            chrono::Utc::now() - chrono::Duration::from_std(age).unwrap_or(chrono::Duration::MAX)
        };
        // Receipts that never matched a message are kept as long as messages are, a week
        // without a retention; a chunk a turn keeps up with any provider.
        let kept = self.config.dispatch.retention().unwrap_or(UNMATCHED_RECEIPTS_KEPT);
        let dropped = receipts::purge_unmatched(&self.pool, before(kept), retention::PURGE_CHUNK).await?;
        if dropped > 0 {
            tracing::info!(dropped, "unmatched delivery receipts past their keeping deleted");
        }
        let Some(retention) = self.config.dispatch.retention() else {
            return Ok(0);
        };
        let cutoff = before(retention);
        let purged = retention::purge_past(&self.pool, cutoff, Some(until), |_| ()).await?;
        if purged > 0 {
            tracing::info!(
                purged,
                retention_days = retention.as_secs() / 86_400,
                "retention: messages past the retention deleted"
            );
        }
        Ok(purged)
    }
}
