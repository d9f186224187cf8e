//! Requests that wait together share round trips, against real PostgreSQL: concurrent creates
//! share INSERTs (each still gets its own committed row, a row the database refuses fails
//! alone), identical sent-page reads share a query, and a shared read is never older than
//! the request.

use std::sync::Arc;
use std::time::Duration;

use crate::support;
use axum::body::Body;
use axum::http::Request;
use axum::http::StatusCode;
use dispatcher_api::scheduler::LocalScheduler;
use dispatcher_api::{router, AppState};
use dispatcher_core::repository::InsertBatcher;
use dispatcher_core::Config;
use serde_json::{json, Value};
use sqlx::{Connection, PgPool};
use support::api::{get, post_json, send, Reply};
use support::new_message;
use support::table_lock::{lock_messages, wait_for_a_blocked_statement};

fn state(pool: &PgPool) -> AppState {
    let config = Arc::new(Config::from_pairs(&[]).unwrap());
    AppState::new(pool.clone(), None, config, Arc::new(LocalScheduler::new(pool.clone())))
}

/// Sends every request while a lock in `mode` holds the messages table, so they wait
/// together, then releases it; the replies, in the order of the requests.
async fn sent_together(
    pool: &PgPool,
    state: &AppState,
    mode: &str,
    requests: impl Iterator<Item = Request<Body>>,
) -> Vec<Reply> {
    let app = router(state.clone());
    let lock = lock_messages(pool, mode).await;
    let waiting: Vec<_> = requests.map(|request| tokio::spawn(send(app.clone(), request))).collect();
    wait_for_a_blocked_statement(pool).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    lock.close().await.unwrap(); // ends the transaction: the first statement goes on
    futures::future::join_all(waiting).await.into_iter().map(Result::unwrap).collect()
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn concurrent_creates_share_inserts_and_each_gets_its_own_committed_row(pool: PgPool) {
    let state = state(&pool);
    let creates = (0..100).map(|n| {
        let body = json!({"phone_number": format!("+9055520{n:05}"), "content": format!("create {n}")});
        post_json("/api/v1/messages", body.to_string())
    });
    let replies = sent_together(&pool, &state, "SHARE", creates).await;

    let mut ids = Vec::new();
    for (n, reply) in replies.into_iter().enumerate() {
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        assert_eq!(reply.body["content"], format!("create {n}"));
        ids.push(reply.body["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap());
    }
    let (stored, statements): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT xmin::text) FROM messages WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(stored, 100, "every create answered 201 has its row");
    assert!(statements <= 4, "100 waiting creates were written by {statements} transactions");
    assert_eq!(state.creates.statements_run(), statements as u64);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_row_the_database_refuses_fails_alone_and_its_batch_mates_are_stored(pool: PgPool) {
    let batcher = InsertBatcher::new(pool.clone());
    let lock = lock_messages(&pool, "SHARE").await;
    let first = tokio::spawn({
        let batcher = batcher.clone();
        async move { batcher.insert(new_message(0)).await }
    });
    wait_for_a_blocked_statement(&pool).await;
    let mut refused = new_message(1);
    refused.max_attempts = 0; // passes no validation, but breaks the table's CHECK
    let rest: Vec<_> = [new_message(2), refused, new_message(3), new_message(4)]
        .into_iter()
        .map(|new| {
            let batcher = batcher.clone();
            tokio::spawn(async move { batcher.insert(new).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    lock.close().await.unwrap();

    assert!(first.await.unwrap().is_ok());
    let results: Vec<_> = futures::future::join_all(rest).await.into_iter().map(Result::unwrap).collect();
    let error = results[1].as_ref().unwrap_err();
    assert!(format!("{error:#}").contains("messages_attempts_check"), "{error:#}");
    for result in [&results[0], &results[2], &results[3]] {
        assert!(result.is_ok(), "{:?}", result.as_ref().err());
    }
    assert_eq!(support::count(&pool).await, 4);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn concurrent_creates_with_one_idempotency_key_store_one_message(pool: PgPool) {
    let app = router(state(&pool));
    let body = json!({"phone_number": "+905551234567", "content": "only once"}).to_string();
    let replies = futures::future::join_all((0..20).map(|_| {
        let request = axum::http::Request::post("/api/v1/messages")
            .header("content-type", "application/json")
            .header("idempotency-key", "campaign-7")
            .body(axum::body::Body::from(body.clone()))
            .unwrap();
        send(app.clone(), request)
    }))
    .await;
    let created = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
    assert_eq!(created, 1);
    assert!(replies.iter().all(|r| r.body["id"] == replies[0].body["id"]));
    assert_eq!(support::count(&pool).await, 1);
}

async fn mark_sent(pool: &PgPool, count: i64) {
    sqlx::query(
        "UPDATE messages SET status = 'sent', sent_at = clock_timestamp(), next_attempt_at = NULL
         WHERE id IN (SELECT id FROM messages WHERE status = 'pending' ORDER BY created_at LIMIT $1)",
    )
    .bind(count)
    .execute(pool)
    .await
    .unwrap();
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn identical_page_reads_that_wait_together_share_one_query(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 30).await;
    mark_sent(&pool, 30).await;
    let state = state(&pool);
    let reads = (0..50).map(|_| get("/api/v1/messages/sent?page=1&page_size=10"));
    let replies = sent_together(&pool, &state, "ACCESS EXCLUSIVE", reads).await;

    let mut bodies = Vec::new();
    for reply in replies {
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.content_type, "application/json");
        assert_eq!(reply.body["total"], 30);
        assert_eq!(reply.body["items"].as_array().unwrap().len(), 10);
        bodies.push(reply.body);
    }
    assert!(bodies.iter().all(|body| *body == bodies[0]));
    assert!(
        state.sent_pages.rounds_run() <= 4,
        "50 waiting reads took {} rounds",
        state.sent_pages.rounds_run()
    );
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_page_read_after_a_send_shows_it_while_other_clients_keep_reading(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 60).await;
    mark_sent(&pool, 10).await;
    let app = router(state(&pool));
    let stop = tokio_util::sync::CancellationToken::new();
    let readers: Vec<_> = (0..16)
        .map(|_| {
            let (app, stop) = (app.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.is_cancelled() {
                    let reply = send(app.clone(), get("/api/v1/messages/sent?page=1&page_size=5")).await;
                    assert_eq!(reply.status, StatusCode::OK);
                }
            })
        })
        .collect();
    for round in 1..=40 {
        mark_sent(&pool, 1).await;
        let reply = send(app.clone(), get("/api/v1/messages/sent?page=1&page_size=5")).await;
        assert_eq!(
            reply.body["total"],
            Value::from(10 + round),
            "round {round}: a page older than the request"
        );
    }
    stop.cancel();
    for reader in readers {
        reader.await.unwrap();
    }
}
