//! Helpers shared by the integration tests: building and inserting messages, a receiver, a dispatcher.
#![allow(dead_code, clippy::unwrap_used)]

pub mod api;
pub mod dispatch;
pub mod log_capture;
pub mod moto;
pub mod receiver;
pub mod standardwebhooks;
pub mod table_lock;

use chrono::{DateTime, Utc};
use shared::domain::{Content, Message, NewMessage, PhoneNumber};
use shared::repository::claims::{ClaimedRow, SentRecord};
use shared::repository::messages;
use sqlx::PgPool;

pub fn new_message(n: usize) -> NewMessage {
    NewMessage::new(
        PhoneNumber::parse(&format!("+9055500{n:05}")).unwrap(),
        Content::parse(&format!("message number {n}"), 160).unwrap(),
        3,
    )
}

pub async fn insert(pool: &PgPool, n: usize) -> Message {
    messages::insert(pool, &new_message(n)).await.unwrap().into_message()
}

/// Inserts `count` messages with strictly increasing `created_at`, in one statement.
pub async fn insert_many(pool: &PgPool, count: usize) {
    sqlx::query(
        "INSERT INTO messages (phone_number, content, created_at)
         SELECT '+9055500' || lpad(n::text, 5, '0'), 'bulk ' || n,
                now() - interval '1 hour' + n * interval '1 millisecond'
         FROM generate_series(1, $1) AS n",
    )
    .bind(count as i32)
    .execute(pool)
    .await
    .unwrap();
}

pub async fn set_created_at(pool: &PgPool, message: &Message, at: DateTime<Utc>) {
    sqlx::query("UPDATE messages SET created_at = $2 WHERE id = $1")
        .bind(message.id.as_uuid())
        .bind(at)
        .execute(pool)
        .await
        .unwrap();
}

pub async fn status_of(pool: &PgPool, message: &Message) -> String {
    sqlx::query_scalar("SELECT status FROM messages WHERE id = $1")
        .bind(message.id.as_uuid())
        .fetch_one(pool)
        .await
        .unwrap()
}

pub async fn count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM messages").fetch_one(pool).await.unwrap()
}

/// Sent records for claimed rows, as a run would write them after 202s.
pub fn sent_records(rows: &[ClaimedRow]) -> Vec<SentRecord> {
    rows.iter()
        .map(|r| SentRecord {
            id: r.id.into(),
            version: r.version,
            webhook_message_id: "w".into(),
            response: None,
        })
        .collect()
}
