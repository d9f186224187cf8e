//! What only shared's tests need: messages one at a time, the API served in-process, a dispatcher
//! with test-sized settings, a Standard Webhooks verifier, the messages table held locked.

pub mod api;
pub mod dispatch;
pub mod standardwebhooks;
pub mod table_lock;

use chrono::{DateTime, Utc};
use shared::domain::{Content, ErrorCode, Message, NewMessage, PhoneNumber};
use shared::repository::claims::{ClaimedRow, FailedRecord, RetryRecord, SentRecord};
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

/// `new_message(n)` for each of `numbers`, in order, one insert each (so `created_at` ascends).
pub async fn insert_each(pool: &PgPool, numbers: impl IntoIterator<Item = usize>) -> Vec<Message> {
    let mut inserted = Vec::new();
    for n in numbers {
        inserted.push(insert(pool, n).await);
    }
    inserted
}

pub async fn set_created_at(pool: &PgPool, message: &Message, at: DateTime<Utc>) {
    sqlx::query("UPDATE messages SET created_at = $2 WHERE id = $1")
        .bind(message.id.as_uuid())
        .bind(at)
        .execute(pool)
        .await
        .unwrap();
}

/// `UPDATE messages SET <set> WHERE id = <message>`: puts one message straight into the state a
/// test starts from (due later, its lease run out).
pub async fn update_one(pool: &PgPool, message: &Message, set: &str) {
    sqlx::query(&format!("UPDATE messages SET {set} WHERE id = $1"))
        .bind(message.id.as_uuid())
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
    testkit::database::fetch_i64(pool, "SELECT count(*) FROM messages").await
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

/// Each claimed row failed for good: HTTP 400, "bad request".
pub fn failed_records(rows: &[ClaimedRow]) -> Vec<FailedRecord> {
    rows.iter()
        .map(|r| FailedRecord {
            id: r.id.into(),
            version: r.version,
            error_code: ErrorCode::Http(400),
            last_error: "bad request".into(),
            response: None,
        })
        .collect()
}

/// Each claimed row to be retried at `due`: HTTP 503, the attempt counted.
pub fn retry_records(rows: &[ClaimedRow], due: DateTime<Utc>) -> Vec<RetryRecord> {
    rows.iter()
        .map(|r| RetryRecord {
            id: r.id.into(),
            version: r.version,
            next_attempt_at: due,
            counted: true,
            error_code: ErrorCode::Http(503),
            last_error: "HTTP 503".into(),
            response: None,
        })
        .collect()
}
