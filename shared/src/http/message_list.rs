//! `GET /api/v1/messages`: every message, newest first, filtered, paged by cursor.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;

use super::params::{query_int, MAX_PAGE_SIZE};
use super::problem::{ApiError, FieldError, Problem};
use super::AppState;
use crate::domain::{MessageStatus, PhoneNumber};
use crate::repository::listing::{self, ListCursor, MessageFilter, MessageList};

/// Messages newest first (`created_at`, then id), optionally by status and phone number.
/// Keyset paging: pass `next_cursor` back as `cursor`; pages stay fast at any depth and do
/// not shift when new messages arrive.
#[utoipa::path(get, path = "/api/v1/messages", tag = "messages",
    params(
        ("status" = Option<MessageStatus>, Query, description = "only messages in this status"),
        ("phone_number" = Option<String>, Query, pattern = r"^\+[0-9]{8,15}$", description = "only messages to this E.164 number"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "page size (default 20)"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "one page", body = MessageList),
        (status = 400, description = "unknown status, bad phone number, limit out of range or a cursor this API did not return", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "missing or wrong bearer token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<MessageList>, ApiError> {
    let mut errors = Vec::new();
    let mut filter = MessageFilter::default();
    if let Some(raw) = query.get("status") {
        match raw.parse::<MessageStatus>() {
            Ok(status) => filter.status = Some(status),
            Err(_) => {
                let known: Vec<&str> = MessageStatus::ALL.iter().map(|s| s.as_str()).collect();
                errors.push(FieldError::new("status", format!("{raw:?} is not one of {}", known.join(", "))));
            }
        }
    }
    if let Some(raw) = query.get("phone_number") {
        match PhoneNumber::parse(raw) {
            Ok(phone) => filter.phone_number = Some(phone),
            Err(err) => errors.push(FieldError::new("phone_number", err.to_string())),
        }
    }
    let limit = query_int(&query, "limit", 20, 1, MAX_PAGE_SIZE, &mut errors);
    let cursor = match query.get("cursor").map(|raw| raw.parse::<ListCursor>()) {
        None => None,
        Some(Ok(cursor)) => Some(cursor),
        Some(Err(err)) => {
            errors.push(FieldError::new("cursor", err.to_string()));
            None
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(Json(listing::list(&state.pool, &filter, cursor, limit).await?))
}
