use futures::{stream, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::breaker::{Evidence, RunBreaker};
use super::claim::{claim_valid_batch, ClaimedBatch};
use super::outcome::{self, OutcomeKind};
use super::records::{self, Attempt, FailureContext, Unsent};
use super::tally::Tally;
use super::{DispatchError, Dispatcher, RunLimits, RunSummary};
use crate::deadline::room_for_one_send;
use crate::domain::{BreakerState, Claim, Priority};
use crate::repository::claims::QueuePosition;
use crate::repository::dispatch_runs;
use crate::repository::receiver_breaker::{self, ReceiverBreaker};

/// Outcomes are written as they arrive, up to this many per statement: while one statement
/// runs, the outcomes arriving meanwhile make the next, so under load a batch of 1,000 costs a
/// couple of statements (and commits), not one per 256 (BENCHMARKS.md).
pub const RECORD_CHUNK: usize = 1000;

impl Dispatcher {
    /// Runs one batch: claim, send with at most MESSAGE_WORKER_COUNT requests in flight,
    /// record every outcome, cache the sent ones. Sends stop starting when the budget (or the
    /// lease) is about to run out, and the claims not started are handed back at once.
    /// While the receiver breaker is open the run claims nothing, unless it is time for the
    /// one probe that decides whether the receiver is back.
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
        let start = dispatch_runs::start(&self.pool).await?;
        let (run_id, breaker) = (start.run_id, start.breaker);
        tracing::Span::current().record("run_id", run_id);
        let mut tally = Tally::default();
        let result = self.dispatch(limits, breaker, started, stop, &mut tally).await;
        if result.is_ok() && !stop.is_some_and(CancellationToken::is_cancelled) {
            let run_ends = started + limits.budget.min(self.config.dispatch.lease);
            tally.run.expired += self.expire_due(run_ends).await;
            self.apply_waiting_receipts().await;
            tally.run.purged = self.purge_if_due(run_ends).await;
        }
        tally.run.run_id = run_id;
        tally.run.duration_ms = started.elapsed().as_millis().try_into().unwrap_or(u64::MAX);
        let error = result.as_ref().err().map(ToString::to_string);
        if let Err(err) = dispatch_runs::finish(&self.pool, &tally.run, error.as_deref()).await {
            tracing::warn!(error = %err, "could not record the run's counts");
        }
        result?;
        tally.log(&self.config);
        Ok(tally.run)
    }

    /// Claims and sends as the receiver breaker allows: a full batch when it is closed; one
    /// probe when it is open and its cooldown is over (then the rest of the batch if the
    /// receiver answered); nothing otherwise.
    async fn dispatch(
        &self,
        limits: RunLimits,
        mut breaker: ReceiverBreaker,
        started: Instant,
        stop: Option<&CancellationToken>,
        tally: &mut Tally,
    ) -> Result<(), DispatchError> {
        let (settings, webhook_timeout) = (&self.config.dispatch, self.config.webhook.timeout);
        // A send must be able to finish (timeout) and be recorded before the budget ends,
        // and before the lease ends: past it another run may take the same message.
        let window = limits.budget.min(settings.lease);
        let needed = room_for_one_send(webhook_timeout);
        if window <= needed {
            return Err(DispatchError::BudgetTooShort { budget: window, webhook_timeout });
        }
        let stop_starting_at = started + (window - needed);
        let mut batch_size = limits.batch_size.unwrap_or(settings.batch_size);
        if breaker.state != BreakerState::Closed {
            if !self.probe(stop_starting_at, stop, tally).await? {
                tally.run.breaker_open = true;
                return Ok(());
            }
            batch_size -= 1;
            breaker = receiver_breaker::get(&self.pool).await?;
        }
        if batch_size == 0 {
            return Ok(());
        }
        let run_breaker = RunBreaker::new(&self.pool, &settings.breaker, &breaker);
        self.claim_and_send(batch_size, stop_starting_at, stop, &run_breaker, tally).await?;
        tally.run.breaker_open |= run_breaker.is_open();
        Ok(())
    }

    /// Takes the breaker's probe if its cooldown is over and sends one message. Returns whether
    /// the breaker is closed afterwards (the receiver answered).
    async fn probe(
        &self,
        stop_starting_at: Instant,
        stop: Option<&CancellationToken>,
        tally: &mut Tally,
    ) -> Result<bool, DispatchError> {
        let settings = &self.config.dispatch;
        if receiver_breaker::take_probe(&self.pool, settings.lease).await?.is_none() {
            return Ok(false); // still cooling down, or another run is probing
        }
        let Some(claim) = self.claim(1, tally).await?.pop() else {
            receiver_breaker::give_back_probe(&self.pool).await?;
            return Ok(false);
        };
        tracing::info!(message_id = %claim.id, "receiver breaker: probing the receiver with one message");
        let attempt = self.attempt(claim, stop_starting_at, stop, None).await;
        if attempt.result.is_err() {
            receiver_breaker::give_back_probe(&self.pool).await?;
            self.record(vec![attempt], FailureContext::default(), tally).await?;
            return Ok(false);
        }
        let evidence = Evidence::of(std::slice::from_ref(&attempt));
        let closed = super::breaker::settle_probe(&self.pool, &settings.breaker, &evidence).await?;
        // Pushed back past the next probe, so that one tries another message: a message the
        // receiver always fails must not keep the breaker open for everyone.
        let push_back = chrono::Duration::from_std(settings.breaker.max_cooldown * 2).unwrap_or_default();
        let context = FailureContext { breaker_open: !closed, probe_push_back: Some(push_back) };
        self.record(vec![attempt], context, tally).await?;
        Ok(closed)
    }

    /// Claims up to `limit` messages; rows that break the rules are failed on the way.
    async fn claim(&self, limit: u32, tally: &mut Tally) -> Result<Vec<Claim>, DispatchError> {
        let (lease, char_limit) = (self.config.dispatch.lease, self.config.messages.char_limit);
        let ClaimedBatch { claims, rejected } =
            claim_valid_batch(&self.pool, &self.cursor, limit, lease, char_limit).await?;
        tally.run.claimed += count(claims.len() + rejected);
        tally.run.failed += count(rejected);
        tally.sendable += claims.len();
        Ok(claims)
    }

    async fn claim_and_send(
        &self,
        batch_size: u32,
        stop_starting_at: Instant,
        stop: Option<&CancellationToken>,
        breaker: &RunBreaker<'_>,
        tally: &mut Tally,
    ) -> Result<(), DispatchError> {
        let claims = self.claim(batch_size, tally).await?;
        if claims.is_empty() {
            return Ok(());
        }
        // Sending and recording run side by side: sends go on while a chunk is written, and
        // the outcomes that arrive meanwhile make the next chunk. A failed write ends the run
        // at once and drops the sends in flight; their claims wait out the lease.
        let (outcomes, mut arrived) = mpsc::unbounded_channel();
        let sending = async move {
            let mut attempts = stream::iter(claims)
                .map(|claim| self.attempt(claim, stop_starting_at, stop, Some(breaker)))
                .buffer_unordered(self.config.dispatch.worker_count);
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
                let breaker_open = breaker.report(&Evidence::of(&chunk)).await?;
                let context = FailureContext { breaker_open, probe_push_back: None };
                self.record(std::mem::take(&mut chunk), context, tally).await?;
            }
            Ok(())
        };
        tokio::try_join!(sending, recording).map(|((), ())| ())
    }

    /// Sends one message, unless time is short, the rate limit's next slot comes too late,
    /// a shutdown began, or the receiver breaker opened.
    async fn attempt(
        &self,
        claim: Claim,
        stop_starting_at: Instant,
        stop: Option<&CancellationToken>,
        breaker: Option<&RunBreaker<'_>>,
    ) -> Attempt {
        let stopping = || stop.is_some_and(CancellationToken::is_cancelled);
        let held_back = || {
            if stopping() {
                Some(Unsent::Shutdown)
            } else if breaker.is_some_and(RunBreaker::is_open) {
                Some(Unsent::BreakerOpen)
            } else {
                None
            }
        };
        if let Some(reason) = held_back() {
            return Attempt { claim, result: Err(reason) };
        }
        if Instant::now() >= stop_starting_at {
            return Attempt { claim, result: Err(Unsent::TimeShort) };
        }
        let slot = self.limiter.acquire(stop_starting_at);
        let got_slot = match stop {
            Some(stop) => tokio::select! {
                got = slot => got,
                () = stop.cancelled() => false,
            },
            None => slot.await,
        };
        if let Some(reason) = held_back() {
            return Attempt { claim, result: Err(reason) };
        }
        if !got_slot {
            return Attempt { claim, result: Err(Unsent::NoRateSlot) };
        }
        // Checked right before the request: a claim taken in time may have waited past it.
        if claim.expired_at(chrono::Utc::now()) {
            return Attempt { claim, result: Err(Unsent::Expired) };
        }
        let exchange = self.webhook.send(&claim).await;
        Attempt { claim, result: Ok(exchange) }
    }

    /// Writes a chunk's outcomes (one statement), then caches the sent ones.
    async fn record(
        &self,
        chunk: Vec<Attempt>,
        context: FailureContext,
        tally: &mut Tally,
    ) -> Result<(), DispatchError> {
        tally.note_unsent(&chunk);
        // The first place in each lane of a claim handed back: the next claim starts there.
        let mut handed_back = [None; Priority::LANES];
        for attempt in chunk.iter().filter(|a| matches!(&a.result, Err(unsent) if *unsent != Unsent::Expired))
        {
            let first = &mut handed_back[usize::try_from(attempt.claim.priority.lane()).unwrap_or(0)];
            let position = QueuePosition::of(&attempt.claim);
            *first = Some(first.map_or(position, |earlier: QueuePosition| earlier.min(position)));
        }
        let mut records = records::outcome_records(
            chunk,
            context,
            &self.config.dispatch.retry,
            chrono::Utc::now(),
            &mut rand::rng(),
        );
        if !self.attempt_log {
            records.iter_mut().for_each(|record| record.request = None);
        }
        let applied = outcome::record(&self.pool, &records).await?;
        for outcome in &applied {
            let count = match outcome.kind {
                OutcomeKind::Sent => &mut tally.run.sent,
                OutcomeKind::Retry => &mut tally.run.retried,
                OutcomeKind::Failed => &mut tally.run.failed,
                OutcomeKind::Released => &mut tally.run.released,
                OutcomeKind::Expired => &mut tally.run.expired,
            };
            *count += 1;
        }
        for (lane, position) in Priority::ALL.iter().zip(handed_back) {
            if let Some(position) = position {
                self.cursor.hand_back(*lane, position);
            }
        }
        self.cache.remember(&records::cache_entries(&records, &applied)).await;
        Ok(())
    }
}

pub(super) fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
