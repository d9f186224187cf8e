//! Insert, get, the sent list and stats against a real PostgreSQL.

use crate::support;
use chrono::{Duration, Utc};
use dispatcher_core::dispatch::outcome::{self as outcomes, Outcome};
use dispatcher_core::domain::{MessageId, MessageStatus};
use dispatcher_core::repository::claims;
use dispatcher_core::repository::{messages, Inserted};
use sqlx::PgPool;
use support::{insert, new_message};

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn an_inserted_message_reads_back_pending_and_due(pool: PgPool) {
    let created = insert(&pool, 1).await;
    assert_eq!(created.status, MessageStatus::Pending);
    assert_eq!(created.phone_number.as_str(), "+905550000001");
    assert_eq!(created.content.as_str(), "message number 1");
    assert_eq!((created.attempts, created.max_attempts), (0, 3));
    assert!(created.sent_at.is_none() && created.webhook_message_id.is_none());
    assert!(created.next_attempt_at.unwrap() <= Utc::now());

    let read = messages::get(&pool, created.id).await.unwrap().unwrap();
    assert_eq!(read, created);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn get_of_an_unknown_id_is_none(pool: PgPool) {
    assert!(messages::get(&pool, MessageId::new()).await.unwrap().is_none());
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn an_idempotency_key_repeat_returns_the_first_message(pool: PgPool) {
    let mut first = new_message(1);
    first.idempotency_key = Some("order-42".into());
    let mut second = new_message(2);
    second.idempotency_key = Some("order-42".into());

    let Inserted::Created(created) = messages::insert(&pool, &first).await.unwrap() else {
        panic!("first insert must create");
    };
    let Inserted::Existing(existing) = messages::insert(&pool, &second).await.unwrap() else {
        panic!("repeat must return the existing message");
    };
    assert_eq!(existing, created);
    assert_eq!(support::count(&pool).await, 1);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn messages_without_keys_never_collide(pool: PgPool) {
    insert(&pool, 1).await;
    insert(&pool, 1).await;
    assert_eq!(support::count(&pool).await, 2);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn send_at_in_the_future_is_the_first_due_time_and_a_past_one_means_now(pool: PgPool) {
    let later = Utc::now() + Duration::hours(2);
    let mut scheduled = new_message(1);
    scheduled.send_at = Some(later);
    let scheduled = messages::insert(&pool, &scheduled).await.unwrap().into_message();
    let due = scheduled.next_attempt_at.unwrap();
    assert!((due - later).num_milliseconds().abs() < 1, "{due} vs {later}");

    let mut past = new_message(2);
    past.send_at = Some(Utc::now() - Duration::days(3));
    let past = messages::insert(&pool, &past).await.unwrap().into_message();
    assert!(past.next_attempt_at.unwrap() > Utc::now() - Duration::minutes(1));
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn list_sent_pages_newest_first_with_the_total(pool: PgPool) {
    for n in 0..5 {
        insert(&pool, n).await;
    }
    insert(&pool, 99).await; // stays pending: not listed
    let claimed = claims::claim_batch(&pool, 5, std::time::Duration::from_secs(60)).await.unwrap();
    for (i, row) in claimed.iter().enumerate() {
        let sent = Outcome::Sent { webhook_message_id: format!("wh-{i}"), response: None };
        outcomes::record(&pool, &support::records(std::slice::from_ref(row), sent)).await.unwrap();
        // Distinct sent_at values, oldest first.
        sqlx::query("UPDATE messages SET sent_at = now() - make_interval(secs => $2) WHERE id = $1")
            .bind(row.id)
            .bind(100.0 - i as f64)
            .execute(&pool)
            .await
            .unwrap();
    }

    let first = messages::list_sent(&pool, 1, 2).await.unwrap();
    assert_eq!((first.page, first.page_size, first.total), (1, 2, 5));
    let ids: Vec<_> = first.items.iter().map(|m| m.webhook_message_id.clone().unwrap()).collect();
    assert_eq!(ids, ["wh-4", "wh-3"]);

    let last = messages::list_sent(&pool, 3, 2).await.unwrap();
    assert_eq!(last.items.len(), 1);
    assert_eq!(last.items[0].webhook_message_id.as_deref(), Some("wh-0"));
    assert!(last.items.iter().all(|m| m.status == MessageStatus::Sent && m.sent_at.is_some()));

    let beyond = messages::list_sent(&pool, 9, 2).await.unwrap();
    assert!(beyond.items.is_empty());
    assert_eq!(beyond.total, 5);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn stats_count_every_status(pool: PgPool) {
    for n in 0..6 {
        insert(&pool, n).await;
    }
    let lease = std::time::Duration::from_secs(60);
    let claimed = claims::claim_batch(&pool, 3, lease).await.unwrap();
    let mut records = support::sent_records(&claimed[..1]);
    records.extend(support::failed_records(&claimed[1..2]));
    outcomes::record(&pool, &records).await.unwrap();

    let stats = dispatcher_core::repository::stats::all(&pool).await.unwrap();
    assert_eq!(
        stats,
        dispatcher_core::repository::Stats::from_counts([
            (MessageStatus::Pending, 3),
            (MessageStatus::Processing, 1),
            (MessageStatus::Sent, 1),
            (MessageStatus::Failed, 1),
        ])
    );
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_schema_rejects_rows_that_would_break_the_dispatcher(pool: PgPool) {
    let insert_raw = |phone: &'static str, content: String, status: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query("INSERT INTO messages (phone_number, content, status) VALUES ($1, $2, $3)")
                .bind(phone)
                .bind(content)
                .bind(status)
                .execute(&pool)
                .await
        }
    };
    let ok = "hello".to_string();
    assert!(insert_raw("+905551111111", ok.clone(), "pending").await.is_ok());
    for phone in ["905551111111", "+90555abc111", "+1234567", "+1234567890123456"] {
        assert!(insert_raw(phone, ok.clone(), "pending").await.is_err(), "{phone}");
    }
    assert!(insert_raw("+905551111111", String::new(), "pending").await.is_err());
    assert!(insert_raw("+905551111111", "ş".repeat(1601), "pending").await.is_err());
    assert!(insert_raw("+905551111111", "ş".repeat(1600), "pending").await.is_ok());
    assert!(insert_raw("+905551111111", ok.clone(), "delivered").await.is_err());
    assert_eq!(support::count(&pool).await, 2);
}

/// The trigger-kept counts against a full count, status by status.
async fn assert_counts_match(pool: &PgPool) {
    let kept = dispatcher_core::repository::stats::all(pool).await.unwrap();
    let counted: Vec<(String, i64)> = sqlx::query_as("SELECT status, count(*) FROM messages GROUP BY status")
        .fetch_all(pool)
        .await
        .unwrap();
    let of = |status: &str| counted.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
    for &status in MessageStatus::ALL {
        assert_eq!(kept.count(status), of(status.as_str()), "{status}");
    }
    assert_eq!(kept.total(), counted.iter().map(|(_, n)| n).sum::<i64>());
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_kept_counts_match_a_full_count_after_every_kind_of_change(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 50).await;
    insert(&pool, 1).await;
    assert_counts_match(&pool).await;
    let lease = std::time::Duration::from_secs(60);
    let claimed = claims::claim_batch(&pool, 20, lease).await.unwrap();
    assert_counts_match(&pool).await;
    let mut records = support::sent_records(&claimed[..10]);
    records.extend(support::failed_records(&claimed[10..15]));
    records.extend(support::released_records(&claimed[15..]));
    outcomes::record(&pool, &records).await.unwrap();
    assert_counts_match(&pool).await;
    sqlx::query("DELETE FROM messages WHERE status = 'failed'").execute(&pool).await.unwrap();
    assert_counts_match(&pool).await;
    sqlx::query("TRUNCATE messages").execute(&pool).await.unwrap();
    assert_counts_match(&pool).await;
    insert(&pool, 2).await;
    assert_counts_match(&pool).await;
}

/// Ten rounds of: insert one message, claim up to 7, record them sent.
async fn insert_claim_and_send(pool: PgPool, worker: usize) {
    for round in 0..10 {
        insert(&pool, worker * 100 + round).await;
        let claimed = claims::claim_batch(&pool, 7, std::time::Duration::from_secs(60)).await.unwrap();
        outcomes::record(&pool, &support::sent_records(&claimed)).await.unwrap();
    }
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_kept_counts_stay_exact_under_concurrent_writers(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 400).await;
    testkit::concurrently((0..6).map(|worker| insert_claim_and_send(pool.clone(), worker))).await;
    assert_counts_match(&pool).await;
}
