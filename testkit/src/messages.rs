//! The message factory: many messages in one statement, for tests that need a queue rather
//! than particular messages (those go through `shared::repository::messages::insert`).

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
