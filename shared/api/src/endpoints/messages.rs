//! The message routes: create, get by id, stats.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use dispatcher_core::domain::{Content, Label, NewMessage, PhoneNumber, Priority};
use dispatcher_core::repository::{messages, stats, Inserted};
use serde::Deserialize;
use serde_json::Value;
use utoipa::openapi::{RefOr, Schema};

use crate::json_body::JsonBody;
use crate::params::{idempotency_key, BodyErrors, MessageIdErrors, MessagePath, QueryErrors, QueryParams};
use crate::problem::{ApiError, FieldError, Problem};
use crate::state::AppState;
use crate::wire::{MessageOut, PriorityOut, StatsOut};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateMessageRequest {
    /// E.164: `+` then 8 to 15 digits.
    #[schema(example = "+905551111111", pattern = r"^\+[0-9]{8,15}$")]
    pub phone_number: String,
    /// 1 to MESSAGE_CHAR_LIMIT Unicode characters (the served document carries the configured limit); no NUL.
    // The maximum is the configured one: see `schema_with_char_limit`.
    #[schema(example = "Your verification code is 482913", min_length = 1, pattern = r"^[^\u0000]*$")]
    pub content: String,
    /// Not sent before this time (RFC 3339); a past time means now.
    #[serde(default, deserialize_with = "crate::request_fields::time")]
    pub send_at: Option<DateTime<Utc>>,
    /// Never sent at or after this time (RFC 3339): a message still unsent then ends `expired`.
    /// After now and after `send_at`.
    #[serde(default, deserialize_with = "crate::request_fields::time")]
    pub expires_at: Option<DateTime<Utc>>,
    /// The message's lane (default `normal`): a run claims every due `high` message before any
    /// `normal` one, and those before any `low` one. `high` for one-time codes, `low` for campaigns.
    #[serde(default)]
    #[schema(value_type = Option<PriorityOut>)]
    pub priority: Option<String>,
    /// A label to list, count and cancel the message by with others (1 to 64 letters, digits,
    /// `_`, `.` or `-`).
    #[serde(default)]
    #[schema(
        example = "spring-sale-2026",
        min_length = 1,
        max_length = 64,
        pattern = r"^[A-Za-z0-9_.-]{1,64}$"
    )]
    pub campaign: Option<String>,
    /// Any other field: refused, each named (a misspelt `sendAt` must not send a campaign now).
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: BTreeMap<String, Value>,
}

impl CreateMessageRequest {
    /// Checks every field against the rules at `now` and reports all problems at once.
    pub fn validate(
        self,
        char_limit: usize,
        max_attempts: i32,
        now: DateTime<Utc>,
    ) -> Result<NewMessage, Vec<FieldError>> {
        let mut errors: Vec<FieldError> =
            self.unknown.keys().map(|field| FieldError::new(field.clone(), "unknown field")).collect();
        let phone = PhoneNumber::parse(&self.phone_number)
            .map_err(|err| errors.push(FieldError::new("phone_number", err.to_string())));
        let content = Content::parse(&self.content, char_limit)
            .map_err(|err| errors.push(FieldError::new("content", err.to_string())));
        let priority = match self.priority.as_deref().map(str::parse::<Priority>) {
            None => Priority::default(),
            Some(Ok(priority)) => priority,
            Some(Err(_)) => {
                errors.push(FieldError::new("priority", "must be high, normal or low"));
                Priority::default()
            }
        };
        let campaign = self.campaign.as_deref().map(Label::parse).transpose();
        let campaign = campaign.unwrap_or_else(|err| {
            errors.push(FieldError::new("campaign", err.to_string()));
            None
        });
        if let Some(expires_at) = self.expires_at {
            if expires_at <= now {
                errors.push(FieldError::new("expires_at", "must be in the future"));
            } else if self.send_at.is_some_and(|send_at| expires_at <= send_at) {
                errors.push(FieldError::new("expires_at", "must be after send_at"));
            }
        }
        match (phone, content) {
            (Ok(phone), Ok(content)) if errors.is_empty() => {
                let mut new = NewMessage::new(phone, content, max_attempts);
                new.send_at = self.send_at;
                new.expires_at = self.expires_at;
                new.priority = priority;
                new.campaign = campaign;
                Ok(new)
            }
            _ => Err(errors),
        }
    }

    /// The schema with `content` limited to `char_limit` characters, the limit `validate` is
    /// given: MESSAGE_CHAR_LIMIT is read at start-up, after the derive wrote the rest.
    pub fn schema_with_char_limit(char_limit: usize) -> RefOr<Schema> {
        let mut schema = <Self as utoipa::PartialSchema>::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            if let Some(RefOr::T(Schema::Object(content))) = object.properties.get_mut("content") {
                content.max_length = Some(char_limit);
            }
        }
        schema
    }
}

/// Stores a message to send. A repeated `Idempotency-Key` returns the first message (200).
///
/// Rules the schema cannot say, each refused with a 400 naming the field: `expires_at` must be
/// in the future and after `send_at`.
#[utoipa::path(post, path = "/api/v1/messages", tag = "messages", operation_id = "create_message", request_body = CreateMessageRequest,
    params(("Idempotency-Key" = Option<String>, Header, pattern = r"^[!-~]{1,255}$", description = "1 to 255 visible ASCII characters; a repeat returns the first message")),
    responses(
        (status = 201, description = "created", body = MessageOut),
        (status = 200, description = "an earlier message with the same Idempotency-Key", body = MessageOut),
        (status = 400, description = "malformed JSON or a bad field", body = Problem, content_type = "application/problem+json"),
        BodyErrors,
    ))]
#[tracing::instrument(skip_all, fields(message_id))]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreateMessageRequest>,
) -> Result<(StatusCode, Json<MessageOut>), ApiError> {
    let key = idempotency_key(&headers)?;
    let mut new = body
        .validate(state.config.messages.char_limit, state.config.messages.max_attempts, Utc::now())
        .map_err(ApiError::validation)?;
    new.idempotency_key = key;
    let (status, message) = match state.creates.insert(new).await? {
        Inserted::Created(message) => (StatusCode::CREATED, message),
        Inserted::Existing(message) => (StatusCode::OK, message),
    };
    tracing::Span::current().record("message_id", tracing::field::display(message.id));
    Ok((status, Json(message.into())))
}

/// One message by id.
#[utoipa::path(get, path = "/api/v1/messages/{id}", tag = "messages", operation_id = "get_message",
    params(("id" = String, Path, format = Uuid, description = "the message id")),
    responses(
        (status = 200, description = "the message", body = MessageOut),
        MessageIdErrors,
    ))]
pub async fn get(
    State(state): State<AppState>,
    MessagePath(id): MessagePath,
) -> Result<Json<MessageOut>, ApiError> {
    messages::get(&state.pool, id)
        .await?
        .map(|message| Json(message.into()))
        .ok_or_else(|| ApiError::NotFound(format!("no message with id {id}")))
}

/// Message counts by status, of every message or of one campaign's.
#[utoipa::path(get, path = "/api/v1/messages/stats", tag = "messages",
    params(("campaign" = Option<String>, Query, pattern = r"^[A-Za-z0-9_.-]{1,64}$", description = "only this campaign's messages (zero counts for a campaign no message has)")),
    responses((status = 200, description = "counts", body = StatsOut), QueryErrors))]
pub async fn stats(State(state): State<AppState>, query: QueryParams) -> Result<Json<StatsOut>, ApiError> {
    let mut errors = Vec::new();
    let campaign = query.label("campaign", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let counts = match campaign {
        None => stats::all(&state.pool).await?,
        Some(campaign) => stats::of_campaign(&state.pool, &campaign).await?,
    };
    Ok(Json(counts.into()))
}
