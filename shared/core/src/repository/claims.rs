//! The dispatcher's claim: due messages taken in FIFO order with `FOR UPDATE SKIP LOCKED`, each
//! becoming `processing` with a lease and a new `version` that its outcome is recorded against
//! (`outcomes`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::outcomes::{self, Outcome, OutcomeRecord};
use crate::domain::{Claim, Content, ErrorCode, PhoneNumber};

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
    pub expires_at: Option<DateTime<Utc>>,
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
        r#"WITH lapsed AS (
               SELECT id, created_at FROM messages
               WHERE status = 'processing' AND locked_until < now()
               ORDER BY created_at, id
               LIMIT $1
               FOR UPDATE SKIP LOCKED
           ), due AS (
               SELECT id, created_at FROM messages
               -- A message past its expires_at is left to the expiry sweep (`expiry`).
               WHERE status = 'pending' AND next_attempt_at <= now() AND (expires_at IS NULL OR expires_at > now())
               ORDER BY created_at, id
               LIMIT $1
               FOR UPDATE SKIP LOCKED
           ), picked AS (
               SELECT id FROM (SELECT * FROM lapsed UNION ALL SELECT * FROM due) AS candidates
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
           RETURNING m.id, m.phone_number, m.content, m.attempts, m.max_attempts, m.version, m.created_at,
                     m.expires_at"#,
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
            expires_at: self.expires_at,
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
                let outcome = Outcome::Failed {
                    error_code: rejection.error_code,
                    last_error: rejection.detail,
                    response: None,
                };
                // Never sent: no attempt to log.
                rejected.push(OutcomeRecord { id: id.into(), version, outcome, attempt: None });
            }
        }
    }
    let rejected = if rejected.is_empty() { 0 } else { outcomes::record(pool, &rejected).await?.len() };
    Ok(ClaimedBatch { claims, rejected })
}
