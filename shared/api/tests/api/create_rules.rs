//! What a create body may say: `expires_at` after now and after `send_at`, and no field the API
//! does not know (a misspelt `sendAt` must not send a campaign now), on the single and the batch
//! route alike; an expired message in the answers, the counts and the metrics, and not retried.

use crate::support;
use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::api::{app, assert_problem, get, post_empty, post_json, send};

fn in_minutes(minutes: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::minutes(minutes)).to_rfc3339()
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn expires_at_must_come_after_now_and_after_send_at(pool: PgPool) {
    let create = |body: Value| send(app(&pool, &[]), post_json("/api/v1/messages", body.to_string()));
    let base = json!({"phone_number": "+905551111111", "content": "your code is 4821"});
    let with = |fields: Value| {
        let mut body = base.clone();
        body.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
        body
    };
    let past = create(with(json!({"expires_at": in_minutes(-1)}))).await;
    assert_problem(&past, 400, "expires_at");
    let before_send = create(with(json!({"send_at": in_minutes(30), "expires_at": in_minutes(10)}))).await;
    assert_problem(&before_send, 400, "after send_at");
    assert_eq!(support::count(&pool).await, 0, "nothing stored");

    let expires_at = in_minutes(10);
    let created = create(with(json!({"expires_at": expires_at}))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let stored: chrono::DateTime<chrono::Utc> = created.body["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(stored.timestamp(), expires_at.parse::<chrono::DateTime<chrono::Utc>>().unwrap().timestamp());
    assert_eq!(created.body["delivery"], Value::Null);
    assert_eq!(created.body.as_object().unwrap().len(), 16, "the documented Message: {}", created.body);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn unknown_fields_are_refused_and_each_is_named(pool: PgPool) {
    let body = json!({"phone_number": "+905551111111", "content": "hi", "sendAt": in_minutes(60), "expiresAt": in_minutes(90)});
    let reply = send(app(&pool, &[]), post_json("/api/v1/messages", body.to_string())).await;
    assert_problem(&reply, 400, "unknown field");
    let fields: Vec<&str> =
        reply.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["expiresAt", "sendAt"]);

    let batch = json!([
        {"phone_number": "+905551111111", "content": "fine"},
        {"phone_number": "+905551111112", "content": "typo", "send_at": in_minutes(5), "expires_at": in_minutes(60), "priority": 1},
        {"phone_number": "+905551111113", "content": "late", "expires_at": in_minutes(-5)},
    ]);
    let reply = send(app(&pool, &[]), post_json("/api/v1/messages/batch", batch.to_string())).await;
    assert_problem(&reply, 400, "nothing was stored");
    let named = support::api::item_errors(&reply);
    assert_eq!(named, [(1, "priority"), (2, "expires_at")]);
    assert_eq!(support::count(&pool).await, 0);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn an_expired_message_is_counted_listed_and_not_retried(pool: PgPool) {
    let message = support::insert(&pool, 1).await;
    support::update_one(
        &pool,
        &message,
        "status = 'expired', next_attempt_at = NULL, error_code = 'expired'",
    )
    .await;
    let retry = send(app(&pool, &[]), post_empty(&format!("/api/v1/messages/{}/retry", message.id))).await;
    assert_problem(&retry, 409, "expired");
    let bulk = send(app(&pool, &[]), post_json("/api/v1/messages/retry", "{}")).await;
    assert_eq!(bulk.body, json!({"requeued": 0}), "only failed messages are requeued");
    let stats = send(app(&pool, &[]), get("/api/v1/messages/stats")).await.body;
    assert_eq!((stats["expired"].as_i64(), stats["total"].as_i64()), (Some(1), Some(1)));
    let listed = send(app(&pool, &[]), get("/api/v1/messages?status=expired")).await.body;
    assert_eq!(listed["items"][0]["status"], "expired");
    let metrics = support::api::fetch(app(&pool, &[]), get("/metrics")).await.text();
    assert!(metrics.contains("message_dispatcher_messages{status=\"expired\"} 1"), "{metrics}");
    assert!(metrics.contains("message_dispatcher_deliveries{status=\"delivered\"} 0"), "{metrics}");
}
