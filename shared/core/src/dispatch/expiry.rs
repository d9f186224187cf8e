//! Expiry on the dispatch path: after its sends, every run ends `expired` the pending messages
//! whose `expires_at` has passed, a bounded chunk per statement for a bounded time, so a backlog
//! of them (an outage that outlived a campaign's one-time codes) is cleared within a few runs
//! without ever holding back the sends of the others. The claim skips them meanwhile.

use std::time::Duration;

use tokio::time::Instant;

use super::Dispatcher;
use crate::repository::expiry;

/// How long one run may expire messages for.
const EXPIRY_BUDGET: Duration = Duration::from_millis(500);

/// Messages expired per statement.
pub const EXPIRY_CHUNK: i64 = 1000;

impl Dispatcher {
    /// Ends `expired` the pending messages past their `expires_at`, oldest expiry first, until
    /// none are left, EXPIRY_BUDGET has passed or `run_ends`. Returns how many; a failure is
    /// logged, not the run's: its sends are already recorded.
    pub(super) async fn expire_due(&self, run_ends: Instant) -> i32 {
        let until = run_ends.min(Instant::now() + EXPIRY_BUDGET);
        match expiry::expire_due(&self.pool, EXPIRY_CHUNK, Some(until)).await {
            Ok(0) => 0,
            Ok(expired) => {
                tracing::info!(expired, "expired messages: not sent by their expires_at");
                i32::try_from(expired).unwrap_or(i32::MAX)
            }
            Err(err) => {
                tracing::warn!(error = %err, "expiry failed; the next run retries");
                0
            }
        }
    }
}
