//! The message routes: create, get by id, the sent list, stats.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::json_body::JsonBody;
use super::problem::{ApiError, FieldError};
use super::AppState;
use crate::domain::{Content, Message, MessageId, NewMessage, PhoneNumber};
use crate::repository::{messages, Inserted, SentPage, Stats};

pub const MAX_PAGE_SIZE: u32 = 100;
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

#[derive(Debug, Deserialize)]
pub struct CreateMessageRequest {
    pub phone_number: String,
    pub content: String,
    /// Not sent before this time (RFC 3339); a past time means now.
    #[serde(default)]
    pub send_at: Option<DateTime<Utc>>,
}

impl CreateMessageRequest {
    /// Checks every field and reports all problems at once.
    pub fn validate(
        self,
        char_limit: usize,
        max_attempts: i32,
    ) -> Result<NewMessage, Vec<FieldError>> {
        let phone = PhoneNumber::parse(&self.phone_number);
        let content = Content::parse(&self.content, char_limit);
        match (phone, content) {
            (Ok(phone), Ok(content)) => {
                let mut new = NewMessage::new(phone, content, max_attempts);
                new.send_at = self.send_at;
                Ok(new)
            }
            (phone, content) => {
                let mut errors = Vec::new();
                if let Err(err) = phone {
                    errors.push(FieldError::new("phone_number", err.to_string()));
                }
                if let Err(err) = content {
                    errors.push(FieldError::new("content", err.to_string()));
                }
                Err(errors)
            }
        }
    }
}

pub fn validation_error(errors: Vec<FieldError>) -> ApiError {
    let detail = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ");
    ApiError::Validation { detail, errors }
}

/// `Idempotency-Key`: optional; 1 to 255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|key| {
            !key.is_empty()
                && key.len() <= MAX_IDEMPOTENCY_KEY_LEN
                && key.bytes().all(|b| b.is_ascii_graphic())
        })
        .ok_or_else(|| {
            validation_error(vec![FieldError::new(
                "Idempotency-Key",
                format!("must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"),
            )])
        })?;
    Ok(Some(key.to_owned()))
}

#[tracing::instrument(skip_all, fields(message_id))]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreateMessageRequest>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let key = idempotency_key(&headers)?;
    let mut new = body
        .validate(state.config.char_limit, state.config.max_attempts)
        .map_err(validation_error)?;
    new.idempotency_key = key;
    let (status, message) = match messages::insert(&state.pool, &new).await? {
        Inserted::Created(message) => (StatusCode::CREATED, message),
        Inserted::Existing(message) => (StatusCode::OK, message),
    };
    tracing::Span::current().record("message_id", tracing::field::display(message.id));
    Ok((status, Json(message)))
}

pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Message>, ApiError> {
    let id: MessageId = id.parse().map_err(|_| {
        validation_error(vec![FieldError::new("id", format!("{id:?} is not a UUID"))])
    })?;
    messages::get(&state.pool, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no message with id {id}")))
}

pub async fn list_sent(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<SentPage>, ApiError> {
    let mut errors = Vec::new();
    let page = query_int(&query, "page", 1, 1, 1_000_000, &mut errors);
    let page_size = query_int(&query, "page_size", 20, 1, MAX_PAGE_SIZE, &mut errors);
    if !errors.is_empty() {
        return Err(validation_error(errors));
    }
    Ok(Json(
        messages::list_sent(&state.pool, page, page_size).await?,
    ))
}

pub async fn stats(State(state): State<AppState>) -> Result<Json<Stats>, ApiError> {
    Ok(Json(messages::stats(&state.pool).await?))
}

/// An integer query parameter within `min..=max`; a problem is pushed to `errors`.
pub fn query_int(
    query: &HashMap<String, String>,
    name: &str,
    default: u32,
    min: u32,
    max: u32,
    errors: &mut Vec<FieldError>,
) -> u32 {
    let Some(raw) = query.get(name) else {
        return default;
    };
    match raw.parse::<u32>() {
        Ok(value) if (min..=max).contains(&value) => value,
        _ => {
            errors.push(FieldError::new(
                name,
                format!("must be an integer from {min} to {max}, got {raw:?}"),
            ));
            default
        }
    }
}
