//! One test per answer class: each message lands in the state docs/design.md specifies.
//! Real PostgreSQL, a real HTTP receiver on 127.0.0.1.

use std::time::Duration;

use crate::support;
use chrono::Utc;
use dispatcher_core::domain::{Message, MessageStatus};
use dispatcher_core::repository::messages;
use sqlx::PgPool;
use support::dispatch::{limits, Setup};
use testkit::receiver::{refused_url, Receiver, Reply};

async fn dispatch_one(pool: &PgPool, setup: &Setup, url: &str) -> (Message, Option<String>) {
    let message = support::insert(pool, 1).await;
    let summary = setup.build(pool, url).run_once(limits()).await.unwrap();
    assert_eq!(summary.claimed, 1);
    let stored = messages::get(pool, message.id).await.unwrap().unwrap();
    let response: Option<String> = sqlx::query_scalar("SELECT webhook_response FROM messages WHERE id = $1")
        .bind(message.id.as_uuid())
        .fetch_one(pool)
        .await
        .unwrap();
    (stored, response)
}

/// Retried: pending again, due roughly `expected` from now.
fn assert_retry(message: &Message, code: &str, expected: Duration, slack: f64) {
    assert_eq!(message.status, MessageStatus::Pending, "{message:?}");
    assert_eq!(message.attempts, 1);
    assert_eq!(message.error_code.as_deref(), Some(code));
    assert!(message.last_error.is_some());
    let wait = (message.next_attempt_at.unwrap() - Utc::now()).to_std().unwrap_or_default().as_secs_f64();
    let expected = expected.as_secs_f64();
    assert!(
        wait >= expected * (1.0 - slack) - 1.0 && wait <= expected * (1.0 + slack),
        "waits {wait}s, expected ~{expected}s"
    );
}

fn assert_failed(message: &Message, code: &str) {
    assert_eq!(message.status, MessageStatus::Failed, "{message:?}");
    assert_eq!(message.attempts, 1);
    assert_eq!(message.error_code.as_deref(), Some(code));
    assert!(message.next_attempt_at.is_none() && message.sent_at.is_none());
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn accepted_with_a_message_id_is_sent(pool: PgPool) {
    let body = r#"{"message":"Accepted","messageId":"67f2f8a8-ea58-4ed0-a6f9-ff217df4d849"}"#;
    let receiver = Receiver::start(move |_| Reply::status(202, body)).await;
    let (message, response) = dispatch_one(&pool, &Setup::default(), &receiver.url).await;
    assert_eq!(message.status, MessageStatus::Sent);
    assert_eq!(message.webhook_message_id.as_deref(), Some("67f2f8a8-ea58-4ed0-a6f9-ff217df4d849"));
    assert_eq!(response.as_deref(), Some(body));
    assert_eq!(message.attempts, 1);
    assert!(message.sent_at.is_some() && message.next_attempt_at.is_none());
    assert!(message.error_code.is_none() && message.last_error.is_none());
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_server_error_is_retried_with_backoff(pool: PgPool) {
    let receiver = Receiver::start(|_| Reply::status(500, "database is down")).await;
    let (message, response) = dispatch_one(&pool, &Setup::default(), &receiver.url).await;
    assert_retry(&message, "http_500", Duration::from_secs(30), 0.2);
    assert_eq!(message.last_error.as_deref(), Some("HTTP 500 Internal Server Error"));
    assert_eq!(response.as_deref(), Some("database is down"));
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_timeout_is_retried(pool: PgPool) {
    let receiver = Receiver::start(|_| Reply::accepted().after(Duration::from_secs(3))).await;
    let setup = Setup::default().with_settings(|s| s.webhook.timeout = Duration::from_millis(300));
    let (message, response) = dispatch_one(&pool, &setup, &receiver.url).await;
    assert_retry(&message, "timeout", Duration::from_secs(30), 0.2);
    assert_eq!(message.last_error.as_deref(), Some("no answer within 0.3 s"));
    assert!(response.is_none());
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_refused_connection_is_retried(pool: PgPool) {
    let url = refused_url().await;
    let (message, _) = dispatch_one(&pool, &Setup::default(), &url).await;
    assert_retry(&message, "connection_error", Duration::from_secs(30), 0.2);
    assert!(message.last_error.as_deref().unwrap().contains("refused"), "{:?}", message.last_error);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn too_many_requests_honours_retry_after(pool: PgPool) {
    let receiver =
        Receiver::start(|_| Reply::status(429, "slow down").with_header("retry-after", "120")).await;
    let (message, _) = dispatch_one(&pool, &Setup::default(), &receiver.url).await;
    assert_retry(&message, "http_429", Duration::from_secs(120), 0.02);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_retry_after_beyond_the_cap_is_clamped(pool: PgPool) {
    let receiver = Receiver::start(|_| Reply::status(503, "").with_header("retry-after", "999999")).await;
    let setup = Setup::default().with_settings(|s| s.dispatch.retry.max = Duration::from_secs(600));
    let (message, _) = dispatch_one(&pool, &setup, &receiver.url).await;
    assert_retry(&message, "http_503", Duration::from_secs(600), 0.02);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_bad_request_fails_at_once(pool: PgPool) {
    let receiver = Receiver::start(|_| Reply::status(400, r#"{"error":"invalid number"}"#)).await;
    let (message, response) = dispatch_one(&pool, &Setup::default(), &receiver.url).await;
    assert_failed(&message, "http_400");
    assert_eq!(message.last_error.as_deref(), Some("HTTP 400 Bad Request"));
    assert_eq!(response.as_deref(), Some(r#"{"error":"invalid number"}"#));
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn success_without_a_message_id_is_an_invalid_response(pool: PgPool) {
    let receiver = Receiver::start(|_| Reply::status(200, r#"{"message":"Accepted"}"#)).await;
    let (message, response) = dispatch_one(&pool, &Setup::default(), &receiver.url).await;
    assert_failed(&message, "invalid_response");
    assert_eq!(response.as_deref(), Some(r#"{"message":"Accepted"}"#));
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_non_json_body_is_an_invalid_response_kept_truncated(pool: PgPool) {
    let html = format!("<html>{}</html>", "x".repeat(10_000));
    let body = html.clone();
    let receiver = Receiver::start(move |_| Reply::status(202, &body)).await;
    let (message, response) = dispatch_one(&pool, &Setup::default(), &receiver.url).await;
    assert_failed(&message, "invalid_response");
    let response = response.unwrap();
    assert_eq!(response.len(), dispatcher_core::webhook::RESPONSE_BODY_LIMIT);
    assert!(html.starts_with(&response));
}

/// The receiver answers other messages and keeps failing this one: after MESSAGE_MAX_ATTEMPTS
/// it is the message's failure, not an outage (receiver_breaker.rs has the outages).
#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn after_max_attempts_a_message_the_receiver_keeps_failing_ends_failed_with_the_last_code(
    pool: PgPool,
) {
    let receiver = Receiver::failing_message(1, Reply::status(503, "busy")).await;
    let setup = Setup::default().with_settings(|s| {
        s.dispatch.retry.base = Duration::from_secs(1);
        s.dispatch.worker_count = 1;
    });
    let dispatcher = setup.build(&pool, &receiver.url);
    let message = support::insert(&pool, 1).await; // max_attempts 3
    for attempt in 1..=3 {
        // Another message, older, so it is answered first in the same run.
        let other = support::insert(&pool, 100 + attempt).await;
        support::set_created_at(&pool, &other, Utc::now() - chrono::Duration::hours(1)).await;
        sqlx::query("UPDATE messages SET next_attempt_at = now() WHERE status = 'pending'")
            .execute(&pool)
            .await
            .unwrap();
        let summary = dispatcher.run_once(limits()).await.unwrap();
        assert_eq!((summary.claimed, summary.sent), (2, 1), "attempt {attempt}");
        assert_eq!((summary.retried, summary.failed), if attempt < 3 { (1, 0) } else { (0, 1) });
    }
    let message = messages::get(&pool, message.id).await.unwrap().unwrap();
    assert_eq!(message.status, MessageStatus::Failed);
    assert_eq!((message.attempts, message.error_code.as_deref()), (3, Some("http_503")));
    assert_eq!(
        message.last_error.as_deref(),
        Some("HTTP 503 Service Unavailable (gave up after 3 attempts)")
    );
    let failing = receiver.received().iter().filter(|r| r.is_message(1)).count();
    assert_eq!(failing, 3);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn each_run_is_written_to_dispatch_runs(pool: PgPool) {
    let receiver = Receiver::accepting().await;
    support::insert_each(&pool, 0..3).await;
    let dispatcher = Setup::default().build(&pool, &receiver.url);
    let summary = dispatcher.run_once(limits()).await.unwrap();
    assert_eq!((summary.claimed, summary.sent, summary.retried, summary.failed), (3, 3, 0, 0));
    let runs = dispatcher_core::repository::dispatch_runs::recent(&pool, 5).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].summary.run_id, summary.run_id);
    assert_eq!((runs[0].summary.claimed, runs[0].summary.sent), (3, 3));
    assert!(runs[0].finished_at.is_some() && runs[0].error.is_none());
}
