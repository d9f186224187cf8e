//! `POST /api/v1/messages/batch` and `send_at`, through the real router against real
//! PostgreSQL: all or nothing, per-item errors with their index, per-item idempotency keys,
//! and scheduled messages that are not claimed before they are due.

use std::time::Duration;

use crate::support;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dispatcher_core::repository::claims;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::api::{app, assert_problem, post_json, send};
use support::count;

const LEASE: Duration = Duration::from_secs(60);

fn item(n: usize) -> Value {
    json!({"phone_number": format!("+9055510{n:05}"), "content": format!("batch message {n}")})
}

fn items(count: usize) -> Vec<Value> {
    (0..count).map(item).collect()
}

async fn post_batch(pool: &PgPool, body: &Value) -> support::api::Reply {
    send(app(pool, &[]), post_json("/api/v1/messages/batch", body.to_string())).await
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_batch_is_stored_in_input_order_and_claimed_in_that_order(pool: PgPool) {
    let reply = post_batch(&pool, &json!(items(50))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let stored = reply.body.as_array().unwrap();
    assert_eq!(stored.len(), 50);
    for (n, message) in stored.iter().enumerate() {
        assert_eq!(message["content"], format!("batch message {n}"));
        assert_eq!(message["status"], "pending");
    }
    assert_eq!(count(&pool).await, 50);

    let claimed = claims::claim_batch(&pool, 50, LEASE).await.unwrap();
    let claimed_ids: Vec<String> = claimed.iter().map(|row| row.id.to_string()).collect();
    let stored_ids: Vec<String> = stored.iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(claimed_ids, stored_ids, "FIFO follows the batch's order");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_largest_batch_at_the_largest_content_is_accepted(pool: PgPool) {
    // 1,000 items of 1,600 two-byte characters: over 3 MB, above the 1 MiB of other routes.
    let long = "ş".repeat(1600);
    let batch: Vec<Value> =
        (0..1000).map(|n| json!({"phone_number": format!("+9055510{n:05}"), "content": long})).collect();
    let app = app(&pool, &[("MESSAGE_CHAR_LIMIT", "1600")]);
    let reply = send(app, post_json("/api/v1/messages/batch", json!(batch).to_string())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(count(&pool).await, 1000);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn an_oversized_or_empty_batch_is_refused_and_nothing_is_written(pool: PgPool) {
    let reply = post_batch(&pool, &json!(items(1001))).await;
    assert_problem(&reply, 400, "at most 1000");
    let reply = post_batch(&pool, &json!([])).await;
    assert_problem(&reply, 400, "empty");
    let reply = post_batch(&pool, &item(1)).await;
    assert_problem(&reply, 400, "must be a JSON array");
    let reply = send(app(&pool, &[]), post_json("/api/v1/messages/batch", "[{\"phone_number\": ")).await;
    assert_problem(&reply, 400, "malformed JSON");
    assert_eq!(count(&pool).await, 0);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn one_bad_item_among_good_ones_stores_nothing_and_every_bad_item_is_named(pool: PgPool) {
    let mut batch = items(10);
    batch[3] = json!({"phone_number": "05551111111", "content": "no plus sign"});
    batch[7] = json!({"phone_number": "+905551111111", "content": ""});
    batch[8] = json!({"phone_number": "+905551111111"});
    batch[9] = json!({"phone_number": "+905551111111", "content": "x", "send_at": "tomorrow"});
    let reply = post_batch(&pool, &json!(batch)).await;
    assert_problem(&reply, 400, "4 items are invalid; nothing was stored");
    assert_eq!(
        support::api::item_errors(&reply),
        [(3, "phone_number"), (7, "content"), (8, "content"), (9, "send_at")]
    );
    assert_eq!(count(&pool).await, 0, "all or nothing");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn each_item_may_carry_its_own_idempotency_key(pool: PgPool) {
    let mut first = items(3);
    first[0]["idempotency_key"] = json!("order-1");
    first[2]["idempotency_key"] = json!("order-3");
    let reply = post_batch(&pool, &json!(first)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let first_ids: Vec<Value> = reply.body.as_array().unwrap().iter().map(|m| m["id"].clone()).collect();

    // A retried request: keyed items come back as the stored ones, the unkeyed one is new.
    let mut again = first.clone();
    again.push(json!({"phone_number": "+905551112233", "content": "new", "idempotency_key": "order-4"}));
    let reply = post_batch(&pool, &json!(again)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let again_ids: Vec<Value> = reply.body.as_array().unwrap().iter().map(|m| m["id"].clone()).collect();
    assert_eq!(again_ids.len(), 4);
    assert_eq!(
        (&again_ids[0], &again_ids[2]),
        (&first_ids[0], &first_ids[2]),
        "keyed items not stored twice"
    );
    assert_ne!(again_ids[1], first_ids[1], "an item without a key is a new message");
    assert_eq!(reply.body[3]["content"], "new");
    assert_eq!(count(&pool).await, 5);

    // The single-message route sees the same keys.
    let single = send(
        app(&pool, &[]),
        axum::http::Request::post("/api/v1/messages")
            .header("content-type", "application/json")
            .header("idempotency-key", "order-3")
            .body(axum::body::Body::from(item(99).to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!((single.status, &single.body["id"]), (StatusCode::OK, &first_ids[2]));
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn repeated_or_bad_keys_within_a_batch_are_item_errors(pool: PgPool) {
    let mut batch = items(4);
    batch[0]["idempotency_key"] = json!("same");
    batch[2]["idempotency_key"] = json!("same");
    batch[3]["idempotency_key"] = json!("has space inside");
    let reply = post_batch(&pool, &json!(batch)).await;
    assert_problem(&reply, 400, "repeats the key of item 0");
    let errors = reply.body["errors"].as_array().unwrap();
    assert_eq!(
        (errors[0]["index"].as_u64(), errors[0]["field"].as_str()),
        (Some(2), Some("idempotency_key"))
    );
    assert_eq!(
        (errors[1]["index"].as_u64(), errors[1]["field"].as_str()),
        (Some(3), Some("idempotency_key"))
    );
    assert_eq!(count(&pool).await, 0);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_future_send_at_is_not_claimed_until_it_is_due(pool: PgPool) {
    let due_at = Utc::now() + chrono::Duration::milliseconds(1500);
    let later = Utc::now() + chrono::Duration::hours(1);
    let body = json!([
        {"phone_number": "+905551110001", "content": "soon", "send_at": due_at.to_rfc3339()},
        {"phone_number": "+905551110002", "content": "in an hour", "send_at": later.to_rfc3339()},
    ]);
    let reply = post_batch(&pool, &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let stored_due: DateTime<Utc> = reply.body[0]["next_attempt_at"].as_str().unwrap().parse().unwrap();
    assert!((stored_due - due_at).num_milliseconds().abs() < 1, "send_at is the first next_attempt_at");

    assert!(claims::claim_batch(&pool, 10, LEASE).await.unwrap().is_empty(), "nothing is due yet");
    let claimed = loop {
        let claimed = claims::claim_batch(&pool, 10, LEASE).await.unwrap();
        if !claimed.is_empty() {
            break claimed;
        }
        assert!(Utc::now() < due_at + chrono::Duration::seconds(10), "never claimed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(Utc::now() >= due_at, "claimed before send_at");
    assert_eq!(claimed.len(), 1, "the one due in an hour stays");
    assert_eq!(claimed[0].content, "soon");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_past_send_at_means_now_on_both_create_routes(pool: PgPool) {
    let past = "2020-01-01T00:00:00Z";
    let single = json!({"phone_number": "+905551110001", "content": "late", "send_at": past});
    let reply = send(app(&pool, &[]), post_json("/api/v1/messages", single.to_string())).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let batch = json!([{"phone_number": "+905551110002", "content": "late too", "send_at": past}]);
    let reply_batch = post_batch(&pool, &batch).await;
    assert_eq!(reply_batch.status, StatusCode::CREATED);
    for due in [&reply.body["next_attempt_at"], &reply_batch.body[0]["next_attempt_at"]] {
        let due: DateTime<Utc> = due.as_str().unwrap().parse().unwrap();
        assert!((Utc::now() - due).num_seconds() < 60, "stored as now, not 2020: {due}");
    }
    assert_eq!(claims::claim_batch(&pool, 10, LEASE).await.unwrap().len(), 2);
}
