//! Scheduler control routes: start, stop, status, recent runs.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use serde::Serialize;

use super::params::only_query_int;
use super::problem::{ApiError, Problem};
use super::AppState;
use crate::repository::{dispatch_runs, messages, receiver_breaker, DispatchRun, ReceiverBreaker, Stats};
use crate::scheduler::{rate_interval, ScheduleInfo, ScheduleState, SchedulerError};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SchedulerStatus {
    pub state: ScheduleState,
    /// `local` or `eventbridge`.
    pub backend: &'static str,
    /// The EventBridge schedule expression; `null` for the local backend.
    pub schedule_expression: Option<String>,
    pub interval_seconds: u64,
    pub batch_size: u32,
    pub last_run: Option<DispatchRun>,
    pub stats: Stats,
    /// The receiver circuit breaker, shared by every dispatch run: `open` means the receiver
    /// looks down (sends paused, no message spends an attempt); `closed` means failures, if
    /// any, are the messages' own.
    pub receiver: ReceiverBreaker,
}

impl From<SchedulerError> for ApiError {
    fn from(err: SchedulerError) -> Self {
        Self::Internal(anyhow::Error::new(err))
    }
}

/// Enables the schedule and runs the dispatcher once at once. Idempotent.
#[utoipa::path(post, path = "/api/v1/scheduler/start", tag = "scheduler",
    responses((status = 200, description = "running", body = SchedulerStatus)))]
pub async fn start(State(state): State<AppState>) -> Result<Json<SchedulerStatus>, ApiError> {
    let schedule = state.scheduler.start().await?;
    status_with(&state, schedule).await
}

/// Disables the schedule; a run in flight finishes its claimed messages. Idempotent.
#[utoipa::path(post, path = "/api/v1/scheduler/stop", tag = "scheduler",
    responses((status = 200, description = "stopped", body = SchedulerStatus)))]
pub async fn stop(State(state): State<AppState>) -> Result<Json<SchedulerStatus>, ApiError> {
    let schedule = state.scheduler.stop().await?;
    status_with(&state, schedule).await
}

/// The schedule's state, settings, last run and message counts.
#[utoipa::path(get, path = "/api/v1/scheduler/status", tag = "scheduler",
    responses((status = 200, description = "the status", body = SchedulerStatus)))]
pub async fn status(State(state): State<AppState>) -> Result<Json<SchedulerStatus>, ApiError> {
    let schedule = state.scheduler.status().await?;
    status_with(&state, schedule).await
}

async fn status_with(state: &AppState, schedule: ScheduleInfo) -> Result<Json<SchedulerStatus>, ApiError> {
    let last_run = dispatch_runs::recent(&state.pool, 1).await?.into_iter().next();
    let interval = schedule
        .expression
        .as_deref()
        .and_then(rate_interval)
        .unwrap_or_else(|| state.config.scheduler.interval());
    Ok(Json(SchedulerStatus {
        state: schedule.state,
        backend: state.scheduler.backend(),
        schedule_expression: schedule.expression,
        interval_seconds: interval.as_secs(),
        batch_size: state.config.dispatch.batch_size,
        last_run,
        stats: messages::stats(&state.pool).await?,
        receiver: receiver_breaker::get(&state.pool).await?,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunList {
    /// Newest first.
    pub items: Vec<DispatchRun>,
}

/// The most recent dispatch runs with their counts and errors.
#[utoipa::path(get, path = "/api/v1/scheduler/runs", tag = "scheduler",
    params(("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "how many (default 10)")),
    responses(
        (status = 200, description = "the runs, newest first", body = RunList),
        (status = 400, description = "limit out of range", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn runs(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<RunList>, ApiError> {
    let limit = only_query_int(&query, "limit", 10, 1, 100)?;
    Ok(Json(RunList { items: dispatch_runs::recent(&state.pool, i64::from(limit)).await? }))
}
