//! What becomes of a claimed message, and what that means for its row: the one place an
//! outcome's meaning is decided (status, due time, the attempt spent or given back, whether it
//! waits for the receiver, the answer kept). The repository applies the columns decided here
//! under the claim's version and logs the request beside them (`repository::outcomes`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::domain::{AttemptOutcome, ErrorCode, Hold, MessageId, MessageStatus};
use crate::repository::outcomes::{self, Answer, AttemptRow, OutcomeRow};
use crate::webhook::Exchange;

/// What becomes of one claimed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered: `sent`, with the receiver's id and answer.
    Sent { webhook_message_id: String, response: Option<String> },
    /// Back to `pending`, due at `next_attempt_at`. An attempt that does not count (lost to a
    /// receiver outage) is given back, and the message waits for the receiver: when the
    /// breaker closes it is due at once, whatever `next_attempt_at` said.
    Retry {
        next_attempt_at: DateTime<Utc>,
        counted: bool,
        error_code: ErrorCode,
        last_error: String,
        response: Option<String>,
    },
    /// Ends `failed`.
    Failed { error_code: ErrorCode, last_error: String, response: Option<String> },
    /// Handed back unsent: `pending`, due when it was, the attempt given back, its last answer kept.
    Released,
    /// Ends `expired`: its `expires_at` came before it could be sent (the attempt given back
    /// when no request was made) or before its next attempt would be due.
    Expired { counted: bool, error_code: ErrorCode, last_error: String, response: Option<String> },
}

/// Which outcome a record carried: what a run counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutcomeKind {
    Sent,
    Retry,
    Failed,
    Released,
    Expired,
}

impl OutcomeKind {
    pub const ALL: [OutcomeKind; 5] = [Self::Sent, Self::Retry, Self::Failed, Self::Released, Self::Expired];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Retry => "retry",
            Self::Failed => "failed",
            Self::Released => "released",
            Self::Expired => "expired",
        }
    }
}

/// The webhook request an outcome came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub started_at: DateTime<Utc>,
    pub duration_ms: i32,
    /// `None`: no HTTP answer came.
    pub status_code: Option<i16>,
}

impl Request {
    pub fn of(exchange: &Exchange) -> Self {
        Self {
            started_at: exchange.started_at,
            duration_ms: i32::try_from(exchange.duration.as_millis()).unwrap_or(i32::MAX),
            status_code: exchange.status_code.and_then(|code| i16::try_from(code).ok()),
        }
    }
}

/// One claim's outcome and the request it came from (`None` when none was sent: a claim handed
/// back, a row failed for breaking the rules, a message expired before its request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeRecord {
    pub hold: Hold,
    pub outcome: Outcome,
    pub request: Option<Request>,
}

/// A record that was applied: the message was still held by its claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub id: MessageId,
    pub kind: OutcomeKind,
    /// The stored `sent_at` of a sent message.
    pub sent_at: Option<DateTime<Utc>>,
}

impl Outcome {
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Self::Sent { .. } => OutcomeKind::Sent,
            Self::Retry { .. } => OutcomeKind::Retry,
            Self::Failed { .. } => OutcomeKind::Failed,
            Self::Released => OutcomeKind::Released,
            Self::Expired { .. } => OutcomeKind::Expired,
        }
    }

    /// The message's columns after this outcome, from what its claim holds.
    pub fn row(&self, hold: &Hold, request: Option<Request>) -> OutcomeRow {
        let given_back = (hold.attempts - 1).max(0);
        let attempts = |counted: bool| if counted { hold.attempts } else { given_back };
        let failure = |code: &ErrorCode, error: &str, response: &Option<String>| Answer {
            webhook_message_id: None,
            error_code: Some(code.to_string()),
            last_error: Some(error.to_owned()),
            response: response.clone(),
        };
        let mut row = OutcomeRow {
            id: hold.id,
            version: hold.version,
            status: MessageStatus::Failed,
            next_attempt_at: None,
            attempts: hold.attempts,
            request_count: hold.request_count,
            awaits_receiver: false,
            stamps_sent_at: false,
            answer: None,
            attempt: None,
        };
        // What the attempt log says the request led to, and whether it spent an attempt; a claim
        // handed back made none.
        let logged = match self {
            Self::Sent { webhook_message_id, response } => {
                row.status = MessageStatus::Sent;
                row.stamps_sent_at = true;
                row.answer = Some(Answer {
                    webhook_message_id: Some(webhook_message_id.clone()),
                    response: response.clone(),
                    ..Answer::default()
                });
                Some((AttemptOutcome::Sent, true))
            }
            Self::Retry { next_attempt_at, counted, error_code, last_error, response } => {
                row.status = MessageStatus::Pending;
                row.next_attempt_at = Some(*next_attempt_at);
                row.attempts = attempts(*counted);
                // A retry that spends no attempt waits for the receiver.
                row.awaits_receiver = !counted;
                row.answer = Some(failure(error_code, last_error, response));
                Some((AttemptOutcome::Retry, *counted))
            }
            Self::Failed { error_code, last_error, response } => {
                row.answer = Some(failure(error_code, last_error, response));
                Some((AttemptOutcome::Failed, true))
            }
            Self::Released => {
                // Handed back unsent, a message keeps its place in the claim order.
                row.status = MessageStatus::Pending;
                row.next_attempt_at = Some(hold.due_at);
                row.attempts = given_back;
                None
            }
            Self::Expired { counted, error_code, last_error, response } => {
                row.status = MessageStatus::Expired;
                row.attempts = attempts(*counted);
                row.answer = Some(failure(error_code, last_error, response));
                // A request whose retry would come after expires_at failed the message's delivery.
                Some((AttemptOutcome::Failed, *counted))
            }
        };
        row.request_count += i32::from(request.is_some() && logged.is_some());
        row.attempt = request.zip(logged).map(|(request, (outcome, counted))| AttemptRow {
            started_at: request.started_at,
            duration_ms: request.duration_ms,
            status_code: request.status_code,
            outcome,
            counted,
        });
        row
    }
}

/// Writes every record in one statement, with the request of each applied one. Returns the
/// records that were applied; the others' claims were lost (another run took the message, or it
/// changed) and are logged as warnings.
pub async fn record(executor: impl PgExecutor<'_>, records: &[OutcomeRecord]) -> sqlx::Result<Vec<Applied>> {
    let rows: Vec<OutcomeRow> =
        records.iter().map(|record| record.outcome.row(&record.hold, record.request)).collect();
    let applied = outcomes::apply(executor, &rows).await?;
    let mut by_id: std::collections::HashMap<MessageId, &OutcomeRecord> =
        records.iter().map(|record| (record.hold.id, record)).collect();
    let applied: Vec<Applied> = applied
        .into_iter()
        .filter_map(|row| {
            let kind = by_id.remove(&row.id)?.outcome.kind();
            Some(Applied { id: row.id, kind, sent_at: row.sent_at.filter(|_| kind == OutcomeKind::Sent) })
        })
        .collect();
    for stale in by_id.values() {
        tracing::warn!(
            message_id = %stale.hold.id,
            outcome = stale.outcome.kind().as_str(),
            "stale claim: the message was reclaimed or changed; outcome not recorded"
        );
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hold() -> Hold {
        Hold {
            id: MessageId::new(),
            version: 7,
            attempts: 2,
            request_count: 4,
            due_at: Utc::now() - chrono::Duration::minutes(5),
        }
    }

    fn request() -> Option<Request> {
        Some(Request { started_at: Utc::now(), duration_ms: 3, status_code: Some(503) })
    }

    fn retry(counted: bool) -> Outcome {
        Outcome::Retry {
            next_attempt_at: Utc::now(),
            counted,
            error_code: ErrorCode::Http(503),
            last_error: "HTTP 503".into(),
            response: Some("busy".into()),
        }
    }

    /// (status, attempts, request count, waits for the receiver, due, logged as and counted)
    fn columns(row: &OutcomeRow) -> (MessageStatus, i32, i32, bool, bool, Option<(AttemptOutcome, bool)>) {
        let logged = row.attempt.map(|a| (a.outcome, a.counted));
        (
            row.status,
            row.attempts,
            row.request_count,
            row.awaits_receiver,
            row.next_attempt_at.is_some(),
            logged,
        )
    }

    #[test]
    fn each_outcome_decides_every_column_from_what_the_claim_holds() {
        let hold = hold();
        let sent = Outcome::Sent { webhook_message_id: "w".into(), response: None }.row(&hold, request());
        assert_eq!(
            columns(&sent),
            (MessageStatus::Sent, 2, 5, false, false, Some((AttemptOutcome::Sent, true)))
        );
        assert!(sent.stamps_sent_at);
        assert_eq!(sent.answer.unwrap().webhook_message_id.as_deref(), Some("w"));

        let counted = retry(true).row(&hold, request());
        assert_eq!(
            columns(&counted),
            (MessageStatus::Pending, 2, 5, false, true, Some((AttemptOutcome::Retry, true)))
        );
        let uncounted = retry(false).row(&hold, request());
        assert_eq!(
            columns(&uncounted),
            (MessageStatus::Pending, 1, 5, true, true, Some((AttemptOutcome::Retry, false)))
        );

        let failed =
            Outcome::Failed { error_code: ErrorCode::Http(400), last_error: "no".into(), response: None };
        let failed = failed.row(&hold, request());
        assert_eq!(
            columns(&failed),
            (MessageStatus::Failed, 2, 5, false, false, Some((AttemptOutcome::Failed, true)))
        );
        assert_eq!(failed.answer.unwrap().error_code.as_deref(), Some("http_400"));

        let expired = Outcome::Expired {
            counted: true,
            error_code: ErrorCode::Http(503),
            last_error: "late".into(),
            response: None,
        };
        let logged = expired.row(&hold, request());
        assert_eq!(
            columns(&logged),
            (MessageStatus::Expired, 2, 5, false, false, Some((AttemptOutcome::Failed, true)))
        );
    }

    #[test]
    fn a_claim_handed_back_keeps_its_place_and_its_last_answer_and_logs_nothing() {
        let hold = hold();
        let released = Outcome::Released.row(&hold, None);
        assert_eq!(columns(&released), (MessageStatus::Pending, 1, 4, false, true, None));
        assert_eq!(released.next_attempt_at, Some(hold.due_at));
        assert_eq!(released.answer, None, "the answer columns are kept");
        assert_eq!((released.id, released.version), (hold.id, hold.version));
    }

    #[test]
    fn no_attempt_is_given_back_below_zero() {
        let hold = Hold { attempts: 0, ..hold() };
        assert_eq!(Outcome::Released.row(&hold, None).attempts, 0);
    }
}
