//! The dispatcher's claim: due messages taken strictly by lane (high, normal, low), and first
//! due first inside a lane (`next_attempt_at`, then `created_at`, then id), with `FOR UPDATE
//! SKIP LOCKED`, each becoming `processing` with a lease and a new `version` that its outcome is
//! recorded against (`outcomes`).
//!
//! Each lane's scan walks `messages_due_lane_idx (priority, next_attempt_at, created_at, id)
//! WHERE status = 'pending'` from that lane's start position and stops at its first message not
//! yet due, so messages scheduled for later or waiting for a retry are never read; a lane is
//! scanned only for what the lanes above it left of the batch, so a lower lane's backlog is
//! never read while a higher one fills it. The start positions ([`ClaimFrom`], kept by
//! `claim_cursor::ClaimCursor`) skip the index entries of messages claimed before, which an old
//! snapshot elsewhere in the database keeps alive.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::error::BoxDynError;
use sqlx::postgres::PgArguments;
use sqlx::{Arguments, PgExecutor};
use uuid::Uuid;

use crate::domain::{Claim, Content, ErrorCode, Hold, PhoneNumber, Priority};

/// A row exactly as claimed, before the domain rules are checked.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClaimedRow {
    pub id: Uuid,
    pub phone_number: String,
    pub content: String,
    pub priority: Priority,
    pub attempts: i32,
    pub max_attempts: i32,
    /// Webhook requests made before this claim.
    pub request_count: i32,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// When it became due: with `created_at` and `id`, its place in the claim order.
    pub next_attempt_at: DateTime<Utc>,
    /// The database's time of the claim.
    pub claimed_at: DateTime<Utc>,
}

impl ClaimedRow {
    /// Its place in its lane.
    pub fn position(&self) -> QueuePosition {
        QueuePosition { due_at: self.next_attempt_at, created_at: self.created_at, id: self.id }
    }

    /// What the claim holds, for recording its outcome.
    pub fn hold(&self) -> Hold {
        Hold {
            id: self.id.into(),
            version: self.version,
            attempts: self.attempts,
            request_count: self.request_count,
            due_at: self.next_attempt_at,
        }
    }
}

/// A place in a lane's claim order: `(next_attempt_at, created_at, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueuePosition {
    pub due_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

impl QueuePosition {
    /// A claim's place.
    pub fn of(claim: &Claim) -> Self {
        Self { due_at: claim.due_at, created_at: claim.created_at, id: claim.id.as_uuid() }
    }

    /// Before every message (the year 1; PostgreSQL's range holds it, chrono's minimum is not).
    pub fn first() -> Self {
        let start = DateTime::<Utc>::from_timestamp(-62_135_596_800, 0).unwrap_or_default();
        Self { due_at: start, created_at: start, id: Uuid::nil() }
    }

    /// The first position due at `at`.
    pub fn due_at(at: DateTime<Utc>) -> Self {
        Self { due_at: at, ..Self::first() }
    }
}

/// Where a claim looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimFrom {
    /// Due messages at or after this position, in each lane (`Priority::lane` order).
    pub due: [QueuePosition; Priority::LANES],
    /// Whether to look for lapsed leases (`processing` past `locked_until`), and those whose
    /// lease ended at or after when.
    pub lapsed: Option<DateTime<Utc>>,
}

impl ClaimFrom {
    /// Everything: every due message and every lapsed lease.
    pub fn everything() -> Self {
        Self { due: [QueuePosition::first(); Priority::LANES], lapsed: Some(QueuePosition::first().due_at) }
    }
}

/// The claim statement, public so that tests can EXPLAIN exactly what runs. `$1` limit, `$2`
/// lease seconds, `$3` look at lapsed leases, `$4` lapsed since, `$5..$7`, `$8..$10` and
/// `$11..$13` the due start of the high, normal and low lanes. The one-time filter `$3` keeps
/// the lapsed scan from running at all when false; each row comparison is an index condition,
/// so each lane's scan starts there; a lane's LIMIT is what the lanes above left, and a LIMIT
/// of 0 reads nothing.
pub const CLAIM_SQL: &str = r#"WITH lapsed AS (
       SELECT id, priority, next_attempt_at, created_at FROM messages
       WHERE $3 AND status = 'processing' AND locked_until < now() AND locked_until >= $4
       ORDER BY priority, next_attempt_at, created_at, id
       LIMIT $1
       FOR UPDATE SKIP LOCKED
   ), high AS (
       SELECT id, priority, next_attempt_at, created_at FROM messages
       WHERE status = 'pending' AND priority = 0 AND next_attempt_at <= now()
         AND (next_attempt_at, created_at, id) >= ($5, $6, $7)
         -- A message past its expires_at is left to the expiry sweep (`expiry`).
         AND (expires_at IS NULL OR expires_at > now())
       ORDER BY next_attempt_at, created_at, id
       LIMIT $1
       FOR UPDATE SKIP LOCKED
   ), normal AS (
       SELECT id, priority, next_attempt_at, created_at FROM messages
       WHERE status = 'pending' AND priority = 1 AND next_attempt_at <= now()
         AND (next_attempt_at, created_at, id) >= ($8, $9, $10)
         AND (expires_at IS NULL OR expires_at > now())
       ORDER BY next_attempt_at, created_at, id
       LIMIT ($1 - (SELECT count(*) FROM high))
       FOR UPDATE SKIP LOCKED
   ), low AS (
       SELECT id, priority, next_attempt_at, created_at FROM messages
       WHERE status = 'pending' AND priority = 2 AND next_attempt_at <= now()
         AND (next_attempt_at, created_at, id) >= ($11, $12, $13)
         AND (expires_at IS NULL OR expires_at > now())
       ORDER BY next_attempt_at, created_at, id
       LIMIT ($1 - (SELECT count(*) FROM high) - (SELECT count(*) FROM normal))
       FOR UPDATE SKIP LOCKED
   ), picked AS (
       SELECT id FROM (SELECT * FROM lapsed UNION ALL SELECT * FROM high
                       UNION ALL SELECT * FROM normal UNION ALL SELECT * FROM low) AS candidates
       ORDER BY priority, next_attempt_at, created_at, id
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
   RETURNING m.id, m.phone_number, m.content, m.priority, m.attempts, m.max_attempts, m.request_count,
             m.version, m.created_at, m.expires_at, m.next_attempt_at, now() AS claimed_at"#;

/// Claims up to `limit` due messages in one statement, by lane and first due first inside one,
/// looking where `from` says; the rows come back in that order.
///
/// Due means `pending` with `next_attempt_at` reached and `expires_at` not (the expiry sweep
/// ends those), or `processing` whose lease ran out (a crashed run). Rows locked by a concurrent claim are skipped, never waited for. Each claimed row
/// becomes `processing` with a fresh lease, one more attempt and a new version.
#[tracing::instrument(skip(executor))]
pub async fn claim_from(
    executor: impl PgExecutor<'_>,
    limit: u32,
    lease: Duration,
    from: ClaimFrom,
) -> sqlx::Result<Vec<ClaimedRow>> {
    let arguments = claim_arguments(limit, lease, from).map_err(sqlx::Error::Encode)?;
    let mut rows = sqlx::query_as_with::<_, ClaimedRow, _>(CLAIM_SQL, arguments).fetch_all(executor).await?;
    rows.sort_by_key(|row| (row.priority.lane(), row.position()));
    Ok(rows)
}

/// The parameters of [`CLAIM_SQL`] (tests EXPLAIN the statement with them).
pub fn claim_arguments(limit: u32, lease: Duration, from: ClaimFrom) -> Result<PgArguments, BoxDynError> {
    let mut arguments = PgArguments::default();
    arguments.add(i64::from(limit))?;
    arguments.add(lease.as_secs_f64())?;
    arguments.add(from.lapsed.is_some())?;
    arguments.add(from.lapsed.unwrap_or(QueuePosition::first().due_at))?;
    for start in from.due {
        arguments.add(start.due_at)?;
        arguments.add(start.created_at)?;
        arguments.add(start.id)?;
    }
    Ok(arguments)
}

/// [`claim_from`] everything: what a process without a [`ClaimCursor`] does.
pub async fn claim_batch(
    executor: impl PgExecutor<'_>,
    limit: u32,
    lease: Duration,
) -> sqlx::Result<Vec<ClaimedRow>> {
    claim_from(executor, limit, lease, ClaimFrom::everything()).await
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
            priority: self.priority,
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            request_count: self.request_count,
            version: self.version,
            expires_at: self.expires_at,
            due_at: self.next_attempt_at,
            created_at: self.created_at,
        })
    }
}
