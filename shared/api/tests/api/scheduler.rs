//! Scheduler control routes with the local backend, through the real router.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dispatcher_api::scheduler::LocalScheduler;
use dispatcher_api::{router, AppState};
use dispatcher_core::Config;
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;

async fn call(app: axum::Router, method: &str, path: &str) -> (StatusCode, Value) {
    let request = Request::builder().method(method).uri(path).body(Body::empty()).unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn app(pool: &PgPool, scheduler: &LocalScheduler) -> axum::Router {
    let config =
        Config::from_pairs(&[("MESSAGE_INTERVAL_MINUTES", "3"), ("MESSAGE_BATCH_SIZE", "7")]).unwrap();
    router(AppState::new(pool.clone(), None, Arc::new(config), Arc::new(scheduler.clone())))
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn status_reports_state_backend_settings_last_run_and_stats(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 2).await;
    let scheduler = LocalScheduler::new(pool.clone());
    let (status, body) = call(app(&pool, &scheduler), "GET", "/api/v1/scheduler/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["state"], "running", "the scheduler starts running");
    assert_eq!(body["backend"], "local");
    assert_eq!((body["interval_seconds"].as_u64(), body["batch_size"].as_u64()), (Some(180), Some(7)));
    assert!(body["last_run"].is_null());
    assert_eq!(body["stats"]["pending"], 2);

    let run = dispatcher_core::repository::dispatch_runs::start(&pool).await.unwrap().run_id;
    let (_, body) = call(app(&pool, &scheduler), "GET", "/api/v1/scheduler/status").await;
    assert_eq!(body["last_run"]["id"], run);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn stop_and_start_are_idempotent_and_persisted(pool: PgPool) {
    let scheduler = LocalScheduler::new(pool.clone());
    for _ in 0..2 {
        let (status, body) = call(app(&pool, &scheduler), "POST", "/api/v1/scheduler/stop").await;
        assert_eq!((status, body["state"].as_str()), (StatusCode::OK, Some("stopped")));
    }
    let stored: String =
        sqlx::query_scalar("SELECT state FROM scheduler_state").fetch_one(&pool).await.unwrap();
    assert_eq!(stored, "stopped");
    let changed_at: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT updated_at FROM scheduler_state").fetch_one(&pool).await.unwrap();
    call(app(&pool, &scheduler), "POST", "/api/v1/scheduler/stop").await;
    let unchanged: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT updated_at FROM scheduler_state").fetch_one(&pool).await.unwrap();
    assert_eq!(changed_at, unchanged, "a repeated stop changes nothing");

    for _ in 0..2 {
        let (status, body) = call(app(&pool, &scheduler), "POST", "/api/v1/scheduler/start").await;
        assert_eq!((status, body["state"].as_str()), (StatusCode::OK, Some("running")));
    }
    let (_, body) = call(app(&pool, &scheduler), "GET", "/api/v1/scheduler/status").await;
    assert_eq!(body["state"], "running");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn start_wakes_the_ticker_for_an_immediate_run(pool: PgPool) {
    let scheduler = LocalScheduler::new(pool.clone());
    let wake = scheduler.wake_signal();
    let woken =
        tokio::spawn(
            async move { tokio::time::timeout(Duration::from_secs(5), wake.notified()).await.is_ok() },
        );
    tokio::task::yield_now().await;
    call(app(&pool, &scheduler), "POST", "/api/v1/scheduler/start").await;
    assert!(woken.await.unwrap(), "start signalled the ticker");
}
