//! Recording what became of claimed messages: one conditional statement for every outcome
//! (River's `JobSetStateIfRunningMany`), so a chunk of mixed outcomes is one round trip and a
//! new outcome is one more arm here. Each row changes only if it is still `processing` under the
//! claim's `version`: a lost claim (another run took the message after the lease ran out) never
//! overwrites a newer state. The same statement logs the webhook request each applied outcome
//! came from (`message_attempts`): an outcome never exists without its attempt.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::{ErrorCode, MessageId};
use crate::webhook::Exchange;

/// The statement is not kept as a prepared statement: each call is planned for its own arrays.
/// Kept, PostgreSQL switches a statement to one generic plan after five calls, and for this
/// UNNEST join that plan is a nested loop that reads the whole UNNEST again for every row, its
/// cost growing with the square of the chunk (BENCHMARKS.md, "The write path measured again");
/// a plan per call costs far less. It is written with `query_as`, not the checked macros,
/// because only those can be marked so; the tests run every arm of it.
const PLANNED_PER_CALL: bool = false;

/// What becomes of one claimed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered: `sent`, with the receiver's id and answer.
    Sent { webhook_message_id: String, response: Option<String> },
    /// Back to `pending`, due at `next_attempt_at`. An attempt that does not count (lost to a
    /// receiver outage) is given back, and the message waits for the receiver: when the
    /// breaker closes it is due at once, whatever `next_attempt_at` said.
    Retry {
        next_attempt_at: DateTime<Utc>,
        counted: bool,
        error_code: ErrorCode,
        last_error: String,
        response: Option<String>,
    },
    /// Ends `failed`.
    Failed { error_code: ErrorCode, last_error: String, response: Option<String> },
    /// Handed back unsent: `pending`, due now, the attempt given back.
    Released,
    /// Ends `expired`: its `expires_at` came before it could be sent (the attempt given back
    /// when no request was made) or before its next attempt would be due.
    Expired { counted: bool, error_code: ErrorCode, last_error: String, response: Option<String> },
}

/// Which outcome a record carried, as stored in the statement's `outcome` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutcomeKind {
    Sent,
    Retry,
    Failed,
    Released,
    Expired,
}

impl OutcomeKind {
    pub const ALL: [OutcomeKind; 5] = [Self::Sent, Self::Retry, Self::Failed, Self::Released, Self::Expired];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Retry => "retry",
            Self::Failed => "failed",
            Self::Released => "released",
            Self::Expired => "expired",
        }
    }
}

impl Outcome {
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Self::Sent { .. } => OutcomeKind::Sent,
            Self::Retry { .. } => OutcomeKind::Retry,
            Self::Failed { .. } => OutcomeKind::Failed,
            Self::Released => OutcomeKind::Released,
            Self::Expired { .. } => OutcomeKind::Expired,
        }
    }
}

/// One claim's outcome, conditional on the version its claim holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeRecord {
    pub id: MessageId,
    pub version: i64,
    pub outcome: Outcome,
    /// The webhook request the outcome came from; `None` when none was sent (a claim handed
    /// back, a row failed for breaking the rules).
    pub attempt: Option<AttemptRecord>,
}

/// The webhook request behind an outcome, as the attempt log keeps it. Its outcome, error code
/// and response body are the outcome's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptRecord {
    pub started_at: DateTime<Utc>,
    pub duration_ms: i32,
    /// `None`: no HTTP answer came.
    pub status_code: Option<i16>,
}

impl AttemptRecord {
    pub fn of(exchange: &Exchange) -> Self {
        Self {
            started_at: exchange.started_at,
            duration_ms: i32::try_from(exchange.duration.as_millis()).unwrap_or(i32::MAX),
            status_code: exchange.status_code.and_then(|code| i16::try_from(code).ok()),
        }
    }
}

/// A record that was applied: the message was still held by its claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub id: MessageId,
    pub kind: OutcomeKind,
    /// The stored `sent_at` of a sent message.
    pub sent_at: Option<DateTime<Utc>>,
}

/// The records as the statement's columns, one array each.
#[derive(Default)]
struct Columns<'a> {
    ids: Vec<Uuid>,
    versions: Vec<i64>,
    kinds: Vec<&'static str>,
    due: Vec<Option<DateTime<Utc>>>,
    counted: Vec<bool>,
    webhook_message_ids: Vec<Option<&'a str>>,
    error_codes: Vec<Option<String>>,
    last_errors: Vec<Option<&'a str>>,
    responses: Vec<Option<&'a str>>,
    started: Vec<Option<DateTime<Utc>>>,
    durations: Vec<Option<i32>>,
    status_codes: Vec<Option<i16>>,
}

impl<'a> Columns<'a> {
    fn of(records: &'a [OutcomeRecord]) -> Self {
        let mut columns = Self::default();
        for record in records {
            let (mut due, mut counted, mut message_id, mut failure, mut response) =
                (None, true, None, None, None);
            match &record.outcome {
                Outcome::Sent { webhook_message_id, response: body } => {
                    message_id = Some(webhook_message_id.as_str());
                    response = body.as_deref();
                }
                Outcome::Retry {
                    next_attempt_at,
                    counted: counts,
                    error_code,
                    last_error,
                    response: body,
                } => {
                    (due, counted, response) = (Some(*next_attempt_at), *counts, body.as_deref());
                    failure = Some((error_code, last_error));
                }
                Outcome::Failed { error_code, last_error, response: body } => {
                    failure = Some((error_code, last_error));
                    response = body.as_deref();
                }
                Outcome::Released => counted = false,
                Outcome::Expired { counted: counts, error_code, last_error, response: body } => {
                    (counted, response) = (*counts, body.as_deref());
                    failure = Some((error_code, last_error));
                }
            }
            columns.ids.push(record.id.as_uuid());
            columns.versions.push(record.version);
            columns.kinds.push(record.outcome.kind().as_str());
            columns.due.push(due);
            columns.counted.push(counted);
            columns.webhook_message_ids.push(message_id);
            columns.error_codes.push(failure.map(|(code, _)| code.to_string()));
            columns.last_errors.push(failure.map(|(_, error)| error.as_str()));
            columns.responses.push(response);
            columns.started.push(record.attempt.map(|a| a.started_at));
            columns.durations.push(record.attempt.map(|a| a.duration_ms));
            columns.status_codes.push(record.attempt.and_then(|a| a.status_code));
        }
        columns
    }
}

/// Writes every record in one statement, with the attempt of each applied one that sent a
/// request (numbered after the message's earlier requests). Returns the records that were
/// applied; the others' claims were lost (another run took the message, or it changed) and are
/// logged, their attempts with them.
pub async fn record(executor: impl PgExecutor<'_>, records: &[OutcomeRecord]) -> sqlx::Result<Vec<Applied>> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let columns = Columns::of(records);
    let rows: Vec<(Uuid, String, Option<DateTime<Utc>>)> = sqlx::query_as(
        r#"WITH applied AS (
               UPDATE messages AS m
               SET status = CASE WHEN r.outcome IN ('retry', 'released') THEN 'pending' ELSE r.outcome END,
                   sent_at = CASE WHEN r.outcome = 'sent' THEN now() ELSE m.sent_at END,
                   locked_until = NULL,
                   -- Handed back unsent, a message keeps its place in the claim order.
                   next_attempt_at = CASE r.outcome WHEN 'retry' THEN r.next_attempt_at
                                                    WHEN 'released' THEN m.next_attempt_at END,
                   webhook_message_id = CASE WHEN r.outcome = 'sent' THEN r.webhook_message_id
                                             ELSE m.webhook_message_id END,
                   webhook_response = CASE WHEN r.outcome = 'released' THEN m.webhook_response ELSE r.response END,
                   error_code = CASE r.outcome WHEN 'sent' THEN NULL WHEN 'released' THEN m.error_code
                                               ELSE r.error_code END,
                   last_error = CASE r.outcome WHEN 'sent' THEN NULL WHEN 'released' THEN m.last_error
                                               ELSE r.last_error END,
                   attempts = CASE WHEN r.counted THEN m.attempts ELSE greatest(m.attempts - 1, 0) END,
                   -- A retry that spends no attempt waits for the receiver: due when the breaker closes.
                   awaits_receiver = (r.outcome = 'retry' AND NOT r.counted),
                   request_count = m.request_count + CASE WHEN r.started_at IS NULL THEN 0 ELSE 1 END,
                   updated_at = now(), version = m.version + 1
               FROM UNNEST($1::uuid[], $2::int8[], $3::text[], $4::timestamptz[], $5::bool[], $6::text[],
                           $7::text[], $8::text[], $9::text[], $10::timestamptz[], $11::int4[], $12::int2[])
                    AS r(id, version, outcome, next_attempt_at, counted, webhook_message_id, error_code,
                         last_error, response, started_at, duration_ms, status_code)
               -- ANY($1) lets the planner look rows up by primary key instead of scanning the table.
               -- The status is compared to a subquery, not a literal, so that the planner cannot
               -- prove the partial index of processing rows (messages_expired_claims_idx) covers
               -- them: it would scan that index, small by its statistics, and under a snapshot
               -- held elsewhere as large as every row claimed since (BENCHMARKS.md).
               WHERE m.id = ANY ($1) AND m.id = r.id AND m.version = r.version
                 AND m.status = (SELECT 'processing')
               RETURNING m.id, r.outcome, m.sent_at, m.request_count, r.started_at, r.duration_ms,
                         r.status_code, r.error_code, r.response
           ), logged AS (
               INSERT INTO message_attempts (message_id, number, started_at, duration_ms, status_code,
                                             outcome, error_code, response_body)
               -- A request whose retry would come after expires_at failed the message's delivery.
               SELECT id, request_count, started_at, duration_ms, status_code,
                      CASE outcome WHEN 'expired' THEN 'failed' ELSE outcome END, error_code, response
               FROM applied WHERE started_at IS NOT NULL
           )
           SELECT id, outcome, sent_at FROM applied"#,
    )
    .bind(&columns.ids)
    .bind(&columns.versions)
    .bind(&columns.kinds)
    .bind(&columns.due)
    .bind(&columns.counted)
    .bind(&columns.webhook_message_ids)
    .bind(&columns.error_codes)
    .bind(&columns.last_errors)
    .bind(&columns.responses)
    .bind(&columns.started)
    .bind(&columns.durations)
    .bind(&columns.status_codes)
    .persistent(PLANNED_PER_CALL)
    .fetch_all(executor)
    .await?;
    let mut applied = Vec::with_capacity(rows.len());
    for (id, outcome, sent_at) in rows {
        let kind = OutcomeKind::ALL.into_iter().find(|kind| kind.as_str() == outcome);
        let kind = kind.ok_or_else(|| sqlx::Error::Protocol(format!("unknown outcome {outcome:?}")))?;
        applied.push(Applied { id: id.into(), kind, sent_at: sent_at.filter(|_| kind == OutcomeKind::Sent) });
    }
    report_stale(records, &applied);
    Ok(applied)
}

/// Logs each record whose claim was lost.
fn report_stale(records: &[OutcomeRecord], applied: &[Applied]) {
    if applied.len() == records.len() {
        return;
    }
    let applied: std::collections::HashSet<MessageId> = applied.iter().map(|a| a.id).collect();
    for record in records.iter().filter(|record| !applied.contains(&record.id)) {
        tracing::warn!(
            message_id = %record.id,
            outcome = record.outcome.kind().as_str(),
            "stale claim: the message was reclaimed or changed; outcome not recorded"
        );
    }
}
