//! `POST /api/v1/messages/batch`: up to [`MAX_BATCH`] messages, checked all or nothing and
//! written in one statement.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;

use super::messages::CreateMessageRequest;
use crate::json_body::{from_value, JsonArrayBody};
use crate::params::{valid_idempotency_key, BodyErrors};
use crate::problem::{ApiError, FieldError, Problem};
use crate::state::AppState;
use crate::wire::MessageOut;
use dispatcher_core::domain::NewMessage;
use dispatcher_core::repository::messages;

pub const MAX_BATCH: usize = 1000;

/// One item of a batch: a create body plus its own optional idempotency key.
// Only the documentation's schema: items are read as a `CreateMessageRequest` once the key is
// taken out, since serde's flatten would lose the name of the field at fault.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code, reason = "a documentation schema: never built")]
pub struct BatchMessageRequest {
    #[serde(flatten)]
    pub message: CreateMessageRequest,
    /// 1 to 255 visible ASCII characters, unique within the batch; an item whose key is
    /// already stored comes back as the earlier message and is not stored twice.
    #[schema(pattern = r"^[!-~]{1,255}$", example = "order-1842-shipped")]
    pub idempotency_key: Option<String>,
}

/// Stores up to 1,000 messages at once. Every item is checked first; one bad item stores
/// nothing and the problem's `errors` name each bad item by its 0-based `index`.
///
/// Rules the schema cannot say, each refused with a 400 naming the item and field: an item's
/// `expires_at` must be in the future and after its `send_at`; `idempotency_key`s are unique
/// within the batch.
#[utoipa::path(post, path = "/api/v1/messages/batch", tag = "messages", operation_id = "create_message_batch", request_body = Vec<BatchMessageRequest>,
    responses(
        (status = 201, description = "all stored, in input order (an item with a known idempotency key is the earlier message)", body = Vec<MessageOut>),
        (status = 400, description = "not a JSON array, empty, over 1,000 items, or a bad item (nothing stored)", body = Problem, content_type = "application/problem+json"),
        BodyErrors,
    ))]
#[tracing::instrument(skip_all, fields(count))]
pub async fn create_batch(
    State(state): State<AppState>,
    JsonArrayBody(items): JsonArrayBody,
) -> Result<(StatusCode, Json<Vec<MessageOut>>), ApiError> {
    tracing::Span::current().record("count", items.len());
    if items.is_empty() {
        return Err(ApiError::BadRequest("the batch is empty: send 1 to 1000 messages".into()));
    }
    if items.len() > MAX_BATCH {
        return Err(ApiError::BadRequest(format!(
            "the batch has {} messages; at most {MAX_BATCH} are accepted per request",
            items.len()
        )));
    }
    let messages = &state.config.messages;
    let batch = validate(items, messages.char_limit, messages.max_attempts, chrono::Utc::now())?;
    let stored = messages::insert_all(&state.pool, &batch).await?;
    Ok((
        StatusCode::CREATED,
        Json(stored.into_iter().map(|inserted| inserted.into_message().into()).collect()),
    ))
}

/// Every item's problems at once, or the batch ready to store, checked at `now`.
fn validate(
    items: Vec<serde_json::Value>,
    char_limit: usize,
    max_attempts: i32,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<NewMessage>, ApiError> {
    let mut batch = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    let mut first_with_key: HashMap<String, usize> = HashMap::new();
    for (index, mut item) in items.into_iter().enumerate() {
        let key = take_key(&mut item).unwrap_or_else(|error| {
            errors.push(error.at(index));
            None
        });
        if let Some(first) = key.as_ref().and_then(|key| first_with_key.insert(key.clone(), index)) {
            let message = format!("repeats the key of item {first}");
            errors.push(FieldError::new("idempotency_key", message).at(index));
        }
        let request: CreateMessageRequest = match from_value(item) {
            Ok(request) => request,
            Err(error) => {
                errors.push(error.at(index));
                continue;
            }
        };
        match request.validate(char_limit, max_attempts, now) {
            Ok(mut new) => {
                new.idempotency_key = key;
                batch.push(new);
            }
            Err(problems) => errors.extend(problems.into_iter().map(|problem| problem.at(index))),
        }
    }
    if errors.is_empty() {
        Ok(batch)
    } else {
        Err(ApiError::item_validation(errors))
    }
}

/// Takes the item's own idempotency key out of it (the rest is a create body).
fn take_key(item: &mut Value) -> Result<Option<String>, FieldError> {
    match item.as_object_mut().and_then(|fields| fields.remove("idempotency_key")) {
        None | Some(Value::Null) => Ok(None),
        Some(raw) => {
            raw.as_str().and_then(valid_idempotency_key).map(|key| Some(key.to_owned())).ok_or_else(|| {
                FieldError::new("idempotency_key", "must be a string of 1 to 255 visible ASCII characters")
            })
        }
    }
}
