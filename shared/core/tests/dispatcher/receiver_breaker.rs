//! Receiver outages: the shared circuit breaker keeps an outage, however long, from failing
//! any message, probes about once per cooldown, and tells an outage from a bad message.
//! Real PostgreSQL, real receivers on 127.0.0.1; each outage scenario prints a `RELIABILITY` line.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support;
use chrono::{DateTime, Utc};
use dispatcher_core::config::BreakerConfig;
use dispatcher_core::dispatch::outcome::{self as outcomes, Outcome};
use dispatcher_core::dispatch::Dispatcher;
use dispatcher_core::domain::{BreakerState, ErrorCode};
use dispatcher_core::repository::claims::{self, ClaimedRow};
use dispatcher_core::repository::receiver_breaker::{self, ReceiverBreaker};
use dispatcher_core::retry_policy::RetryPolicy;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;
use support::dispatch::{drain, limits, Setup};
use testkit::database::status_count;
use testkit::receiver::{Receiver, Reply};
use tokio::time::Instant;

const COOLDOWN: Duration = Duration::from_millis(200);

/// Opens once 3 results in a row are endpoint failures; probes after 200 ms, then at most every
/// 400 ms; retries after 100 ms: an outage of many cooldowns in a few seconds.
fn outage_setup() -> Setup {
    Setup::default().with_settings(|s| {
        s.dispatch.retry = RetryPolicy { base: Duration::from_millis(100), max: Duration::from_secs(1) };
        s.dispatch.breaker =
            BreakerConfig { window: 3, failure_rate: 100, cooldown: COOLDOWN, max_cooldown: COOLDOWN * 2 };
    })
}

async fn breaker(pool: &PgPool) -> ReceiverBreaker {
    receiver_breaker::get(pool).await.unwrap()
}

/// Runs that claimed something (each one a probe while the breaker is open) since `at`.
async fn runs_that_claimed_since(pool: &PgPool, at: DateTime<Utc>) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM dispatch_runs WHERE started_at > $1 AND claimed > 0")
        .bind(at)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Runs the dispatcher every 20 ms for `outage`, checking after every run that no message
/// failed. Returns when the breaker opened.
async fn ride_out(pool: &PgPool, dispatcher: &Dispatcher, outage: Duration) -> DateTime<Utc> {
    let started = Instant::now();
    let mut opened_at = None;
    while started.elapsed() < outage {
        dispatcher.run_once(limits()).await.unwrap();
        assert_eq!(status_count(pool, "failed").await, 0, "a message failed during the outage");
        if opened_at.is_none() {
            let seen = breaker(pool).await;
            if seen.state != BreakerState::Closed {
                assert!(seen.last_error.is_some() && seen.next_probe_at.is_some(), "{seen:?}");
                opened_at = Some(seen.since);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    opened_at.expect("the breaker opened")
}

/// Runs until every message is sent (none may fail).
async fn recover(pool: &PgPool, dispatcher: &Dispatcher, total: i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while status_count(pool, "sent").await < total {
        assert!(Instant::now() < deadline, "not everything was sent after the receiver came back");
        dispatcher.run_once(limits()).await.unwrap();
        assert_eq!(status_count(pool, "failed").await, 0);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The most probes an outage of `open_for` may see: one per (base) cooldown, and one more.
fn probe_bound(open_for: chrono::Duration) -> i64 {
    open_for.num_milliseconds() / COOLDOWN.as_millis() as i64 + 1
}

/// Each message reached the receiver exactly once among `requests`, all `total` of them.
fn assert_once_each(requests: &[testkit::receiver::Received], total: i64) {
    let per_key = testkit::receiver::requests_per_key(requests);
    assert_eq!(per_key.len() as i64, total, "every message delivered");
    assert!(per_key.values().all(|n| *n == 1), "a message was delivered twice: {per_key:?}");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_receiver_answering_503_for_many_cooldowns_fails_nothing_and_is_probed_about_once_per_cooldown(
    pool: PgPool,
) {
    let receiver = Receiver::start(|_| Reply::status(503, "down for maintenance")).await;
    testkit::messages::insert_pending(&pool, 30).await;
    let dispatcher = outage_setup().build(&pool, &receiver.url);

    let opened_at = ride_out(&pool, &dispatcher, COOLDOWN * 20).await;
    let open_for = Utc::now() - opened_at;
    let during = receiver.received().len();
    let probes = runs_that_claimed_since(&pool, opened_at).await;
    assert!(probes >= 3, "the breaker kept probing: {probes} probes");
    assert!(probes <= probe_bound(open_for), "{probes} probes in {open_for}");
    // Before it opened: the first batch (10) at most; after: one request per probe.
    assert!(during as i64 <= 10 + probes, "{during} requests during the outage, {probes} probes");

    receiver.set_reply(|_| Reply::accepted());
    recover(&pool, &dispatcher, 30).await;
    assert_once_each(&receiver.received()[during..], 30);
    let after = breaker(&pool).await;
    assert_eq!(
        (after.state, after.consecutive_failures, after.next_probe_at),
        (BreakerState::Closed, 0, None)
    );
    assert_eq!(after.last_error.as_deref(), Some("HTTP 503 Service Unavailable"), "kept for the operator");
    println!(
        "RELIABILITY receiver_503_outage: messages=30 open_ms={} cooldowns={} requests_during_outage={during} \
         probes={probes} failed=0 delivered=30 duplicates=0",
        open_for.num_milliseconds(),
        open_for.num_milliseconds() / COOLDOWN.as_millis() as i64
    );
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_receiver_refusing_connections_for_many_cooldowns_fails_nothing(pool: PgPool) {
    let port = testkit::free_port();
    let url = format!("http://127.0.0.1:{port}/webhook");
    testkit::messages::insert_pending(&pool, 30).await;
    let dispatcher = outage_setup().build(&pool, &url);

    let opened_at = ride_out(&pool, &dispatcher, COOLDOWN * 20).await;
    let open_for = Utc::now() - opened_at;
    let probes = runs_that_claimed_since(&pool, opened_at).await;
    assert!((3..=probe_bound(open_for)).contains(&probes), "{probes} probes in {open_for}");
    let seen = breaker(&pool).await;
    assert!(seen.last_error.as_deref().unwrap().contains("cannot connect"), "{seen:?}");
    let attempts = testkit::database::fetch_i64(&pool, "SELECT max(attempts)::int8 FROM messages").await;
    assert!(attempts <= 1, "an outage spends at most the attempt that found it: {attempts}");

    let receiver = Receiver::start_on(port, |_| Reply::accepted()).await;
    recover(&pool, &dispatcher, 30).await;
    assert_once_each(&receiver.received(), 30);
    assert_eq!(breaker(&pool).await.state, BreakerState::Closed);
    println!(
        "RELIABILITY receiver_refused_outage: messages=30 open_ms={} probes={probes} failed=0 delivered=30 duplicates=0",
        open_for.num_milliseconds()
    );
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn four_concurrent_runs_share_one_breaker_and_no_more_than_one_probe_per_cooldown(pool: PgPool) {
    let receiver = Receiver::start(|_| Reply::status(503, "")).await;
    testkit::messages::insert_pending(&pool, 40).await;
    let setup = outage_setup();
    let until = Instant::now() + Duration::from_secs(4);
    let runs = (0..4).map(|_| {
        let dispatcher = setup.build(&pool, &receiver.url);
        async move {
            let mut held_back = 0;
            while Instant::now() < until {
                let summary = dispatcher.run_once(limits()).await.unwrap();
                held_back += usize::from(summary.breaker_open && summary.claimed == 0);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            held_back
        }
    });
    let held_back = futures::future::join_all(runs).await;
    assert!(held_back.iter().all(|n| *n > 0), "every run saw the one breaker open: {held_back:?}");
    assert_eq!(status_count(&pool, "failed").await, 0);

    let opened_at: DateTime<Utc> =
        sqlx::query_scalar("SELECT min(started_at) FROM dispatch_runs WHERE breaker_open AND claimed = 0")
            .fetch_one(&pool)
            .await
            .unwrap();
    let settled = opened_at + chrono::Duration::milliseconds(100);
    let probes = runs_that_claimed_since(&pool, settled).await;
    assert!(probes >= 2, "{probes} probes");
    assert!(probes <= probe_bound(Utc::now() - settled), "{probes} probes from 4 runs");
    let requests = receiver.received().len() as i64;
    let onset = runs_that_claimed_since(&pool, opened_at - chrono::Duration::hours(1)).await - probes;
    assert!(requests <= onset * 10 + probes, "{requests} requests: the onset's batches and the probes only");
    println!(
        "RELIABILITY four_runs_one_breaker: runs=4 probes={probes} held_back_runs={held_back:?} failed=0"
    );
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn message_level_failures_never_open_the_breaker(pool: PgPool) {
    // One message is refused (400), one gets a 2xx without messageId; the rest are accepted.
    let receiver = Receiver::start(|r| {
        if r.is_message(3) {
            Reply::status(400, r#"{"error":"bad number"}"#)
        } else if r.is_message(5) {
            Reply::status(200, "{}")
        } else {
            Reply::accepted()
        }
    })
    .await;
    support::insert_each(&pool, 0..10).await;
    // A single endpoint failure would open it.
    let setup = Setup::default()
        .with_settings(|s| (s.dispatch.breaker.window, s.dispatch.breaker.failure_rate) = (1, 100));
    drain(&setup.build(&pool, &receiver.url)).await;
    assert_eq!((status_count(&pool, "sent").await, status_count(&pool, "failed").await), (8, 2));
    let after = breaker(&pool).await;
    assert_eq!((after.state, after.consecutive_failures), (BreakerState::Closed, 0));
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_flaky_receiver_answering_30_percent_500s_still_delivers_everything_once(pool: PgPool) {
    let rng = Arc::new(Mutex::new(rand::rngs::StdRng::seed_from_u64(14)));
    let delivered: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let (rng_in, delivered_in) = (rng.clone(), delivered.clone());
    let receiver = Receiver::start(move |r| {
        if rng_in.lock().unwrap().random_bool(0.3) {
            return Reply::status(500, "flaky");
        }
        *delivered_in.lock().unwrap().entry(r.idempotency_key()).or_default() += 1;
        Reply::accepted()
    })
    .await;
    testkit::messages::insert_pending(&pool, 100).await;
    // Ten attempts: a message whose ten requests all draw a 500 (0.3^10) is its own failure.
    sqlx::query("UPDATE messages SET max_attempts = 10").execute(&pool).await.unwrap();
    let setup = outage_setup().with_settings(|s| {
        s.dispatch.retry = RetryPolicy { base: Duration::from_millis(20), max: Duration::from_millis(200) };
    });
    let dispatcher = setup.build(&pool, &receiver.url);
    recover(&pool, &dispatcher, 100).await;
    let delivered = delivered.lock().unwrap();
    assert_eq!(delivered.len(), 100);
    assert!(delivered.values().all(|n| *n == 1), "a message was delivered twice");
    let requests = receiver.received().len();
    println!("RELIABILITY flaky_receiver_30pct_500: messages=100 requests={requests} failed=0 delivered=100 duplicates=0");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_message_the_receiver_always_fails_while_others_pass_ends_failed_and_the_breaker_stays_closed(
    pool: PgPool,
) {
    let receiver = Receiver::failing_message(0, Reply::status(500, "this one breaks us")).await;
    support::insert(&pool, 0).await; // the oldest: first in every run it is due in
                                     // The others keep coming due, one every 10 ms, so the receiver answers between its attempts
                                     // (each retry waits its turn among the messages due before it).
    support::insert_each(&pool, 1..=20).await;
    sqlx::query("UPDATE messages SET next_attempt_at = now() + (substr(content, 16)::int * interval '10 ms') WHERE content <> 'message number 0'")
        .execute(&pool)
        .await
        .unwrap();
    let setup = outage_setup().with_batches(2, 1).with_settings(|s| {
        s.dispatch.retry = RetryPolicy { base: Duration::from_millis(20), max: Duration::from_millis(100) }
    });
    let dispatcher = setup.build(&pool, &receiver.url);
    let deadline = Instant::now() + Duration::from_secs(30);
    while status_count(&pool, "sent").await + status_count(&pool, "failed").await < 21 {
        assert!(Instant::now() < deadline, "not every message reached an end");
        let summary = dispatcher.run_once(limits()).await.unwrap();
        assert!(!summary.breaker_open, "one bad message opened the breaker");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let failed: (i32, String, String) =
        sqlx::query_as("SELECT attempts, error_code, last_error FROM messages WHERE status = 'failed'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        failed,
        (3, "http_500".into(), "HTTP 500 Internal Server Error (gave up after 3 attempts)".into())
    );
    assert_eq!(breaker(&pool).await.state, BreakerState::Closed);
}

/// Closing releases what waited for the receiver, and only that: a failed probe's message pushed
/// 20 minutes back is due at once, an uncounted retry already due keeps its place, and a
/// message's own retry (its attempt counted) keeps its schedule.
#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn closing_the_breaker_makes_what_waited_for_the_receiver_due_at_once_and_keeps_own_retries(
    pool: PgPool,
) {
    testkit::messages::insert_pending(&pool, 3).await;
    let claimed = claims::claim_batch(&pool, 3, Duration::from_secs(60)).await.unwrap();
    let (probe, uncounted, own) = (&claimed[0..1], &claimed[1..2], &claimed[2..3]);
    let in_20_minutes = Utc::now() + chrono::Duration::minutes(20);
    let a_minute_ago = Utc::now() - chrono::Duration::minutes(1);
    let not_counted = |due| Outcome::Retry {
        next_attempt_at: due,
        counted: false,
        error_code: ErrorCode::Http(503),
        last_error: "HTTP 503 (receiver breaker open: attempt not counted)".into(),
        response: None,
    };
    let mut records = support::records(probe, not_counted(in_20_minutes));
    records.extend(support::records(uncounted, not_counted(a_minute_ago)));
    records.extend(support::retry_records(own, in_20_minutes));
    outcomes::record(&pool, &records).await.unwrap();
    let awaiting = "SELECT count(*) FROM messages WHERE awaits_receiver";
    assert_eq!(testkit::database::fetch_i64(&pool, awaiting).await, 2, "the two uncounted retries wait");

    sqlx::query(
        "UPDATE receiver_breaker SET state = 'half_open', next_probe_at = now() + interval '1 minute'",
    )
    .execute(&pool)
    .await
    .unwrap();
    let closed_at = Utc::now();
    let closed = receiver_breaker::close(&pool).await.unwrap().expect("the probe held the breaker");
    assert_eq!(closed.released, 2);
    let due_of = |row: &ClaimedRow| {
        let id = row.id;
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, DateTime<Utc>>("SELECT next_attempt_at FROM messages WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let probe_due = due_of(&probe[0]).await;
    assert!(probe_due <= Utc::now() && probe_due >= closed_at - chrono::Duration::seconds(1), "{probe_due}");
    assert_eq!(due_of(&uncounted[0]).await.timestamp_micros(), a_minute_ago.timestamp_micros());
    assert_eq!(due_of(&own[0]).await.timestamp_micros(), in_20_minutes.timestamp_micros());
    assert_eq!(testkit::database::fetch_i64(&pool, awaiting).await, 0);
    // Closing again (no probe holds it) releases nothing.
    assert!(receiver_breaker::close(&pool).await.unwrap().is_none());
}
