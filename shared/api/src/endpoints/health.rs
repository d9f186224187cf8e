//! `/live` is the process alone; `/health` and `/ready` also check PostgreSQL and,
//! when configured, Redis, and answer 503 while either is unreachable.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;

use crate::state::AppState;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HealthReport {
    /// `ok` or `unavailable`.
    #[schema(example = "ok")]
    pub status: &'static str,
    pub checks: HealthChecks,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HealthChecks {
    /// `ok` or `unavailable`.
    pub postgres: &'static str,
    /// `ok`, `unavailable` or `not_configured`.
    pub redis: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Liveness {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up (no dependency checked).
#[utoipa::path(get, path = "/live", tag = "health", responses((status = 200, body = Liveness)))]
pub async fn live() -> Json<Liveness> {
    Json(Liveness { status: "ok" })
}

/// PostgreSQL and (when configured) Redis answer.
#[utoipa::path(get, path = "/health", tag = "health", responses(
    (status = 200, description = "every dependency answers", body = HealthReport),
    (status = 503, description = "a dependency is unreachable", body = HealthReport),
))]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<HealthReport>) {
    let checks = HealthChecks { postgres: check_postgres(&state).await, redis: check_redis(&state).await };
    let healthy = checks.postgres == "ok" && matches!(checks.redis, "ok" | "not_configured");
    let status = if healthy { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let report = HealthReport { status: if healthy { "ok" } else { "unavailable" }, checks };
    (status, Json(report))
}

/// Ready to serve: the same checks as `/health`.
#[utoipa::path(get, path = "/ready", tag = "health", responses(
    (status = 200, description = "ready", body = HealthReport),
    (status = 503, description = "a dependency is unreachable", body = HealthReport),
))]
pub async fn ready(state: State<AppState>) -> (StatusCode, Json<HealthReport>) {
    health(state).await
}

async fn check_postgres(state: &AppState) -> &'static str {
    let ping = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&state.pool);
    match tokio::time::timeout(CHECK_TIMEOUT, ping).await {
        Ok(Ok(_)) => "ok",
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "health check: PostgreSQL unavailable");
            "unavailable"
        }
        Err(_) => "unavailable",
    }
}

async fn check_redis(state: &AppState) -> &'static str {
    let Some(redis) = &state.redis else {
        return "not_configured";
    };
    if redis.ping(CHECK_TIMEOUT).await {
        "ok"
    } else {
        "unavailable"
    }
}
