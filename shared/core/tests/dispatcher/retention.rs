//! Retention (MESSAGE_RETENTION_DAYS): only terminal messages older than the retention go, in
//! bounded chunks, the counts stay exact, the dispatch path purges once a minute, and dispatch
//! runs going on during a purge lose nothing. Real PostgreSQL, a real receiver.

use std::collections::HashMap;

use crate::support;
use chrono::{DateTime, Utc};
use dispatcher_core::domain::MessageStatus;
use dispatcher_core::repository::{messages, retention, Inserted};
use sqlx::PgPool;
use support::dispatch::{drain, limits, Setup};
use testkit::receiver::Receiver;

/// `n` messages numbered from `first`, put in `status` with their last change `days_ago`.
async fn messages_in(pool: &PgPool, first: i32, n: i32, status: &str, days_ago: i64) {
    let changed: DateTime<Utc> = Utc::now() - chrono::Duration::days(days_ago);
    sqlx::query(
        "INSERT INTO messages (phone_number, content, status, attempts, created_at, updated_at, sent_at,
                               next_attempt_at, locked_until, webhook_message_id)
         SELECT '+9055500' || lpad(i::text, 5, '0'), 'retention ' || i, $3, 1, $4 - interval '1 minute', $4,
                CASE WHEN $3 = 'sent' THEN $4 END,
                CASE WHEN $3 = 'pending' THEN $4 END,
                CASE WHEN $3 = 'processing' THEN now() + interval '1 minute' END,
                CASE WHEN $3 = 'sent' THEN 'w' END
         FROM generate_series($1, $1 + $2 - 1) AS i",
    )
    .bind(first)
    .bind(n)
    .bind(status)
    .bind(changed)
    .execute(pool)
    .await
    .unwrap();
}

/// What `count(*)` says, by status: the truth the kept counts must match.
async fn counted(pool: &PgPool) -> HashMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>("SELECT status, count(*) FROM messages GROUP BY status")
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

async fn assert_counts_exact(pool: &PgPool) {
    let truth = counted(pool).await;
    let stats = dispatcher_core::repository::stats::all(pool).await.unwrap();
    let of = |status: &str| truth.get(status).copied().unwrap_or(0);
    for &status in MessageStatus::ALL {
        assert_eq!(stats.count(status), of(status.as_str()), "the kept count of {status} matches count(*)");
    }
    assert_eq!(stats.total(), truth.values().sum::<i64>());
    let page = messages::list_sent(pool, 1, 20).await.unwrap();
    assert_eq!(page.total, of("sent"), "the sent list's total");
}

fn cutoff(days: i64) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::days(days)
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn only_terminal_messages_older_than_the_retention_go(pool: PgPool) {
    for (first, status) in [
        (0, "sent"),
        (100, "failed"),
        (200, "cancelled"),
        (300, "pending"),
        (400, "processing"),
        (500, "expired"),
    ] {
        messages_in(&pool, first, 5, status, 40).await; // old
        messages_in(&pool, first + 50, 3, status, 10).await; // recent
    }
    let purged = retention::purge_chunk(&pool, cutoff(30), 1000).await.unwrap();
    assert_eq!(purged, 20, "the 5 old sent, failed, cancelled and expired messages each");
    let left = counted(&pool).await;
    assert_eq!(
        (
            left["sent"],
            left["failed"],
            left["cancelled"],
            left["expired"],
            left["pending"],
            left["processing"]
        ),
        (3, 3, 3, 3, 8, 8),
        "recent terminal rows, and every pending and processing one, old or not, stay"
    );
    assert_counts_exact(&pool).await;
    assert_eq!(retention::purge_chunk(&pool, cutoff(30), 1000).await.unwrap(), 0);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_purge_deletes_in_bounded_chunks_oldest_first(pool: PgPool) {
    messages_in(&pool, 0, 25, "sent", 60).await;
    messages_in(&pool, 100, 5, "sent", 35).await;
    let chunks: Vec<u64> = {
        let mut chunks = Vec::new();
        loop {
            let deleted = retention::purge_chunk(&pool, cutoff(30), 10).await.unwrap();
            chunks.push(deleted);
            if deleted < 10 {
                break chunks;
            }
        }
    };
    assert_eq!(chunks, [10, 10, 10, 0]);
    // Oldest first: after one more chunk of 3 on a fresh set, the 3 oldest are gone.
    messages_in(&pool, 200, 3, "failed", 90).await;
    messages_in(&pool, 300, 3, "failed", 45).await;
    assert_eq!(retention::purge_chunk(&pool, cutoff(30), 3).await.unwrap(), 3);
    let oldest_left: DateTime<Utc> =
        sqlx::query_scalar("SELECT min(updated_at) FROM messages").fetch_one(&pool).await.unwrap();
    assert!(oldest_left > cutoff(46), "the 90-day-old ones went first");
    assert_counts_exact(&pool).await;
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_dispatch_path_purges_once_a_minute_and_says_so(pool: PgPool) {
    messages_in(&pool, 0, 30, "sent", 40).await;
    messages_in(&pool, 100, 2, "pending", 0).await;
    let receiver = Receiver::accepting().await;
    let setup = Setup::default().with_settings(|s| s.dispatch.retention_days = 30);
    let dispatcher = setup.build(&pool, &receiver.url);
    let first = dispatcher.run_once(limits()).await.unwrap();
    assert_eq!((first.sent, first.purged), (2, 30), "{first:?}");
    let runs = dispatcher_core::repository::dispatch_runs::recent(&pool, 1).await.unwrap();
    assert_eq!(runs[0].summary.purged, 30);

    // Within the minute, neither this process nor another purges again.
    messages_in(&pool, 200, 5, "failed", 40).await;
    assert_eq!(dispatcher.run_once(limits()).await.unwrap().purged, 0);
    let other = setup.build(&pool, &receiver.url);
    assert_eq!(other.run_once(limits()).await.unwrap().purged, 0, "the turn is shared");
    // A minute later (the turn's time moved back), the next run does; a process that asked
    // less than a minute ago does not even ask, so this is a third one.
    sqlx::query("UPDATE retention_state SET last_purge_at = now() - interval '61 seconds'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(other.run_once(limits()).await.unwrap().purged, 0, "it asked within the minute");
    let third = setup.build(&pool, &receiver.url);
    assert_eq!(third.run_once(limits()).await.unwrap().purged, 5);
    assert_counts_exact(&pool).await;
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn retention_off_keeps_everything(pool: PgPool) {
    messages_in(&pool, 0, 10, "sent", 4000).await;
    let receiver = Receiver::accepting().await;
    let summary = Setup::default().build(&pool, &receiver.url).run_once(limits()).await.unwrap();
    assert_eq!(summary.purged, 0);
    assert_eq!(counted(&pool).await["sent"], 10);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn concurrent_dispatch_runs_during_a_purge_lose_nothing(pool: PgPool) {
    messages_in(&pool, 0, 5000, "sent", 40).await;
    testkit::messages::insert_pending(&pool, 600).await;
    let receiver = Receiver::accepting().await;
    let setup = Setup::default().with_settings(|s| s.dispatch.batch_size = 50);
    let runs = (0..4).map(|_| {
        let dispatcher = setup.build(&pool, &receiver.url);
        async move { drain(&dispatcher).await }
    });
    let purge = async {
        let mut purged = 0;
        loop {
            let deleted = retention::purge_chunk(&pool, cutoff(30), 200).await.unwrap();
            purged += deleted;
            if deleted == 0 {
                return purged;
            }
        }
    };
    let (summaries, purged) = tokio::join!(futures::future::join_all(runs), purge);
    assert_eq!(purged, 5000);
    let sent_by_runs: i32 = summaries.iter().flatten().map(|s| s.sent).sum();
    assert_eq!(sent_by_runs, 600, "every pending message was sent once");
    let left = counted(&pool).await;
    assert_eq!((left.get("sent").copied(), left.get("pending")), (Some(600), None));
    assert_eq!(receiver.received().len(), 600);
    assert_counts_exact(&pool).await;
}

/// A create with an idempotency key, as the API stores one with an `Idempotency-Key` header.
async fn create_with_key(pool: &PgPool, key: &str) -> Inserted {
    let mut new = testkit::messages::new_message(1);
    new.idempotency_key = Some(key.to_owned());
    messages::insert(pool, &new).await.unwrap()
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn an_idempotency_key_deduplicates_until_its_message_is_purged(pool: PgPool) {
    let Inserted::Created(first) = create_with_key(&pool, "order-42").await else {
        panic!("the first create with a key stores a message");
    };
    let repeat = create_with_key(&pool, "order-42").await;
    assert_eq!(repeat, Inserted::Existing(first.clone()), "a repeat returns the first");
    sqlx::query(
        "UPDATE messages SET status = 'sent', attempts = 1, sent_at = now() - interval '40 days',
                             updated_at = now() - interval '40 days', next_attempt_at = NULL, webhook_message_id = 'w'",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(retention::purge_chunk(&pool, cutoff(30), 1000).await.unwrap(), 1);
    let Inserted::Created(after) = create_with_key(&pool, "order-42").await else {
        panic!("past retention the key makes a new message, as docs/design.md says");
    };
    assert_ne!(after.id, first.id);
}
