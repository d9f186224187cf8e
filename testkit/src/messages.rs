//! The message factory: particular messages one at a time (through the repository, as the API
//! stores them), or many in one statement for tests that need a queue; and the few reads and
//! writes of one message that tests need and the API cannot make.

use chrono::{DateTime, Utc};
use dispatcher_core::domain::{Content, Message, NewMessage, PhoneNumber};
use dispatcher_core::repository::messages;
use sqlx::PgPool;

/// Inserts `count` pending messages due now, oldest first: message `n` goes to
/// `+90555` and `n` in seven digits, says `message number n`, and was created an hour ago plus
/// `n` milliseconds, so the FIFO order is the numbering.
pub async fn insert_pending(pool: &PgPool, count: usize) {
    sqlx::query(
        "INSERT INTO messages (phone_number, content, created_at)
         SELECT '+90555' || lpad(n::text, 7, '0'), 'message number ' || n,
                now() - interval '1 hour' + n * interval '1 millisecond'
         FROM generate_series(1, $1) AS n",
    )
    .bind(i32::try_from(count).unwrap())
    .execute(pool)
    .await
    .unwrap();
}

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

/// Makes `message` one created at `at`, and so due since then (the claim takes the first due).
pub async fn set_created_at(pool: &PgPool, message: &Message, at: DateTime<Utc>) {
    sqlx::query("UPDATE messages SET created_at = $2, next_attempt_at = $2 WHERE id = $1")
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
    crate::database::fetch_i64(pool, "SELECT count(*) FROM messages").await
}
