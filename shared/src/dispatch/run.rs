use std::time::Duration;

use futures::{stream, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::outcomes::{Attempt, OutcomeRecords};
use super::{DispatchError, Dispatcher, RunLimits, RunSummary};
use crate::repository::claims::{self, ClaimedBatch};
use crate::repository::{dispatch_runs, Claim, RunCounts};

/// Time kept after the last send may start, to record outcomes before the budget or lease ends.
const RECORD_MARGIN: Duration = Duration::from_millis(500);

/// Outcomes are written as they arrive, up to this many per statement.
const RECORD_CHUNK: usize = 256;

impl Dispatcher {
    /// Runs one batch: claim, send with at most MESSAGE_WORKER_COUNT requests in flight,
    /// record every outcome, cache the sent ones. Sends stop starting when the budget (or the
    /// lease) is about to run out, and the claims not started are handed back at once.
    pub async fn run_once(&self, limits: RunLimits) -> Result<RunSummary, DispatchError> {
        self.run(limits, None).await
    }

    /// [`Dispatcher::run_once`] that also stops starting sends once `stop` is cancelled
    /// (graceful shutdown): sends in flight finish and are recorded, the rest are handed back.
    pub async fn run_until(
        &self,
        limits: RunLimits,
        stop: &CancellationToken,
    ) -> Result<RunSummary, DispatchError> {
        self.run(limits, Some(stop)).await
    }

    #[tracing::instrument(skip_all, fields(run_id))]
    async fn run(
        &self,
        limits: RunLimits,
        stop: Option<&CancellationToken>,
    ) -> Result<RunSummary, DispatchError> {
        let started = Instant::now();
        let run_id = dispatch_runs::start(&self.pool).await?;
        tracing::Span::current().record("run_id", run_id);
        let mut counts = RunCounts::default();
        let result = self.claim_and_send(limits, started, stop, &mut counts).await;
        let error = result.as_ref().err().map(ToString::to_string);
        if let Err(err) = dispatch_runs::finish(&self.pool, run_id, counts, error.as_deref()).await {
            tracing::warn!(error = %err, "could not record the run's counts");
        }
        result?;
        let summary = RunSummary::new(run_id, counts, started.elapsed());
        if summary.claimed > 0 {
            tracing::info!(
                claimed = summary.claimed,
                sent = summary.sent,
                retried = summary.retried,
                failed = summary.failed,
                released = summary.released,
                duration_ms = summary.duration_ms,
                "dispatch run finished"
            );
        }
        Ok(summary)
    }

    async fn claim_and_send(
        &self,
        limits: RunLimits,
        started: Instant,
        stop: Option<&CancellationToken>,
        counts: &mut RunCounts,
    ) -> Result<(), DispatchError> {
        let settings = &self.settings;
        let batch_size = limits.batch_size.unwrap_or(settings.batch_size);
        let ClaimedBatch { claims, rejected } =
            claims::claim_valid_batch(&self.pool, batch_size, settings.lease, settings.char_limit).await?;
        counts.claimed = count(claims.len() + rejected);
        counts.failed = count(rejected);
        if claims.is_empty() {
            return Ok(());
        }
        // A send must be able to finish (timeout) and be recorded before the budget ends,
        // and before the lease ends: past it another run may take the same message.
        let window = limits.budget.min(settings.lease);
        let stop_starting_at = started + window.saturating_sub(settings.webhook_timeout + RECORD_MARGIN);
        // Sending and recording run side by side: sends go on while a chunk is written, and
        // the outcomes that arrive meanwhile make the next chunk. A failed write ends the run
        // at once and drops the sends in flight; their claims wait out the lease.
        let (outcomes, mut arrived) = mpsc::unbounded_channel();
        let sending = async move {
            let mut attempts = stream::iter(claims)
                .map(|claim| self.attempt(claim, stop_starting_at, stop))
                .buffer_unordered(settings.worker_count);
            while let Some(attempt) = attempts.next().await {
                if outcomes.send(attempt).is_err() {
                    break; // the recorder stopped: a write failed
                }
            }
            Ok(())
        };
        let recording = async move {
            let mut chunk = Vec::with_capacity(RECORD_CHUNK);
            while arrived.recv_many(&mut chunk, RECORD_CHUNK).await > 0 {
                self.record(std::mem::take(&mut chunk), counts).await?;
            }
            Ok(())
        };
        tokio::try_join!(sending, recording).map(|((), ())| ())
    }

    /// Sends one message, unless time is short, the rate limit's next slot comes too late,
    /// or a shutdown began.
    async fn attempt(
        &self,
        claim: Claim,
        stop_starting_at: Instant,
        stop: Option<&CancellationToken>,
    ) -> Attempt {
        let stopping = || stop.is_some_and(CancellationToken::is_cancelled);
        if stopping() || Instant::now() >= stop_starting_at {
            return Attempt { claim, outcome: None };
        }
        let slot = self.limiter.acquire(stop_starting_at);
        let got_slot = match stop {
            Some(stop) => tokio::select! {
                got = slot => got,
                () = stop.cancelled() => false,
            },
            None => slot.await,
        };
        if !got_slot || stopping() {
            return Attempt { claim, outcome: None };
        }
        let outcome = self.webhook.send(&claim).await;
        Attempt { claim, outcome: Some(outcome) }
    }

    /// Writes a chunk of outcomes (one statement per kind), then caches the sent ones.
    async fn record(&self, chunk: Vec<Attempt>, counts: &mut RunCounts) -> Result<(), DispatchError> {
        let records =
            OutcomeRecords::from_attempts(chunk, &self.settings.retry, chrono::Utc::now(), &mut rand::rng());
        if !records.sent.is_empty() {
            let applied = claims::record_sent(&self.pool, &records.sent).await?;
            counts.sent += count(applied.len());
            self.cache.remember(&records.cache_entries(&applied)).await;
        }
        if !records.retry.is_empty() {
            counts.retried += count(claims::record_retry(&self.pool, &records.retry).await?.len());
        }
        if !records.failed.is_empty() {
            counts.failed += count(claims::record_failed(&self.pool, &records.failed).await?.len());
        }
        if !records.release.is_empty() {
            counts.released += count(claims::release(&self.pool, &records.release).await?.len());
        }
        Ok(())
    }
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
