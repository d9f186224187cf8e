//! `POST /api/v1/messages/{id}/retry` and `/cancel`: the state changes users ask for.

use axum::extract::State;
use axum::Json;

use crate::params::{MessagePath, TransitionErrors};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::MessageOut;
use dispatcher_core::domain::MessageId;
use dispatcher_core::repository::transitions::{self, Transition};

/// Puts a `failed` message back in the queue: `pending`, due now, attempts reset to 0; its
/// `last_error` and `error_code` are kept until it is sent.
#[utoipa::path(post, path = "/api/v1/messages/{id}/retry", tag = "messages", operation_id = "retry_message",
    params(("id" = String, Path, format = Uuid, description = "the message id")),
    responses((status = 200, description = "requeued: now pending", body = MessageOut), TransitionErrors))]
#[tracing::instrument(skip(state))]
pub async fn retry(
    State(state): State<AppState>,
    MessagePath(id): MessagePath,
) -> Result<Json<MessageOut>, ApiError> {
    answer(id, "retried", "failed", transitions::retry_failed(&state.pool, id).await?)
}

/// Withdraws a `pending` message: it becomes `cancelled` and is never sent.
#[utoipa::path(post, path = "/api/v1/messages/{id}/cancel", tag = "messages", operation_id = "cancel_message",
    params(("id" = String, Path, format = Uuid, description = "the message id")),
    responses((status = 200, description = "cancelled: never sent", body = MessageOut), TransitionErrors))]
#[tracing::instrument(skip(state))]
pub async fn cancel(
    State(state): State<AppState>,
    MessagePath(id): MessagePath,
) -> Result<Json<MessageOut>, ApiError> {
    answer(id, "cancelled", "pending", transitions::cancel_pending(&state.pool, id).await?)
}

fn answer(
    id: MessageId,
    action: &str,
    from: &str,
    transition: Transition,
) -> Result<Json<MessageOut>, ApiError> {
    match transition {
        Transition::Done(message) => {
            tracing::info!(message_id = %id, action, "message state changed on request");
            Ok(Json((*message).into()))
        }
        Transition::WrongStatus(status) => Err(ApiError::Conflict(format!(
            "message {id} is {status}; only a {from} message can be {action}"
        ))),
        Transition::NotFound => Err(ApiError::NotFound(format!("no message with id {id}"))),
    }
}
