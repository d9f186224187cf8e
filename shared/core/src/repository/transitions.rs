//! The state changes users ask for: requeue a failed message (or every failed message that
//! matches a filter), cancel a pending one. Each is one conditional UPDATE, so it cannot race
//! a claim: a claimed row is `processing` and no longer matches.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::{Message, MessageId, MessageStatus};

/// The result of a requested state change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// The message as changed (boxed: a message is large beside the other outcomes).
    Done(Box<Message>),
    /// The message is not in the status the change starts from; it is left as it was.
    WrongStatus(MessageStatus),
    NotFound,
}

/// `failed -> pending`, due now, with attempts reset; the last error and its code are kept
/// as the record of why it failed before.
#[tracing::instrument(skip(pool))]
pub async fn retry_failed(pool: &PgPool, id: MessageId) -> sqlx::Result<Transition> {
    change(pool, id, MessageStatus::Failed, MessageStatus::Pending).await
}

/// `pending -> cancelled`: never claimed afterwards.
#[tracing::instrument(skip(pool))]
pub async fn cancel_pending(pool: &PgPool, id: MessageId) -> sqlx::Result<Transition> {
    change(pool, id, MessageStatus::Pending, MessageStatus::Cancelled).await
}

/// `from -> to` if the message is in `from`; a message put back to `pending` is due now with
/// its attempts reset. With no row changed, says why: no such message, or its current status.
async fn change(
    pool: &PgPool,
    id: MessageId,
    from: MessageStatus,
    to: MessageStatus,
) -> sqlx::Result<Transition> {
    let changed = sqlx::query_as!(
        Message,
        r#"UPDATE messages
           SET status = $3,
               attempts = CASE WHEN $3 = 'pending' THEN 0 ELSE attempts END,
               next_attempt_at = CASE WHEN $3 = 'pending' THEN now() ELSE next_attempt_at END,
               locked_until = NULL, updated_at = now(), version = version + 1
           WHERE id = $1 AND status = $2
           RETURNING id AS "id: _", phone_number AS "phone_number: _", content AS "content: _",
                     status AS "status: _", priority AS "priority: _", campaign AS "campaign: _", attempts, max_attempts, created_at, sent_at,
                     next_attempt_at, webhook_message_id, last_error, error_code, expires_at,
                     delivery_status AS "delivery_status: _", delivery_at, delivery_error_code"#,
        id.as_uuid(),
        from.as_str(),
        to.as_str(),
    )
    .fetch_optional(pool)
    .await?;
    if let Some(message) = changed {
        return Ok(Transition::Done(Box::new(message)));
    }
    let status = sqlx::query_scalar!(
        r#"SELECT status AS "status: MessageStatus" FROM messages WHERE id = $1"#,
        id.as_uuid()
    )
    .fetch_optional(pool)
    .await?;
    Ok(status.map_or(Transition::NotFound, Transition::WrongStatus))
}

/// Which `failed` messages a bulk retry requeues.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailedFilter {
    pub error_code: Option<String>,
    /// Failed at or after (a failed row's `updated_at` is when it failed).
    pub failed_after: Option<DateTime<Utc>>,
    /// Failed before.
    pub failed_before: Option<DateTime<Utc>>,
    pub limit: u32,
}

/// Requeues the `failed` messages that match, oldest failure first, exactly as
/// [`retry_failed`] does one: `pending`, due now, attempts reset, last error kept. One
/// statement; a row that stopped being `failed` meanwhile is left alone. Returns how many.
#[tracing::instrument(skip(pool))]
pub async fn retry_failed_matching(pool: &PgPool, filter: &FailedFilter) -> sqlx::Result<u64> {
    let requeued = sqlx::query!(
        r#"UPDATE messages
           SET status = 'pending', attempts = 0, next_attempt_at = now(), locked_until = NULL,
               updated_at = now(), version = version + 1
           WHERE status = 'failed' AND id = ANY (ARRAY(
               SELECT id FROM messages
               WHERE status = 'failed'
                 AND ($1::text IS NULL OR error_code = $1)
                 AND ($2::timestamptz IS NULL OR updated_at >= $2)
                 AND ($3::timestamptz IS NULL OR updated_at < $3)
               ORDER BY updated_at, id
               LIMIT $4))"#,
        filter.error_code.as_deref(),
        filter.failed_after,
        filter.failed_before,
        i64::from(filter.limit),
    )
    .execute(pool)
    .await?
    .rows_affected();
    Ok(requeued)
}
