//! Expiry: pending messages whose `expires_at` has passed end `expired`, a bounded chunk per
//! statement, oldest expiry first (the partial index `messages_expiring_idx`), skipping rows a
//! claim holds. Claims never take them (`claims`), and a claimed message is checked again right
//! before its request.

use sqlx::PgPool;
use tokio::time::Instant;

/// Expires up to `chunk` pending messages past their `expires_at`. Returns how many.
pub async fn expire_chunk(pool: &PgPool, chunk: i64) -> sqlx::Result<u64> {
    let expired = sqlx::query!(
        r#"UPDATE messages
           SET status = 'expired', next_attempt_at = NULL, error_code = 'expired',
               last_error = 'not sent by its expires_at', updated_at = now(), version = version + 1
           WHERE status = 'pending' AND id = ANY (ARRAY(
               SELECT id FROM messages
               WHERE status = 'pending' AND expires_at <= now()
               ORDER BY expires_at
               LIMIT $1
               FOR UPDATE SKIP LOCKED))"#,
        chunk,
    )
    .execute(pool)
    .await?
    .rows_affected();
    Ok(expired)
}

/// Expires chunk by chunk (each its own short statement) until none are left or `until` passes.
pub async fn expire_due(pool: &PgPool, chunk: i64, until: Option<Instant>) -> sqlx::Result<u64> {
    let mut expired = 0;
    loop {
        let done = expire_chunk(pool, chunk).await?;
        expired += done;
        if done < chunk as u64 || until.is_some_and(|until| Instant::now() >= until) {
            return Ok(expired);
        }
    }
}
