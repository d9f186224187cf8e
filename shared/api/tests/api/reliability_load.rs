//! Load: 8 concurrent dispatch loops and 4 API writers over 20,000 messages. Zero duplicates,
//! zero lost. Prints a `RELIABILITY load` line (RELIABILITY.md).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support;
use dispatcher_api::scheduler::LocalScheduler;
use dispatcher_api::{router, AppState};
use dispatcher_core::Config;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use support::dispatch::{limits, Setup};
use testkit::receiver::Receiver;

const SEEDED: usize = 10_000;
const WRITERS: usize = 4;
const PER_WRITER: usize = 2_500;
const LOOPS: usize = 8;

async fn serve_api(pool: PgPool) -> String {
    let scheduler = Arc::new(LocalScheduler::new(pool.clone()));
    let state = AppState::new(pool, None, Arc::new(Config::from_pairs(&[]).unwrap()), scheduler);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
    base
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn eight_dispatch_loops_and_api_writers_over_20000_messages_lose_none_and_send_none_twice(
    pool_options: PgPoolOptions,
    connect_options: sqlx::postgres::PgConnectOptions,
) {
    let pool = pool_options.max_connections(16).connect_with(connect_options).await.unwrap();
    testkit::messages::insert_pending(&pool, SEEDED).await;
    let receiver = Receiver::accepting().await;
    let base = serve_api(pool.clone()).await;
    let started = Instant::now();

    let writers_done = Arc::new(AtomicBool::new(false));
    let setup = Setup::default().with_batches(100, 10);
    let mut loops = Vec::new();
    for _ in 0..LOOPS {
        let dispatcher = setup.build(&pool, &receiver.url);
        let done = writers_done.clone();
        loops.push(tokio::spawn(async move {
            loop {
                let summary = dispatcher.run_once(limits()).await.unwrap();
                if summary.claimed == 0 {
                    if done.load(Ordering::SeqCst) {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let base = base.clone();
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0..PER_WRITER {
                let body = serde_json::json!({"phone_number": format!("+9055{w}{i:07}"), "content": format!("load {w}/{i}")});
                let response = client.post(format!("{base}/api/v1/messages")).json(&body).send().await.unwrap();
                assert_eq!(response.status(), 201);
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    writers_done.store(true, Ordering::SeqCst);
    for dispatch_loop in loops {
        dispatch_loop.await.unwrap();
    }
    let elapsed = started.elapsed();

    let total = SEEDED + WRITERS * PER_WRITER;
    let keys: Vec<String> = receiver.received().iter().map(|r| r.idempotency_key()).collect();
    let distinct: HashSet<&String> = keys.iter().collect();
    let sent =
        testkit::database::fetch_i64(&pool, "SELECT count(*) FROM messages WHERE status = 'sent'").await;
    let stored = testkit::database::fetch_i64(&pool, "SELECT count(*) FROM messages").await;
    println!(
        "RELIABILITY load: messages={total} delivered={} duplicates={} lost={} loops={LOOPS} writers={WRITERS} elapsed_s={:.1}",
        distinct.len(),
        keys.len() - distinct.len(),
        total as i64 - sent,
        elapsed.as_secs_f64()
    );
    assert_eq!(stored, total as i64, "every API write was stored");
    assert_eq!(distinct.len(), total, "every message reached the receiver");
    assert_eq!(keys.len(), total, "none twice");
    assert_eq!(sent, total as i64, "every message is recorded sent");
}
