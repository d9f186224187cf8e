//! The bulk cancel: every `pending` message matching a filter becomes `cancelled`, oldest first,
//! in chunks of CANCEL_CHUNK rows, each its own short statement, so sending goes on beside it.
//! A message a run has claimed is `processing`: it is not touched and not counted, and it
//! finishes. A message counted is `cancelled` when its chunk commits, and a claim never takes a
//! `cancelled` message, so none counted is ever sent.
//!
//! Chunks take their rows `FOR UPDATE SKIP LOCKED` (never waiting, so never in a deadlock) and
//! walk on from where the last one stopped; a row skipped because another statement held it is
//! found by a pass from the start, until a check finds no match left or the time runs out.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder};
use tokio::time::Instant;
use uuid::Uuid;

use crate::domain::{Label, Priority};

/// Rows per statement: short transactions and row locks, like the retention's chunks.
pub const CANCEL_CHUNK: u64 = 1000;

/// Which pending messages to cancel: every filter given must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingFilter {
    pub campaign: Option<Label>,
    pub priority: Option<Priority>,
    /// Created before this time (and never after the cancel began).
    pub created_before: DateTime<Utc>,
}

/// What a bulk cancel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled {
    pub cancelled: u64,
    /// No pending message matching the filter was left (or the limit was reached); false when
    /// the time ran out first.
    pub complete: bool,
}

/// Cancels up to `limit` pending messages matching `filter`, oldest first, until `until`.
#[tracing::instrument(skip(pool))]
pub async fn cancel_pending(
    pool: &PgPool,
    filter: &PendingFilter,
    limit: u64,
    until: Instant,
) -> sqlx::Result<Cancelled> {
    let mut cancelled = 0;
    while Instant::now() < until {
        let mut after = None;
        loop {
            let room = limit.saturating_sub(cancelled).min(CANCEL_CHUNK);
            if room == 0 {
                return Ok(Cancelled { cancelled, complete: true });
            }
            let (taken, last) = cancel_chunk(pool, filter, after, room).await?;
            cancelled += taken;
            if taken == 0 || Instant::now() >= until {
                break;
            }
            after = last;
        }
        if !any_left(pool, filter).await? {
            return Ok(Cancelled { cancelled, complete: true });
        }
        // Some were held by another statement (a claim locks a few rows it does not take):
        // held for milliseconds. Look again from the start.
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    Ok(Cancelled { cancelled, complete: false })
}

/// Cancels up to `room` of the oldest matching pending messages after `after`; returns how many
/// and the last one's place.
async fn cancel_chunk(
    pool: &PgPool,
    filter: &PendingFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    room: u64,
) -> sqlx::Result<(u64, Option<(DateTime<Utc>, Uuid)>)> {
    let mut query = QueryBuilder::<Postgres>::new("WITH picked AS (SELECT id, created_at FROM messages");
    push_matching(&mut query, filter);
    if let Some((created_at, id)) = after {
        query.push(" AND (created_at, id) > (").push_bind(created_at).push(", ").push_bind(id).push(")");
    }
    query.push(format_args!(" ORDER BY created_at, id LIMIT {room} FOR UPDATE SKIP LOCKED"));
    query.push(
        "), cancelled AS (
             UPDATE messages AS m SET status = 'cancelled', locked_until = NULL, updated_at = now(),
                                      version = m.version + 1
             WHERE m.id = ANY (ARRAY(SELECT id FROM picked)) AND m.status = 'pending'
             RETURNING m.id, m.created_at
         )
         SELECT count(*)::int8, max(created_at),
                (SELECT id FROM cancelled ORDER BY created_at DESC, id DESC LIMIT 1)
         FROM cancelled",
    );
    let (taken, last_at, last_id): (i64, Option<DateTime<Utc>>, Option<Uuid>) =
        query.build_query_as().fetch_one(pool).await?;
    Ok((u64::try_from(taken).unwrap_or(0), last_at.zip(last_id)))
}

/// Whether any pending message still matches.
async fn any_left(pool: &PgPool, filter: &PendingFilter) -> sqlx::Result<bool> {
    let mut query = QueryBuilder::<Postgres>::new("SELECT EXISTS (SELECT 1 FROM messages");
    push_matching(&mut query, filter);
    query.push(")");
    query.build_query_scalar().fetch_one(pool).await
}

/// ` WHERE status = 'pending' AND <filter>`. A campaign walks `messages_campaign_idx`, anything
/// else `messages_pending_fifo_idx`; the priority is a literal from the enum, never input.
fn push_matching(query: &mut QueryBuilder<'_, Postgres>, filter: &PendingFilter) {
    query.push(" WHERE status = 'pending' AND created_at < ").push_bind(filter.created_before);
    if let Some(campaign) = &filter.campaign {
        query.push(" AND campaign = ").push_bind(campaign.as_str().to_owned());
    }
    if let Some(priority) = filter.priority {
        query.push(format_args!(" AND priority = {}", priority.lane()));
    }
}
