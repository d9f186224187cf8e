//! `GET /api/v1/messages/{id}/attempts` through the real router: a message's webhook requests
//! after real dispatch runs against a receiver on 127.0.0.1, oldest first, in the documented
//! shape; an empty list before the first send; 404, 400 and the bearer rule as elsewhere.

use crate::support;
use axum::http::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use support::api::{app, assert_problem, get, send};
use support::dispatch::{limits, Setup};
use testkit::receiver::{Receiver, Reply};

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_message_lists_each_request_with_what_the_receiver_answered(pool: PgPool) {
    let message = support::insert(&pool, 1).await;
    let path = format!("/api/v1/messages/{}/attempts", message.id);
    let before = send(app(&pool, &[]), get(&path)).await;
    assert_eq!(before.status, StatusCode::OK);
    assert_eq!(before.body, serde_json::json!({"items": []}), "nothing before the first send");

    let receiver = Receiver::start(|_| Reply::status(503, "maintenance")).await;
    let dispatcher = Setup::default().build(&pool, &receiver.url);
    dispatcher.run_once(limits()).await.unwrap();
    support::update_one(&pool, &message, "next_attempt_at = now()").await;
    receiver.set_reply(|_| Reply::accepted());
    dispatcher.run_once(limits()).await.unwrap();

    let reply = send(app(&pool, &[]), get(&path)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let items = reply.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", reply.body);
    let keys: Vec<&String> = items[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "counted",
            "duration_ms",
            "error_code",
            "number",
            "outcome",
            "response_body",
            "started_at",
            "status_code"
        ],
        "the documented Attempt"
    );
    let first = &items[0];
    assert_eq!((first["number"].as_i64(), first["status_code"].as_i64()), (Some(1), Some(503)));
    assert_eq!((first["outcome"].as_str(), first["error_code"].as_str()), (Some("retry"), Some("http_503")));
    assert_eq!(first["response_body"], "maintenance");
    assert_eq!(
        (&first["counted"], &items[1]["counted"]),
        (&Value::Bool(true), &Value::Bool(true)),
        "the receiver was up"
    );
    let second = &items[1];
    assert_eq!((second["number"].as_i64(), second["status_code"].as_i64()), (Some(2), Some(202)));
    assert_eq!((second["outcome"].as_str(), &second["error_code"]), (Some("sent"), &Value::Null));
    let started =
        |item: &Value| item["started_at"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    assert!(started(first) < started(second), "oldest first");
    assert!(first["duration_ms"].as_i64().is_some_and(|ms| ms >= 0));
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn an_unknown_or_malformed_id_is_a_problem(pool: PgPool) {
    let unknown = format!("/api/v1/messages/{}/attempts", uuid::Uuid::now_v7());
    assert_problem(&send(app(&pool, &[]), get(&unknown)).await, 404, "no message");
    assert_problem(
        &send(app(&pool, &[]), get("/api/v1/messages/not-a-uuid/attempts")).await,
        400,
        "not a UUID",
    );
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_log_needs_the_bearer_token_when_one_is_set(pool: PgPool) {
    let message = support::insert(&pool, 1).await;
    let path = format!("/api/v1/messages/{}/attempts", message.id);
    let guarded = || app(&pool, &[("API_AUTH_TOKEN", "s3cret-token")]);
    assert_problem(&send(guarded(), get(&path)).await, 401, "");
    let request = axum::http::Request::get(&path)
        .header("authorization", "Bearer s3cret-token")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(send(guarded(), request).await.status, StatusCode::OK);
}
