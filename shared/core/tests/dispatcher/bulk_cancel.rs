//! The bulk cancel: a campaign (or a lane, or what was created before a time) stops in one
//! call, in chunks, oldest first; a message a run has claimed finishes and is not counted, and
//! no message counted is ever sent.

use std::time::Duration;

use chrono::Utc;
use dispatcher_core::domain::{Label, Priority};
use dispatcher_core::repository::cancellation::{self, PendingFilter, CANCEL_CHUNK};
use dispatcher_core::repository::stats;
use sqlx::PgPool;
use tokio::time::Instant;
use uuid::Uuid;

use crate::support::dispatch::{drain, Setup};
use testkit::database::status_count;
use testkit::receiver::Receiver;

/// `count` pending messages of `campaign` (none: no campaign) in `lane`, created a minute ago
/// plus a millisecond each; their ids, oldest first.
async fn insert_campaign(pool: &PgPool, campaign: Option<&str>, lane: Priority, count: i32) -> Vec<Uuid> {
    sqlx::query_scalar(
        "INSERT INTO messages (phone_number, content, campaign, priority, created_at)
         SELECT '+90555' || lpad(i::text, 7, '0'), 'offer ' || i, $1, $2,
                clock_timestamp() - interval '1 minute' + i * interval '1 millisecond'
         FROM generate_series(1, $3) AS i
         RETURNING id",
    )
    .bind(campaign)
    .bind(lane.lane())
    .bind(count)
    .fetch_all(pool)
    .await
    .unwrap()
}

fn campaign(name: &str) -> PendingFilter {
    PendingFilter { campaign: Some(Label::parse(name).unwrap()), priority: None, created_before: Utc::now() }
}

async fn cancel(pool: &PgPool, filter: &PendingFilter, limit: u64) -> cancellation::Cancelled {
    let until = Instant::now() + Duration::from_secs(20);
    cancellation::cancel_pending(pool, filter, limit, until).await.unwrap()
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_campaign_is_cancelled_in_chunks_and_nothing_else_is(pool: PgPool) {
    let count = i32::try_from(CANCEL_CHUNK * 2 + 500).unwrap();
    insert_campaign(&pool, Some("spring"), Priority::Low, count).await;
    insert_campaign(&pool, Some("summer"), Priority::Low, 30).await;
    insert_campaign(&pool, None, Priority::Normal, 20).await;
    sqlx::query("UPDATE messages SET status = 'sent', sent_at = now() WHERE id IN (SELECT id FROM messages WHERE campaign = 'spring' ORDER BY created_at DESC LIMIT 5)")
        .execute(&pool)
        .await
        .unwrap();

    let done = cancel(&pool, &campaign("spring"), 1_000_000).await;
    assert_eq!((done.cancelled, done.complete), (u64::try_from(count).unwrap() - 5, true));
    assert_eq!(status_count(&pool, "cancelled").await, i64::from(count) - 5);
    assert_eq!(status_count(&pool, "pending").await, 50, "the other campaign and the rest untouched");
    let spring = stats::of_campaign(&pool, &Label::parse("spring").unwrap()).await.unwrap();
    assert_eq!(
        (spring.count(dispatcher_core::domain::MessageStatus::Cancelled), spring.total()),
        (i64::from(count) - 5, i64::from(count))
    );
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_limit_cancels_the_oldest_first(pool: PgPool) {
    let ids = insert_campaign(&pool, Some("spring"), Priority::Low, 50).await;
    let done = cancel(&pool, &campaign("spring"), 10).await;
    assert_eq!((done.cancelled, done.complete), (10, true));
    let cancelled: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM messages WHERE status = 'cancelled' ORDER BY created_at")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(cancelled, ids[..10]);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_lane_and_a_creation_time_filter_what_is_cancelled(pool: PgPool) {
    let old_low = insert_campaign(&pool, None, Priority::Low, 20).await;
    let cutoff = Utc::now();
    tokio::time::sleep(Duration::from_millis(5)).await;
    insert_campaign(&pool, None, Priority::High, 5).await;
    sqlx::query("UPDATE messages SET created_at = clock_timestamp() WHERE priority = 0")
        .execute(&pool)
        .await
        .unwrap();

    let low = PendingFilter { campaign: None, priority: Some(Priority::Low), created_before: Utc::now() };
    assert_eq!(cancel(&pool, &low, 1_000_000).await.cancelled, 20);
    let before = PendingFilter { campaign: None, priority: None, created_before: cutoff };
    assert_eq!(
        cancel(&pool, &before, 1_000_000).await.cancelled,
        0,
        "the lows are gone; the highs are newer"
    );
    assert_eq!(status_count(&pool, "pending").await, 5);
    assert_eq!(old_low.len(), 20);
}

/// A run claims part of the campaign while the cancel runs: what it claimed is sent and not
/// counted; what the cancel counted never reaches the receiver.
#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_cancel_racing_runs_counts_only_what_it_cancelled_and_none_of_it_is_sent(pool: PgPool) {
    let ids = insert_campaign(&pool, Some("spring"), Priority::Low, 4000).await;
    let receiver = Receiver::accepting().await;
    receiver.set_delay(Duration::from_millis(2));
    let setup = Setup::default().with_batches(200, 50);
    let runs = (0..2).map(|_| {
        let dispatcher = setup.build(&pool, &receiver.url);
        async move { drain(&dispatcher).await.iter().map(|s| i64::from(s.sent)).sum::<i64>() }
    });
    let cancelling = async {
        tokio::time::sleep(Duration::from_millis(30)).await;
        cancel(&pool, &campaign("spring"), 1_000_000).await
    };
    let (sent, done) = tokio::join!(testkit::concurrently(runs), cancelling);
    let sent: i64 = sent.iter().sum();

    assert!(done.complete);
    let cancelled = i64::try_from(done.cancelled).unwrap();
    assert!(cancelled > 0 && sent > 0, "both got some: sent {sent}, cancelled {cancelled}");
    assert_eq!(status_count(&pool, "cancelled").await, cancelled, "counted exactly what it cancelled");
    assert_eq!(sent + cancelled, i64::try_from(ids.len()).unwrap(), "every message sent or cancelled");
    let cancelled_ids: std::collections::HashSet<String> =
        sqlx::query_scalar("SELECT id::text FROM messages WHERE status = 'cancelled'")
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let received = receiver.keys();
    assert!(
        received.iter().all(|key| !cancelled_ids.contains(key)),
        "a cancelled message reached the receiver"
    );
    assert_eq!(received.len(), usize::try_from(sent).unwrap());
}
