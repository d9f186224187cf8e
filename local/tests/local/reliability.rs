//! Reliability scenarios on real processes: the harness binary, PostgreSQL, Redis and a
//! receiver on 127.0.0.1. Each prints a `RELIABILITY` line with its figures (RELIABILITY.md).
//! Multi-threaded: waiting for the harness to exit blocks a thread, and the receiver must keep answering.

use std::time::Duration;

use crate::support;
use support::harness::Harness;
use testkit::redis::PrivateRedis;
use testkit::Receiver;
use testkit::{wait_until, ScratchDatabase};

/// What every scenario starts from: `messages` pending in a scratch database and a receiver
/// on 127.0.0.1 that accepts each request after `delay`.
async fn start(messages: usize, delay: Duration) -> (ScratchDatabase, Receiver) {
    let db = ScratchDatabase::create().await;
    testkit::messages::insert_pending(&db.pool, messages).await;
    let receiver = Receiver::accepting().await;
    receiver.set_delay(delay);
    (db, receiver)
}

/// The harness's settings: those every scenario shares (fast ticks, a short lease so lost
/// claims come back quickly), then `extra`, each replacing a shared one of the same name.
fn settings<'a>(
    db: &'a ScratchDatabase,
    receiver: &'a Receiver,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut settings = vec![
        ("DATABASE_URL", db.url.as_str()),
        ("WEBHOOK_URL", receiver.url.as_str()),
        ("MESSAGE_INTERVAL_SECONDS", "1"),
        ("MESSAGE_LEASE_SECONDS", "4"),
        ("WEBHOOK_TIMEOUT_SECONDS", "1"),
        ("WEBHOOK_RATE_LIMIT_PER_SECOND", "1000"),
    ];
    settings.retain(|(name, _)| extra.iter().all(|(replacing, _)| replacing != name));
    settings.extend_from_slice(extra);
    settings
}

/// Prints the scenario's `RELIABILITY` line (RELIABILITY.md collects them).
fn report(scenario: &str, messages: i64, receiver: &Receiver, db_sent: i64, extra: &str) {
    let (distinct, duplicates) = receiver.distinct_and_duplicates();
    let lost = messages - db_sent;
    println!("RELIABILITY {scenario}: messages={messages} delivered={distinct} duplicates={duplicates} lost={lost} {extra}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_sigkill_mid_batch_then_restart_delivers_everything() {
    let (db, receiver) = start(300, Duration::from_millis(200)).await;
    let env = settings(&db, &receiver, &[("MESSAGE_BATCH_SIZE", "50"), ("MESSAGE_WORKER_COUNT", "10")]);

    let mut harness = Harness::start(&env).await;
    wait_until(Duration::from_secs(60), "60 requests", || async { receiver.keys().len() >= 60 }).await;
    harness.kill();
    let at_crash = receiver.keys().len();

    let mut restarted = Harness::start(&env).await;
    wait_until(Duration::from_secs(90), "all 300 sent", || async { db.status_count("sent").await == 300 })
        .await;
    let (distinct, duplicates) = receiver.distinct_and_duplicates();
    assert_eq!(distinct, 300, "every message reached the receiver");
    // Only what was in flight (sent but not yet recorded) can go twice: at most two rounds of workers.
    assert!(duplicates <= 20, "{duplicates} duplicates");
    assert_eq!(db.status_count("processing").await + db.status_count("failed").await, 0);
    report(
        "crash",
        300,
        &receiver,
        db.status_count("sent").await,
        &format!("requests_before_kill={at_crash}"),
    );
    assert!(restarted.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_is_survived_and_ready_reports_it() {
    let (db, receiver) = start(300, Duration::from_millis(20)).await;
    let env = settings(&db, &receiver, &[("MESSAGE_BATCH_SIZE", "20"), ("MESSAGE_WORKER_COUNT", "5")]);
    let mut harness = Harness::start(&env).await;
    let client = reqwest::Client::new();
    wait_until(Duration::from_secs(30), "50 requests", || async { receiver.keys().len() >= 50 }).await;

    db.cut_connections().await;
    wait_until(Duration::from_secs(15), "/ready 503", || async { harness.ready_status().await == 503 }).await;
    let during = client
        .post(format!("{}/api/v1/messages", harness.base))
        .json(&serde_json::json!({"phone_number": "+905551111111", "content": "during the outage"}))
        .send()
        .await
        .unwrap();
    assert_eq!(during.status(), 500);
    let body = during.text().await.unwrap();
    assert!(body.contains("an internal error occurred") && !body.contains(&db.name), "{body}");
    tokio::time::sleep(Duration::from_secs(3)).await;

    db.restore_connections().await;
    wait_until(Duration::from_secs(30), "/ready 200", || async { harness.ready_status().await == 200 }).await;
    assert_eq!(harness.post_message(&client, 1).await, 201, "the API recovered by itself");
    wait_until(Duration::from_secs(60), "all 301 sent", || async { db.status_count("sent").await == 301 })
        .await;
    let (distinct, duplicates) = receiver.distinct_and_duplicates();
    assert_eq!(distinct, 301);
    assert!(duplicates <= 40, "at most the batches in flight go twice: {duplicates}");
    report("database-outage", 301, &receiver, db.status_count("sent").await, "outage=3s+");
    assert!(harness.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_sending_goes_on_and_cache_and_rate_limit_resume() {
    let (db, receiver) = start(200, Duration::from_millis(10)).await;
    let redis = PrivateRedis::start();
    let redis_url = redis.url();
    let env = settings(
        &db,
        &receiver,
        &[
            ("REDIS_URL", redis_url.as_str()),
            ("WEBHOOK_RATE_LIMIT_PER_SECOND", "100"),
            ("MESSAGE_BATCH_SIZE", "20"),
            ("MESSAGE_WORKER_COUNT", "5"),
        ],
    );
    let mut harness = Harness::start(&env).await;
    wait_until(Duration::from_secs(30), "40 requests", || async { receiver.keys().len() >= 40 }).await;

    redis.stop();
    let at_stop = receiver.keys().len();
    wait_until(Duration::from_secs(30), "40 more requests without Redis", || async {
        receiver.keys().len() >= at_stop + 40
    })
    .await;
    redis.restart();
    let at_restart = db.status_count("sent").await;
    wait_until(Duration::from_secs(60), "all 200 sent", || async { db.status_count("sent").await == 200 })
        .await;

    let mut conn =
        redis::Client::open(redis_url.as_str()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let cached: Vec<String> = redis::cmd("KEYS").arg("sent_message:*").query_async(&mut conn).await.unwrap();
    assert!(cached.len() as i64 >= 200 - at_restart - 5, "caching resumed: {} keys", cached.len());
    let limiter: bool =
        redis::cmd("EXISTS").arg("dispatcher:webhook_rate_limit").query_async(&mut conn).await.unwrap();
    assert!(limiter, "the shared rate limit is in Redis again");
    let logs = harness.logs();
    assert!(logs.contains("Redis unavailable"), "the outage was logged");
    assert!(logs.contains("Redis is reachable again"), "the recovery was logged");
    assert_eq!(receiver.distinct_and_duplicates(), (200, 0));
    report(
        "redis-outage",
        200,
        &receiver,
        db.status_count("sent").await,
        &format!("cached_after_restart={}", cached.len()),
    );
    assert!(harness.terminate().success());
}

/// The scheduler status as a black box would read it.
async fn scheduler_status(client: &reqwest::Client, harness: &Harness) -> serde_json::Value {
    let url = format!("{}/api/v1/scheduler/status", harness.base);
    testkit::json_answer(client.get(url)).await
}

/// Connections refused for many breaker cooldowns, with MESSAGE_MAX_ATTEMPTS 2 (which used to
/// fail every message two seconds in): the breaker opens, probes about once per cooldown, no
/// message fails, and everything is delivered once when the receiver returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_outage_opens_the_breaker_fails_nothing_and_everything_is_sent_when_it_returns() {
    let (db, receiver) = start(50, Duration::ZERO).await;
    sqlx::query("UPDATE messages SET max_attempts = 2").execute(&db.pool).await.unwrap();
    receiver.down().await;
    let env = settings(
        &db,
        &receiver,
        &[
            ("MESSAGE_BATCH_SIZE", "50"),
            ("MESSAGE_MAX_ATTEMPTS", "2"),
            ("MESSAGE_RETRY_BASE_SECONDS", "1"),
            ("MESSAGE_RETRY_MAX_SECONDS", "1"),
            ("RECEIVER_BREAKER_COOLDOWN_SECONDS", "1"),
            ("RECEIVER_BREAKER_MAX_COOLDOWN_SECONDS", "2"),
        ],
    );
    let mut harness = Harness::start(&env).await;
    let client = reqwest::Client::new();
    wait_until(Duration::from_secs(20), "the receiver breaker to open", || async {
        scheduler_status(&client, &harness).await["receiver"]["state"] == "open"
    })
    .await;
    let status = scheduler_status(&client, &harness).await;
    let receiver_status = &status["receiver"];
    assert!(receiver_status["last_error"].as_str().unwrap().contains("cannot connect"), "{status}");
    assert!(receiver_status["next_probe_at"].is_string() && receiver_status["since"].is_string());
    // The default window decided: all of the last 20 results were endpoint failures.
    assert_eq!(receiver_status["window_results"], 20, "{status}");
    assert_eq!(receiver_status["failure_rate"], 1.0, "{status}");
    assert!(receiver_status["consecutive_failures"].as_i64().unwrap() >= 20);

    // Ten seconds down: five cooldowns and more, five times the time two attempts used to take.
    let outage = std::time::Instant::now();
    while outage.elapsed() < Duration::from_secs(10) {
        let stats = scheduler_status(&client, &harness).await["stats"].clone();
        assert_eq!(stats["failed"], 0, "a message failed during the outage: {stats}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let probes = db
        .count("SELECT count(*) FROM dispatch_runs WHERE claimed > 0 AND started_at > (SELECT min(started_at) FROM dispatch_runs WHERE breaker_open AND claimed = 0)")
        .await;
    assert!((2..=11).contains(&probes), "about one probe per cooldown (1 to 2 s) in 10 s: {probes}");

    receiver.up().await;
    wait_until(Duration::from_secs(30), "all 50 sent", || async { db.status_count("sent").await == 50 })
        .await;
    assert_eq!(db.status_count("failed").await, 0);
    assert_eq!(receiver.distinct_and_duplicates(), (50, 0));
    let status = scheduler_status(&client, &harness).await;
    assert_eq!(status["receiver"]["state"], "closed", "{status}");
    let logs = harness.logs();
    assert_eq!(logs.matches("receiver breaker opened").count(), 1, "one warning when it opens");
    assert_eq!(logs.matches("receiver breaker closed").count(), 1, "one line when it closes");
    report(
        "receiver-outage",
        50,
        &receiver,
        50,
        &format!("refused_for=10s+ max_attempts=2 probes={probes} failed=0"),
    );
    assert!(harness.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_run_finishes_sends_in_flight_and_leaves_nothing_processing() {
    let (db, receiver) = start(100, Duration::from_millis(500)).await;
    let mut env = settings(&db, &receiver, &[("MESSAGE_BATCH_SIZE", "50"), ("MESSAGE_WORKER_COUNT", "5")]);
    env.retain(|(k, _)| !matches!(*k, "MESSAGE_LEASE_SECONDS" | "WEBHOOK_TIMEOUT_SECONDS"));
    let mut harness = Harness::start(&env).await;
    wait_until(Duration::from_secs(30), "5 requests in flight", || async { receiver.keys().len() >= 5 })
        .await;

    assert!(harness.terminate().success(), "a clean exit");
    let sent = db.status_count("sent").await;
    if sent as usize != receiver.keys().len() {
        eprintln!("{}", harness.logs());
    }
    assert_eq!(db.status_count("processing").await, 0, "nothing stays processing after a clean stop");
    assert_eq!(sent as usize, receiver.keys().len(), "every request that went out was recorded");
    assert_eq!(db.status_count("pending").await, 100 - sent);
    let attempts_on_pending =
        db.count("SELECT coalesce(sum(attempts), 0) FROM messages WHERE status = 'pending'").await;
    assert_eq!(attempts_on_pending, 0, "handed-back claims do not count an attempt");

    let mut again = Harness::start(&env).await;
    wait_until(Duration::from_secs(60), "all 100 sent after restart", || async {
        db.status_count("sent").await == 100
    })
    .await;
    assert_eq!(receiver.distinct_and_duplicates(), (100, 0));
    report("graceful-shutdown", 100, &receiver, 100, &format!("sent_before_sigterm={sent}"));
    assert!(again.terminate().success());
}

/// Given SCHEDULE_NAME the harness still plays the scheduler itself: it must say so, once, so
/// nobody believes start/stop drive the EventBridge schedule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_schedule_name_the_harness_warns_that_it_drives_its_own_scheduler() {
    let (db, receiver) = start(0, Duration::ZERO).await;
    let env = settings(&db, &receiver, &[("SCHEDULE_NAME", "message-dispatcher-dispatch")]);
    let mut harness = Harness::start(&env).await;
    let status = scheduler_status(&reqwest::Client::new(), &harness).await;
    assert_eq!(status["backend"], "local", "{status}");
    let logs = harness.logs();
    let warnings: Vec<&str> = logs.lines().filter(|line| line.contains("SCHEDULE_NAME is set")).collect();
    assert_eq!(warnings.len(), 1, "{logs}");
    assert!(warnings[0].contains(r#""level":"WARN""#), "{}", warnings[0]);
    assert!(warnings[0].contains("message-dispatcher-dispatch"));
    assert!(harness.terminate().success());
}
