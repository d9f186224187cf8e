//! Delivery receipts: the provider's word on a sent message, kept on the message (its
//! `delivery_*` columns, which nothing else writes). A receipt names the provider's id, our
//! `webhook_message_id`; between receipts of one message the later `at` wins, and a repeat
//! changes nothing. A receipt whose id names no message yet (the provider called back before
//! our record committed) waits in `unmatched_receipts` until the dispatch path applies it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool};

use crate::domain::DeliveryStatus;

/// How long an unmatched receipt is looked for among the messages sent since: providers call
/// back within seconds of a send, so a receipt this old matches nothing the dispatcher is about
/// to record (it stays until purged, `purge_unmatched`).
pub const MATCH_WINDOW: Duration = Duration::from_secs(600);

/// One receipt, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The provider's id of the message (our `webhook_message_id`).
    pub provider_message_id: String,
    pub status: DeliveryStatus,
    /// When it happened, as the provider says (or when it arrived).
    pub at: DateTime<Utc>,
    pub error_code: Option<String>,
}

/// What a batch of receipts did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Messages whose delivery changed.
    pub applied: i64,
    /// Receipts kept for a message not (yet) known.
    pub kept: i64,
}

/// Records a batch in one statement: applied to the messages that carry their id (the latest
/// of the batch per id, and only if later than what the message has), kept for later when no
/// message carries it.
#[tracing::instrument(skip_all, fields(count = receipts.len()))]
pub async fn record(executor: impl PgExecutor<'_>, receipts: &[Receipt]) -> sqlx::Result<Recorded> {
    let ids: Vec<&str> = receipts.iter().map(|r| r.provider_message_id.as_str()).collect();
    let statuses: Vec<&str> = receipts.iter().map(|r| r.status.as_str()).collect();
    let times: Vec<DateTime<Utc>> = receipts.iter().map(|r| r.at).collect();
    let codes: Vec<Option<&str>> = receipts.iter().map(|r| r.error_code.as_deref()).collect();
    let row = sqlx::query!(
        r#"WITH input AS (
               SELECT DISTINCT ON (ref) ref, status, at, error_code
               FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::text[]) AS r(ref, status, at, error_code)
               ORDER BY ref, at DESC
           ), applied AS (
               UPDATE messages AS m
               SET delivery_status = i.status, delivery_at = i.at, delivery_error_code = i.error_code
               FROM input AS i
               WHERE m.webhook_message_id = i.ref AND (m.delivery_at IS NULL OR i.at > m.delivery_at)
               RETURNING m.id
           ), kept AS (
               INSERT INTO unmatched_receipts AS u (provider_message_id, status, at, error_code)
               SELECT i.ref, i.status, i.at, i.error_code FROM input AS i
               WHERE NOT EXISTS (SELECT 1 FROM messages AS m WHERE m.webhook_message_id = i.ref)
               ON CONFLICT (provider_message_id) DO UPDATE
               SET status = EXCLUDED.status, at = EXCLUDED.at, error_code = EXCLUDED.error_code,
                   received_at = now()
               WHERE EXCLUDED.at > u.at
               RETURNING 1
           )
           SELECT (SELECT count(*) FROM applied) AS "applied!", (SELECT count(*) FROM kept) AS "kept!""#,
        &ids as &[&str],
        &statuses as &[&str],
        &times,
        &codes as &[Option<&str>],
    )
    .fetch_one(executor)
    .await?;
    Ok(Recorded { applied: row.applied, kept: row.kept })
}

/// Applies up to `limit` receipts kept within [`MATCH_WINDOW`] whose message has been recorded
/// since, and lets them go. Returns how many messages' delivery changed.
pub async fn apply_unmatched(pool: &PgPool, limit: i64) -> sqlx::Result<u64> {
    let applied = sqlx::query!(
        r#"WITH matched AS (
               DELETE FROM unmatched_receipts AS u
               WHERE u.provider_message_id = ANY (ARRAY(
                   SELECT w.provider_message_id FROM unmatched_receipts AS w
                   WHERE w.received_at > now() - make_interval(secs => $2)
                     AND EXISTS (SELECT 1 FROM messages AS m WHERE m.webhook_message_id = w.provider_message_id)
                   LIMIT $1
                   FOR UPDATE SKIP LOCKED))
               RETURNING u.provider_message_id, u.status, u.at, u.error_code
           )
           UPDATE messages AS m
           SET delivery_status = r.status, delivery_at = r.at, delivery_error_code = r.error_code
           FROM matched AS r
           WHERE m.webhook_message_id = r.provider_message_id AND (m.delivery_at IS NULL OR r.at > m.delivery_at)"#,
        limit,
        MATCH_WINDOW.as_secs_f64(),
    )
    .execute(pool)
    .await?
    .rows_affected();
    Ok(applied)
}

/// Deletes up to `chunk` unmatched receipts that arrived before `cutoff`. Returns how many.
pub async fn purge_unmatched(
    executor: impl PgExecutor<'_>,
    cutoff: DateTime<Utc>,
    chunk: i64,
) -> sqlx::Result<u64> {
    let deleted = sqlx::query!(
        r#"DELETE FROM unmatched_receipts
           WHERE provider_message_id = ANY (ARRAY(
               SELECT provider_message_id FROM unmatched_receipts WHERE received_at < $1
               ORDER BY received_at LIMIT $2))"#,
        cutoff,
        chunk,
    )
    .execute(executor)
    .await?
    .rows_affected();
    Ok(deleted)
}
