//! `GET /api/v1/messages/{id}/attempts`: every webhook request of a message, so "what happened
//! to message X?" is one request.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use dispatcher_core::domain::AttemptOutcome;
use dispatcher_core::repository::attempts::{self, LoggedAttempt};
use serde::Serialize;

use crate::params::{MessageIdErrors, MessagePath};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::wire_enum;

/// One webhook request of a message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Attempt)]
pub struct AttemptOut {
    /// 1-based per message, counting every request (also those a receiver outage did not count
    /// toward `max_attempts`, and on after a retry by hand).
    pub number: i32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i32,
    /// The HTTP status; `null` when no HTTP answer came (timeout, refused, TLS).
    pub status_code: Option<i16>,
    pub outcome: AttemptOutcomeOut,
    /// Whether the request spent one of the message's `max_attempts`: `false` for one made
    /// while the receiver breaker judged the receiver down (open, or brought to its failure rate
    /// by the same results), so a message gets at most `max_attempts` counted requests.
    pub counted: bool,
    pub error_code: Option<String>,
    /// The answer's first 4 KiB.
    pub response_body: Option<String>,
}

wire_enum! {
    /// What the request led to: `sent`, `retry` (the message went back to the queue) or `failed`.
    AttemptOutcomeOut for AttemptOutcome, named "AttemptOutcome"
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AttemptList)]
pub struct AttemptListOut {
    /// Oldest first; empty before the first request.
    pub items: Vec<AttemptOut>,
}

impl From<LoggedAttempt> for AttemptOut {
    fn from(attempt: LoggedAttempt) -> Self {
        let outcome = attempt.outcome.into();
        Self {
            number: attempt.number,
            started_at: attempt.started_at,
            duration_ms: attempt.duration_ms,
            status_code: attempt.status_code,
            outcome,
            counted: attempt.counted,
            error_code: attempt.error_code,
            response_body: attempt.response_body,
        }
    }
}

/// A message's webhook requests, oldest first: when each went out, how long it took, what the
/// receiver answered and what it led to.
#[utoipa::path(get, path = "/api/v1/messages/{id}/attempts", tag = "messages", operation_id = "list_message_attempts",
    params(("id" = String, Path, format = Uuid, description = "the message id")),
    responses((status = 200, description = "the attempts, oldest first", body = AttemptListOut), MessageIdErrors))]
pub async fn list_attempts(
    State(state): State<AppState>,
    MessagePath(id): MessagePath,
) -> Result<Json<AttemptListOut>, ApiError> {
    let attempts = attempts::of_message(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no message with id {id}")))?;
    Ok(Json(AttemptListOut { items: attempts.into_iter().map(AttemptOut::from).collect() }))
}
