//! Receipts that arrived before their message's send was recorded wait in `unmatched_receipts`
//! (the provider called back before our record committed). Every run applies those whose
//! message is now recorded, once its own sends are: a receipt that raced the record of its send
//! is applied by the end of that run, or of the next one (bounded, and only receipts young
//! enough to still match). With none waiting this is one index probe.

use super::Dispatcher;
use crate::repository::receipts;

/// Waiting receipts applied per run at most.
const RECEIPTS_PER_RUN: i64 = 1000;

impl Dispatcher {
    /// Applies the waiting receipts whose messages are now recorded; a failure is logged, not
    /// the run's: its sends are already recorded, and the next run tries again.
    pub(super) async fn apply_waiting_receipts(&self) {
        match receipts::apply_unmatched(&self.pool, RECEIPTS_PER_RUN).await {
            Ok(0) => {}
            Ok(applied) => tracing::info!(applied, "delivery receipts that came before their send applied"),
            Err(err) => {
                tracing::warn!(error = %err, "applying waiting receipts failed; the next run retries")
            }
        }
    }
}
