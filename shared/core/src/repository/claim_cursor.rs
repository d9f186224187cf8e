//! A process's place in each lane's claim order, so that its claims start where the due work is
//! instead of at the front of the due index. A message claimed leaves its old entry there until vacuum
//! removes it, and vacuum cannot while any snapshot older than the claim is open (an analytics
//! query, a `pg_dump`, a forgotten session): a claim starting at the front would walk every
//! entry claimed since, slower each minute. Starting from the first position the last claim
//! took, it walks only what was claimed since (about one batch per concurrent run).
//!
//! A start position is a hint, never a filter that loses messages: a message can only be
//! behind it if written by a transaction that began before and committed after that claim
//! (`next_attempt_at` is its transaction's start). The start is kept LATE_WRITE_MARGIN behind the
//! claim's own time, which covers any write shorter than that, and a full pass from the front
//! every FULL_PASS_EVERY finds anything else (a longer write, a row someone moved back by hand).

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use tokio::time::Instant;

use super::claims::{self, ClaimFrom, ClaimedRow, QueuePosition};
use crate::domain::Priority;

/// How far behind the last claim's own time a claim starts: longer than any write of due
/// messages takes (a create, a batch of 1,000, a record, a retry by hand).
pub const LATE_WRITE_MARGIN: Duration = Duration::from_secs(2);

/// How often a claim starts from the front of the due order regardless.
pub const FULL_PASS_EVERY: Duration = Duration::from_secs(60);

/// How often a claim also looks for lapsed leases (a crashed run's claims), at most: they only
/// appear a lease after their claim, so a quarter of the lease if that is sooner (a lapsed
/// claim waits at most a quarter lease more).
pub const LAPSED_EVERY: Duration = Duration::from_secs(10);

/// Where this process's next claim looks; shared by its runs.
#[derive(Debug)]
pub struct ClaimCursor {
    full_pass_every: Duration,
    lapsed_every: Duration,
    state: Mutex<State>,
}

impl Default for ClaimCursor {
    fn default() -> Self {
        Self::with_periods(FULL_PASS_EVERY, LAPSED_EVERY)
    }
}

#[derive(Debug, Default)]
struct State {
    /// In each lane, the first position the last claim that took from it took, and the
    /// database's time then.
    taken: [Option<(QueuePosition, DateTime<Utc>)>; Priority::LANES],
    full_pass_at: Option<Instant>,
    lapsed_looked_at: Option<Instant>,
    /// Lapsed leases that ended before this were all taken by a look that found fewer than it
    /// could take.
    lapsed_from: Option<DateTime<Utc>>,
    /// Counts hand-backs, so that a claim begun before one cannot move the start past it.
    handed_back: u64,
}

impl ClaimCursor {
    pub fn new() -> Self {
        Self::default()
    }

    /// A cursor with other periods than FULL_PASS_EVERY and LAPSED_EVERY (tests).
    pub fn with_periods(full_pass_every: Duration, lapsed_every: Duration) -> Self {
        Self { full_pass_every, lapsed_every, state: Mutex::default() }
    }

    /// Claims up to `limit` where this cursor says, and learns from what it took.
    pub async fn claim(
        &self,
        executor: impl PgExecutor<'_>,
        limit: u32,
        lease: Duration,
    ) -> sqlx::Result<Vec<ClaimedRow>> {
        let (from, handed_back) = self.next_with_generation(lease / 4);
        let rows = claims::claim_from(executor, limit, lease, from).await?;
        self.learn(from, handed_back, &rows, limit);
        Ok(rows)
    }

    /// A claim handed back unsent keeps its place (`position` in `lane`): the next claim starts
    /// there at the latest, so the message goes out in its turn.
    pub fn hand_back(&self, lane: Priority, position: QueuePosition) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.handed_back += 1;
        let taken = &mut state.taken[lane_index(lane)];
        if let Some((first, at)) = *taken {
            *taken = Some((first.min(position), at));
        }
    }

    /// Where the next claim with `lease` looks: everything on a full pass (the first, then once
    /// per FULL_PASS_EVERY); else in each lane from the first position the last claim from it
    /// took, at most LATE_WRITE_MARGIN behind its time, and lapsed leases once per
    /// LAPSED_EVERY (or quarter lease).
    pub fn next(&self, lease: Duration) -> ClaimFrom {
        self.next_with_generation(lease / 4).0
    }

    fn next_with_generation(&self, quarter_lease: Duration) -> (ClaimFrom, u64) {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.full_pass_at.is_none_or(|at| now - at >= self.full_pass_every) {
            state.full_pass_at = Some(now);
            state.lapsed_looked_at = Some(now);
            return (ClaimFrom::everything(), state.handed_back);
        }
        let due = state.taken.map(|taken| match taken {
            Some((first, at)) => first.min(QueuePosition::due_at(at - LATE_WRITE_MARGIN)),
            None => QueuePosition::first(),
        });
        let lapsed_every = self.lapsed_every.min(quarter_lease);
        let lapsed = if state.lapsed_looked_at.is_none_or(|at| now - at >= lapsed_every) {
            state.lapsed_looked_at = Some(now);
            Some(state.lapsed_from.unwrap_or(QueuePosition::first().due_at))
        } else {
            None
        };
        (ClaimFrom { due, lapsed }, state.handed_back)
    }

    /// Learns from a claim's rows (in claim order): where the next starts in each lane it took
    /// from, and, after a look for lapsed leases that did not fill the batch, from when the next
    /// look starts.
    fn learn(&self, from: ClaimFrom, handed_back: u64, rows: &[ClaimedRow], limit: u32) {
        let Some(first) = rows.first() else { return };
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let handed_back_since = state.handed_back != handed_back;
        for lane in Priority::ALL {
            let Some(first_in_lane) = rows.iter().find(|row| row.priority == *lane) else { continue };
            let taken = &mut state.taken[lane_index(*lane)];
            let position = match *taken {
                // A hand-back since this claim began: it may lie before what this claim took.
                Some((earlier, _)) if handed_back_since => earlier.min(first_in_lane.position()),
                _ => first_in_lane.position(),
            };
            *taken = Some((position, first_in_lane.claimed_at));
        }
        if from.lapsed.is_some() && rows.len() < limit as usize {
            state.lapsed_from = Some(first.claimed_at - LATE_WRITE_MARGIN);
        }
    }
}

fn lane_index(lane: Priority) -> usize {
    usize::try_from(lane.lane()).unwrap_or(0)
}
