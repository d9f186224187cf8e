//! Writing what became of claimed messages: one statement for a chunk of them (River's
//! `JobSetStateIfRunningMany`). Each row carries the message's final columns, decided by the
//! dispatcher (`dispatch::outcome`); the statement applies them where the message is still
//! `processing` under the claim's `version`, so a lost claim (another run took the message after
//! the lease ran out) never overwrites a newer state, and logs the webhook request of each row it
//! applied (`message_attempts`) in the same statement: an outcome never exists without its
//! attempt. It decides nothing itself.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::{AttemptOutcome, MessageId, MessageStatus};

/// The statement is not kept as a prepared statement: each call is planned for its own arrays.
/// Kept, PostgreSQL switches a statement to one generic plan after five calls, and for this
/// UNNEST join that plan is a nested loop that reads the whole UNNEST again for every row, its
/// cost growing with the square of the chunk (BENCHMARKS.md); a plan per call costs far less.
/// It is written with `query_as`, not the checked macros, because only those can be marked so;
/// the tests run every kind of row through it.
const PLANNED_PER_CALL: bool = false;

/// One claimed message's columns after its outcome, applied only while its claim holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeRow {
    pub id: MessageId,
    /// The claim's version: the row changes only if it still has it.
    pub version: i64,
    pub status: MessageStatus,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub attempts: i32,
    pub request_count: i32,
    /// Held back by the receiver breaker: due at once when it closes.
    pub awaits_receiver: bool,
    /// `sent_at` becomes the database's time of the write.
    pub stamps_sent_at: bool,
    /// The answer columns; `None` keeps those of the last request (a claim handed back unsent).
    pub answer: Option<Answer>,
    /// The webhook request to log as attempt number `request_count`; `None` when none was made.
    pub attempt: Option<AttemptRow>,
}

/// What the message shows of its last request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    pub webhook_message_id: Option<String>,
    pub error_code: Option<String>,
    pub last_error: Option<String>,
    /// Also the attempt's `response_body`.
    pub response: Option<String>,
}

/// A webhook request as the attempt log keeps it; its error code and response body are the
/// row's [`Answer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptRow {
    pub started_at: DateTime<Utc>,
    pub duration_ms: i32,
    /// `None`: no HTTP answer came.
    pub status_code: Option<i16>,
    pub outcome: AttemptOutcome,
    /// Spent one of the message's `max_attempts`: false while the receiver was judged down.
    pub counted: bool,
}

/// A row that was applied: the message was still held by its claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppliedRow {
    pub id: MessageId,
    /// The stored `sent_at`, if any.
    pub sent_at: Option<DateTime<Utc>>,
}

/// The rows as the statement's columns, one array each.
#[derive(Default)]
struct Columns<'a> {
    ids: Vec<Uuid>,
    versions: Vec<i64>,
    statuses: Vec<&'static str>,
    due: Vec<Option<DateTime<Utc>>>,
    attempts: Vec<i32>,
    request_counts: Vec<i32>,
    awaits_receiver: Vec<bool>,
    stamps_sent_at: Vec<bool>,
    writes_answer: Vec<bool>,
    webhook_message_ids: Vec<Option<&'a str>>,
    error_codes: Vec<Option<&'a str>>,
    last_errors: Vec<Option<&'a str>>,
    responses: Vec<Option<&'a str>>,
    attempt_outcomes: Vec<Option<&'static str>>,
    started: Vec<Option<DateTime<Utc>>>,
    durations: Vec<Option<i32>>,
    status_codes: Vec<Option<i16>>,
    counted: Vec<bool>,
}

impl<'a> Columns<'a> {
    fn of(rows: &'a [OutcomeRow]) -> Self {
        let mut c = Self::default();
        for row in rows {
            c.ids.push(row.id.as_uuid());
            c.versions.push(row.version);
            c.statuses.push(row.status.as_str());
            c.due.push(row.next_attempt_at);
            c.attempts.push(row.attempts);
            c.request_counts.push(row.request_count);
            c.awaits_receiver.push(row.awaits_receiver);
            c.stamps_sent_at.push(row.stamps_sent_at);
            c.writes_answer.push(row.answer.is_some());
            let answer = row.answer.as_ref();
            c.webhook_message_ids.push(answer.and_then(|a| a.webhook_message_id.as_deref()));
            c.error_codes.push(answer.and_then(|a| a.error_code.as_deref()));
            c.last_errors.push(answer.and_then(|a| a.last_error.as_deref()));
            c.responses.push(answer.and_then(|a| a.response.as_deref()));
            c.attempt_outcomes.push(row.attempt.map(|a| a.outcome.as_str()));
            c.started.push(row.attempt.map(|a| a.started_at));
            c.durations.push(row.attempt.map(|a| a.duration_ms));
            c.status_codes.push(row.attempt.and_then(|a| a.status_code));
            c.counted.push(row.attempt.is_none_or(|a| a.counted));
        }
        c
    }
}

/// Writes every row in one statement, with the attempt of each applied one that made a request.
/// Returns the rows that were applied; the others' claims were lost (another run took the
/// message, or it changed), and their attempts are not logged.
pub async fn apply(executor: impl PgExecutor<'_>, rows: &[OutcomeRow]) -> sqlx::Result<Vec<AppliedRow>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let c = Columns::of(rows);
    let applied: Vec<(Uuid, Option<DateTime<Utc>>)> = sqlx::query_as(
        r#"WITH applied AS (
               UPDATE messages AS m
               SET status = r.status, next_attempt_at = r.next_attempt_at, attempts = r.attempts,
                   request_count = r.request_count, awaits_receiver = r.awaits_receiver,
                   sent_at = CASE WHEN r.stamps_sent_at THEN now() ELSE m.sent_at END,
                   webhook_message_id = CASE WHEN r.writes_answer THEN r.webhook_message_id
                                             ELSE m.webhook_message_id END,
                   error_code = CASE WHEN r.writes_answer THEN r.error_code ELSE m.error_code END,
                   last_error = CASE WHEN r.writes_answer THEN r.last_error ELSE m.last_error END,
                   webhook_response = CASE WHEN r.writes_answer THEN r.response ELSE m.webhook_response END,
                   locked_until = NULL, updated_at = now(), version = m.version + 1
               FROM UNNEST($1::uuid[], $2::int8[], $3::text[], $4::timestamptz[], $5::int4[], $6::int4[],
                           $7::bool[], $8::bool[], $9::bool[], $10::text[], $11::text[], $12::text[],
                           $13::text[], $14::text[], $15::timestamptz[], $16::int4[], $17::int2[],
                           $18::bool[])
                    AS r(id, version, status, next_attempt_at, attempts, request_count, awaits_receiver,
                         stamps_sent_at, writes_answer, webhook_message_id, error_code, last_error,
                         response, attempt_outcome, started_at, duration_ms, status_code, counted)
               -- ANY($1) lets the planner look rows up by primary key instead of scanning the table.
               -- The status is compared to a subquery, not a literal, so that the planner cannot
               -- prove the partial index of processing rows (messages_expired_claims_idx) covers
               -- them: it would scan that index, small by its statistics, and under a snapshot
               -- held elsewhere as large as every row claimed since (BENCHMARKS.md).
               WHERE m.id = ANY ($1) AND m.id = r.id AND m.version = r.version
                 AND m.status = (SELECT 'processing')
               RETURNING m.id, m.sent_at, r.request_count, r.attempt_outcome, r.started_at, r.duration_ms,
                         r.status_code, r.error_code, r.response, r.counted
           ), logged AS (
               INSERT INTO message_attempts (message_id, number, started_at, duration_ms, status_code,
                                             outcome, error_code, response_body, counted)
               SELECT id, request_count, started_at, duration_ms, status_code, attempt_outcome, error_code,
                      response, counted
               FROM applied WHERE attempt_outcome IS NOT NULL
           )
           SELECT id, sent_at FROM applied"#,
    )
    .bind(&c.ids)
    .bind(&c.versions)
    .bind(&c.statuses)
    .bind(&c.due)
    .bind(&c.attempts)
    .bind(&c.request_counts)
    .bind(&c.awaits_receiver)
    .bind(&c.stamps_sent_at)
    .bind(&c.writes_answer)
    .bind(&c.webhook_message_ids)
    .bind(&c.error_codes)
    .bind(&c.last_errors)
    .bind(&c.responses)
    .bind(&c.attempt_outcomes)
    .bind(&c.started)
    .bind(&c.durations)
    .bind(&c.status_codes)
    .bind(&c.counted)
    .persistent(PLANNED_PER_CALL)
    .fetch_all(executor)
    .await?;
    Ok(applied.into_iter().map(|(id, sent_at)| AppliedRow { id: id.into(), sent_at }).collect())
}
