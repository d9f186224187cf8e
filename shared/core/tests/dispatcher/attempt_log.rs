//! The attempt log: every webhook request a message made, read back in order with what the
//! receiver answered, written with its outcome and deleted with its message. Real PostgreSQL,
//! real receivers on 127.0.0.1.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support;
use chrono::Utc;
use dispatcher_core::config::BreakerConfig;
use dispatcher_core::domain::{AttemptOutcome, MessageId};
use dispatcher_core::repository::attempts::{self, LoggedAttempt};
use dispatcher_core::repository::{claims, retention, transitions};
use dispatcher_core::retry_policy::RetryPolicy;
use sqlx::PgPool;
use support::dispatch::{drain, limits, Setup};
use testkit::database::status_count;
use testkit::receiver::{refused_url, Receiver, Reply};

async fn attempts_of(pool: &PgPool, id: MessageId) -> Vec<LoggedAttempt> {
    attempts::of_message(pool, id).await.unwrap().expect("the message exists")
}

/// The message's next attempt is due now (its backoff skipped).
async fn due_now(pool: &PgPool, id: MessageId) {
    sqlx::query("UPDATE messages SET next_attempt_at = now() WHERE id = $1")
        .bind(id.as_uuid())
        .execute(pool)
        .await
        .unwrap();
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_message_answered_500_then_202_lists_both_attempts_in_order(pool: PgPool) {
    let message = support::insert(&pool, 1).await;
    assert_eq!(attempts_of(&pool, message.id).await, [], "nothing before the first send");
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let receiver = Receiver::start(move |_| match seen.fetch_add(1, Ordering::SeqCst) {
        0 => Reply::status(500, r#"{"error":"database is down"}"#),
        _ => Reply::accepted(),
    })
    .await;
    let dispatcher = Setup::default().build(&pool, &receiver.url);
    dispatcher.run_once(limits()).await.unwrap();
    due_now(&pool, message.id).await;
    dispatcher.run_once(limits()).await.unwrap();

    let log = attempts_of(&pool, message.id).await;
    assert_eq!(log.len(), 2, "{log:?}");
    let (first, second) = (&log[0], &log[1]);
    assert_eq!((first.number, first.status_code, first.outcome), (1, Some(500), AttemptOutcome::Retry));
    assert_eq!(first.error_code.as_deref(), Some("http_500"));
    assert_eq!(first.response_body.as_deref(), Some(r#"{"error":"database is down"}"#));
    assert_eq!((second.number, second.status_code, second.outcome), (2, Some(202), AttemptOutcome::Sent));
    assert!(second.error_code.is_none());
    assert!(second.response_body.as_deref().is_some_and(|body| body.contains("messageId")));
    assert!(first.started_at < second.started_at);
    assert!(first.started_at <= Utc::now() && first.duration_ms >= 0);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_request_without_an_answer_has_no_status_code(pool: PgPool) {
    let timed_out = support::insert(&pool, 1).await;
    let receiver = Receiver::start(|_| Reply::accepted().after(Duration::from_secs(3))).await;
    let setup = Setup::default().with_settings(|s| s.webhook.timeout = Duration::from_secs(1));
    setup.build(&pool, &receiver.url).run_once(limits()).await.unwrap();
    let log = attempts_of(&pool, timed_out.id).await;
    assert_eq!((log[0].status_code, log[0].error_code.as_deref()), (None, Some("timeout")));
    assert!(log[0].duration_ms >= 1000, "it waited for the timeout: {} ms", log[0].duration_ms);
    assert_eq!(log[0].outcome, AttemptOutcome::Retry);

    let refused = support::insert(&pool, 2).await;
    Setup::default().build(&pool, &refused_url().await).run_once(limits()).await.unwrap();
    let log = attempts_of(&pool, refused.id).await;
    assert_eq!((log[0].status_code, log[0].error_code.as_deref()), (None, Some("connection_error")));
}

/// Requests per message as the receiver saw them (by Idempotency-Key).
fn requests_per_message(receiver: &Receiver) -> HashMap<String, i32> {
    let mut seen = HashMap::new();
    for request in receiver.received() {
        *seen.entry(request.idempotency_key()).or_default() += 1;
    }
    seen
}

/// Every message's log, numbered 1..=n, against what the receiver saw.
async fn assert_log_matches_the_receiver(pool: &PgPool, receiver: &Receiver, messages: usize) {
    let seen = requests_per_message(receiver);
    let logged: Vec<(String, i32, i32)> = sqlx::query_as(
        "SELECT message_id::text, count(*)::int4, max(number) FROM message_attempts GROUP BY message_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(logged.len(), messages, "every message has its attempts");
    for (id, count, highest) in logged {
        assert_eq!(Some(&count), seen.get(&id), "message {id}: logged attempts against requests seen");
        assert_eq!(highest, count, "message {id}: numbered 1..={count}");
    }
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn under_eight_concurrent_runs_the_log_holds_exactly_the_requests_the_receiver_saw(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 600).await;
    // Every third message is answered 500 on its first request, then accepted.
    let first_seen = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let receiver = Receiver::start(move |request| {
        let first = first_seen.lock().unwrap().insert(request.idempotency_key());
        let third = request.json()["content"]
            .as_str()
            .unwrap()
            .trim_start_matches("message number ")
            .parse::<usize>()
            .unwrap()
            % 3
            == 0;
        if first && third {
            Reply::status(500, "busy")
        } else {
            Reply::accepted()
        }
    })
    .await;
    let setup = Setup::default().with_batches(50, 10).with_settings(|s| {
        s.dispatch.retry = RetryPolicy { base: Duration::from_millis(50), max: Duration::from_millis(100) };
        s.dispatch.breaker = BreakerConfig {
            // Only an unbroken window of 62 endpoint failures opens it: not here.
            window: 62,
            failure_rate: 100,
            cooldown: Duration::from_secs(1),
            max_cooldown: Duration::from_secs(1),
        };
    });
    let runners = (0..8).map(|_| {
        let (dispatcher, pool) = (setup.build(&pool, &receiver.url), pool.clone());
        async move {
            // Retries come due a little later: drain again until everything is sent.
            while status_count(&pool, "sent").await < 600 {
                drain(&dispatcher).await;
                tokio::time::sleep(Duration::from_millis(60)).await;
            }
        }
    });
    let finished = tokio::time::timeout(Duration::from_secs(60), testkit::concurrently(runners)).await;
    assert!(finished.is_ok(), "not every message was sent within 60 s");
    assert_eq!(receiver.received().len(), 800, "600 accepted and 200 first answers of 500");
    assert_log_matches_the_receiver(&pool, &receiver, 600).await;
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_crashed_runs_claims_are_logged_once_sent_after_the_lease(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 20).await;
    // A run claims ten and dies before sending: no request, no attempt.
    let lease = Duration::from_millis(300);
    assert_eq!(claims::claim_batch(&pool, 10, lease).await.unwrap().len(), 10);
    tokio::time::sleep(lease + Duration::from_millis(200)).await;
    let receiver = Receiver::accepting().await;
    drain(&Setup::default().with_batches(50, 5).build(&pool, &receiver.url)).await;
    assert_eq!(status_count(&pool, "sent").await, 20);
    assert_log_matches_the_receiver(&pool, &receiver, 20).await;
    let counts: Vec<i32> =
        sqlx::query_scalar("SELECT request_count FROM messages").fetch_all(&pool).await.unwrap();
    assert!(counts.iter().all(|&n| n == 1), "one request each: {counts:?}");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_breakers_probe_is_in_the_log(pool: PgPool) {
    let messages = support::insert_each(&pool, 1..=3).await;
    let setup = Setup::default().with_settings(|s| {
        s.dispatch.breaker = BreakerConfig {
            // The first endpoint failure opens it.
            window: 1,
            failure_rate: 100,
            cooldown: Duration::from_millis(200),
            max_cooldown: Duration::from_millis(200),
        };
    });
    let url = refused_url().await;
    let dispatcher = setup.build(&pool, &url);
    dispatcher.run_once(limits()).await.unwrap(); // the breaker opens
    let logged = || async {
        let all: i64 =
            sqlx::query_scalar("SELECT count(*) FROM message_attempts").fetch_one(&pool).await.unwrap();
        all
    };
    let before_the_probe = logged().await;
    assert!(before_the_probe >= 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let probe = dispatcher.run_once(limits()).await.unwrap();
    assert_eq!((probe.claimed, probe.retried), (1, 1), "one probe: {probe:?}");
    assert_eq!(logged().await, before_the_probe + 1, "the probe's request is logged like any other");
    let mut latest: Vec<LoggedAttempt> = Vec::new();
    for message in &messages {
        latest.extend(attempts_of(&pool, message.id).await);
    }
    latest.sort_by_key(|attempt| attempt.started_at);
    let probe_attempt = latest.last().unwrap();
    assert_eq!(probe_attempt.error_code.as_deref(), Some("connection_error"));
    assert_eq!((probe_attempt.status_code, probe_attempt.outcome), (None, AttemptOutcome::Retry));
    assert_eq!(status_count(&pool, "failed").await, 0);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_retry_by_hand_numbers_on_from_the_earlier_attempts(pool: PgPool) {
    let message = support::insert(&pool, 1).await;
    let receiver = Receiver::start(|_| Reply::status(400, "unknown recipient")).await;
    let dispatcher = Setup::default().build(&pool, &receiver.url);
    dispatcher.run_once(limits()).await.unwrap();
    assert_eq!(support::status_of(&pool, &message).await, "failed");
    transitions::retry_failed(&pool, message.id).await.unwrap();
    receiver.set_reply(|_| Reply::accepted());
    dispatcher.run_once(limits()).await.unwrap();
    let log = attempts_of(&pool, message.id).await;
    let numbered: Vec<(i32, AttemptOutcome)> = log.iter().map(|a| (a.number, a.outcome)).collect();
    assert_eq!(numbered, [(1, AttemptOutcome::Failed), (2, AttemptOutcome::Sent)]);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_purged_message_takes_its_attempts_with_it(pool: PgPool) {
    let kept = support::insert(&pool, 1).await;
    let purged = support::insert(&pool, 2).await;
    let receiver = Receiver::accepting().await;
    Setup::default().build(&pool, &receiver.url).run_once(limits()).await.unwrap();
    sqlx::query("UPDATE messages SET sent_at = now() - interval '40 days', updated_at = now() - interval '40 days' WHERE id = $1")
        .bind(purged.id.as_uuid())
        .execute(&pool)
        .await
        .unwrap();
    let cutoff = Utc::now() - chrono::Duration::days(30);
    assert_eq!(retention::purge_chunk(&pool, cutoff, 1000).await.unwrap(), 1);
    assert!(attempts::of_message(&pool, purged.id).await.unwrap().is_none(), "the message is gone");
    let orphans: i64 = sqlx::query_scalar("SELECT count(*) FROM message_attempts WHERE message_id = $1")
        .bind(purged.id.as_uuid())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(orphans, 0, "its attempts went with it");
    assert_eq!(attempts_of(&pool, kept.id).await.len(), 1, "the other message keeps its attempt");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn an_unknown_message_has_no_log(pool: PgPool) {
    assert!(attempts::of_message(&pool, MessageId::new()).await.unwrap().is_none());
}
