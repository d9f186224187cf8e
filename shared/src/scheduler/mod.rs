//! Scheduler control: start/stop/status over a backend chosen by configuration.
//! Local (no SCHEDULE_NAME): the `scheduler_state` row, obeyed by the local harness's ticker.

mod local;

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

pub use local::LocalScheduler;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleState {
    Running,
    Stopped,
}

#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error("scheduler state unavailable: {0}")]
    Database(#[from] sqlx::Error),
    #[error("unexpected scheduler state {0:?}")]
    Unknown(String),
}

pub type SchedulerFuture<'a> =
    Pin<Box<dyn Future<Output = Result<ScheduleState, SchedulerError>> + Send + 'a>>;

/// Both operations are idempotent: starting a running schedule changes nothing.
pub trait SchedulerControl: Send + Sync {
    /// `local` or `eventbridge`, as the status reports it.
    fn backend(&self) -> &'static str;
    /// Enables the schedule and asks for one run at once.
    fn start(&self) -> SchedulerFuture<'_>;
    /// Disables the schedule; a run in flight finishes its claimed messages.
    fn stop(&self) -> SchedulerFuture<'_>;
    fn state(&self) -> SchedulerFuture<'_>;
}
