//! `GET /api/v1/metrics/throughput`: sent and failed messages per minute, for charts.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;

use super::params::only_query_int;
use super::problem::{ApiError, Problem};
use super::AppState;
use crate::repository::throughput::{self, Throughput};

/// A day of minutes at most.
pub const MAX_MINUTES: u32 = 1440;

/// Per-minute counts for the last `minutes` minutes (the current one included), oldest first.
#[utoipa::path(get, path = "/api/v1/metrics/throughput", tag = "metrics",
    params(("minutes" = Option<u32>, Query, minimum = 1, maximum = 1440, description = "window (default 60)")),
    responses(
        (status = 200, description = "one point per minute, zero-filled", body = Throughput),
        (status = 400, description = "minutes out of range", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn throughput(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Throughput>, ApiError> {
    let minutes = only_query_int(&query, "minutes", 60, 1, MAX_MINUTES)?;
    Ok(Json(throughput::per_minute(&state.pool, minutes).await?))
}
