//! Expiry: a message not sent by its `expires_at` ends `expired` and is never sent after it,
//! also when a run claimed it in time and would start its request too late, and when its next
//! retry would come after it. Real PostgreSQL, real receivers on 127.0.0.1.

use std::time::Duration;

use crate::support;
use dispatcher_core::domain::{Message, MessageStatus};
use dispatcher_core::repository::{attempts, expiry, messages};
use dispatcher_core::retry_policy::RetryPolicy;
use sqlx::PgPool;
use support::dispatch::{limits, Setup};
use testkit::receiver::{Receiver, Reply};

async fn expiring_in(pool: &PgPool, n: usize, seconds: f64) -> Message {
    let message = support::insert(pool, n).await;
    support::update_one(pool, &message, &format!("expires_at = now() + make_interval(secs => {seconds})"))
        .await;
    message
}

async fn reread(pool: &PgPool, message: &Message) -> Message {
    messages::get(pool, message.id).await.unwrap().unwrap()
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_message_past_its_expiry_is_never_sent_and_ends_expired(pool: PgPool) {
    let late = expiring_in(&pool, 1, -5.0).await;
    let on_time = expiring_in(&pool, 2, 3600.0).await;
    let receiver = Receiver::accepting().await;
    let summary = Setup::default().build(&pool, &receiver.url).run_once(limits()).await.unwrap();
    assert_eq!((summary.claimed, summary.sent, summary.expired), (1, 1, 1), "{summary:?}");
    assert!(receiver.received().iter().all(|request| !request.is_message(1)), "never sent");
    let late = reread(&pool, &late).await;
    assert_eq!((late.status, late.error_code.as_deref()), (MessageStatus::Expired, Some("expired")));
    assert_eq!(late.attempts, 0, "no attempt spent");
    assert_eq!(attempts::of_message(&pool, late.id).await.unwrap(), Some(vec![]), "no request logged");
    assert_eq!(reread(&pool, &on_time).await.status, MessageStatus::Sent);
    let stats = dispatcher_core::repository::stats::all(&pool).await.unwrap();
    assert_eq!((stats.count(MessageStatus::Expired), stats.total()), (1, 2));
}

/// One worker, and a receiver that takes two seconds: the second message is claimed in time
/// but its request would start after its expiry, checked right before it.
#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_message_claimed_in_time_is_not_sent_once_its_expiry_passes(pool: PgPool) {
    let slow = support::insert(&pool, 1).await;
    let expiring = expiring_in(&pool, 2, 1.0).await;
    let receiver = Receiver::start(|_| Reply::accepted().after(Duration::from_secs(2))).await;
    let summary =
        Setup::default().with_batches(10, 1).build(&pool, &receiver.url).run_once(limits()).await.unwrap();
    assert_eq!((summary.claimed, summary.sent, summary.expired), (2, 1, 1), "{summary:?}");
    assert_eq!(receiver.received().len(), 1, "only the first message reached the receiver");
    assert_eq!(reread(&pool, &slow).await.status, MessageStatus::Sent);
    let expired = reread(&pool, &expiring).await;
    assert_eq!((expired.status, expired.attempts), (MessageStatus::Expired, 0));
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_retry_that_would_come_after_the_expiry_ends_expired(pool: PgPool) {
    let message = expiring_in(&pool, 1, 10.0).await;
    let receiver = Receiver::start(|_| Reply::status(503, "busy")).await;
    let setup = Setup::default().with_settings(|s| {
        s.dispatch.retry = RetryPolicy { base: Duration::from_secs(60), max: Duration::from_secs(60) }
    });
    let summary = setup.build(&pool, &receiver.url).run_once(limits()).await.unwrap();
    assert_eq!((summary.retried, summary.expired), (0, 1), "{summary:?}");
    let expired = reread(&pool, &message).await;
    assert_eq!(expired.status, MessageStatus::Expired);
    assert_eq!(expired.error_code.as_deref(), Some("http_503"), "why its last request failed");
    assert!(expired.last_error.as_deref().is_some_and(|e| e.contains("expires before its next attempt")));
    let log = attempts::of_message(&pool, message.id).await.unwrap().unwrap();
    assert_eq!(log.len(), 1, "the request it made is logged");
    assert_eq!(log[0].outcome, dispatcher_core::domain::AttemptOutcome::Failed);
}

/// A backlog of expired messages goes a bounded chunk at a time, oldest expiry first, and the
/// claim walks past them to the due messages behind them.
#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_backlog_of_expired_messages_goes_in_bounded_chunks_and_holds_nothing_back(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 2500).await;
    sqlx::query("UPDATE messages SET expires_at = now() - (3000 - created_at_rank) * interval '1 second'
                 FROM (SELECT id AS rid, row_number() OVER (ORDER BY created_at) AS created_at_rank FROM messages) AS r
                 WHERE id = rid")
        .execute(&pool)
        .await
        .unwrap();
    let due = support::insert_each(&pool, 9001..=9005).await;
    assert_eq!(expiry::expire_chunk(&pool, 1000).await.unwrap(), 1000, "one chunk");
    let oldest_left: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM now() - min(expires_at))::float8 FROM messages WHERE status = 'pending' AND expires_at IS NOT NULL",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(oldest_left < 2000.5, "the oldest expiries went first: {oldest_left}");

    let receiver = Receiver::accepting().await;
    let summary =
        Setup::default().with_batches(5, 5).build(&pool, &receiver.url).run_once(limits()).await.unwrap();
    assert_eq!((summary.claimed, summary.sent), (5, 5), "the due messages behind the backlog: {summary:?}");
    for message in &due {
        assert_eq!(reread(&pool, message).await.status, MessageStatus::Sent);
    }
    assert_eq!(summary.expired, 1500, "the rest of the backlog, within the run's expiry budget");
    assert_eq!(testkit::database::status_count(&pool, "expired").await, 2500);
}
