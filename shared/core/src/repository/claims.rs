//! The dispatcher's side of the table: claim a batch, then record each outcome
//! conditional on the claim's `version`, so a lost claim never overwrites a newer one.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{PgExecutor, PgPool, Postgres};
use uuid::Uuid;

use crate::domain::{Claim, Content, ErrorCode, MessageId, PhoneNumber};

/// The four record statements (sent, retry, failed, release) are not kept as prepared
/// statements: each call is planned for its own arrays. Kept, PostgreSQL switches a statement
/// to one generic plan after five calls, and for these UNNEST joins that plan is a nested loop
/// that reads the whole UNNEST again for every row, its cost growing with the square of the
/// chunk (BENCHMARKS.md, "The write path measured again"); a plan per call costs far less.
/// They are written with `query_as`, not the checked macros, because only those can be marked
/// so; the tests run each of them.
const PLANNED_PER_CALL: bool = false;

type RecordStatement<'q, O> = sqlx::query::QueryAs<'q, Postgres, O, PgArguments>;

/// A row exactly as claimed, before the domain rules are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedRow {
    pub id: Uuid,
    pub phone_number: String,
    pub content: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct SentRecord {
    pub id: MessageId,
    pub version: i64,
    pub webhook_message_id: String,
    pub response: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RetryRecord {
    pub id: MessageId,
    pub version: i64,
    pub next_attempt_at: DateTime<Utc>,
    /// Whether the attempt counts toward `max_attempts`; an attempt lost to a receiver outage
    /// does not (the claim's attempt is given back).
    pub counted: bool,
    pub error_code: ErrorCode,
    pub last_error: String,
    pub response: Option<String>,
}

#[derive(Debug, Clone)]
pub struct FailedRecord {
    pub id: MessageId,
    pub version: i64,
    pub error_code: ErrorCode,
    pub last_error: String,
    pub response: Option<String>,
}

/// Claims up to `limit` due messages in one statement, oldest `created_at` first.
///
/// Due means `pending` with `next_attempt_at` reached, or `processing` whose lease ran out
/// (a crashed run). Rows locked by a concurrent claim are skipped, never waited for. Each
/// claimed row becomes `processing` with a fresh lease, one more attempt and a new version.
#[tracing::instrument(skip(executor))]
pub async fn claim_batch(
    executor: impl PgExecutor<'_>,
    limit: u32,
    lease: Duration,
) -> sqlx::Result<Vec<ClaimedRow>> {
    let mut rows = sqlx::query_as!(
        ClaimedRow,
        r#"WITH expired AS (
               SELECT id, created_at FROM messages
               WHERE status = 'processing' AND locked_until < now()
               ORDER BY created_at, id
               LIMIT $1
               FOR UPDATE SKIP LOCKED
           ), due AS (
               SELECT id, created_at FROM messages
               WHERE status = 'pending' AND next_attempt_at <= now()
               ORDER BY created_at, id
               LIMIT $1
               FOR UPDATE SKIP LOCKED
           ), picked AS (
               SELECT id FROM (SELECT * FROM expired UNION ALL SELECT * FROM due) AS candidates
               ORDER BY created_at, id
               LIMIT $1
           )
           UPDATE messages AS m
           SET status = 'processing',
               locked_until = now() + make_interval(secs => $2),
               attempts = m.attempts + 1,
               version = m.version + 1,
               updated_at = now()
           -- An id array, not a join: at large batches the planner would hash-join the whole table.
           WHERE m.id = ANY (ARRAY(SELECT id FROM picked))
           RETURNING m.id, m.phone_number, m.content, m.attempts, m.max_attempts, m.version, m.created_at"#,
        i64::from(limit),
        lease.as_secs_f64(),
    )
    .fetch_all(executor)
    .await?;
    rows.sort_by_key(|row| (row.created_at, row.id));
    Ok(rows)
}

/// Why a claimed row cannot be sent at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub error_code: ErrorCode,
    pub detail: String,
}

impl ClaimedRow {
    /// Checks the domain rules; a row written by another tool may break them.
    pub fn validate(self, char_limit: usize) -> Result<Claim, Rejection> {
        if self.attempts > self.max_attempts {
            return Err(Rejection {
                error_code: ErrorCode::AttemptsExhausted,
                detail: format!(
                    "claimed {} times without a recorded outcome (limit {})",
                    self.attempts, self.max_attempts
                ),
            });
        }
        let phone_number = PhoneNumber::parse(&self.phone_number).map_err(|err| Rejection {
            error_code: ErrorCode::InvalidPhoneNumber,
            detail: err.to_string(),
        })?;
        let content = Content::parse(&self.content, char_limit)
            .map_err(|err| Rejection { error_code: ErrorCode::InvalidContent, detail: err.to_string() })?;
        Ok(Claim {
            id: self.id.into(),
            phone_number,
            content,
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            version: self.version,
        })
    }
}

/// A claimed batch: the sendable claims, and how many rows were failed for breaking the rules.
#[derive(Debug, Default)]
pub struct ClaimedBatch {
    pub claims: Vec<Claim>,
    pub rejected: usize,
}

/// Claims a batch and returns the sendable part. Rows that break the domain rules are
/// recorded `failed` with an error_code at once, so they never block the queue.
pub async fn claim_valid_batch(
    pool: &PgPool,
    limit: u32,
    lease: Duration,
    char_limit: usize,
) -> sqlx::Result<ClaimedBatch> {
    let rows = claim_batch(pool, limit, lease).await?;
    let mut claims = Vec::with_capacity(rows.len());
    let mut rejected = Vec::new();
    for row in rows {
        let (id, version) = (row.id, row.version);
        match row.validate(char_limit) {
            Ok(claim) => claims.push(claim),
            Err(rejection) => {
                tracing::warn!(message_id = %id, error_code = %rejection.error_code, "claimed message breaks the rules; marking it failed");
                rejected.push(FailedRecord {
                    id: id.into(),
                    version,
                    error_code: rejection.error_code,
                    last_error: rejection.detail,
                    response: None,
                });
            }
        }
    }
    let rejected = if rejected.is_empty() { 0 } else { record_failed(pool, &rejected).await?.len() };
    Ok(ClaimedBatch { claims, rejected })
}

/// Marks claims sent. Returns the ids (and stored `sent_at`) that were still held by these
/// claims; the others were stale (another run took them) and did not change.
pub async fn record_sent(
    executor: impl PgExecutor<'_>,
    records: &[SentRecord],
) -> sqlx::Result<Vec<(MessageId, DateTime<Utc>)>> {
    let (ids, versions) = ids_and_versions(records.iter().map(|r| (r.id, r.version)));
    let message_ids: Vec<&str> = records.iter().map(|r| r.webhook_message_id.as_str()).collect();
    let responses: Vec<Option<&str>> = records.iter().map(|r| r.response.as_deref()).collect();
    let applied: Vec<(Uuid, DateTime<Utc>)> = record_statement(
        r#"UPDATE messages AS m
           SET status = 'sent', sent_at = now(), locked_until = NULL, next_attempt_at = NULL,
               webhook_message_id = r.webhook_message_id, webhook_response = r.response,
               error_code = NULL, last_error = NULL, updated_at = now(), version = m.version + 1
           FROM UNNEST($1::uuid[], $2::int8[], $3::text[], $4::text[])
                AS r(id, version, webhook_message_id, response)
           -- ANY($1) lets the planner look rows up by primary key instead of scanning the table.
           WHERE m.id = ANY ($1) AND m.id = r.id AND m.version = r.version AND m.status = 'processing'
           RETURNING m.id, m.sent_at"#,
        &ids,
        &versions,
    )
    .bind(&message_ids)
    .bind(&responses)
    .fetch_all(executor)
    .await?;
    report_stale("sent", &ids, applied.iter().map(|(id, _)| *id).collect());
    Ok(applied.into_iter().map(|(id, sent_at)| (id.into(), sent_at)).collect())
}

/// Puts claims back to `pending`, due at each record's `next_attempt_at`; an uncounted
/// attempt is given back, as [`release`] does.
pub async fn record_retry(
    executor: impl PgExecutor<'_>,
    records: &[RetryRecord],
) -> sqlx::Result<Vec<MessageId>> {
    let (ids, versions) = ids_and_versions(records.iter().map(|r| (r.id, r.version)));
    let due: Vec<DateTime<Utc>> = records.iter().map(|r| r.next_attempt_at).collect();
    let failure = FailureColumns::of(records.iter().map(|r| (r.error_code, &r.last_error, &r.response)));
    let counted: Vec<bool> = records.iter().map(|r| r.counted).collect();
    let statement = record_statement(
        r#"UPDATE messages AS m
           SET status = 'pending', locked_until = NULL, next_attempt_at = r.next_attempt_at,
               error_code = r.error_code, last_error = r.last_error, webhook_response = r.response,
               attempts = CASE WHEN r.counted THEN m.attempts ELSE greatest(m.attempts - 1, 0) END,
               updated_at = now(), version = m.version + 1
           FROM UNNEST($1::uuid[], $2::int8[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::bool[])
                AS r(id, version, next_attempt_at, error_code, last_error, response, counted)
           -- ANY($1) lets the planner look rows up by primary key instead of scanning the table.
           WHERE m.id = ANY ($1) AND m.id = r.id AND m.version = r.version AND m.status = 'processing'
           RETURNING m.id"#,
        &ids,
        &versions,
    )
    .bind(&due);
    let applied: Vec<(Uuid,)> = failure.bind_to(statement).bind(&counted).fetch_all(executor).await?;
    Ok(report_stale("retry", &ids, applied.into_iter().map(|(id,)| id).collect()))
}

/// Ends claims `failed` with an error_code and the last error.
pub async fn record_failed(
    executor: impl PgExecutor<'_>,
    records: &[FailedRecord],
) -> sqlx::Result<Vec<MessageId>> {
    let (ids, versions) = ids_and_versions(records.iter().map(|r| (r.id, r.version)));
    let failure = FailureColumns::of(records.iter().map(|r| (r.error_code, &r.last_error, &r.response)));
    let statement = record_statement(
        r#"UPDATE messages AS m
           SET status = 'failed', locked_until = NULL, next_attempt_at = NULL,
               error_code = r.error_code, last_error = r.last_error, webhook_response = r.response,
               updated_at = now(), version = m.version + 1
           FROM UNNEST($1::uuid[], $2::int8[], $3::text[], $4::text[], $5::text[])
                AS r(id, version, error_code, last_error, response)
           -- ANY($1) lets the planner look rows up by primary key instead of scanning the table.
           WHERE m.id = ANY ($1) AND m.id = r.id AND m.version = r.version AND m.status = 'processing'
           RETURNING m.id"#,
        &ids,
        &versions,
    );
    let applied: Vec<(Uuid,)> = failure.bind_to(statement).fetch_all(executor).await?;
    Ok(report_stale("failed", &ids, applied.into_iter().map(|(id,)| id).collect()))
}

/// Hands unsent claims back at once (due now, the attempt not counted) instead of
/// letting them wait for the lease to expire.
pub async fn release(
    executor: impl PgExecutor<'_>,
    claims: &[(MessageId, i64)],
) -> sqlx::Result<Vec<MessageId>> {
    let (ids, versions) = ids_and_versions(claims.iter().copied());
    let applied: Vec<(Uuid,)> = record_statement(
        r#"UPDATE messages AS m
           SET status = 'pending', locked_until = NULL, next_attempt_at = now(),
               attempts = greatest(m.attempts - 1, 0), updated_at = now(), version = m.version + 1
           FROM UNNEST($1::uuid[], $2::int8[]) AS r(id, version)
           -- ANY($1) lets the planner look rows up by primary key instead of scanning the table.
           WHERE m.id = ANY ($1) AND m.id = r.id AND m.version = r.version AND m.status = 'processing'
           RETURNING m.id"#,
        &ids,
        &versions,
    )
    .fetch_all(executor)
    .await?;
    Ok(report_stale("release", &ids, applied.into_iter().map(|(id,)| id).collect()))
}

/// The columns a retry and a failure both write, as the arrays UNNEST reads.
struct FailureColumns<'a> {
    codes: Vec<String>,
    errors: Vec<&'a str>,
    responses: Vec<Option<&'a str>>,
}

impl<'a> FailureColumns<'a> {
    /// Binds the error codes, last errors and responses as the statement's next three arrays.
    fn bind_to<'q, O>(&'q self, statement: RecordStatement<'q, O>) -> RecordStatement<'q, O> {
        statement.bind(&self.codes).bind(&self.errors).bind(&self.responses)
    }

    fn of(records: impl Iterator<Item = (ErrorCode, &'a String, &'a Option<String>)>) -> Self {
        let mut columns = Self { codes: Vec::new(), errors: Vec::new(), responses: Vec::new() };
        for (code, error, response) in records {
            columns.codes.push(code.to_string());
            columns.errors.push(error);
            columns.responses.push(response.as_deref());
        }
        columns
    }
}

/// A record statement with the claims' ids as $1 and their versions as $2, planned for this
/// call's arrays (see [`PLANNED_PER_CALL`]).
fn record_statement<'q, O>(sql: &'q str, ids: &'q [Uuid], versions: &'q [i64]) -> RecordStatement<'q, O>
where
    O: for<'r> sqlx::FromRow<'r, PgRow>,
{
    sqlx::query_as(sql).bind(ids).bind(versions).persistent(PLANNED_PER_CALL)
}

fn ids_and_versions(pairs: impl Iterator<Item = (MessageId, i64)>) -> (Vec<Uuid>, Vec<i64>) {
    pairs.map(|(id, version)| (id.as_uuid(), version)).unzip()
}

/// Logs each id whose claim was lost; returns the applied ones.
fn report_stale(outcome: &str, requested: &[Uuid], applied: Vec<Uuid>) -> Vec<MessageId> {
    if applied.len() != requested.len() {
        let applied_set: std::collections::HashSet<&Uuid> = applied.iter().collect();
        for id in requested.iter().filter(|id| !applied_set.contains(id)) {
            tracing::warn!(message_id = %id, outcome, "stale claim: the message was reclaimed or changed; outcome not recorded");
        }
    }
    applied.into_iter().map(MessageId::from).collect()
}
