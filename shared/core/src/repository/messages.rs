//! Writing and reading messages for the API: insert, get, the sent list.

use std::collections::HashMap;

use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

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

/// Stores a message. With an idempotency key already in use, returns the first message instead.
#[tracing::instrument(skip_all, fields(message_id))]
pub async fn insert(pool: &PgPool, new: &NewMessage) -> sqlx::Result<Inserted> {
    let id = MessageId::new();
    tracing::Span::current().record("message_id", tracing::field::display(id));
    let created = sqlx::query_as!(
        Message,
        r#"INSERT INTO messages (id, phone_number, content, max_attempts, next_attempt_at, idempotency_key,
                                expires_at, priority, campaign)
           VALUES ($1, $2, $3, $4, GREATEST($5::timestamptz, now()), $6, $7, $8, $9)
           ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
           RETURNING id AS "id: _", phone_number AS "phone_number: _", content AS "content: _",
                     status AS "status: _", priority AS "priority: _", campaign AS "campaign: _", attempts, max_attempts, created_at, sent_at,
                     next_attempt_at, webhook_message_id, last_error, error_code, expires_at,
                     delivery_status AS "delivery_status: _", delivery_at, delivery_error_code"#,
        id.as_uuid(),
        new.phone_number.as_str(),
        new.content.as_str(),
        new.max_attempts,
        new.send_at,
        new.idempotency_key.as_deref(),
        new.expires_at,
        new.priority.lane(),
        new.campaign.as_ref().map(|campaign| campaign.as_str()),
    )
    .fetch_optional(pool)
    .await?;
    if let Some(message) = created {
        return Ok(Inserted::Created(message));
    }
    // Only a key conflict returns no row; the first row with that key is committed by now.
    let key = new.idempotency_key.as_deref().unwrap_or_default();
    let existing = find_by_idempotency_keys(pool, &[key]).await?.pop();
    existing.map(Inserted::Existing).ok_or(sqlx::Error::RowNotFound)
}

#[tracing::instrument(skip(executor))]
pub async fn get(executor: impl PgExecutor<'_>, id: MessageId) -> sqlx::Result<Option<Message>> {
    sqlx::query_as!(
        Message,
        r#"SELECT id AS "id: _", phone_number AS "phone_number: _", content AS "content: _",
                  status AS "status: _", priority AS "priority: _", campaign AS "campaign: _", attempts, max_attempts, created_at, sent_at,
                  next_attempt_at, webhook_message_id, last_error, error_code, expires_at,
                  delivery_status AS "delivery_status: _", delivery_at, delivery_error_code
           FROM messages WHERE id = $1"#,
        id.as_uuid(),
    )
    .fetch_optional(executor)
    .await
}

/// A message of the sent page, with the total beside it.
#[derive(sqlx::FromRow)]
struct SentRow {
    #[sqlx(flatten)]
    message: Message,
    total: i64,
}

/// Sent messages, newest `sent_at` first. `page` starts at 1. One round trip: the page and the
/// total (from the trigger-kept counts) come back together; only a page past the end, which has
/// no row to carry it, asks for the total again.
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
        "SELECT id, phone_number, content, status, priority, campaign, attempts, max_attempts, created_at, sent_at,
                next_attempt_at, webhook_message_id, last_error, error_code, expires_at, delivery_status,
                delivery_at, delivery_error_code, ({SENT_TOTAL}) AS total
         FROM messages WHERE status = 'sent'
         ORDER BY sent_at DESC, id DESC
         LIMIT {page_size} OFFSET {offset}"
    );
    let rows: Vec<SentRow> = sqlx::query_as(&sql).fetch_all(pool).await?;
    let total = match rows.first() {
        Some(row) => row.total,
        None => sqlx::query_scalar(SENT_TOTAL).fetch_one(pool).await?,
    };
    let items = rows.into_iter().map(|row| row.message).collect();
    Ok(SentPage { items, page, page_size, total })
}

/// Sent messages in all, from the trigger-kept counts.
const SENT_TOTAL: &str = "SELECT coalesce(sum(n), 0)::int8 FROM message_counts WHERE status = 'sent'";

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
    sqlx::query_as!(
        Message,
        r#"SELECT id AS "id: _", phone_number AS "phone_number: _", content AS "content: _",
                  status AS "status: _", priority AS "priority: _", campaign AS "campaign: _", attempts, max_attempts, created_at, sent_at,
                  next_attempt_at, webhook_message_id, last_error, error_code, expires_at,
                  delivery_status AS "delivery_status: _", delivery_at, delivery_error_code
           FROM messages WHERE idempotency_key = ANY($1)
           ORDER BY array_position($1, idempotency_key)"#,
        keys as &[&str],
    )
    .fetch_all(executor)
    .await
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
    let expires_at: Vec<Option<chrono::DateTime<chrono::Utc>>> = batch.iter().map(|m| m.expires_at).collect();
    let lanes: Vec<i16> = batch.iter().map(|m| m.priority.lane()).collect();
    let campaigns: Vec<Option<&str>> =
        batch.iter().map(|m| m.campaign.as_ref().map(|c| c.as_str())).collect();
    let mut messages = sqlx::query_as!(
        Message,
        r#"INSERT INTO messages (id, phone_number, content, max_attempts, next_attempt_at, idempotency_key,
                                created_at, expires_at, priority, campaign)
           SELECT id, phone_number, content, max_attempts, GREATEST(send_at, now()), idempotency_key,
                  clock_timestamp(), expires_at, priority, campaign
           FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::int4[], $5::timestamptz[], $6::text[],
                       $7::timestamptz[], $8::int2[], $9::text[])
                WITH ORDINALITY AS input(id, phone_number, content, max_attempts, send_at, idempotency_key,
                                         expires_at, priority, campaign, position)
           ORDER BY position
           ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
           RETURNING id AS "id: _", phone_number AS "phone_number: _", content AS "content: _",
                     status AS "status: _", priority AS "priority: _", campaign AS "campaign: _", attempts, max_attempts, created_at, sent_at,
                     next_attempt_at, webhook_message_id, last_error, error_code, expires_at,
                     delivery_status AS "delivery_status: _", delivery_at, delivery_error_code"#,
        ids,
        &phones as &[&str],
        &contents as &[&str],
        &max_attempts,
        &send_at as &[Option<chrono::DateTime<chrono::Utc>>],
        &keys as &[Option<&str>],
        &expires_at as &[Option<chrono::DateTime<chrono::Utc>>],
        &lanes,
        &campaigns as &[Option<&str>],
    )
    .fetch_all(executor)
    .await?;
    // Ids are time-ordered (UUIDv7) and made in input order.
    messages.sort_by_key(|m| m.id);
    Ok(messages)
}
