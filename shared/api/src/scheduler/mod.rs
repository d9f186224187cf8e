//! Scheduler control: start/stop/status over a backend chosen by configuration.
//! - EventBridge (SCHEDULE_NAME set): the real schedule, through aws-sdk-scheduler.
//! - Local (no SCHEDULE_NAME): the `scheduler_state` row, obeyed by the local harness's ticker.

mod eventbridge;
mod local;
mod rate_expression;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;
use sqlx::PgPool;

use dispatcher_core::aws_http_client::{self, AwsHttpClientError};
use dispatcher_core::Config;

pub use eventbridge::{EventBridgeScheduler, ImmediateRun};
pub use local::LocalScheduler;
pub use rate_expression::rate_interval;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleState {
    Running,
    Stopped,
}

/// What a backend knows of its schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleInfo {
    pub state: ScheduleState,
    /// The schedule expression (EventBridge), e.g. `rate(2 minutes)`.
    pub expression: Option<String>,
}

impl ScheduleInfo {
    pub fn local(state: ScheduleState) -> Self {
        Self { state, expression: None }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error("scheduler state unavailable: {0}")]
    Database(#[from] sqlx::Error),
    #[error("unexpected scheduler state {0:?}")]
    Unknown(String),
    #[error("EventBridge Scheduler call failed: {0}")]
    Aws(String),
}

pub type SchedulerFuture<'a> =
    Pin<Box<dyn Future<Output = Result<ScheduleInfo, SchedulerError>> + Send + 'a>>;

/// Both operations are idempotent: starting a running schedule changes nothing.
pub trait SchedulerControl: Send + Sync {
    /// `local` or `eventbridge`, as the status reports it.
    fn backend(&self) -> &'static str;
    /// Enables the schedule and asks for one run at once.
    fn start(&self) -> SchedulerFuture<'_>;
    /// Disables the schedule; a run in flight finishes its claimed messages.
    fn stop(&self) -> SchedulerFuture<'_>;
    fn status(&self) -> SchedulerFuture<'_>;
}

/// The backend the configuration asks for: EventBridge when SCHEDULE_NAME is set (AWS
/// credentials and region from the usual chain; `AWS_ENDPOINT_URL` overrides the endpoint),
/// else the local row.
pub async fn from_config(
    config: &Config,
    pool: PgPool,
) -> Result<Arc<dyn SchedulerControl>, AwsHttpClientError> {
    let Some(name) = &config.scheduler.schedule_name else {
        return Ok(Arc::new(LocalScheduler::new(pool)));
    };
    let aws = aws_http_client::load_config().await?;
    let immediate_run = config
        .scheduler
        .dispatch_function_name
        .clone()
        .map(|function_name| ImmediateRun { lambda: aws_sdk_lambda::Client::new(&aws), function_name });
    let client = aws_sdk_scheduler::Client::new(&aws);
    Ok(Arc::new(EventBridgeScheduler::new(
        client,
        name.clone(),
        config.scheduler.schedule_group.clone(),
        immediate_run,
    )))
}
