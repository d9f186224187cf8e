//! A run that cannot send says why: too little time for one webhook request claims nothing and
//! fails naming WEBHOOK_TIMEOUT_SECONDS; a run that hands every claim back warns why, unless it
//! is stopping.

use std::time::Duration;

use crate::support;
use dispatcher_core::dispatch::{DispatchError, RunLimits};
use sqlx::PgPool;
use support::dispatch::{limits, Setup};
use testkit::Receiver;

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_run_whose_time_cannot_fit_one_send_claims_nothing_and_says_why(pool: PgPool) {
    let receiver = Receiver::accepting().await;
    let message = support::insert(&pool, 1).await;
    let dispatcher = Setup::default().build(&pool, &receiver.url); // webhook timeout 5 s
    let short = RunLimits { batch_size: None, budget: Duration::from_millis(5_400) };
    let err = dispatcher.run_once(short).await.unwrap_err();
    assert!(matches!(err, DispatchError::BudgetTooShort { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the run's time (5.4 s) cannot fit one webhook request (WEBHOOK_TIMEOUT_SECONDS=5) plus 500 ms to \
         record it; nothing was claimed"
    );
    assert_eq!(support::status_of(&pool, &message).await, "pending");
    let runs = dispatcher_core::repository::dispatch_runs::recent(&pool, 1).await.unwrap();
    assert_eq!(runs[0].summary.claimed, 0);
    assert!(runs[0].error.as_deref().unwrap().contains("WEBHOOK_TIMEOUT_SECONDS"));
    assert!(receiver.received().is_empty());
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_run_that_hands_every_claim_back_warns_why_unless_it_is_stopping(pool: PgPool) {
    let logs = testkit::log_capture::Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
    let _guard = testkit::log_capture::set_default(subscriber);

    // The shared rate limit is booked 100 s ahead by others: no slot before the run must stop.
    let receiver = Receiver::accepting().await;
    let mut setup =
        Setup { rate_per_second: 1, redis_url: Some(support::dispatch::redis_url()), ..Setup::default() };
    setup.config.dispatch.lease = Duration::from_secs(8);
    let mut redis = redis::Client::open(setup.redis_url.clone().unwrap())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let (seconds, micros): (i64, i64) = redis::cmd("TIME").query_async(&mut redis).await.unwrap();
    let booked_until = (seconds * 1_000_000 + micros + 100_000_000).to_string();
    let _: () = redis::cmd("SET")
        .arg(&setup.rate_limit_key)
        .arg(booked_until)
        .arg("EX")
        .arg(120)
        .query_async(&mut redis)
        .await
        .unwrap();
    testkit::messages::insert_pending(&pool, 3).await;
    let summary = setup.build(&pool, &receiver.url).run_once(limits()).await.unwrap();
    assert_eq!((summary.claimed, summary.released, summary.sent), (3, 3, 0));
    let text = logs.text();
    assert!(text.contains("WARN"), "{text}");
    assert!(text.contains("dispatch run sent nothing: every claim was handed back because the webhook rate limit had no free slot"), "{text}");

    // A shutdown hands claims back too, and says nothing of a stall.
    logs.clear();
    let stop = tokio_util::sync::CancellationToken::new();
    stop.cancel();
    let summary = Setup::default().build(&pool, &receiver.url).run_until(limits(), &stop).await.unwrap();
    assert_eq!((summary.claimed, summary.released), (3, 3));
    let text = logs.text();
    assert!(!text.contains("sent nothing"), "{text}");
    assert!(receiver.received().is_empty());
}
