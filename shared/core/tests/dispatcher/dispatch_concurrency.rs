//! Many runs at once, runs that die, runs that run out of time: every message is sent,
//! none twice by the scheduler, and nothing is left stuck.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::support;
use dispatcher_core::dispatch::RunLimits;
use sqlx::PgPool;
use support::dispatch::{drain, limits, Setup};
use support::table_lock::{lock_messages, wait_for_a_blocked_statement};
use testkit::database::status_count;
use testkit::receiver::{Receiver, Reply};

async fn ids_in_created_order(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT id::text FROM messages ORDER BY created_at, id").fetch_all(pool).await.unwrap()
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn eight_concurrent_runs_over_2000_messages_send_each_exactly_once(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 2000).await;
    let receiver = Receiver::accepting().await;
    let setup = Setup::default().with_batches(50, 10);
    let runners = (0..8).map(|_| {
        let dispatcher = setup.build(&pool, &receiver.url);
        async move { drain(&dispatcher).await }
    });
    let sent_by_runs: i32 = testkit::concurrently(runners).await.iter().flatten().map(|s| s.sent).sum();

    let received = receiver.received();
    let per_key = testkit::receiver::requests_per_key(&received);
    assert_eq!(received.len(), 2000, "the receiver saw every message once");
    assert_eq!(per_key.len(), 2000);
    assert!(per_key.values().all(|&n| n == 1), "no message sent twice");
    assert_eq!(sent_by_runs, 2000);
    assert_eq!(status_count(&pool, "sent").await, 2000);

    // FIFO across claims: a message arrives no further from its age rank than what
    // the eight runners can hold in flight at once.
    let rank: HashMap<String, usize> =
        ids_in_created_order(&pool).await.into_iter().enumerate().map(|(i, id)| (id, i)).collect();
    let window = 8 * 50;
    for (arrival, request) in received.iter().enumerate() {
        let age_rank = rank[&request.idempotency_key()];
        assert!(arrival.abs_diff(age_rank) <= window, "message of rank {age_rank} arrived {arrival}th");
    }
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn one_runner_with_one_worker_sends_in_created_order(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 60).await;
    let receiver = Receiver::accepting().await;
    let setup = Setup::default().with_batches(7, 1);
    drain(&setup.build(&pool, &receiver.url)).await;
    let arrived: Vec<String> = receiver.received().iter().map(|r| r.idempotency_key()).collect();
    assert_eq!(arrived, ids_in_created_order(&pool).await);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn claims_of_an_aborted_run_are_sent_by_the_next_run_after_the_lease(pool: PgPool) {
    support::insert_each(&pool, 0..5).await;
    let receiver = Receiver::start(|_| Reply::accepted().after(Duration::from_secs(10))).await;
    let setup = Setup::default().with_settings(|s| {
        s.dispatch.lease = Duration::from_secs(2);
        s.webhook.timeout = Duration::from_secs(1);
    });
    let dispatcher = setup.build(&pool, &receiver.url);

    let doomed = {
        let dispatcher = dispatcher.clone();
        tokio::spawn(async move { dispatcher.run_once(limits()).await })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    doomed.abort();
    assert!(doomed.await.unwrap_err().is_cancelled());
    assert_eq!(receiver.received().len(), 5, "all five were in flight");
    assert_eq!(status_count(&pool, "processing").await, 5);

    receiver.set_reply(|_| Reply::accepted());
    let early = dispatcher.run_once(limits()).await.unwrap();
    assert_eq!(early.claimed, 0, "the lease still holds");

    tokio::time::sleep(Duration::from_millis(2100)).await;
    let next = dispatcher.run_once(limits()).await.unwrap();
    assert_eq!((next.claimed, next.sent), (5, 5));
    assert_eq!(status_count(&pool, "sent").await, 5);

    // The re-sends carry the same Idempotency-Key as the lost ones, so the receiver can drop them.
    let received = receiver.received();
    let (lost, resent) = received.split_at(5);
    let mut lost: Vec<_> = lost.iter().map(|r| r.idempotency_key()).collect();
    let mut resent: Vec<_> = resent.iter().map(|r| r.idempotency_key()).collect();
    lost.sort();
    resent.sort();
    assert_eq!(lost, resent);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_run_out_of_time_hands_its_unsent_claims_back_to_pending(pool: PgPool) {
    support::insert_each(&pool, 0..10).await;
    let receiver = Receiver::start(|_| Reply::accepted().after(Duration::from_millis(250))).await;
    let setup = Setup::default().with_settings(|s| {
        s.dispatch.worker_count = 1;
        s.webhook.timeout = Duration::from_secs(1);
    });
    let dispatcher = setup.build(&pool, &receiver.url);

    // 2.2 s budget - 1 s timeout - 0.5 s margin: sends may start during the first 0.7 s only.
    let summary = dispatcher
        .run_once(RunLimits { batch_size: None, budget: Duration::from_millis(2200) })
        .await
        .unwrap();
    assert_eq!(summary.claimed, 10);
    assert!(summary.sent >= 1 && summary.released >= 1, "{summary:?}");
    assert_eq!(summary.sent + summary.released, 10);
    assert!(summary.duration_ms < 2200, "{summary:?}");

    assert_eq!(status_count(&pool, "processing").await, 0, "nothing left claimed");
    assert_eq!(status_count(&pool, "pending").await, i64::from(summary.released));
    let handed_back_attempts = testkit::database::fetch_i64(&pool, "SELECT coalesce(sum(attempts), 0) FROM messages WHERE status = 'pending' AND next_attempt_at <= now()").await;
    assert_eq!(handed_back_attempts, 0, "released claims are due now and their attempt is not counted");

    // The next run sends them at once.
    drain(&dispatcher).await;
    assert_eq!(status_count(&pool, "sent").await, 10);
    assert_eq!(receiver.received().len(), 10);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_batch_size_override_claims_that_many(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 30).await;
    let receiver = Receiver::accepting().await;
    let dispatcher = Setup::default().build(&pool, &receiver.url);
    let summary = dispatcher.run_once(RunLimits { batch_size: Some(25), ..limits() }).await.unwrap();
    assert_eq!((summary.claimed, summary.sent), (25, 25));
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn no_more_than_worker_count_requests_are_in_flight(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 20).await;
    let receiver = Receiver::start(|_| Reply::accepted().after(Duration::from_millis(100))).await;
    let setup = Setup::default().with_batches(20, 3);
    setup.build(&pool, &receiver.url).run_once(limits()).await.unwrap();
    assert_eq!(receiver.received().len(), 20);
    assert_eq!(receiver.peak_in_flight(), 3);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_shutdown_lets_sends_in_flight_finish_and_hands_back_the_rest(pool: PgPool) {
    support::insert_each(&pool, 0..10).await;
    let receiver = Receiver::start(|_| Reply::accepted().after(Duration::from_millis(300))).await;
    let setup = Setup::default().with_settings(|s| s.dispatch.worker_count = 2);
    let dispatcher = setup.build(&pool, &receiver.url);
    let stop = tokio_util::sync::CancellationToken::new();
    let trigger = stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        trigger.cancel();
    });
    let summary = dispatcher.run_until(limits(), &stop).await.unwrap();
    // The two sends in flight when the shutdown began finished and were recorded.
    assert_eq!((summary.claimed, summary.sent, summary.released), (10, 2, 8), "{summary:?}");
    assert_eq!(receiver.received().len(), 2);
    assert_eq!(status_count(&pool, "processing").await, 0, "nothing stays processing");
    assert_eq!(status_count(&pool, "pending").await, 8);
}

/// Polls until the receiver got `count` requests, or fails with `why`.
async fn wait_for_requests(receiver: &Receiver, count: usize, why: &str) {
    for _ in 0..1000 {
        if receiver.received().len() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{why}: the receiver got {} of {count} requests", receiver.received().len());
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn sends_go_on_while_an_outcome_write_waits_for_the_database(pool: PgPool) {
    support::insert_each(&pool, 0..10).await;
    // The first answer is slow, so that the table can be locked before its outcome is written.
    let first = AtomicBool::new(true);
    let receiver = Receiver::start(move |_| {
        let delay = if first.swap(false, Ordering::SeqCst) { 500 } else { 0 };
        Reply::accepted().after(Duration::from_millis(delay))
    })
    .await;
    let setup = Setup::default().with_settings(|s| s.dispatch.worker_count = 1);
    let dispatcher = setup.build(&pool, &receiver.url);
    let run = tokio::spawn(async move { dispatcher.run_once(limits()).await });

    wait_for_requests(&receiver, 1, "the run never sent").await;
    let lock = lock_messages(&pool, "SHARE").await;
    wait_for_a_blocked_statement(&pool).await;
    // One send at a time, and the first outcome's write waits: the other nine still go out.
    wait_for_requests(&receiver, 10, "sending stopped while an outcome write waited").await;
    assert_eq!(status_count(&pool, "processing").await, 10, "no outcome was written yet");

    drop(lock);
    let summary = run.await.unwrap().unwrap();
    assert_eq!((summary.claimed, summary.sent), (10, 10), "{summary:?}");
    assert_eq!(status_count(&pool, "sent").await, 10);
}
