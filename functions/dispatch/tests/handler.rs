//! The Lambda handler driven as Lambda drives it: a `LambdaEvent` with a real EventBridge
//! Scheduler payload and a `Context` with a deadline, against real PostgreSQL and a real receiver.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::routing::post;
use axum::Router;
use dispatch::DispatchFunction;
use dispatcher_core::dispatch::Dispatcher;
use dispatcher_core::Config;
use lambda_runtime::{Context, LambdaEvent};
use sqlx::PgPool;
use testkit::messages::insert_pending;
use testkit::Receiver;

/// The payload our schedule sends (template.yaml, and local/events/scheduler.json).
const SCHEDULER_EVENT: &str = include_str!("../../../local/events/scheduler.json");

fn lambda_event(payload: serde_json::Value) -> LambdaEvent<serde_json::Value> {
    lambda_event_with(payload, Duration::from_secs(30))
}

/// An invocation with `left` before its deadline, as Lambda gives a function with that Timeout.
fn lambda_event_with(payload: serde_json::Value, left: Duration) -> LambdaEvent<serde_json::Value> {
    let mut context = Context::default();
    context.request_id = "8f1c6ad8-0e9c-4c8b-a3a1-5d3b1d7f0c11".into();
    context.invoked_function_arn =
        "arn:aws:lambda:eu-west-1:123456789012:function:message-dispatcher-dispatch".into();
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + left;
    context.deadline = deadline.as_millis() as u64;
    LambdaEvent::new(payload, context)
}

fn function(pool: &PgPool, url: &str, batch_size: &str) -> DispatchFunction {
    function_with_metrics(pool, url, batch_size).0
}

/// The function, and the metrics records it writes (stdout on Lambda).
fn function_with_metrics(
    pool: &PgPool,
    url: &str,
    batch_size: &str,
) -> (DispatchFunction, Arc<Mutex<Vec<String>>>) {
    let config = Config::from_pairs(&[
        ("WEBHOOK_URL", url),
        ("WEBHOOK_AUTH_KEY", "k"),
        ("MESSAGE_BATCH_SIZE", batch_size),
        ("WEBHOOK_RATE_LIMIT_PER_SECOND", "1000"),
    ])
    .unwrap();
    let records: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = records.clone();
    let function = DispatchFunction::with_metrics(
        Dispatcher::from_config(&config, pool.clone()).unwrap(),
        pool.clone(),
        "message-dispatcher-DispatchFunction".into(),
        Box::new(move |line| sink.lock().unwrap().push(line.to_owned())),
    );
    (function, records)
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_scheduler_invocation_sends_one_batch_and_returns_the_summary(pool: PgPool) {
    insert_pending(&pool, 5).await;
    let receiver = Receiver::accepting().await;
    let payload: serde_json::Value = serde_json::from_str(SCHEDULER_EVENT).unwrap();

    // Due since they were created, an hour ago.
    sqlx::query("UPDATE messages SET next_attempt_at = created_at").execute(&pool).await.unwrap();
    let (function, records) = function_with_metrics(&pool, &receiver.url, "2");
    let summary = function.handle(lambda_event(payload)).await.unwrap();
    assert_eq!((summary.claimed, summary.sent, summary.retried, summary.failed), (2, 2, 0, 0));

    // One Embedded Metric Format record for the run; 3 messages are still due.
    let records = records.lock().unwrap().clone();
    assert_eq!(records.len(), 1);
    let record: serde_json::Value = serde_json::from_str(&records[0]).unwrap();
    let directive = &record["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "MessageDispatcher");
    assert_eq!(directive["Dimensions"], serde_json::json!([["FunctionName"]]));
    assert_eq!(record["FunctionName"], "message-dispatcher-DispatchFunction");
    assert_eq!(
        (record["Claimed"].as_i64(), record["Sent"].as_i64(), record["BreakerOpen"].as_i64()),
        (Some(2), Some(2), Some(0))
    );
    assert!(
        record["OldestPendingAgeSeconds"].as_f64().unwrap() >= 3599.0,
        "due since about an hour: {record}"
    );
    assert!(record["RunDurationMs"].is_u64());
    assert_eq!(receiver.received().len(), 2);
    let json = serde_json::to_value(summary).unwrap();
    for field in ["claimed", "sent", "retried", "failed", "duration_ms"] {
        assert!(json.get(field).is_some(), "summary has {field}: {json}");
    }
    let sent =
        testkit::database::fetch_i64(&pool, "SELECT count(*) FROM messages WHERE status = 'sent'").await;
    assert_eq!(sent, 2);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_batch_size_in_the_payload_overrides_the_configured_one(pool: PgPool) {
    insert_pending(&pool, 5).await;
    let receiver = Receiver::accepting().await;
    let summary = function(&pool, &receiver.url, "2")
        .handle(lambda_event(serde_json::json!({"batch_size": 4})))
        .await
        .unwrap();
    assert_eq!(summary.sent, 4);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_bad_batch_size_is_an_error_and_sends_nothing(pool: PgPool) {
    insert_pending(&pool, 2).await;
    let receiver = Receiver::accepting().await;
    let err = function(&pool, &receiver.url, "2")
        .handle(lambda_event(serde_json::json!({"batch_size": "lots"})))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("batch_size must be an integer"));
    assert!(receiver.received().is_empty());
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn an_invocation_too_short_for_one_webhook_timeout_claims_nothing_and_says_budget_too_short(
    pool: PgPool,
) {
    insert_pending(&pool, 2).await;
    let receiver = Receiver::accepting().await;
    let payload: serde_json::Value = serde_json::from_str(SCHEDULER_EVENT).unwrap();
    // WEBHOOK_TIMEOUT_SECONDS is 10 by default: 8 s left cannot fit one request.
    let err = function(&pool, &receiver.url, "2")
        .handle(lambda_event_with(payload, Duration::from_secs(8)))
        .await
        .unwrap_err();
    let diagnostic: lambda_runtime::Diagnostic = err.into();
    assert_eq!(diagnostic.error_type, "BudgetTooShort");
    let message = diagnostic.error_message;
    assert!(
        message.contains("the function's Timeout") && message.contains("WEBHOOK_TIMEOUT_SECONDS=10"),
        "{message}"
    );
    assert!(message.contains("nothing was claimed"), "{message}");
    assert!(receiver.received().is_empty());
    let untouched = testkit::database::fetch_i64(
        &pool,
        "SELECT count(*) FROM messages WHERE status = 'pending' AND attempts = 0",
    )
    .await;
    assert_eq!(untouched, 2, "nothing claimed, no attempt spent");
}

/// A minimal Lambda Runtime API that records what arrives at `/runtime/init/error`.
async fn runtime_api() -> (String, Arc<Mutex<Vec<(String, serde_json::Value)>>>) {
    let reports: Arc<Mutex<Vec<(String, serde_json::Value)>>> = Arc::default();
    let seen = reports.clone();
    let app = Router::new().route(
        "/2018-06-01/runtime/init/error",
        post(move |headers: axum::http::HeaderMap, body: String| async move {
            let error_type = headers["lambda-runtime-function-error-type"].to_str().unwrap().to_owned();
            seen.lock().unwrap().push((error_type, serde_json::from_str(&body).unwrap()));
            axum::http::StatusCode::ACCEPTED
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (address, reports)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn started_without_its_configuration_the_function_logs_one_readable_line_and_reports_it() {
    let (api, reports) = runtime_api().await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_dispatch"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "message-dispatcher-DispatchFunction")
        .env("WEBHOOK_URL", "http://127.0.0.1:9/hook")
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    let record: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON log record on Lambda");
    assert_eq!(record["level"], "ERROR");
    let message = record["message"].as_str().unwrap();
    assert!(message.starts_with("invalid DATABASE_URL (not set): expected a postgres:// URL"), "{message}");
    assert!(!stderr.contains("ConfigError {"), "no debug form: {stderr}");
    let reports = reports.lock().unwrap().clone();
    assert_eq!(reports.len(), 1, "reported to the Runtime API's init error endpoint");
    assert_eq!(reports[0].0, "InvalidConfiguration");
    assert_eq!(reports[0].1["errorType"], "InvalidConfiguration");
    assert_eq!(reports[0].1["errorMessage"], message);
}
