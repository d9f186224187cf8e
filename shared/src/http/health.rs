//! `/live` is the process alone; `/health` and `/ready` also check PostgreSQL and,
//! when configured, Redis, and answer 503 while either is unreachable.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::AppState;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let postgres = check_postgres(&state).await;
    let redis = check_redis(&state).await;
    let healthy = postgres == "ok" && matches!(redis, "ok" | "not_configured");
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if healthy { "ok" } else { "unavailable" },
        "checks": { "postgres": postgres, "redis": redis },
    });
    (status, Json(body))
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
    let mut conn = redis.manager();
    let command = redis::cmd("PING");
    let ping = command.query_async::<String>(&mut conn);
    let answered = match tokio::time::timeout(CHECK_TIMEOUT, ping).await {
        Ok(result) => redis.observe(result, "health check").is_some(),
        Err(_) => false,
    };
    if answered {
        "ok"
    } else {
        "unavailable"
    }
}
