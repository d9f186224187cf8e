//! Turning webhook outcomes into the rows to write: sent, retry later, failed, or handed back.

use chrono::{DateTime, Utc};
use rand::Rng;

use crate::domain::MessageId;
use crate::repository::{Claim, FailedRecord, RetryRecord, SentRecord};
use crate::retry_policy::RetryPolicy;
use crate::sent_cache::SentEntry;
use crate::webhook::Outcome;

/// A claim and what happened to it; `None` means it was never sent (time ran short).
pub(super) struct Attempt {
    pub claim: Claim,
    pub outcome: Option<Outcome>,
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
        policy: &RetryPolicy,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Self {
        let mut records = Self::default();
        for Attempt { claim, outcome } in attempts {
            let (id, version) = (claim.id, claim.version);
            match outcome {
                None => records.release.push((id, version)),
                Some(Outcome::Delivered { message_id, body }) => records.sent.push(SentRecord {
                    id,
                    version,
                    webhook_message_id: message_id,
                    response: Some(body),
                }),
                Some(Outcome::Permanent { error_code, reason, body }) => records.failed.push(FailedRecord {
                    id,
                    version,
                    error_code,
                    last_error: reason,
                    response: body,
                }),
                Some(Outcome::Retry { error_code, reason, retry_after, body }) => {
                    if claim.attempts >= claim.max_attempts {
                        let last_error = format!("{reason} (gave up after {} attempts)", claim.attempts);
                        records.failed.push(FailedRecord {
                            id,
                            version,
                            error_code,
                            last_error,
                            response: body,
                        });
                    } else {
                        let delay = policy.delay(claim.attempts, retry_after, rng);
                        let next_attempt_at =
                            now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
                        records.retry.push(RetryRecord {
                            id,
                            version,
                            next_attempt_at,
                            error_code,
                            last_error: reason,
                            response: body,
                        });
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
