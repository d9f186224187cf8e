//! The receiver breaker as one run sees it. The state is read once when the run starts and
//! written only when the run has news: endpoint failures, or answers while failures are on
//! record. The happy path (every answer fine, no failures on record) writes nothing.
//!
//! It opens on a failure rate, not on failures in a row: with dozens of requests in flight, a
//! receiver failing 40 % at random gives five failures in a row in completion order every few
//! dozen results, while 19 of 20 (the default) comes about once in three million.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use sqlx::PgPool;

use super::records::Attempt;
use crate::config::BreakerConfig;
use crate::domain::BreakerState;
use crate::repository::receiver_breaker::{self, OpenRule, ReceiverBreaker, ResultBits, WINDOW_MAX};

impl BreakerConfig {
    fn open_rule(&self) -> OpenRule {
        OpenRule {
            window: i32::try_from(self.window).unwrap_or(WINDOW_MAX).clamp(1, WINDOW_MAX),
            failure_rate: i32::try_from(self.failure_rate).unwrap_or(100).clamp(1, 100),
            cooldown: self.cooldown,
        }
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
    /// Every endpoint result, for the breaker's window.
    pub results: ResultBits,
}

impl Evidence {
    pub fn of(attempts: &[Attempt]) -> Self {
        let mut evidence = Self::default();
        for verdict in attempts.iter().filter_map(|attempt| attempt.result.as_ref().ok().map(|e| &e.verdict))
        {
            evidence.results.push(verdict.receiver_down());
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
    settings: &'a BreakerConfig,
    /// Set once the run learns the breaker is open: no further send starts.
    open: AtomicBool,
    /// The shared count of failures in a row, as last seen.
    known_failures: AtomicI32,
    /// Endpoint failures in the shared window, as last seen.
    known_window_failures: AtomicI32,
}

impl<'a> RunBreaker<'a> {
    pub fn new(pool: &'a PgPool, settings: &'a BreakerConfig, seen: &ReceiverBreaker) -> Self {
        Self {
            pool,
            settings,
            open: AtomicBool::new(seen.state != BreakerState::Closed),
            known_failures: AtomicI32::new(seen.consecutive_failures),
            known_window_failures: AtomicI32::new(seen.window_failures),
        }
    }

    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::Relaxed)
    }

    /// Endpoint failures in a row before the next chunk.
    fn known_failures(&self) -> i32 {
        self.known_failures.load(Ordering::Relaxed)
    }

    /// Adds a chunk's evidence to the shared window and count, and opens the breaker when the
    /// window's failure rate reaches RECEIVER_BREAKER_FAILURE_RATE. Returns whether the breaker
    /// is open afterwards. Answers alone are news only while failures are on record: a window
    /// without failures stays so, and the happy path writes nothing.
    pub async fn report(&self, evidence: &Evidence) -> sqlx::Result<bool> {
        let failures_on_record =
            self.known_failures() > 0 || self.known_window_failures.load(Ordering::Relaxed) > 0;
        let news = evidence.results.bits != 0 || (evidence.alive && failures_on_record);
        if !news {
            return Ok(self.is_open());
        }
        let counted = receiver_breaker::add_results(
            self.pool,
            evidence.results,
            evidence.alive,
            evidence.trailing_failures,
            evidence.last_error.as_deref(),
            self.settings.open_rule(),
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
                window_failures = after.window_failures,
                window_results = after.window_results,
                consecutive_failures = after.consecutive_failures,
                last_error = after.last_error.as_deref().unwrap_or(""),
                cooldown_s = after.cooldown_seconds,
                "receiver breaker opened: the receiver looks down; no sends until a probe succeeds"
            );
        }
        self.known_failures.store(after.consecutive_failures, Ordering::Relaxed);
        self.known_window_failures.store(after.window_failures, Ordering::Relaxed);
        if after.state != BreakerState::Closed {
            self.open.store(true, Ordering::Relaxed);
        }
        Ok(self.is_open())
    }
}

/// The probe's answer decides: the receiver answered (closed, and what waited for the receiver
/// is due at once) or not (open again, with the cooldown doubled). Returns whether the breaker
/// is closed now.
pub(super) async fn settle_probe(
    pool: &PgPool,
    settings: &BreakerConfig,
    evidence: &Evidence,
) -> sqlx::Result<bool> {
    if evidence.alive {
        if let Some(closed) = receiver_breaker::close(pool).await? {
            tracing::info!(
                last_error = closed.last_error.as_deref().unwrap_or(""),
                consecutive_failures = closed.consecutive_failures,
                released = closed.released,
                "receiver breaker closed: the probe was answered; sending resumes, and the messages \
                 that waited for the receiver are due now"
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
