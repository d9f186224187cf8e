//! Scheduler control routes: start, stop, status.

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use super::problem::ApiError;
use super::AppState;
use crate::repository::{dispatch_runs, messages, DispatchRun, Stats};
use crate::scheduler::{ScheduleState, SchedulerError};

#[derive(Debug, Serialize)]
pub struct SchedulerStatus {
    pub state: ScheduleState,
    pub backend: &'static str,
    pub interval_seconds: u64,
    pub batch_size: u32,
    pub last_run: Option<DispatchRun>,
    pub stats: Stats,
}

impl From<SchedulerError> for ApiError {
    fn from(err: SchedulerError) -> Self {
        Self::Internal(anyhow::Error::new(err))
    }
}

pub async fn start(State(state): State<AppState>) -> Result<Json<SchedulerStatus>, ApiError> {
    let schedule = state.scheduler.start().await?;
    status_with(&state, schedule).await
}

pub async fn stop(State(state): State<AppState>) -> Result<Json<SchedulerStatus>, ApiError> {
    let schedule = state.scheduler.stop().await?;
    status_with(&state, schedule).await
}

pub async fn status(State(state): State<AppState>) -> Result<Json<SchedulerStatus>, ApiError> {
    let schedule = state.scheduler.state().await?;
    status_with(&state, schedule).await
}

async fn status_with(
    state: &AppState,
    schedule: ScheduleState,
) -> Result<Json<SchedulerStatus>, ApiError> {
    let last_run = dispatch_runs::recent(&state.pool, 1)
        .await?
        .into_iter()
        .next();
    Ok(Json(SchedulerStatus {
        state: schedule,
        backend: state.scheduler.backend(),
        interval_seconds: state.config.interval().as_secs(),
        batch_size: state.config.batch_size,
        last_run,
        stats: messages::stats(&state.pool).await?,
    }))
}
