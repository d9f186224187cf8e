//! `POST /api/v1/receipts` through the real router: 202 with the count, all or nothing on bad
//! input (each problem named by item and field), the bearer token or the token as the HTTP
//! Basic password (this route only), and the delivery on the message and in the listing.

use crate::support;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::Engine;
use dispatcher_core::dispatch::outcome::{self as outcomes, Outcome, OutcomeRecord};
use dispatcher_core::repository::claims;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::api::{app, assert_problem, get, send, Reply};

const TOKEN: &str = "receipts-test-token";

/// `n` messages sent, message `i` with the provider id `wm-<i>`.
async fn sent(pool: &PgPool, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 1..=n {
        let message = support::insert(pool, i).await;
        ids.push(message.id.to_string());
    }
    let claimed = claims::claim_batch(pool, n as u32, std::time::Duration::from_secs(60)).await.unwrap();
    let records: Vec<OutcomeRecord> = claimed
        .iter()
        .map(|row| {
            let n: usize = row.content.trim_start_matches("message number ").parse().unwrap();
            OutcomeRecord {
                hold: row.hold(),
                outcome: Outcome::Sent { webhook_message_id: format!("wm-{n}"), response: None },
                request: Some(outcomes::Request {
                    started_at: chrono::Utc::now(),
                    duration_ms: 3,
                    status_code: Some(202),
                }),
            }
        })
        .collect();
    outcomes::record(pool, &records).await.unwrap();
    ids
}

async fn post(pool: &PgPool, pairs: &[(&str, &str)], body: Value, authorization: Option<String>) -> Reply {
    let mut request = Request::post("/api/v1/receipts").header(header::CONTENT_TYPE, "application/json");
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    send(app(pool, pairs), request.body(Body::from(body.to_string())).unwrap()).await
}

async fn message(pool: &PgPool, id: &str) -> Value {
    send(app(pool, &[]), get(&format!("/api/v1/messages/{id}"))).await.body
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn receipts_set_the_delivery_and_one_or_many_are_accepted(pool: PgPool) {
    let ids = sent(&pool, 3).await;
    assert_eq!(message(&pool, &ids[0]).await["delivery"], Value::Null, "null until a receipt");
    let one = json!({"messageId": "wm-1", "status": "delivered", "timestamp": "2026-12-06T09:15:00Z"});
    let reply = post(&pool, &[], one, None).await;
    assert_eq!((reply.status, &reply.body), (StatusCode::ACCEPTED, &json!({"accepted": 1})));
    let many = json!([
        {"messageId": "wm-2", "status": "undelivered", "error_code": "30008"},
        {"messageId": "wm-3", "status": "delivered"},
        {"messageId": "not-ours-yet", "status": "delivered"},
    ]);
    assert_eq!(post(&pool, &[], many, None).await.body, json!({"accepted": 3}));

    let first = message(&pool, &ids[0]).await;
    assert_eq!(
        first["delivery"],
        json!({"status": "delivered", "at": "2026-12-06T09:15:00Z", "error_code": null})
    );
    assert_eq!(first["status"], "sent", "a receipt never changes the status");
    let second = message(&pool, &ids[1]).await;
    assert_eq!(
        (second["delivery"]["status"].as_str(), second["delivery"]["error_code"].as_str()),
        (Some("undelivered"), Some("30008"))
    );
    assert!(message(&pool, &ids[2]).await["delivery"]["at"].is_string(), "no timestamp: the arrival time");

    let listed = send(app(&pool, &[]), get("/api/v1/messages?delivery_status=delivered")).await;
    let listed: Vec<&str> =
        listed.body["items"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(listed, [ids[2].as_str(), ids[0].as_str()], "the delivered ones, newest first");
    let listed = send(app(&pool, &[]), get("/api/v1/messages?delivery_status=undelivered&status=sent")).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    assert_problem(
        &send(app(&pool, &[]), get("/api/v1/messages?delivery_status=read")).await,
        400,
        "delivery_status",
    );

    let stats = send(app(&pool, &[]), get("/api/v1/messages/stats")).await.body;
    assert_eq!(stats["deliveries"], json!({"delivered": 2, "undelivered": 1}));
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn one_bad_receipt_stores_nothing_and_every_problem_is_named(pool: PgPool) {
    let ids = sent(&pool, 1).await;
    let body = json!([
        {"messageId": "wm-1", "status": "delivered"},
        {"messageId": "", "status": "delivered"},
        {"messageId": "wm-1", "status": "read"},
        {"messageId": "wm-1", "status": "delivered", "timestamp": "yesterday"},
        {"messageId": "wm-1", "status": "delivered", "error_code": "not ok!"},
        {"messageId": "wm-1", "status": "delivered", "messageSid": "SM1"},
        {"status": "delivered"},
    ]);
    let reply = post(&pool, &[], body, None).await;
    assert_problem(&reply, 400, "nothing was stored");
    let named = support::api::item_errors(&reply);
    assert_eq!(
        named,
        [
            (1, "messageId"),
            (2, "status"),
            (3, "timestamp"),
            (4, "error_code"),
            (5, "messageSid"),
            (6, "messageId")
        ]
    );
    assert_eq!(message(&pool, &ids[0]).await["delivery"], Value::Null, "not even the good one");

    let single = post(&pool, &[], json!({"messageId": "wm-1", "status": "read"}), None).await;
    assert_problem(&single, 400, "status");
    assert!(single.body["errors"][0]["index"].is_null(), "one object: no index");
    let too_many: Vec<Value> =
        (0..1001).map(|i| json!({"messageId": format!("x-{i}"), "status": "delivered"})).collect();
    assert_problem(&post(&pool, &[], Value::Array(too_many), None).await, 400, "1 to 1000");
    assert_problem(&post(&pool, &[], json!([]), None).await, 400, "1 to 1000");
    assert_problem(&post(&pool, &[], json!("delivered"), None).await, 400, "object or array");
    let not_json = Request::post("/api/v1/receipts")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("x"))
        .unwrap();
    assert_problem(&send(app(&pool, &[]), not_json).await, 415, "JSON");
    let huge = json!({"messageId": "x".repeat(1_100_000), "status": "delivered"});
    assert_problem(&post(&pool, &[], huge, None).await, 413, "larger");
    let kept: i64 =
        sqlx::query_scalar("SELECT count(*) FROM unmatched_receipts").fetch_one(&pool).await.unwrap();
    assert_eq!(kept, 0, "no bad request stored anything");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_token_may_come_as_bearer_or_as_the_basic_password_on_this_route_only(pool: PgPool) {
    sent(&pool, 1).await;
    let token = [("API_AUTH_TOKEN", TOKEN)];
    let receipt = || json!({"messageId": "wm-1", "status": "delivered"});
    let missing = post(&pool, &token, receipt(), None).await;
    assert_problem(&missing, 401, "HTTP Basic");
    let wrong = post(&pool, &token, receipt(), Some(basic("twilio", "guess"))).await;
    assert_problem(&wrong, 401, "");
    assert_eq!(
        post(&pool, &token, receipt(), Some(format!("Bearer {TOKEN}"))).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        post(&pool, &token, receipt(), Some(basic("twilio", TOKEN))).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(post(&pool, &token, receipt(), Some(basic("", TOKEN))).await.status, StatusCode::ACCEPTED);

    // The challenge names Basic, so providers that send credentials only when asked send them.
    let request = Request::post("/api/v1/receipts")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(receipt().to_string()))
        .unwrap();
    let raw = support::api::fetch(app(&pool, &token), request).await;
    assert!(raw.headers[header::WWW_AUTHENTICATE].to_str().unwrap().starts_with("Basic realm="));

    let elsewhere = Request::get("/api/v1/messages")
        .header(header::AUTHORIZATION, basic("twilio", TOKEN))
        .body(Body::empty())
        .unwrap();
    assert_problem(&send(app(&pool, &token), elsewhere).await, 401, "bearer");
}
