//! `POST /api/v1/messages/{id}/retry` and `/cancel`: the state changes users ask for.

use axum::extract::{Path, State};
use axum::Json;

use super::params::{parse_id, MessageIdErrors};
use super::problem::{ApiError, Problem};
use super::AppState;
use crate::domain::{Message, MessageId};
use crate::repository::transitions::{self, Transition};

/// Puts a `failed` message back in the queue: `pending`, due now, attempts reset to 0; its
/// `last_error` and `error_code` are kept until it is sent.
#[utoipa::path(post, path = "/api/v1/messages/{id}/retry", tag = "messages",
    params(("id" = String, Path, format = Uuid, description = "the message id")),
    responses(
        (status = 200, description = "requeued: now pending", body = Message),
        MessageIdErrors,
        (status = 409, description = "the message is not failed; nothing changed", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip(state))]
pub async fn retry(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Message>, ApiError> {
    let id = parse_id(&id)?;
    answer(id, "retried", "failed", transitions::retry_failed(&state.pool, id).await?)
}

/// Withdraws a `pending` message: it becomes `cancelled` and is never sent.
#[utoipa::path(post, path = "/api/v1/messages/{id}/cancel", tag = "messages",
    params(("id" = String, Path, format = Uuid, description = "the message id")),
    responses(
        (status = 200, description = "cancelled", body = Message),
        MessageIdErrors,
        (status = 409, description = "the message is not pending (processing, sent, failed or already cancelled); nothing changed", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip(state))]
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Message>, ApiError> {
    let id = parse_id(&id)?;
    answer(id, "cancelled", "pending", transitions::cancel_pending(&state.pool, id).await?)
}

fn answer(
    id: MessageId,
    action: &str,
    from: &str,
    transition: Transition,
) -> Result<Json<Message>, ApiError> {
    match transition {
        Transition::Done(message) => {
            tracing::info!(message_id = %id, action, "message state changed on request");
            Ok(Json(message))
        }
        Transition::WrongStatus(status) => Err(ApiError::Conflict(format!(
            "message {id} is {status}; only a {from} message can be {action}"
        ))),
        Transition::NotFound => Err(ApiError::NotFound(format!("no message with id {id}"))),
    }
}
