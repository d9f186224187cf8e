//! Turning what each attempt got into the outcome to record: sent, retry later, failed, or
//! handed back. An endpoint failure (the receiver down, not the message bad) spends no attempt
//! only while the receiver breaker judges the receiver down (open, or opened by the chunk's own
//! results); otherwise it counts, so a message gets at most MESSAGE_MAX_ATTEMPTS requests from a
//! receiver that is up, however flaky.

use chrono::{DateTime, Utc};
use rand::Rng;

use super::outcome::{Applied, Outcome, OutcomeRecord, Request};
use crate::domain::{Claim, ErrorCode};
use crate::retry_policy::RetryPolicy;
use crate::sent_cache::SentEntry;
use crate::webhook::{Exchange, Verdict};

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
    /// The message's `expires_at` had passed when its send was due to start.
    Expired,
}

/// A claim and what happened to it: its webhook request, or why none was sent.
pub(super) struct Attempt {
    pub claim: Claim,
    pub result: Result<Exchange, Unsent>,
}

/// What the receiver breaker says about a chunk's endpoint failures.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct FailureContext {
    /// The breaker judges the receiver down: it was open, the chunk's results brought its window
    /// to the failure rate, or this was its failed probe. Endpoint failures spend no attempt.
    pub breaker_open: bool,
    /// Uncounted endpoint failures are due again at once, not after a backoff (the breaker
    /// holds them back meanwhile). A failed probe's own message is pushed back instead, by
    /// this much, so that the next probe tries another message.
    pub probe_push_back: Option<chrono::Duration>,
}

/// The outcome of each attempt, in the order they came.
pub(super) fn outcome_records(
    attempts: Vec<Attempt>,
    context: FailureContext,
    policy: &RetryPolicy,
    now: DateTime<Utc>,
    rng: &mut impl Rng,
) -> Vec<OutcomeRecord> {
    let mut chunk = Chunk { context, policy, now, rng };
    attempts
        .into_iter()
        .map(|Attempt { claim, result }| {
            let (outcome, request) = match result {
                Err(Unsent::Expired) => (expired_unsent(), None),
                Err(_) => (Outcome::Released, None),
                Ok(exchange) => {
                    let request = Request::of(&exchange);
                    (chunk.outcome(&claim, exchange.verdict), Some(request))
                }
            };
            OutcomeRecord { hold: claim.hold(), outcome, request }
        })
        .collect()
}

/// A claim whose `expires_at` passed before its send could start: no request, no attempt spent.
fn expired_unsent() -> Outcome {
    Outcome::Expired {
        counted: false,
        error_code: ErrorCode::Expired,
        last_error: "not sent by its expires_at".into(),
        response: None,
    }
}

/// What the chunk knows as it goes through its attempts in order.
struct Chunk<'a, R> {
    context: FailureContext,
    policy: &'a RetryPolicy,
    now: DateTime<Utc>,
    rng: &'a mut R,
}

impl<R: Rng> Chunk<'_, R> {
    /// What one answered attempt's verdict means for its message.
    fn outcome(&mut self, claim: &Claim, verdict: Verdict) -> Outcome {
        let (error_code, reason, retry_after, response, receiver_down) = match verdict {
            Verdict::Delivered { message_id, body } => {
                return Outcome::Sent { webhook_message_id: message_id, response: Some(body) };
            }
            Verdict::Permanent { error_code, reason, body } => {
                return Outcome::Failed { error_code, last_error: reason, response: body };
            }
            Verdict::Retry { error_code, reason, retry_after, body, receiver_down } => {
                (error_code, reason, retry_after, body, receiver_down)
            }
        };
        // A retry that would come at or after the message's expires_at is never made.
        let retry = |next_attempt_at, counted, last_error: String| match claim.expires_at {
            Some(expires_at) if next_attempt_at >= expires_at => Outcome::Expired {
                counted,
                error_code,
                last_error: format!("{last_error} (expires before its next attempt)"),
                response: response.clone(),
            },
            _ => Outcome::Retry {
                next_attempt_at,
                counted,
                error_code,
                last_error,
                response: response.clone(),
            },
        };
        let last_attempt = claim.attempts >= claim.max_attempts;
        if receiver_down && self.context.breaker_open {
            let due = self.now + self.context.probe_push_back.unwrap_or_default();
            retry(due, false, format!("{reason} (receiver breaker open: attempt not counted)"))
        } else if last_attempt {
            let last_error = format!("{reason} (gave up after {} attempts)", claim.attempts);
            Outcome::Failed { error_code, last_error, response }
        } else {
            retry(self.backoff(claim, retry_after), true, reason)
        }
    }

    /// When the claim's next attempt is due after this one failed.
    fn backoff(&mut self, claim: &Claim, retry_after: Option<std::time::Duration>) -> DateTime<Utc> {
        let delay = self.policy.delay(claim.attempts, retry_after, &mut *self.rng);
        self.now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX)
    }
}

/// Cache entries for the sent messages whose outcome was applied, with their stored `sent_at`.
pub(super) fn cache_entries(records: &[OutcomeRecord], applied: &[Applied]) -> Vec<SentEntry> {
    let sent_at: std::collections::HashMap<_, _> =
        applied.iter().filter_map(|a| Some((a.id, a.sent_at?))).collect();
    records
        .iter()
        .filter_map(|record| match &record.outcome {
            Outcome::Sent { webhook_message_id, .. } => Some(SentEntry {
                id: record.hold.id,
                webhook_message_id: webhook_message_id.clone(),
                sent_at: *sent_at.get(&record.hold.id)?,
            }),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::Utc;
    use rand::SeedableRng;

    use super::*;
    use crate::dispatch::outcome::OutcomeKind;
    use crate::domain::{Content, ErrorCode, MessageId, PhoneNumber};

    fn claim(attempts: i32) -> Claim {
        Claim {
            id: MessageId::new(),
            phone_number: PhoneNumber::parse("+905551111111").unwrap(),
            content: Content::parse("hi", 160).unwrap(),
            priority: crate::domain::Priority::Normal,
            attempts,
            max_attempts: 3,
            request_count: attempts - 1,
            version: 1,
            expires_at: None,
            due_at: chrono::Utc::now(),
            created_at: chrono::Utc::now(),
        }
    }

    fn down() -> Verdict {
        Verdict::Retry {
            error_code: ErrorCode::Http(503),
            reason: "HTTP 503".into(),
            retry_after: None,
            body: None,
            receiver_down: true,
        }
    }

    fn exchange(verdict: Verdict) -> Exchange {
        Exchange {
            started_at: Utc::now(),
            duration: Duration::from_millis(12),
            status_code: Some(503),
            verdict,
        }
    }

    fn delivered() -> Verdict {
        Verdict::Delivered { message_id: "w".into(), body: "{}".into() }
    }

    fn outcomes(verdicts: Vec<(i32, Verdict)>, context: FailureContext) -> Vec<Outcome> {
        let attempts = verdicts
            .into_iter()
            .map(|(n, verdict)| Attempt { claim: claim(n), result: Ok(exchange(verdict)) })
            .collect();
        let policy = RetryPolicy { base: Duration::from_secs(30), max: Duration::from_secs(1800) };
        let records = outcome_records(
            attempts,
            context,
            &policy,
            Utc::now(),
            &mut rand::rngs::StdRng::seed_from_u64(7),
        );
        records.into_iter().map(|record| record.outcome).collect()
    }

    fn kinds(outcomes: &[Outcome]) -> Vec<OutcomeKind> {
        outcomes.iter().map(Outcome::kind).collect()
    }

    /// The retry's due time, whether it counts and its last error.
    fn retry_of(outcome: &Outcome) -> (chrono::DateTime<Utc>, bool, &str) {
        match outcome {
            Outcome::Retry { next_attempt_at, counted, last_error, .. } => {
                (*next_attempt_at, *counted, last_error)
            }
            other => panic!("not a retry: {other:?}"),
        }
    }

    #[test]
    fn an_isolated_endpoint_failure_on_the_last_attempt_is_the_messages_own() {
        let r = outcomes(vec![(3, down())], FailureContext::default());
        let Outcome::Failed { last_error, .. } = &r[0] else { panic!("not failed: {r:?}") };
        assert_eq!(last_error, "HTTP 503 (gave up after 3 attempts)");
    }

    /// However many endpoint failures came before it, in this chunk or earlier ones: until the
    /// breaker judges the receiver down, a last attempt that fails is the message's last request.
    #[test]
    fn a_last_attempt_after_other_endpoint_failures_counts_while_the_breaker_is_closed() {
        let r = outcomes(vec![(2, down()), (1, down()), (3, down())], FailureContext::default());
        assert_eq!(kinds(&r), [OutcomeKind::Retry, OutcomeKind::Retry, OutcomeKind::Failed]);
        let Outcome::Failed { last_error, .. } = &r[2] else { panic!("not failed: {r:?}") };
        assert_eq!(last_error, "HTTP 503 (gave up after 3 attempts)");
        assert!(retry_of(&r[0]).1 && retry_of(&r[1]).1, "every retry counts: {r:?}");
    }

    #[test]
    fn a_last_attempt_is_not_counted_once_the_breaker_judges_the_receiver_down() {
        let context = FailureContext { breaker_open: true, ..FailureContext::default() };
        let outcomes = outcomes(vec![(3, down())], context);
        let (_, counted, last_error) = retry_of(&outcomes[0]);
        assert!(!counted);
        assert!(last_error.contains("attempt not counted"), "{last_error}");
    }

    #[test]
    fn while_the_breaker_is_open_endpoint_failures_spend_no_attempt_and_are_due_at_once() {
        let context = FailureContext { breaker_open: true, ..FailureContext::default() };
        let before = Utc::now();
        let r = outcomes(vec![(1, down()), (3, down())], context);
        for outcome in &r {
            let (due, counted, _) = retry_of(outcome);
            assert!(!counted && due >= before && due <= Utc::now(), "{outcome:?}");
        }
    }

    #[test]
    fn a_failed_probes_message_is_pushed_back_past_the_next_probe() {
        let push_back = chrono::Duration::seconds(120);
        let context = FailureContext { breaker_open: true, probe_push_back: Some(push_back) };
        let (due, counted, _) = retry_of(&outcomes(vec![(1, down())], context)[0]);
        assert!(due >= Utc::now() + chrono::Duration::seconds(119));
        assert!(!counted);
    }

    #[test]
    fn message_level_answers_are_the_same_whatever_the_breaker_says() {
        let context = FailureContext { breaker_open: true, probe_push_back: None };
        let rejected =
            Verdict::Permanent { error_code: ErrorCode::Http(400), reason: "HTTP 400".into(), body: None };
        let r = outcomes(vec![(1, rejected), (1, delivered())], context);
        assert_eq!(kinds(&r), [OutcomeKind::Failed, OutcomeKind::Sent]);
    }

    #[test]
    fn an_ordinary_retry_counts_its_attempt() {
        let outcomes = outcomes(vec![(1, down())], FailureContext::default());
        let (_, counted, last_error) = retry_of(&outcomes[0]);
        assert!(counted);
        assert_eq!(last_error, "HTTP 503");
    }

    /// A request sent is logged with its outcome; a claim handed back unsent has no attempt.
    #[test]
    fn a_sent_request_carries_its_attempt_and_a_released_claim_none() {
        let sent = exchange(down());
        let attempts = vec![
            Attempt { claim: claim(1), result: Ok(sent.clone()) },
            Attempt { claim: claim(1), result: Err(Unsent::TimeShort) },
        ];
        let policy = RetryPolicy { base: Duration::from_secs(30), max: Duration::from_secs(1800) };
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let records = outcome_records(attempts, FailureContext::default(), &policy, Utc::now(), &mut rng);
        let logged = records[0].request.as_ref().expect("the request is logged");
        assert_eq!(
            (logged.started_at, logged.duration_ms, logged.status_code),
            (sent.started_at, 12, Some(503))
        );
        assert_eq!(records[1].outcome, Outcome::Released);
        assert!(records[1].request.is_none());
    }
}
