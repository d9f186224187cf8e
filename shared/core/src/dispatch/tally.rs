//! What one run did, gathered as it goes, and the log lines that tell an operator about it:
//! including the warning when a run claimed work and handed all of it back unsent for a
//! reason nobody would guess (a stall must never be silent).

use super::records::{Attempt, Unsent};
use super::RunSummary;
use crate::deadline::RECORD_MARGIN;
use crate::Config;

#[derive(Debug, Default)]
pub(super) struct Tally {
    /// The summary so far: its counts grow as outcomes are recorded.
    pub run: RunSummary,
    /// Claims that passed the rules (could have been sent).
    pub sendable: usize,
    /// Claims handed back unsent, by reason.
    time_short: usize,
    no_rate_slot: usize,
    shutdown: usize,
    breaker: usize,
    /// Claims not sent because their `expires_at` had passed (they end `expired`).
    expired: usize,
}

impl Tally {
    pub fn note_unsent(&mut self, chunk: &[Attempt]) {
        for attempt in chunk {
            match attempt.result {
                Ok(_) => {}
                Err(Unsent::TimeShort) => self.time_short += 1,
                Err(Unsent::NoRateSlot) => self.no_rate_slot += 1,
                Err(Unsent::Shutdown) => self.shutdown += 1,
                Err(Unsent::BreakerOpen) => self.breaker += 1,
                Err(Unsent::Expired) => self.expired += 1,
            }
        }
    }

    fn unsent(&self) -> usize {
        self.time_short + self.no_rate_slot + self.shutdown + self.breaker
    }

    /// Why every claim went back unsent, when nothing an operator expects explains it.
    pub fn stall_reason(&self, config: &Config) -> Option<String> {
        let all_unsent =
            self.sendable > 0 && self.unsent() + self.expired == self.sendable && self.unsent() > 0;
        if !all_unsent || self.shutdown > 0 || self.breaker > 0 {
            return None;
        }
        let timeout = config.webhook.timeout.as_secs_f64();
        let margin = RECORD_MARGIN.as_secs_f64();
        Some(if self.time_short >= self.no_rate_slot {
            format!(
                "the run's time ran out before a send could start: it must start each send at least \
                 WEBHOOK_TIMEOUT_SECONDS ({timeout} s) + {margin} s before the smaller of its budget \
                 (the Lambda deadline, or the harness period) and MESSAGE_LEASE_SECONDS ({} s) ends",
                config.dispatch.lease.as_secs()
            )
        } else {
            "the webhook rate limit had no free slot before the run had to stop starting sends \
             (WEBHOOK_RATE_LIMIT_PER_SECOND is shared by every run through Redis)"
                .to_owned()
        })
    }

    /// Logs the finished run, and why it sent nothing when that needs saying.
    pub fn log(&self, config: &Config) {
        let summary = &self.run;
        if let Some(reason) = self.stall_reason(config) {
            tracing::warn!(
                claimed = summary.claimed,
                released = summary.released,
                "dispatch run sent nothing: every claim was handed back because {reason}"
            );
        }
        if summary.breaker_open && summary.sent == 0 {
            tracing::info!(
                released = summary.released,
                "dispatch run sent nothing: the receiver breaker is open"
            );
        }
        if summary.claimed > 0 {
            tracing::info!(
                claimed = summary.claimed,
                sent = summary.sent,
                retried = summary.retried,
                failed = summary.failed,
                released = summary.released,
                breaker_open = summary.breaker_open,
                duration_ms = summary.duration_ms,
                "dispatch run finished"
            );
        }
    }
}
