//! Scheduler control routes: start, stop, status, recent runs.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use dispatcher_core::domain::BreakerState;
use dispatcher_core::repository::{dispatch_runs, receiver_breaker, stats, DispatchRun, ReceiverBreaker};
use serde::Serialize;

use crate::params::{QueryErrors, QueryParams};
use crate::problem::ApiError;
use crate::scheduler::{rate_interval, ScheduleInfo, ScheduleState, SchedulerError};
use crate::state::AppState;
use crate::wire::{wire_enum, StatsOut};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SchedulerStatus {
    pub state: ScheduleState,
    /// `local` or `eventbridge`.
    pub backend: &'static str,
    /// The EventBridge schedule expression; `null` for the local backend.
    pub schedule_expression: Option<String>,
    pub interval_seconds: u64,
    pub batch_size: u32,
    pub last_run: Option<DispatchRunOut>,
    pub stats: StatsOut,
    /// The receiver circuit breaker, shared by every dispatch run: `open` means the receiver
    /// looks down (sends paused, no message spends an attempt); `closed` means failures, if
    /// any, are the messages' own.
    pub receiver: ReceiverBreakerOut,
}

/// One dispatch run: what it claimed and what became of it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = DispatchRun)]
pub struct DispatchRunOut {
    pub id: i64,
    pub started_at: DateTime<Utc>,
    /// `null` while the run is going (or if it died).
    pub finished_at: Option<DateTime<Utc>>,
    pub claimed: i32,
    pub sent: i32,
    pub retried: i32,
    pub failed: i32,
    /// Claims handed back unsent (time ran short, a shutdown, or the receiver breaker opened).
    pub released: i32,
    /// Messages that ended `expired` in the run: not sent by their `expires_at`.
    pub expired: i32,
    /// The run held back sends because the receiver breaker was open.
    pub breaker_open: bool,
    /// Messages past MESSAGE_RETENTION_DAYS the run deleted.
    pub purged: i64,
    pub error: Option<String>,
}

impl From<DispatchRun> for DispatchRunOut {
    fn from(run: DispatchRun) -> Self {
        let summary = run.summary;
        Self {
            id: summary.run_id,
            started_at: run.started_at,
            finished_at: run.finished_at,
            claimed: summary.claimed,
            sent: summary.sent,
            retried: summary.retried,
            failed: summary.failed,
            released: summary.released,
            expired: summary.expired,
            breaker_open: summary.breaker_open,
            purged: i64::try_from(summary.purged).unwrap_or(i64::MAX),
            error: run.error,
        }
    }
}

/// The receiver circuit breaker.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ReceiverBreaker)]
pub struct ReceiverBreakerOut {
    pub state: BreakerStateOut,
    /// When the current state began.
    pub since: DateTime<Utc>,
    /// Endpoint-level failures in a row (connection errors, timeouts, 5xx, 429 without a usable
    /// Retry-After); any answer that shows the receiver is up resets it.
    pub consecutive_failures: i32,
    /// The share of endpoint failures among the last `window_results` endpoint results: the
    /// figure that opens the breaker (at RECEIVER_BREAKER_FAILURE_RATE, once the window holds
    /// RECEIVER_BREAKER_WINDOW results); `null` before any result since it last closed.
    pub failure_rate: Option<f64>,
    /// Endpoint results the failure rate is taken over, up to RECEIVER_BREAKER_WINDOW.
    pub window_results: i32,
    /// The last endpoint-level failure.
    pub last_error: Option<String>,
    /// `open`: when the next probe may go; `half_open`: when a probe that never reported is
    /// given up; `closed`: `null`.
    pub next_probe_at: Option<DateTime<Utc>>,
}

impl From<ReceiverBreaker> for ReceiverBreakerOut {
    fn from(breaker: ReceiverBreaker) -> Self {
        Self {
            state: breaker.state.into(),
            since: breaker.since,
            consecutive_failures: breaker.consecutive_failures,
            failure_rate: breaker.failure_rate(),
            window_results: breaker.window_results,
            last_error: breaker.last_error,
            next_probe_at: breaker.next_probe_at,
        }
    }
}

wire_enum! {
    /// The receiver breaker's state: `closed` (the receiver answers: send as usual), `open` (it
    /// looks down: nothing is sent until the next probe) or `half_open` (one run is sending one
    /// probe; its answer closes or reopens the breaker).
    BreakerStateOut for BreakerState, named "BreakerState"
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
        last_run: last_run.map(DispatchRunOut::from),
        stats: stats::all(&state.pool).await?.into(),
        receiver: receiver_breaker::get(&state.pool).await?.into(),
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunList {
    /// Newest first.
    pub items: Vec<DispatchRunOut>,
}

/// The most recent dispatch runs with their counts and errors.
#[utoipa::path(get, path = "/api/v1/scheduler/runs", tag = "scheduler",
    params(("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "how many (default 10)")),
    responses(
        (status = 200, description = "the runs, newest first", body = RunList),
        QueryErrors,
    ))]
pub async fn runs(State(state): State<AppState>, query: QueryParams) -> Result<Json<RunList>, ApiError> {
    let limit = query.only_int("limit", 10, 1, 100)?;
    let runs = dispatch_runs::recent(&state.pool, i64::from(limit)).await?;
    Ok(Json(RunList { items: runs.into_iter().map(DispatchRunOut::from).collect() }))
}
