//! `GET /metrics`: the Prometheus gauges, computed from the database, under the bearer rule.

use crate::support;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use sqlx::PgPool;
use support::api::{app, assert_problem, fetch, get, send};

/// The value of the one sample line that starts with `series ` (name and labels).
fn sample(text: &str, series: &str) -> f64 {
    let prefix = format!("{series} ");
    let line = text
        .lines()
        .find(|line| line.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"));
    line[prefix.len()..].parse().unwrap()
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_gauges_come_from_the_database(pool: PgPool) {
    let empty = fetch(app(&pool, &[]), get("/metrics")).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.content_type(), "text/plain; version=0.0.4; charset=utf-8");
    let text = empty.text();
    assert_eq!(sample(&text, "message_dispatcher_oldest_pending_age_seconds"), 0.0, "nothing due");
    assert_eq!(sample(&text, "message_dispatcher_last_run_timestamp_seconds"), 0.0, "no run yet");
    assert_eq!(sample(&text, "message_dispatcher_receiver_breaker_open"), 0.0);
    assert_eq!(sample(&text, "message_dispatcher_receiver_failure_rate"), 0.0, "no result yet");

    testkit::messages::insert_pending(&pool, 3).await; // due since about an hour ago
    sqlx::query("UPDATE messages SET next_attempt_at = now() - interval '90 seconds'")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE messages SET status = 'sent', sent_at = now(), next_attempt_at = NULL
         WHERE id = (SELECT id FROM messages ORDER BY created_at DESC LIMIT 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let scheduled = support::insert(&pool, 9).await; // not due: not counted in the age
    support::update_one(&pool, &scheduled, "next_attempt_at = now() + interval '1 day'").await;
    let run = dispatcher_core::repository::dispatch_runs::start(&pool).await.unwrap().run_id;
    let started: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT started_at FROM dispatch_runs WHERE id = $1")
            .bind(run)
            .fetch_one(&pool)
            .await
            .unwrap();
    // Opened on 19 endpoint failures among its last 20 results.
    sqlx::query(
        "UPDATE receiver_breaker SET state = 'open', next_probe_at = now() + interval '1 minute',
         window_bits = (1::int8 << 20) - 2, window_results = 20",
    )
    .execute(&pool)
    .await
    .unwrap();

    let text = fetch(app(&pool, &[]), get("/metrics")).await.text();
    assert_eq!(sample(&text, r#"message_dispatcher_messages{status="pending"}"#), 3.0);
    assert_eq!(sample(&text, r#"message_dispatcher_messages{status="sent"}"#), 1.0);
    for status in ["processing", "failed", "cancelled"] {
        assert_eq!(sample(&text, &format!(r#"message_dispatcher_messages{{status="{status}"}}"#)), 0.0);
    }
    let age = sample(&text, "message_dispatcher_oldest_pending_age_seconds");
    assert!((90.0..120.0).contains(&age), "the oldest due message waits 90 s: {age}");
    assert_eq!(sample(&text, "message_dispatcher_receiver_breaker_open"), 1.0);
    assert_eq!(sample(&text, "message_dispatcher_receiver_failure_rate"), 0.95);
    let last_run = sample(&text, "message_dispatcher_last_run_timestamp_seconds");
    assert!((last_run - started.timestamp_millis() as f64 / 1000.0).abs() < 0.01, "{last_run}");
    for name in [
        "messages",
        "oldest_pending_age_seconds",
        "receiver_breaker_open",
        "receiver_failure_rate",
        "last_run_timestamp_seconds",
    ] {
        assert!(text.contains(&format!("# TYPE message_dispatcher_{name} gauge\n")), "{name}");
    }
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn metrics_need_the_bearer_when_a_token_is_set(pool: PgPool) {
    let token = [("API_AUTH_TOKEN", "s3cret-token")];
    assert_problem(&send(app(&pool, &token), get("/metrics")).await, 401, "bearer token");
    let request = Request::get("/metrics").header(header::AUTHORIZATION, "Bearer s3cret-token");
    let reply = fetch(app(&pool, &token), request.body(Body::empty()).unwrap()).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.text().contains("message_dispatcher_messages{status=\"pending\"} 0"));
}
