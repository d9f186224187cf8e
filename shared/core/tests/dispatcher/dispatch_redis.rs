//! Redis: the sent cache, the shared rate limit, and sending on while Redis is unreachable.

use std::time::Duration;

use crate::support;
use redis::AsyncCommands;
use sqlx::PgPool;
use support::dispatch::{drain, limits, redis_url, Setup};
use testkit::receiver::Receiver;

async fn redis() -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(redis_url()).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

fn spread(receiver: &Receiver) -> Duration {
    let received = receiver.received();
    let first = received.iter().map(|r| r.at).min().unwrap();
    let last = received.iter().map(|r| r.at).max().unwrap();
    last - first
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn sent_messages_are_cached_for_seven_days_after_the_commit(pool: PgPool) {
    let receiver =
        Receiver::start(|_| testkit::receiver::Reply::status(202, r#"{"messageId":"wh-1"}"#)).await;
    let message = support::insert(&pool, 1).await;
    let setup = Setup { redis_url: Some(redis_url()), ..Setup::default() };
    setup.build(&pool, &receiver.url).run_once(limits()).await.unwrap();

    let mut redis = redis().await;
    let key = format!("sent_message:{}", message.id);
    let value: String = redis.get(&key).await.unwrap();
    let value: serde_json::Value = serde_json::from_str(&value).unwrap();
    let stored = dispatcher_core::repository::messages::get(&pool, message.id).await.unwrap().unwrap();
    assert_eq!(value["message_id"], "wh-1");
    let cached_at = chrono::DateTime::parse_from_rfc3339(value["sent_at"].as_str().unwrap()).unwrap();
    assert_eq!(cached_at, stored.sent_at.unwrap());
    let ttl: i64 = redis.ttl(&key).await.unwrap();
    assert!(ttl > 7 * 24 * 3600 - 60 && ttl <= 7 * 24 * 3600, "ttl {ttl}");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn failed_and_retried_messages_are_not_cached(pool: PgPool) {
    let receiver = Receiver::start(|_| testkit::receiver::Reply::status(500, "")).await;
    let message = support::insert(&pool, 1).await;
    let setup = Setup { redis_url: Some(redis_url()), ..Setup::default() };
    setup.build(&pool, &receiver.url).run_once(limits()).await.unwrap();
    let exists: bool = redis().await.exists(format!("sent_message:{}", message.id)).await.unwrap();
    assert!(!exists);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_rate_limit_holds_across_two_concurrent_runs_sharing_redis(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 30).await;
    let receiver = Receiver::accepting().await;
    let setup =
        Setup { redis_url: Some(redis_url()), rate_per_second: 20, ..Setup::default() }.with_batches(15, 5);
    // Two dispatchers: two processes' worth of limiters, one key in Redis.
    let a = setup.build(&pool, &receiver.url);
    let b = setup.build(&pool, &receiver.url);
    let (ra, rb) = tokio::join!(a.run_once(limits()), b.run_once(limits()));
    assert_eq!(ra.unwrap().sent + rb.unwrap().sent, 30);
    // 30 requests at 20/s need at least 29 intervals of 50 ms between the first and the last;
    // each run alone would take half that.
    let spread = spread(&receiver);
    assert!(spread >= Duration::from_millis(1350), "30 requests in {spread:?}");
}

/// Ten messages at 20/s with `redis_url` (`None`: no Redis configured): each is sent and
/// recorded once, and the in-process limit paces them (nine intervals of 50 ms at least).
async fn assert_paced_by_the_process(pool: &PgPool, redis_url: Option<&str>) {
    testkit::messages::insert_pending(pool, 10).await;
    let receiver = Receiver::accepting().await;
    let setup = Setup { redis_url: redis_url.map(Into::into), rate_per_second: 20, ..Setup::default() };
    let summaries = drain(&setup.build(pool, &receiver.url)).await;
    assert_eq!(summaries.iter().map(|s| s.sent).sum::<i32>(), 10);
    assert_eq!(receiver.received().len(), 10);
    let sent =
        testkit::database::fetch_i64(pool, "SELECT count(*) FROM messages WHERE status = 'sent'").await;
    assert_eq!(sent, 10);
    let spread = spread(&receiver);
    assert!(spread >= Duration::from_millis(400), "10 requests in {spread:?}");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn without_redis_the_rate_limit_holds_per_process(pool: PgPool) {
    assert_paced_by_the_process(&pool, None).await;
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn with_redis_unreachable_messages_are_still_sent_recorded_and_paced(pool: PgPool) {
    assert_paced_by_the_process(&pool, Some("redis://127.0.0.1:1")).await;
}
