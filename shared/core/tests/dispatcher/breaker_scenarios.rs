//! The receiver breaker at the concurrency deployed (dozens of requests in flight) and real
//! time: a receiver that is only flaky never opens it, one that is down opens it within one
//! window, one failing 90 % is treated as down, and once it closes everything it held back goes
//! out at once. Real PostgreSQL, real receivers on 127.0.0.1; each prints a `RELIABILITY` line.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use dispatcher_core::config::BreakerConfig;
use dispatcher_core::dispatch::Dispatcher;
use dispatcher_core::domain::BreakerState;
use dispatcher_core::repository::receiver_breaker::{self, ReceiverBreaker};
use dispatcher_core::retry_policy::RetryPolicy;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;
use testkit::database::{fetch_i64, status_count};
use testkit::dispatch::{limits, Setup};
use testkit::receiver::{Receiver, Reply};
use tokio::time::Instant;

/// How often the scenarios run the dispatcher (a fast schedule).
const TICK: Duration = Duration::from_millis(100);

/// A receiver that answers each request after 0 to 100 ms at random (so that dozens are in
/// flight and their answers arrive one by one, each a new look at the window), 503 with
/// probability `failing`, else accepting it; it counts each message's acceptances.
struct Flaky {
    receiver: Receiver,
    failing: Arc<Mutex<f64>>,
    accepted: Arc<Mutex<HashMap<String, usize>>>,
}

impl Flaky {
    async fn start(failing: f64, seed: u64) -> Self {
        let failing = Arc::new(Mutex::new(failing));
        let accepted: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let rng = Mutex::new(rand::rngs::StdRng::seed_from_u64(seed));
        let (failing_in, accepted_in) = (failing.clone(), accepted.clone());
        let receiver = Receiver::start(move |request| {
            let p = *failing_in.lock().unwrap();
            let mut rng = rng.lock().unwrap();
            let latency = Duration::from_millis(rng.random_range(0..=100));
            if rng.random_bool(p) {
                return Reply::status(503, "flaky").after(latency);
            }
            *accepted_in.lock().unwrap().entry(request.idempotency_key()).or_default() += 1;
            Reply::accepted().after(latency)
        })
        .await;
        Self { receiver, failing, accepted }
    }

    fn set_failing(&self, p: f64) {
        *self.failing.lock().unwrap() = p;
    }

    /// The most requests any one message got, from the receiver's own record.
    fn most_requests_for_one_message(&self) -> usize {
        self.receiver.requests_per_key().into_values().max().unwrap_or(0)
    }

    /// Messages accepted, after checking that none was accepted twice.
    fn accepted_once_each(&self) -> usize {
        let accepted = self.accepted.lock().unwrap();
        assert!(accepted.values().all(|n| *n == 1), "a message was accepted twice");
        accepted.len()
    }
}

/// As deployed but faster: 64 requests in flight, 1,000 a second, retries after 1 s (doubling),
/// six attempts; the breaker's window and rate at their defaults (19 of the last 20), cooldown
/// 2 s doubling to at most 16 s (so a failed probe's message is pushed 32 s back).
fn deployed(batch_size: u32) -> Setup {
    let mut setup = Setup::default().with_batches(batch_size, 64).with_settings(|s| {
        s.dispatch.retry = RetryPolicy { base: Duration::from_secs(1), max: Duration::from_secs(1800) };
        s.dispatch.breaker = BreakerConfig {
            window: 20,
            failure_rate: 95,
            cooldown: Duration::from_secs(2),
            max_cooldown: Duration::from_secs(16),
        };
    });
    setup.rate_per_second = 1000;
    setup
}

async fn insert(pool: &PgPool, messages: usize) {
    testkit::messages::insert_pending(pool, messages).await;
    sqlx::query("UPDATE messages SET max_attempts = 6").execute(pool).await.unwrap();
}

async fn breaker(pool: &PgPool) -> ReceiverBreaker {
    receiver_breaker::get(pool).await.unwrap()
}

/// What the scenario saw of the breaker, run by run.
#[derive(Debug, Default)]
struct Watch {
    last: Option<BreakerState>,
    /// When each opening (from closed) began; a reopening after a failed probe is the same one.
    openings: Vec<DateTime<Utc>>,
    /// When each opening ended, in order.
    closings: Vec<DateTime<Utc>>,
    highest_failure_rate: f64,
}

impl Watch {
    async fn look(&mut self, pool: &PgPool) {
        let seen = breaker(pool).await;
        self.highest_failure_rate = self.highest_failure_rate.max(seen.failure_rate().unwrap_or(0.0));
        let open = seen.state != BreakerState::Closed;
        let was_open = self.last.is_some_and(|state| state != BreakerState::Closed);
        if open && !was_open {
            self.openings.push(seen.since);
        } else if !open && was_open {
            self.closings.push(seen.since);
        }
        self.last = Some(seen.state);
    }
}

/// Runs the dispatcher every TICK for `period`, checking after each run that no message failed.
async fn run_for(pool: &PgPool, dispatcher: &Dispatcher, period: Duration, watch: &mut Watch) {
    let ends = Instant::now() + period;
    while Instant::now() < ends {
        dispatcher.run_once(limits()).await.unwrap();
        watch.look(pool).await;
        assert_eq!(status_count(pool, "failed").await, 0, "a message failed: {watch:?}");
        tokio::time::sleep(TICK).await;
    }
}

/// Runs until every message is sent; returns the seconds from the breaker's closing to the last send.
async fn recover(pool: &PgPool, dispatcher: &Dispatcher, total: i64, watch: &mut Watch) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(40);
    while status_count(pool, "sent").await < total {
        assert!(Instant::now() < deadline, "not everything was sent after the receiver came back: {watch:?}");
        dispatcher.run_once(limits()).await.unwrap();
        watch.look(pool).await;
        assert_eq!(status_count(pool, "failed").await, 0);
        tokio::time::sleep(TICK).await;
    }
    let closed_at = *watch.closings.last().expect("the breaker closed");
    let last_sent: DateTime<Utc> =
        sqlx::query_scalar("SELECT max(sent_at) FROM messages").fetch_one(pool).await.unwrap();
    (last_sent - closed_at).num_milliseconds() as f64 / 1000.0
}

/// Webhook requests made (refused ones too: the attempt log) that started before `at`.
async fn requests_before(pool: &PgPool, at: DateTime<Utc>) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM message_attempts WHERE started_at < $1")
        .bind(at)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Requests started while the breaker was open (up to `until` for an opening not closed yet),
/// and the runs that sent anything then: probes, one request each while it is open.
async fn while_open(pool: &PgPool, watch: &Watch, until: DateTime<Utc>) -> (i64, i64) {
    let (mut requests, mut probes) = (0, 0);
    for (i, &opened) in watch.openings.iter().enumerate() {
        let closed = watch.closings.get(i).copied().unwrap_or(until);
        requests += requests_before(pool, closed).await - requests_before(pool, opened).await;
        probes += probes_between(pool, opened, closed).await;
    }
    (requests, probes)
}

/// Probes: runs that claimed something while the breaker was open.
async fn probes_between(pool: &PgPool, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM dispatch_runs WHERE claimed > 0 AND started_at > $1 AND started_at < $2",
    )
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_receiver_failing_40_percent_at_random_never_opens_the_breaker_and_95_percent_go_within_60_s(
    pool: PgPool,
) {
    let receiver = Flaky::start(0.4, 26).await;
    insert(&pool, 120).await;
    let dispatcher = deployed(40).build(&pool, &receiver.receiver.url);
    let started = Instant::now();
    let mut watch = Watch::default();
    while started.elapsed() < Duration::from_secs(60)
        && status_count(&pool, "sent").await + status_count(&pool, "failed").await < 120
    {
        let summary = dispatcher.run_once(limits()).await.unwrap();
        watch.look(&pool).await;
        assert!(!summary.breaker_open && watch.openings.is_empty(), "the breaker opened: {watch:?}");
        tokio::time::sleep(TICK).await;
    }
    let took = started.elapsed().as_secs_f64();
    let sent = status_count(&pool, "sent").await;
    let requests = receiver.receiver.received().len();
    assert!(sent >= 114, "{sent} of 120 sent within 60 s ({requests} requests)");
    assert_eq!(receiver.accepted_once_each() as i64, sent);
    assert_eq!(fetch_i64(&pool, "SELECT count(*) FROM dispatch_runs WHERE breaker_open").await, 0);
    let in_flight = receiver.receiver.peak_in_flight();
    assert!(in_flight >= 10, "only {in_flight} requests in flight at once");
    let most = receiver.most_requests_for_one_message();
    assert!(most <= 6, "a message got {most} requests with MESSAGE_MAX_ATTEMPTS 6");
    assert_attempts_are_the_counted_requests(&pool).await;
    println!(
        "RELIABILITY flaky_receiver_40pct_503: messages=120 batch=40 peak_in_flight={in_flight} requests={requests} sent={sent} \
         failed={} seconds={took:.1} breaker_openings=0 highest_window_failure_rate={:.2} most_requests_per_message={most}",
        status_count(&pool, "failed").await,
        watch.highest_failure_rate
    );
}

/// MESSAGE_MAX_ATTEMPTS bounds what a receiver that is up gets, however flaky: at 40 % 503s
/// and dozens in flight, runs of failures in a chunk come by chance (hundreds of last attempts
/// here, dozens of them failing right after other failures), and none buys a message an extra
/// request; the breaker never judges the receiver down, so every request counts.
#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_receiver_failing_40_percent_gets_at_most_max_attempts_requests_per_message(pool: PgPool) {
    let receiver = Flaky::start(0.4, 36).await;
    testkit::messages::insert_pending(&pool, 400).await;
    sqlx::query("UPDATE messages SET max_attempts = 2").execute(&pool).await.unwrap();
    let dispatcher = deployed(100).build(&pool, &receiver.receiver.url);
    let started = Instant::now();
    let mut watch = Watch::default();
    while status_count(&pool, "sent").await + status_count(&pool, "failed").await < 400 {
        assert!(started.elapsed() < Duration::from_secs(60), "not settled within 60 s: {watch:?}");
        dispatcher.run_once(limits()).await.unwrap();
        watch.look(&pool).await;
        assert!(watch.openings.is_empty(), "the breaker opened: {watch:?}");
        tokio::time::sleep(TICK).await;
    }
    let most = receiver.most_requests_for_one_message();
    let requests = receiver.receiver.received().len();
    let (sent, failed) = (status_count(&pool, "sent").await, status_count(&pool, "failed").await);
    assert!(most <= 2, "a message got {most} requests with MESSAGE_MAX_ATTEMPTS 2");
    assert_eq!(receiver.accepted_once_each() as i64, sent);
    let uncounted = fetch_i64(&pool, "SELECT count(*) FROM message_attempts WHERE NOT counted").await;
    assert_eq!(uncounted, 0, "a request went uncounted while the receiver was up");
    assert_eq!(requests as i64, fetch_i64(&pool, "SELECT count(*) FROM message_attempts").await);
    // About 0.4 x 0.4 of them fail both attempts: the bound is what ends them.
    assert!(failed > 0, "no message used up its attempts ({requests} requests)");
    assert_attempts_are_the_counted_requests(&pool).await;
    let in_flight = receiver.receiver.peak_in_flight();
    assert!(in_flight >= 30, "only {in_flight} requests in flight at once");
    println!(
        "RELIABILITY flaky_receiver_40pct_max_attempts: messages=400 max_attempts=2 batch=100 peak_in_flight={in_flight} \
         requests={requests} most_requests_per_message={most} sent={sent} failed={failed} uncounted=0"
    );
}

/// Each message's `attempts` is the number of its logged requests that counted (no retry by hand
/// here), so the attempt log shows which requests an outage did not count.
async fn assert_attempts_are_the_counted_requests(pool: &PgPool) {
    let off = fetch_i64(
        pool,
        "SELECT count(*) FROM messages AS m
         WHERE m.attempts <> (SELECT count(*) FROM message_attempts AS a WHERE a.message_id = m.id AND a.counted)",
    )
    .await;
    assert_eq!(off, 0, "messages whose attempts differ from their counted requests");
}

/// A receiver down (503, or connections refused) for 30 s: the breaker opens on the 20th
/// request, probes at most once per cooldown, fails nothing, and everything is sent within 10 s
/// of its closing, the failed probes' messages included.
async fn outage_of_30_s(pool: PgPool, refused: bool) {
    let receiver = Flaky::start(if refused { 0.0 } else { 1.0 }, 30).await;
    if refused {
        receiver.receiver.down().await;
    }
    insert(&pool, 60).await;
    let dispatcher = deployed(10).build(&pool, &receiver.receiver.url);
    let mut watch = Watch::default();
    run_for(&pool, &dispatcher, Duration::from_secs(30), &mut watch).await;
    let opened_at = *watch.openings.first().expect("the breaker opened");
    assert_eq!(watch.openings.len(), 1, "{watch:?}");
    let before_open = requests_before(&pool, opened_at).await;
    assert!(before_open <= 20, "{before_open} requests before it opened");
    let during = fetch_i64(&pool, "SELECT count(*) FROM message_attempts").await;
    let spent = fetch_i64(&pool, "SELECT max(attempts)::int8 FROM messages").await;
    assert_eq!(spent, 1, "the outage spent at most the attempt that found it");
    // The requests that found it closed counted; the ones after it judged the receiver down
    // (the probes, the results that brought the window to its rate) show as not counted.
    let uncounted = fetch_i64(&pool, "SELECT count(*) FROM message_attempts WHERE NOT counted").await;
    assert!(uncounted >= 3 && uncounted <= during, "{uncounted} of {during} requests not counted");
    assert_attempts_are_the_counted_requests(&pool).await;

    if refused {
        receiver.receiver.up().await;
    } else {
        receiver.set_failing(0.0);
    }
    let after_close = recover(&pool, &dispatcher, 60, &mut watch).await;
    let closed_at = *watch.closings.last().unwrap();
    let open_for = (closed_at - opened_at).num_milliseconds() as f64 / 1000.0;
    let probes = probes_between(&pool, opened_at, closed_at).await;
    assert!(probes >= 3, "{probes} probes in {open_for} s");
    assert!(
        probes as f64 <= open_for / 2.0 + 1.0,
        "{probes} probes in {open_for} s: more than one per cooldown"
    );
    assert!(after_close <= 10.0, "the last message went {after_close} s after the breaker closed");
    assert_eq!(receiver.accepted_once_each(), 60);
    let mode = if refused { "refused" } else { "503" };
    println!(
        "RELIABILITY receiver_down_30s_{mode}: messages=60 batch=10 requests_before_open={before_open} \
         requests_during_outage={during} uncounted={uncounted} probes={probes} open_s={open_for:.1} last_sent_after_close_s={after_close:.1} \
         failed=0 delivered=60 duplicates=0"
    );
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_receiver_answering_503_for_30_s_opens_within_20_requests_and_all_go_within_10_s_of_closing(
    pool: PgPool,
) {
    outage_of_30_s(pool, false).await;
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_receiver_refusing_for_30_s_opens_within_20_requests_and_all_go_within_10_s_of_closing(
    pool: PgPool,
) {
    outage_of_30_s(pool, true).await;
}

/// 90 % failures is an outage as far as a sender can tell (a message's six attempts would all
/// fail more than half the time): the breaker opens, nothing spends attempts while it is open,
/// a probe that gets through closes it and lets about one window through before it reopens,
/// and once the receiver recovers everything goes within 10 s of the closing.
#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_receiver_failing_90_percent_for_a_minute_is_treated_as_down_and_nothing_fails(pool: PgPool) {
    // Seed 2: a probe gets through in the minute, the breaker closes and opens again.
    let receiver = Flaky::start(0.9, 2).await;
    insert(&pool, 60).await;
    let dispatcher = deployed(10).build(&pool, &receiver.receiver.url);
    let mut watch = Watch::default();
    run_for(&pool, &dispatcher, Duration::from_secs(60), &mut watch).await;
    let opened_at = *watch.openings.first().expect("the breaker opened");
    let requests_in_the_minute = receiver.receiver.received().len();
    let accepted_in_the_minute = receiver.accepted_once_each();
    let before_open = requests_before(&pool, opened_at).await;
    // While it is open only probes go, one request each (a probe that is answered closes it
    // first, and the rest of its batch goes after the close), besides what the run that opened
    // it started in the moment before it learned so: at most the rest of its batch.
    let (requests_while_open, probes) = while_open(&pool, &watch, Utc::now()).await;
    let allowed = probes + watch.openings.len() as i64 * 9;
    assert!(
        requests_while_open <= allowed,
        "{requests_while_open} requests, {probes} probes while open: {watch:?}"
    );

    receiver.set_failing(0.0);
    let after_close = recover(&pool, &dispatcher, 60, &mut watch).await;
    assert!(after_close <= 10.0, "the last message went {after_close} s after the breaker closed");
    assert_eq!(receiver.accepted_once_each(), 60);
    println!(
        "RELIABILITY receiver_90pct_for_60s: messages=60 batch=10 requests_before_open={before_open} \
         requests_in_the_minute={requests_in_the_minute} accepted_in_the_minute={accepted_in_the_minute} \
         openings={} probes={probes} requests_while_open={requests_while_open} highest_window_failure_rate={:.2} failed=0 last_sent_after_close_s={after_close:.1} delivered=60 duplicates=0",
        watch.openings.len(),
        watch.highest_failure_rate
    );
}

/// The decision lives in the shared row: eight runs reporting at once agree, exactly one opens it.
#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn eight_runs_failing_at_once_open_the_breaker_once_on_the_shared_window(pool: PgPool) {
    let receiver = Flaky::start(1.0, 8).await;
    insert(&pool, 160).await;
    let setup = deployed(3);
    let runs = (0..8).map(|_| {
        let dispatcher = setup.build(&pool, &receiver.receiver.url);
        async move { dispatcher.run_once(limits()).await.unwrap() }
    });
    let summaries = futures::future::join_all(runs).await;
    let seen = breaker(&pool).await;
    assert_eq!(seen.state, BreakerState::Open, "{seen:?}");
    // 24 failures from 8 runs: the window holds its 20, all failures, whichever order they came.
    assert_eq!((seen.window_results, seen.window_failures), (20, 20));
    assert!(summaries.iter().any(|s| s.breaker_open), "{summaries:?}");
    assert_eq!(status_count(&pool, "failed").await, 0);
}
