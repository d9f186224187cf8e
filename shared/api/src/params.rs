//! What requests carry besides their JSON bodies, read the same way by every route: a message
//! id from the path, integer query parameters, idempotency keys.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::IntoResponse;

use crate::problem::{ApiError, FieldError, Problem};
use dispatcher_core::domain::{Label, MessageId};

/// The largest page of either message list.
pub const MAX_PAGE_SIZE: u32 = 100;
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// The message id of a `/api/v1/messages/{id}` route: 400 if it is not a UUID.
pub struct MessagePath(pub MessageId);

impl<S: Send + Sync> FromRequestParts<S> for MessagePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(id) = extract::<Path<String>, S>(parts, state, "path").await?;
        let parsed = id.parse().map_err(|_| FieldError::new("id", format!("{id:?} is not a UUID")));
        Ok(Self(parsed.map_err(|error| ApiError::validation(vec![error]))?))
    }
}

/// Axum's extractor `E`, its rejection answered as a 400 problem naming what was unreadable.
async fn extract<E, S>(parts: &mut Parts, state: &S, what: &str) -> Result<E, ApiError>
where
    E: FromRequestParts<S>,
    E::Rejection: IntoResponse,
    S: Send + Sync,
{
    E::from_request_parts(parts, state).await.map_err(|rejection| {
        let status = rejection.into_response().status();
        ApiError::BadRequest(format!("unreadable {what} ({status})"))
    })
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

/// The answers of both state changes a user can ask for (retry, cancel), documented once.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum TransitionErrors {
    #[response(status = 400, description = "not a UUID", content_type = "application/problem+json")]
    NotAUuid(Problem),
    #[response(status = 404, description = "no such message", content_type = "application/problem+json")]
    NoSuchMessage(Problem),
    #[response(
        status = 409,
        description = "the message is not in the status this change starts from; nothing changed",
        content_type = "application/problem+json"
    )]
    WrongStatus(Problem),
}

/// The answers of every route that takes a JSON body, documented once: 413 above its limit
/// (1 MiB; the batch route's 10 MiB), 415 when it is not JSON.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum BodyErrors {
    #[response(status = 413, description = "body too large", content_type = "application/problem+json")]
    TooLarge(Problem),
    #[response(status = 415, description = "not JSON", content_type = "application/problem+json")]
    NotJson(Problem),
}

/// A route's query parameters, read as text; each is parsed where it is used, and every bad one
/// is reported together in one 400.
pub struct QueryParams(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(extract::<Query<HashMap<String, String>>, S>(parts, state, "query string").await?.0))
    }
}

impl QueryParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// An integer parameter within `min..=max`; a problem is pushed to `errors`.
    pub fn int(&self, name: &str, default: u32, min: u32, max: u32, errors: &mut Vec<FieldError>) -> u32 {
        let Some(raw) = self.get(name) else {
            return default;
        };
        match raw.parse::<u32>() {
            Ok(value) if (min..=max).contains(&value) => value,
            _ => {
                let message = format!("must be an integer from {min} to {max}, got {raw:?}");
                errors.push(FieldError::new(name, message));
                default
            }
        }
    }

    /// A parameter that must be one of `all` (by its text form); a problem naming them is
    /// pushed to `errors` otherwise.
    pub fn choice<T: Copy + std::fmt::Display>(
        &self,
        name: &str,
        all: &[T],
        errors: &mut Vec<FieldError>,
    ) -> Option<T> {
        let raw = self.get(name)?;
        let found = all.iter().copied().find(|value| value.to_string() == raw);
        if found.is_none() {
            let known: Vec<String> = all.iter().map(ToString::to_string).collect();
            errors.push(FieldError::new(name, format!("{raw:?} is not one of {}", known.join(", "))));
        }
        found
    }

    /// A [`Label`] parameter (a campaign); a problem naming it is pushed to `errors` otherwise.
    pub fn label(&self, name: &str, errors: &mut Vec<FieldError>) -> Option<Label> {
        let parsed = Label::parse(self.get(name)?);
        parsed.map_err(|err| errors.push(FieldError::new(name, err.to_string()))).ok()
    }

    /// The one integer parameter of a route, within `min..=max`: a 400 naming it otherwise.
    pub fn only_int(&self, name: &str, default: u32, min: u32, max: u32) -> Result<u32, ApiError> {
        let mut errors = Vec::new();
        let value = self.int(name, default, min, max, &mut errors);
        match errors.is_empty() {
            true => Ok(value),
            false => Err(ApiError::validation(errors)),
        }
    }
}

/// The 400 of every route with query parameters, documented once (the problem's `errors` name
/// each bad parameter). Documentation only: the handlers answer through `ApiError`.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum QueryErrors {
    #[response(
        status = 400,
        description = "a bad query parameter",
        content_type = "application/problem+json"
    )]
    BadQuery(Problem),
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
