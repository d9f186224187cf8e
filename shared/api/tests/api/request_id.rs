//! Every request gets a request id (the caller's `x-request-id` or a new UUID), echoed in the
//! response and present on the request's log lines. (The logger is this test's thread's:
//! `set_default`.)

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dispatcher_api::scheduler::LocalScheduler;
use dispatcher_api::{router, AppState};
use dispatcher_core::Config;
use sqlx::PgPool;
use tower::ServiceExt;

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn request_ids_are_echoed_and_on_every_log_line_of_the_request(pool: PgPool) {
    let captured = testkit::log_capture::Captured::default();
    let writer = captured.clone();
    let _logging = testkit::log_capture::set_default(
        tracing_subscriber::fmt().json().with_current_span(true).with_writer(move || writer.clone()).finish(),
    );
    let scheduler = Arc::new(LocalScheduler::new(pool.clone()));
    let state = AppState::new(pool, None, Arc::new(Config::from_pairs(&[]).unwrap()), scheduler);

    let request = Request::get("/api/v1/messages/stats")
        .header("x-request-id", "req-7f3a")
        .body(Body::empty())
        .unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-request-id"], "req-7f3a");

    let logs = captured.text();
    let lines: Vec<&str> = logs.lines().filter(|l| l.contains("/api/v1/messages/stats")).collect();
    assert!(!lines.is_empty(), "the request was logged:\n{logs}");
    assert!(lines.iter().all(|l| l.contains(r#""request_id":"req-7f3a""#)), "{lines:?}");

    let response = router(state).oneshot(Request::get("/live").body(Body::empty()).unwrap()).await.unwrap();
    let generated = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(generated.parse::<uuid::Uuid>().is_ok(), "{generated}");
}
