//! What requests carry besides their JSON bodies, read the same way by every route: a message
//! id from the path, integer query parameters, idempotency keys.

use std::collections::HashMap;

use axum::http::HeaderMap;

use crate::problem::{ApiError, FieldError, Problem};
use dispatcher_core::domain::MessageId;

/// The largest page of either message list.
pub const MAX_PAGE_SIZE: u32 = 100;
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// A message id from the path: 400 if it is not a UUID.
pub fn parse_id(id: &str) -> Result<MessageId, ApiError> {
    id.parse().map_err(|_| ApiError::validation(vec![FieldError::new("id", format!("{id:?} is not a UUID"))]))
}

/// The answers of every route with a message id in its path, documented once. Documentation
/// only: the handlers answer through `ApiError`.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum MessageIdErrors {
    #[response(status = 400, description = "not a UUID", content_type = "application/problem+json")]
    NotAUuid(Problem),
    #[response(status = 404, description = "no such message", content_type = "application/problem+json")]
    NoSuchMessage(Problem),
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
            errors
                .push(FieldError::new(name, format!("must be an integer from {min} to {max}, got {raw:?}")));
            default
        }
    }
}

/// The one integer query parameter of a route, within `min..=max`: a 400 naming it otherwise.
pub fn only_query_int(
    query: &HashMap<String, String>,
    name: &str,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, ApiError> {
    let mut errors = Vec::new();
    let value = query_int(query, name, default, min, max, &mut errors);
    match errors.is_empty() {
        true => Ok(value),
        false => Err(ApiError::validation(errors)),
    }
}

/// `Idempotency-Key`: optional; 1 to 255 visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().ok().and_then(valid_idempotency_key).ok_or_else(|| {
        ApiError::validation(vec![FieldError::new(
            "Idempotency-Key",
            format!("must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"),
        )])
    })?;
    Ok(Some(key.to_owned()))
}

/// The key without surrounding spaces, if it is 1 to 255 visible ASCII characters.
pub fn valid_idempotency_key(raw: &str) -> Option<&str> {
    let key = raw.trim();
    let valid =
        !key.is_empty() && key.len() <= MAX_IDEMPOTENCY_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic());
    valid.then_some(key)
}
