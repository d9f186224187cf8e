//! Plays EventBridge: a dispatch run every period while the scheduler state is `running`,
//! the first one at once, and another at once whenever the scheduler is started.

use std::time::Duration;

use dispatcher_api::scheduler::LocalScheduler;
use dispatcher_core::dispatch::{Dispatcher, RunLimits};
use tokio_util::sync::CancellationToken;

pub async fn run(
    dispatcher: Dispatcher,
    scheduler: LocalScheduler,
    period: Duration,
    budget: Duration,
    shutdown: CancellationToken,
) {
    let wake = scheduler.wake_signal();
    loop {
        match scheduler.is_running().await {
            Ok(true) => {
                let limits = RunLimits { batch_size: None, budget };
                if let Err(err) = dispatcher.run_until(limits, &shutdown).await {
                    tracing::warn!(error = %err, "dispatch run failed; the next period retries");
                }
            }
            Ok(false) => tracing::debug!("scheduler stopped; skipping this period"),
            Err(err) => tracing::warn!(error = %err, "cannot read the scheduler state"),
        }
        tokio::select! {
            () = tokio::time::sleep(period) => {},
            () = wake.notified() => {},
            () = shutdown.cancelled() => return,
        }
    }
}
