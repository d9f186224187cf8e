//! Writing and reading messages for the API: insert, get, the sent list, stats.

use std::collections::HashMap;

use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::message_row::{into_messages, MessageRow};
use crate::domain::{Message, MessageId, NewMessage};

/// The result of an insert: a new row, or the first row stored under the same idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    Created(Message),
    Existing(Message),
}

impl Inserted {
    pub fn into_message(self) -> Message {
        match self {
            Self::Created(m) | Self::Existing(m) => m,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentPage {
    pub items: Vec<Message>,
    pub page: u32,
    pub page_size: u32,
    pub total: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub pending: i64,
    pub processing: i64,
    pub sent: i64,
    pub failed: i64,
    pub cancelled: i64,
    pub total: i64,
}

/// Stores a message. With an idempotency key already in use, returns the first message instead.
#[tracing::instrument(skip_all, fields(message_id))]
pub async fn insert(pool: &PgPool, new: &NewMessage) -> sqlx::Result<Inserted> {
    let id = MessageId::new();
    tracing::Span::current().record("message_id", tracing::field::display(id));
    let created = sqlx::query_as!(
        MessageRow,
        r#"INSERT INTO messages (id, phone_number, content, max_attempts, next_attempt_at, idempotency_key)
           VALUES ($1, $2, $3, $4, GREATEST($5::timestamptz, now()), $6)
           ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
           RETURNING id, phone_number, content, status, attempts, max_attempts, created_at,
                     sent_at, next_attempt_at, webhook_message_id, last_error, error_code"#,
        id.as_uuid(),
        new.phone_number.as_str(),
        new.content.as_str(),
        new.max_attempts,
        new.send_at,
        new.idempotency_key.as_deref(),
    )
    .fetch_optional(pool)
    .await?;
    if let Some(row) = created {
        return Ok(Inserted::Created(row.try_into()?));
    }
    // Only a key conflict returns no row; the first row with that key is committed by now.
    let key = new.idempotency_key.as_deref().unwrap_or_default();
    let existing = find_by_idempotency_key(pool, key).await?;
    existing.map(Inserted::Existing).ok_or(sqlx::Error::RowNotFound)
}

pub async fn find_by_idempotency_key(
    executor: impl PgExecutor<'_>,
    key: &str,
) -> sqlx::Result<Option<Message>> {
    let row = sqlx::query_as!(
        MessageRow,
        r#"SELECT id, phone_number, content, status, attempts, max_attempts, created_at,
                  sent_at, next_attempt_at, webhook_message_id, last_error, error_code
           FROM messages WHERE idempotency_key = $1"#,
        key,
    )
    .fetch_optional(executor)
    .await?;
    row.map(Message::try_from).transpose()
}

#[tracing::instrument(skip(executor))]
pub async fn get(executor: impl PgExecutor<'_>, id: MessageId) -> sqlx::Result<Option<Message>> {
    let row = sqlx::query_as!(
        MessageRow,
        r#"SELECT id, phone_number, content, status, attempts, max_attempts, created_at,
                  sent_at, next_attempt_at, webhook_message_id, last_error, error_code
           FROM messages WHERE id = $1"#,
        id.as_uuid(),
    )
    .fetch_optional(executor)
    .await?;
    row.map(Message::try_from).transpose()
}

/// A row of the sent page: the total, and one message of the page (none on an empty page).
#[derive(sqlx::FromRow)]
struct SentPageRow {
    total: i64,
    id: Option<Uuid>,
    phone_number: Option<String>,
    content: Option<String>,
    status: Option<String>,
    attempts: Option<i32>,
    max_attempts: Option<i32>,
    created_at: Option<chrono::DateTime<chrono::Utc>>,
    sent_at: Option<chrono::DateTime<chrono::Utc>>,
    next_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    webhook_message_id: Option<String>,
    last_error: Option<String>,
    error_code: Option<String>,
}

/// Sent messages, newest `sent_at` first. `page` starts at 1. One round trip: the page and
/// the total (from the trigger-kept counts) come back together, even past the last page.
///
/// LIMIT and OFFSET are integers written into the statement, not parameters: with parameters
/// PostgreSQL cannot cost a cached generic plan (it assumes a tenth of the table), so it plans
/// the query again on every call, which cost much of its throughput (BENCHMARKS.md). Written
/// in, each (page, size) is its own statement, planned once per connection; the common ones
/// (the first pages) stay in sqlx's statement cache.
#[tracing::instrument(skip(pool))]
pub async fn list_sent(pool: &PgPool, page: u32, page_size: u32) -> sqlx::Result<SentPage> {
    let offset = i64::from(page.saturating_sub(1)) * i64::from(page_size);
    let sql = format!(
        "WITH total AS (
             SELECT coalesce(sum(n), 0)::int8 AS total FROM message_counts WHERE status = 'sent'
         ), page AS (
             SELECT id, phone_number, content, status, attempts, max_attempts, created_at,
                    sent_at, next_attempt_at, webhook_message_id, last_error, error_code
             FROM messages WHERE status = 'sent'
             ORDER BY sent_at DESC, id DESC
             LIMIT {page_size} OFFSET {offset}
         )
         SELECT total.total, page.id, page.phone_number, page.content, page.status, page.attempts,
                page.max_attempts, page.created_at, page.sent_at, page.next_attempt_at,
                page.webhook_message_id, page.last_error, page.error_code
         FROM total LEFT JOIN page ON true
         ORDER BY page.sent_at DESC, page.id DESC"
    );
    let rows: Vec<SentPageRow> = sqlx::query_as(&sql).fetch_all(pool).await?;
    let total = rows.first().map_or(0, |row| row.total);
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let (
            Some(id),
            Some(phone_number),
            Some(content),
            Some(status),
            Some(attempts),
            Some(max_attempts),
            Some(created_at),
        ) = (
            row.id,
            row.phone_number,
            row.content,
            row.status,
            row.attempts,
            row.max_attempts,
            row.created_at,
        )
        else {
            continue; // the one row of an empty page: the total alone
        };
        items.push(Message::try_from(MessageRow {
            id,
            phone_number,
            content,
            status,
            attempts,
            max_attempts,
            created_at,
            sent_at: row.sent_at,
            next_attempt_at: row.next_attempt_at,
            webhook_message_id: row.webhook_message_id,
            last_error: row.last_error,
            error_code: row.error_code,
        })?);
    }
    Ok(SentPage { items, page, page_size, total })
}

/// Message counts by status, from the counts the schema's triggers keep (O(1) at any size).
#[tracing::instrument(skip_all)]
pub async fn stats(executor: impl PgExecutor<'_>) -> sqlx::Result<Stats> {
    let row = sqlx::query!(
        r#"SELECT coalesce(sum(n) FILTER (WHERE status = 'pending'), 0)::int8    AS "pending!",
                  coalesce(sum(n) FILTER (WHERE status = 'processing'), 0)::int8 AS "processing!",
                  coalesce(sum(n) FILTER (WHERE status = 'sent'), 0)::int8       AS "sent!",
                  coalesce(sum(n) FILTER (WHERE status = 'failed'), 0)::int8     AS "failed!",
                  coalesce(sum(n) FILTER (WHERE status = 'cancelled'), 0)::int8  AS "cancelled!",
                  coalesce(sum(n), 0)::int8                                      AS "total!"
           FROM message_counts"#
    )
    .fetch_one(executor)
    .await?;
    Ok(Stats {
        pending: row.pending,
        processing: row.processing,
        sent: row.sent,
        failed: row.failed,
        cancelled: row.cancelled,
        total: row.total,
    })
}

/// Stores many messages in one statement. Rows whose idempotency key is already taken are
/// skipped and not returned: the result is the messages created, in input order (unlike
/// [`insert_all`], which answers for every item).
#[tracing::instrument(skip_all, fields(count = batch.len()))]
pub async fn insert_skipping_taken_keys(
    executor: impl PgExecutor<'_>,
    batch: &[NewMessage],
) -> sqlx::Result<Vec<Message>> {
    let ids: Vec<Uuid> = batch.iter().map(|_| MessageId::new().as_uuid()).collect();
    insert_with_ids(executor, &ids, batch).await
}

/// [`insert`] for a batch, all or nothing (one statement): an item whose idempotency key is
/// already taken comes back as the earlier message ([`Inserted::Existing`]). The result is in
/// input order, one per item; keys must not repeat within the batch.
#[tracing::instrument(skip_all, fields(count = batch.len()))]
pub async fn insert_all(pool: &PgPool, batch: &[NewMessage]) -> sqlx::Result<Vec<Inserted>> {
    let ids: Vec<Uuid> = batch.iter().map(|_| MessageId::new().as_uuid()).collect();
    let mut created: HashMap<Uuid, Message> =
        insert_with_ids(pool, &ids, batch).await?.into_iter().map(|m| (m.id.as_uuid(), m)).collect();
    // Only a taken key skips an item, so every skipped item has a key that is now stored.
    let taken: Vec<&str> = ids
        .iter()
        .zip(batch)
        .filter(|(id, _)| !created.contains_key(id))
        .filter_map(|(_, new)| new.idempotency_key.as_deref())
        .collect();
    let mut existing = find_by_idempotency_keys(pool, &taken).await?.into_iter();
    let mut results = Vec::with_capacity(batch.len());
    for id in &ids {
        let result = match created.remove(id) {
            Some(message) => Inserted::Created(message),
            None => Inserted::Existing(existing.next().ok_or(sqlx::Error::RowNotFound)?),
        };
        results.push(result);
    }
    Ok(results)
}

/// The messages stored under `keys`, in the order of `keys`.
async fn find_by_idempotency_keys(
    executor: impl PgExecutor<'_>,
    keys: &[&str],
) -> sqlx::Result<Vec<Message>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query_as!(
        MessageRow,
        r#"SELECT id, phone_number, content, status, attempts, max_attempts, created_at,
                  sent_at, next_attempt_at, webhook_message_id, last_error, error_code
           FROM messages WHERE idempotency_key = ANY($1)
           ORDER BY array_position($1, idempotency_key)"#,
        keys as &[&str],
    )
    .fetch_all(executor)
    .await?;
    into_messages(rows)
}

/// One INSERT for the whole batch; `created_at` follows input order (FIFO as given).
async fn insert_with_ids(
    executor: impl PgExecutor<'_>,
    ids: &[Uuid],
    batch: &[NewMessage],
) -> sqlx::Result<Vec<Message>> {
    let phones: Vec<&str> = batch.iter().map(|m| m.phone_number.as_str()).collect();
    let contents: Vec<&str> = batch.iter().map(|m| m.content.as_str()).collect();
    let max_attempts: Vec<i32> = batch.iter().map(|m| m.max_attempts).collect();
    let send_at: Vec<Option<chrono::DateTime<chrono::Utc>>> = batch.iter().map(|m| m.send_at).collect();
    let keys: Vec<Option<&str>> = batch.iter().map(|m| m.idempotency_key.as_deref()).collect();
    let rows = sqlx::query_as!(
        MessageRow,
        r#"INSERT INTO messages (id, phone_number, content, max_attempts, next_attempt_at, idempotency_key, created_at)
           SELECT id, phone_number, content, max_attempts, GREATEST(send_at, now()), idempotency_key,
                  clock_timestamp()
           FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::int4[], $5::timestamptz[], $6::text[])
                WITH ORDINALITY AS input(id, phone_number, content, max_attempts, send_at, idempotency_key, position)
           ORDER BY position
           ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
           RETURNING id, phone_number, content, status, attempts, max_attempts, created_at,
                     sent_at, next_attempt_at, webhook_message_id, last_error, error_code"#,
        ids,
        &phones as &[&str],
        &contents as &[&str],
        &max_attempts,
        &send_at as &[Option<chrono::DateTime<chrono::Utc>>],
        &keys as &[Option<&str>],
    )
    .fetch_all(executor)
    .await?;
    let mut messages = into_messages(rows)?;
    // Ids are time-ordered (UUIDv7) and made in input order.
    messages.sort_by_key(|m| m.id);
    Ok(messages)
}
