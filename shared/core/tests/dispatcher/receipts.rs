//! Delivery receipts: applied to the messages that carry their provider id, the later receipt
//! winning, never changing a message's status; kept when they come before the send and applied
//! by the run that records it; counted exactly; purged when they never match.

use crate::support;
use chrono::{DateTime, Utc};
use dispatcher_core::domain::{DeliveryStatus, Message, MessageStatus};
use dispatcher_core::repository::messages;
use dispatcher_core::repository::receipts::{self, Receipt, Recorded};
use sqlx::PgPool;
use support::dispatch::{limits, Setup};
use testkit::receiver::{Receiver, Reply};

fn receipt(provider_id: &str, status: DeliveryStatus, at: DateTime<Utc>) -> Receipt {
    Receipt { provider_message_id: provider_id.into(), status, at, error_code: None }
}

/// A receiver that answers each request with the provider id `wm-<n>` of message `n`.
async fn provider() -> Receiver {
    Receiver::start(|request| {
        let n = request.json()["content"].as_str().unwrap().trim_start_matches("message number ").to_owned();
        Reply::status(202, &format!(r#"{{"message":"Accepted","messageId":"wm-{n}"}}"#))
    })
    .await
}

async fn reread(pool: &PgPool, message: &Message) -> Message {
    messages::get(pool, message.id).await.unwrap().unwrap()
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_receipt_that_comes_before_the_send_is_applied_once_the_send_is_recorded(pool: PgPool) {
    let message = support::insert(&pool, 1).await;
    let at = Utc::now();
    let early = receipts::record(&pool, &[receipt("wm-1", DeliveryStatus::Delivered, at)]).await.unwrap();
    assert_eq!(early, Recorded { applied: 0, kept: 1 }, "no message carries the id yet");
    let receiver = provider().await;
    Setup::default().build(&pool, &receiver.url).run_once(limits()).await.unwrap();
    let sent = reread(&pool, &message).await;
    assert_eq!(sent.status, MessageStatus::Sent);
    let delivery = sent.delivery().expect("applied by the run that recorded the send");
    assert_eq!(
        (delivery.status, delivery.at.timestamp_micros()),
        (DeliveryStatus::Delivered, at.timestamp_micros())
    );
    let waiting: i64 =
        sqlx::query_scalar("SELECT count(*) FROM unmatched_receipts").fetch_one(&pool).await.unwrap();
    assert_eq!(waiting, 0, "applied receipts do not wait any more");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn between_receipts_the_later_wins_and_a_repeat_changes_nothing(pool: PgPool) {
    let message = support::insert(&pool, 1).await;
    let receiver = provider().await;
    Setup::default().build(&pool, &receiver.url).run_once(limits()).await.unwrap();
    let now = Utc::now();
    let newer =
        Receipt { error_code: Some("30008".into()), ..receipt("wm-1", DeliveryStatus::Undelivered, now) };
    let older = receipt("wm-1", DeliveryStatus::Delivered, now - chrono::Duration::seconds(30));
    assert_eq!(receipts::record(&pool, std::slice::from_ref(&newer)).await.unwrap().applied, 1);
    assert_eq!(
        receipts::record(&pool, &[older]).await.unwrap().applied,
        0,
        "an older receipt arriving later"
    );
    assert_eq!(receipts::record(&pool, &[newer]).await.unwrap().applied, 0, "a repeat");
    let stored = reread(&pool, &message).await;
    let delivery = stored.delivery().unwrap();
    assert_eq!(
        (delivery.status, delivery.error_code.as_deref()),
        (DeliveryStatus::Undelivered, Some("30008"))
    );
    assert_eq!(stored.status, MessageStatus::Sent, "a receipt never changes the status");

    // Within one batch too, the later of two receipts for one message wins.
    let batch = [
        receipt("wm-1", DeliveryStatus::Delivered, now + chrono::Duration::seconds(20)),
        receipt("wm-1", DeliveryStatus::Undelivered, now + chrono::Duration::seconds(10)),
    ];
    receipts::record(&pool, &batch).await.unwrap();
    assert_eq!(reread(&pool, &message).await.delivery().unwrap().status, DeliveryStatus::Delivered);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn deliveries_are_counted_exactly_through_receipts_and_deletes(pool: PgPool) {
    support::insert_each(&pool, 1..=4).await;
    let receiver = provider().await;
    Setup::default().build(&pool, &receiver.url).run_once(limits()).await.unwrap();
    let now = Utc::now();
    let batch: Vec<Receipt> = (1..=4)
        .map(|n| {
            let status = if n == 4 { DeliveryStatus::Undelivered } else { DeliveryStatus::Delivered };
            receipt(&format!("wm-{n}"), status, now)
        })
        .collect();
    assert_eq!(receipts::record(&pool, &batch).await.unwrap().applied, 4);
    // One of the delivered turns out undelivered after all.
    receipts::record(
        &pool,
        &[receipt("wm-3", DeliveryStatus::Undelivered, now + chrono::Duration::seconds(1))],
    )
    .await
    .unwrap();
    let stats = dispatcher_core::repository::stats::all(&pool).await.unwrap();
    assert_eq!(
        (stats.deliveries(DeliveryStatus::Delivered), stats.deliveries(DeliveryStatus::Undelivered)),
        (2, 2)
    );
    sqlx::query("DELETE FROM messages WHERE webhook_message_id = 'wm-1'").execute(&pool).await.unwrap();
    let stats = dispatcher_core::repository::stats::all(&pool).await.unwrap();
    assert_eq!(stats.deliveries(DeliveryStatus::Delivered), 1, "the kept counts see deletes");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn receipts_that_never_match_are_purged_after_a_week_without_retention(pool: PgPool) {
    receipts::record(&pool, &[receipt("elsewhere-1", DeliveryStatus::Delivered, Utc::now())]).await.unwrap();
    receipts::record(&pool, &[receipt("elsewhere-2", DeliveryStatus::Delivered, Utc::now())]).await.unwrap();
    sqlx::query("UPDATE unmatched_receipts SET received_at = now() - interval '8 days' WHERE provider_message_id = 'elsewhere-1'")
        .execute(&pool)
        .await
        .unwrap();
    let receiver = Receiver::accepting().await;
    Setup::default().build(&pool, &receiver.url).run_once(limits()).await.unwrap();
    let left: Vec<String> = sqlx::query_scalar("SELECT provider_message_id FROM unmatched_receipts")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(left, ["elsewhere-2"], "the week-old one went, the fresh one stays");
}
