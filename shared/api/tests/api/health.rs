//! The health routes through the real router, against real PostgreSQL and Redis.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dispatcher_api::scheduler::LocalScheduler;
use dispatcher_api::{router, AppState};
use dispatcher_core::redis_connection::RedisConnection;
use dispatcher_core::Config;
use http_body_util::BodyExt;
use secrecy::SecretString;
use sqlx::PgPool;
use tower::ServiceExt;

fn state(pool: PgPool, redis_url: Option<&str>) -> AppState {
    let redis = redis_url.map(|url| RedisConnection::lazy(&SecretString::from(url)).unwrap());
    let scheduler = Arc::new(LocalScheduler::new(pool.clone()));
    AppState::new(pool, redis, Arc::new(Config::from_pairs(&[]).unwrap()), scheduler)
}

async fn get(state: AppState, path: &str) -> (StatusCode, serde_json::Value) {
    let request = Request::get(path).body(Body::empty()).unwrap();
    let response = router(state).oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap())
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn health_and_ready_check_postgres_and_redis(pool: PgPool) {
    for path in ["/health", "/ready"] {
        let (status, body) = get(state(pool.clone(), Some("redis://127.0.0.1:6379")), path).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["checks"], serde_json::json!({"postgres": "ok", "redis": "ok"}));
        let (status, body) = get(state(pool.clone(), None), path).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["checks"]["redis"], "not_configured");
    }
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn an_unreachable_redis_makes_health_503(pool: PgPool) {
    let (status, body) = get(state(pool, Some("redis://127.0.0.1:1")), "/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["checks"]["redis"], "unavailable");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_closed_database_makes_ready_503_while_live_stays_200(pool: PgPool) {
    let state = state(pool.clone(), None);
    pool.close().await;
    let (status, body) = get(state.clone(), "/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["checks"]["postgres"], "unavailable");
    let (status, _) = get(state, "/live").await;
    assert_eq!(status, StatusCode::OK);
}
