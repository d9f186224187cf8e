//! Turning webhook outcomes into the rows to write: sent, retry later, failed, or handed back.
//! An endpoint failure (the receiver down, not the message bad) never ends a message `failed`
//! while the receiver looks down: its attempt is not counted.

use chrono::{DateTime, Utc};
use rand::Rng;

use crate::domain::{Claim, MessageId};
use crate::repository::{FailedRecord, RetryRecord, SentRecord};
use crate::retry_policy::RetryPolicy;
use crate::sent_cache::SentEntry;
use crate::webhook::Outcome;

/// Why a claim was handed back without being sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unsent {
    /// Too little of the run's window was left for one more send.
    TimeShort,
    /// The rate limit had no slot before the run had to stop starting sends.
    NoRateSlot,
    /// A graceful shutdown began.
    Shutdown,
    /// The receiver breaker is open.
    BreakerOpen,
}

/// A claim and what happened to it.
pub(super) struct Attempt {
    pub claim: Claim,
    pub result: Result<Outcome, Unsent>,
}

/// What the receiver breaker says about a chunk's endpoint failures.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct FailureContext {
    /// The breaker is open (or this was its failed probe): endpoint failures spend no attempt.
    pub breaker_open: bool,
    /// Endpoint failures in a row just before the chunk's first outcome.
    pub failures_before: i32,
    /// Uncounted endpoint failures are due again at once, not after a backoff (the breaker
    /// holds them back meanwhile). A failed probe's own message is pushed back instead, by
    /// this much, so that the next probe tries another message.
    pub probe_push_back: Option<chrono::Duration>,
}

#[derive(Debug, Default)]
pub struct OutcomeRecords {
    pub sent: Vec<SentRecord>,
    pub retry: Vec<RetryRecord>,
    pub failed: Vec<FailedRecord>,
    pub release: Vec<(MessageId, i64)>,
}

impl OutcomeRecords {
    pub(super) fn from_attempts(
        attempts: Vec<Attempt>,
        context: FailureContext,
        policy: &RetryPolicy,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Self {
        let mut records = Self::default();
        // Did the receiver answer anything in this chunk? Then a failure here is the message's.
        let receiver_answered = attempts
            .iter()
            .any(|attempt| attempt.result.as_ref().is_ok_and(|outcome| !outcome.receiver_down()));
        let mut failures_in_a_row = context.failures_before;
        for Attempt { claim, result } in attempts {
            let (id, version) = (claim.id, claim.version);
            let outcome = match result {
                Ok(outcome) => outcome,
                Err(_) => {
                    records.release.push((id, version));
                    continue;
                }
            };
            failures_in_a_row = if outcome.receiver_down() { failures_in_a_row + 1 } else { 0 };
            match outcome {
                Outcome::Delivered { message_id, body } => records.sent.push(SentRecord {
                    id,
                    version,
                    webhook_message_id: message_id,
                    response: Some(body),
                }),
                Outcome::Permanent { error_code, reason, body } => records.failed.push(FailedRecord {
                    id,
                    version,
                    error_code,
                    last_error: reason,
                    response: body,
                }),
                Outcome::Retry { error_code, reason, retry_after, body, receiver_down } => {
                    let retry = |next_attempt_at, counted, last_error| RetryRecord {
                        id,
                        version,
                        next_attempt_at,
                        counted,
                        error_code,
                        last_error,
                        response: body.clone(),
                    };
                    let mut backoff = || {
                        let delay = policy.delay(claim.attempts, retry_after, &mut *rng);
                        now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX)
                    };
                    let last_attempt = claim.attempts >= claim.max_attempts;
                    if receiver_down && context.breaker_open {
                        let due = now + context.probe_push_back.unwrap_or_default();
                        let note = format!("{reason} (receiver breaker open: attempt not counted)");
                        records.retry.push(retry(due, false, note));
                    } else if receiver_down && last_attempt && !receiver_answered && failures_in_a_row >= 2 {
                        // Not this message's fault as far as anyone can tell: the requests just
                        // before it failed too, and nothing got an answer. Wait, uncounted, for
                        // the receiver (or for the breaker to open).
                        let note = format!(
                            "{reason} ({failures_in_a_row} endpoint failures in a row: attempt not counted)"
                        );
                        records.retry.push(retry(backoff(), false, note));
                    } else if last_attempt {
                        records.failed.push(FailedRecord {
                            id,
                            version,
                            last_error: format!("{reason} (gave up after {} attempts)", claim.attempts),
                            error_code,
                            response: body,
                        });
                    } else {
                        records.retry.push(retry(backoff(), true, reason));
                    }
                }
            }
        }
        records
    }

    /// Cache entries for the sent records that were applied, with their stored `sent_at`.
    pub(super) fn cache_entries(&self, applied: &[(MessageId, DateTime<Utc>)]) -> Vec<SentEntry> {
        let by_id: std::collections::HashMap<MessageId, &SentRecord> =
            self.sent.iter().map(|record| (record.id, record)).collect();
        applied
            .iter()
            .filter_map(|(id, sent_at)| {
                let record = by_id.get(id)?;
                Some(SentEntry {
                    id: *id,
                    webhook_message_id: record.webhook_message_id.clone(),
                    sent_at: *sent_at,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::Utc;
    use rand::SeedableRng;

    use super::*;
    use crate::domain::{Content, ErrorCode, PhoneNumber};

    fn claim(attempts: i32) -> Claim {
        Claim {
            id: MessageId::new(),
            phone_number: PhoneNumber::parse("+905551111111").unwrap(),
            content: Content::parse("hi", 160).unwrap(),
            attempts,
            max_attempts: 3,
            version: 1,
        }
    }

    fn down() -> Outcome {
        Outcome::Retry {
            error_code: ErrorCode::Http(503),
            reason: "HTTP 503".into(),
            retry_after: None,
            body: None,
            receiver_down: true,
        }
    }

    fn delivered() -> Outcome {
        Outcome::Delivered { message_id: "w".into(), body: "{}".into() }
    }

    fn records(outcomes: Vec<(i32, Outcome)>, context: FailureContext) -> OutcomeRecords {
        let attempts = outcomes
            .into_iter()
            .map(|(n, outcome)| Attempt { claim: claim(n), result: Ok(outcome) })
            .collect();
        let policy = RetryPolicy { base: Duration::from_secs(30), max: Duration::from_secs(1800) };
        OutcomeRecords::from_attempts(
            attempts,
            context,
            &policy,
            Utc::now(),
            &mut rand::rngs::StdRng::seed_from_u64(7),
        )
    }

    #[test]
    fn an_isolated_endpoint_failure_on_the_last_attempt_is_the_messages_own() {
        let r = records(vec![(3, down())], FailureContext::default());
        assert_eq!((r.failed.len(), r.retry.len()), (1, 0));
        assert_eq!(r.failed[0].last_error, "HTTP 503 (gave up after 3 attempts)");
    }

    #[test]
    fn a_last_attempt_after_other_endpoint_failures_is_not_counted() {
        let context = FailureContext { failures_before: 1, ..FailureContext::default() };
        let r = records(vec![(3, down())], context);
        assert!(r.failed.is_empty());
        assert!(!r.retry[0].counted);
        assert!(r.retry[0].next_attempt_at > Utc::now() + chrono::Duration::seconds(60), "after a backoff");
        assert!(r.retry[0].last_error.contains("attempt not counted"), "{}", r.retry[0].last_error);
    }

    #[test]
    fn a_last_attempt_failure_is_the_messages_own_when_the_receiver_answered_others() {
        let context = FailureContext { failures_before: 4, ..FailureContext::default() };
        let r = records(vec![(3, down()), (1, delivered())], context);
        assert_eq!((r.failed.len(), r.sent.len()), (1, 1));
    }

    #[test]
    fn while_the_breaker_is_open_endpoint_failures_spend_no_attempt_and_are_due_at_once() {
        let context = FailureContext { breaker_open: true, ..FailureContext::default() };
        let before = Utc::now();
        let r = records(vec![(1, down()), (3, down())], context);
        assert!(r.failed.is_empty());
        assert!(r.retry.iter().all(|retry| !retry.counted && retry.next_attempt_at >= before));
        assert!(r.retry.iter().all(|retry| retry.next_attempt_at <= Utc::now()));
    }

    #[test]
    fn a_failed_probes_message_is_pushed_back_past_the_next_probe() {
        let push_back = chrono::Duration::seconds(120);
        let context =
            FailureContext { breaker_open: true, failures_before: 0, probe_push_back: Some(push_back) };
        let r = records(vec![(1, down())], context);
        assert!(r.retry[0].next_attempt_at >= Utc::now() + chrono::Duration::seconds(119));
        assert!(!r.retry[0].counted);
    }

    #[test]
    fn message_level_answers_are_the_same_whatever_the_breaker_says() {
        let context = FailureContext { breaker_open: true, failures_before: 9, probe_push_back: None };
        let rejected =
            Outcome::Permanent { error_code: ErrorCode::Http(400), reason: "HTTP 400".into(), body: None };
        let r = records(vec![(1, rejected), (1, delivered())], context);
        assert_eq!((r.failed.len(), r.sent.len(), r.retry.len()), (1, 1, 0));
    }

    #[test]
    fn an_ordinary_retry_counts_its_attempt() {
        let r =
            records(vec![(1, down())], FailureContext { failures_before: 3, ..FailureContext::default() });
        assert!(r.retry[0].counted);
        assert_eq!(r.retry[0].last_error, "HTTP 503");
    }
}
