//! The receiver breaker as one run sees it. The state is read once when the run starts and
//! written only when the run has news: endpoint failures, or the first sign of life after some.
//! The happy path (every answer fine, no failures on record) writes nothing.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use sqlx::PgPool;

use super::records::Attempt;
use crate::domain::BreakerState;
use crate::repository::receiver_breaker::{self, ReceiverBreaker};

/// RECEIVER_BREAKER_FAILURES, RECEIVER_BREAKER_COOLDOWN_SECONDS, RECEIVER_BREAKER_MAX_COOLDOWN_SECONDS.
#[derive(Debug, Clone)]
pub struct BreakerSettings {
    pub failures: u32,
    pub cooldown: Duration,
    pub max_cooldown: Duration,
}

impl BreakerSettings {
    fn threshold(&self) -> i32 {
        i32::try_from(self.failures).unwrap_or(i32::MAX)
    }
}

/// What a chunk of attempts (in arrival order) says about the receiver.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Evidence {
    /// Some answer showed the receiver up (any answer but an endpoint failure).
    pub alive: bool,
    /// Endpoint failures after the last sign of life; all of them when `alive` is false.
    pub trailing_failures: i32,
    /// The last endpoint failure's reason.
    pub last_error: Option<String>,
}

impl Evidence {
    pub fn of(attempts: &[Attempt]) -> Self {
        let mut evidence = Self::default();
        for verdict in attempts.iter().filter_map(|attempt| attempt.result.as_ref().ok().map(|e| &e.verdict))
        {
            if verdict.receiver_down() {
                evidence.trailing_failures += 1;
                evidence.last_error = verdict.reason().map(str::to_owned);
            } else {
                evidence.alive = true;
                evidence.trailing_failures = 0;
            }
        }
        evidence
    }
}

/// One run's view of the shared breaker.
pub(super) struct RunBreaker<'a> {
    pool: &'a PgPool,
    settings: &'a BreakerSettings,
    /// Set once the run learns the breaker is open: no further send starts.
    open: AtomicBool,
    /// The shared count of failures in a row, as last seen.
    known_failures: AtomicI32,
}

impl<'a> RunBreaker<'a> {
    pub fn new(pool: &'a PgPool, settings: &'a BreakerSettings, seen: &ReceiverBreaker) -> Self {
        Self {
            pool,
            settings,
            open: AtomicBool::new(seen.state != BreakerState::Closed),
            known_failures: AtomicI32::new(seen.consecutive_failures),
        }
    }

    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::Relaxed)
    }

    /// Endpoint failures in a row before the next chunk.
    pub fn known_failures(&self) -> i32 {
        self.known_failures.load(Ordering::Relaxed)
    }

    /// Adds a chunk's evidence to the shared count and opens the breaker when it reaches
    /// RECEIVER_BREAKER_FAILURES. Returns whether the breaker is open afterwards.
    pub async fn report(&self, evidence: &Evidence) -> sqlx::Result<bool> {
        let news = evidence.trailing_failures > 0 || (evidence.alive && self.known_failures() > 0);
        if !news {
            return Ok(self.is_open());
        }
        let counted = receiver_breaker::count_failures(
            self.pool,
            evidence.alive,
            evidence.trailing_failures,
            evidence.last_error.as_deref(),
            self.settings.threshold(),
            self.settings.cooldown,
        )
        .await?;
        let (after, opened) = match counted {
            Some(after) => {
                let opened = after.state == BreakerState::Open;
                (after, opened)
            }
            None => (receiver_breaker::get(self.pool).await?, false), // another run opened it
        };
        if opened {
            tracing::warn!(
                consecutive_failures = after.consecutive_failures,
                last_error = after.last_error.as_deref().unwrap_or(""),
                cooldown_s = after.cooldown_seconds,
                "receiver breaker opened: the receiver looks down; no sends until a probe succeeds"
            );
        }
        self.known_failures.store(after.consecutive_failures, Ordering::Relaxed);
        if after.state != BreakerState::Closed {
            self.open.store(true, Ordering::Relaxed);
        }
        Ok(self.is_open())
    }
}

/// The probe's answer decides: the receiver answered (closed) or not (open again, with the
/// cooldown doubled). Returns whether the breaker is closed now.
pub(super) async fn settle_probe(
    pool: &PgPool,
    settings: &BreakerSettings,
    evidence: &Evidence,
) -> sqlx::Result<bool> {
    if evidence.alive {
        if let Some(before) = receiver_breaker::close(pool).await? {
            tracing::info!(
                last_error = before.last_error.as_deref().unwrap_or(""),
                consecutive_failures = before.consecutive_failures,
                "receiver breaker closed: the probe was answered; sending resumes"
            );
        }
        return Ok(true);
    }
    let error = evidence.last_error.as_deref().unwrap_or("no answer");
    if let Some(reopened) = receiver_breaker::reopen(pool, error, settings.max_cooldown).await? {
        tracing::info!(
            last_error = error,
            cooldown_s = reopened.cooldown_seconds,
            "receiver breaker probe failed; open until the next probe"
        );
    }
    Ok(false)
}
