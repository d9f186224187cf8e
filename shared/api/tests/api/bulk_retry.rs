//! `POST /api/v1/messages/retry`: bulk requeue of failed messages by error code, failure time
//! and limit, through the real router against real PostgreSQL.

use crate::support;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{DateTime, Duration, Utc};
use dispatcher_core::domain::Message;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::api::{app, assert_problem, post_json, send};
use support::insert;

/// A message that failed with `code` at `failed_at` (a failed row's `updated_at`).
async fn failed(pool: &PgPool, n: usize, code: &str, failed_at: DateTime<Utc>) -> Message {
    let message = insert(pool, n).await;
    sqlx::query(
        "UPDATE messages SET status = 'failed', attempts = 3, next_attempt_at = NULL, error_code = $2,
                last_error = 'gave up', updated_at = $3 WHERE id = $1",
    )
    .bind(message.id.as_uuid())
    .bind(code)
    .bind(failed_at)
    .execute(pool)
    .await
    .unwrap();
    message
}

/// One message in each status but failed, as runs and users leave them.
async fn others(pool: &PgPool) -> Vec<Message> {
    let mut messages = Vec::new();
    for (n, sql) in [
        "UPDATE messages SET status = 'processing', attempts = 1, locked_until = now() + interval '1 minute', error_code = 'connection_error' WHERE id = $1",
        "UPDATE messages SET status = 'sent', attempts = 1, sent_at = now(), next_attempt_at = NULL, error_code = 'connection_error' WHERE id = $1",
        "UPDATE messages SET status = 'cancelled', error_code = 'connection_error' WHERE id = $1",
        "UPDATE messages SET error_code = 'connection_error', attempts = 2 WHERE id = $1",
    ]
    .into_iter()
    .enumerate()
    {
        let message = insert(pool, 900 + n).await;
        sqlx::query(sql).bind(message.id.as_uuid()).execute(pool).await.unwrap();
        messages.push(message);
    }
    messages
}

/// Every column a requeue could touch, for "nothing else moved".
async fn snapshot(pool: &PgPool, messages: &[Message]) -> Vec<(String, i32, Option<DateTime<Utc>>, i64)> {
    let mut rows = Vec::new();
    for message in messages {
        let row =
            sqlx::query_as("SELECT status, attempts, next_attempt_at, version FROM messages WHERE id = $1")
                .bind(message.id.as_uuid())
                .fetch_one(pool)
                .await
                .unwrap();
        rows.push(row);
    }
    rows
}

async fn retry(pool: &PgPool, filter: Value) -> u64 {
    let reply = send(app(pool, &[]), post_json("/api/v1/messages/retry", filter.to_string())).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["requeued"].as_u64().unwrap()
}

async fn pending_ids(pool: &PgPool) -> Vec<uuid::Uuid> {
    sqlx::query_scalar("SELECT id FROM messages WHERE status = 'pending' AND attempts = 0 ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
}

fn ids(messages: &[&Message]) -> Vec<uuid::Uuid> {
    let mut ids: Vec<uuid::Uuid> = messages.iter().map(|m| m.id.as_uuid()).collect();
    ids.sort();
    ids
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn bulk_retry_requeues_failed_messages_by_error_code_and_time_and_nothing_else(pool: PgPool) {
    let now = Utc::now();
    let old_400 = [
        failed(&pool, 1, "http_400", now - Duration::hours(2)).await,
        failed(&pool, 2, "http_400", now - Duration::minutes(150)).await,
    ];
    let outage = [
        failed(&pool, 3, "connection_error", now - Duration::minutes(30)).await,
        failed(&pool, 4, "connection_error", now - Duration::minutes(20)).await,
    ];
    let recent = failed(&pool, 5, "connection_error", now).await;
    let others = others(&pool).await;
    let untouched = snapshot(&pool, &others).await;

    let filter = json!({"error_code": "connection_error", "failed_before": now - Duration::minutes(10)});
    assert_eq!(retry(&pool, filter).await, 2);
    assert_eq!(pending_ids(&pool).await, ids(&[&outage[0], &outage[1]]));
    let requeued = dispatcher_core::repository::messages::get(&pool, outage[0].id).await.unwrap().unwrap();
    assert_eq!((requeued.status.as_str(), requeued.attempts), ("pending", 0));
    assert_eq!(requeued.error_code.as_deref(), Some("connection_error"), "the last error is kept");
    assert!(requeued.next_attempt_at.unwrap() <= Utc::now(), "due now");

    let window = json!({"failed_after": now - Duration::hours(3), "failed_before": now - Duration::hours(1)});
    assert_eq!(retry(&pool, window).await, 2);
    assert_eq!(retry(&pool, json!({})).await, 1, "{{}}: every failed message left");
    let all = [&old_400[0], &old_400[1], &outage[0], &outage[1], &recent];
    assert_eq!(pending_ids(&pool).await, ids(&all));
    assert_eq!(retry(&pool, json!({})).await, 0);
    assert_eq!(snapshot(&pool, &others).await, untouched, "no status but failed ever moves");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn bulk_retry_stops_at_the_limit_oldest_failures_first(pool: PgPool) {
    let now = Utc::now();
    let mut messages = Vec::new();
    for n in 0..5 {
        messages.push(failed(&pool, n, "http_503", now - Duration::minutes(60 - n as i64)).await);
    }
    assert_eq!(retry(&pool, json!({"limit": 2})).await, 2);
    assert_eq!(pending_ids(&pool).await, ids(&[&messages[0], &messages[1]]));
    assert_eq!(retry(&pool, json!({"limit": 100000})).await, 3);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn bad_filters_are_400_problems_and_change_nothing(pool: PgPool) {
    let message = failed(&pool, 1, "http_503", Utc::now()).await;
    let before = snapshot(&pool, std::slice::from_ref(&message)).await;
    let cases = [
        (r#"{"limit": 0}"#, "limit"),
        (r#"{"limit": 100001}"#, "limit"),
        (r#"{"limit": -1}"#, "limit"),
        (r#"{"limit": "10"}"#, "limit"),
        (r#"{"failed_after": "yesterday"}"#, "failed_after"),
        (
            r#"{"failed_after": "2026-01-02T00:00:00Z", "failed_before": "2026-01-01T00:00:00Z"}"#,
            "failed_before",
        ),
        (r#"{"error_code": ""}"#, "error_code"),
        (r#"{"error_code": 503}"#, "error_code"),
        // Schemathesis found this one: PostgreSQL refuses a NUL in text, which was a 500.
        (r#"{"error_code": "\u001eW\u00e4W\u0007\u000e\u00ed\u0000"}"#, "error_code"),
        (r#"{"error_code": "http 503"}"#, "error_code"),
        (r#"{"failed_before": "-5000-01-01T00:00:00Z"}"#, "failed_before"),
        (r#"{"status": "sent"}"#, "status"),
        ("[]", "JSON object"),
        ("{", "malformed JSON"),
    ];
    for (body, names) in cases {
        let reply = send(app(&pool, &[]), post_json("/api/v1/messages/retry", body)).await;
        assert_problem(&reply, 400, names);
    }
    let no_json = Request::post("/api/v1/messages/retry").body(Body::from("{}")).unwrap();
    assert_problem(&send(app(&pool, &[]), no_json).await, 415, "JSON");
    assert_eq!(snapshot(&pool, std::slice::from_ref(&message)).await, before);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn bulk_retry_needs_the_bearer_when_a_token_is_set(pool: PgPool) {
    failed(&pool, 1, "http_503", Utc::now()).await;
    let token = [("API_AUTH_TOKEN", "s3cret-token")];
    let request = |auth: Option<&str>| {
        let mut request =
            Request::post("/api/v1/messages/retry").header(header::CONTENT_TYPE, "application/json");
        if let Some(auth) = auth {
            request = request.header(header::AUTHORIZATION, auth);
        }
        request.body(Body::from("{}")).unwrap()
    };
    assert_problem(&send(app(&pool, &token), request(None)).await, 401, "bearer token");
    let reply = send(app(&pool, &token), request(Some("Bearer s3cret-token"))).await;
    assert_eq!((reply.status, reply.body["requeued"].as_u64()), (StatusCode::OK, Some(1)));
}
