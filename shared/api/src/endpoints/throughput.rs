//! `GET /api/v1/metrics/throughput`: sent and failed messages per minute, for charts.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use dispatcher_core::repository::throughput::{self, MinuteCounts, Throughput};
use serde::Serialize;

use crate::params::{QueryErrors, QueryParams};
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Throughput)]
pub struct ThroughputOut {
    pub minutes: u32,
    /// Exactly `minutes` points, oldest first, zero-filled; the last is the current minute.
    pub points: Vec<MinuteCountsOut>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MinuteCounts)]
pub struct MinuteCountsOut {
    /// The start of the minute (UTC).
    pub minute: DateTime<Utc>,
    pub sent: i64,
    /// Messages that became `failed` in this minute (a failed row's last update).
    pub failed: i64,
}

impl From<Throughput> for ThroughputOut {
    fn from(throughput: Throughput) -> Self {
        let points = throughput
            .points
            .into_iter()
            .map(|MinuteCounts { minute, sent, failed }| MinuteCountsOut { minute, sent, failed })
            .collect();
        Self { minutes: throughput.minutes, points }
    }
}

/// A day of minutes at most.
pub const MAX_MINUTES: u32 = 1440;

/// Per-minute counts for the last `minutes` minutes (the current one included), oldest first.
#[utoipa::path(get, path = "/api/v1/metrics/throughput", tag = "metrics",
    params(("minutes" = Option<u32>, Query, minimum = 1, maximum = 1440, description = "window (default 60)")),
    responses(
        (status = 200, description = "one point per minute, zero-filled", body = ThroughputOut),
        QueryErrors,
    ))]
pub async fn throughput(
    State(state): State<AppState>,
    query: QueryParams,
) -> Result<Json<ThroughputOut>, ApiError> {
    let minutes = query.only_int("minutes", 60, 1, MAX_MINUTES)?;
    Ok(Json(throughput::per_minute(&state.pool, minutes).await?.into()))
}
