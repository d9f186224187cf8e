//! A JSON body extractor whose every rejection is a problem+json naming what is wrong.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use crate::problem::{ApiError, FieldError};

/// Request bodies above this are refused with 413.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;
/// The batch route's limit: room for 1,000 messages at the hard content limit. (On AWS, a
/// Lambda request is capped at 6 MB before it reaches the code.)
pub const BATCH_BODY_LIMIT_BYTES: usize = 10 * 1024 * 1024;

/// A JSON object body, parsed into `T`.
pub struct JsonBody<T>(pub T);

/// A JSON array body, each element kept as a value so its problems can be reported per item.
pub struct JsonArrayBody(pub Vec<serde_json::Value>);

/// A JSON object or array body, kept as a value (one item or many).
pub struct JsonObjectOrArrayBody(pub serde_json::Value);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_json(request, state, b"{", "a JSON object").await?;
        parse(&bytes).map(JsonBody)
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonArrayBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_json(request, state, b"[", "a JSON array").await?;
        parse(&bytes).map(JsonArrayBody)
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonObjectOrArrayBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_json(request, state, b"{[", "a JSON object or array").await?;
        parse(&bytes).map(JsonObjectOrArrayBody)
    }
}

/// The body's bytes, once the content type says JSON and the body, if it is valid JSON at
/// all, starts with one of `openings` (`shape` names them in the error).
async fn read_json<S: Send + Sync>(
    request: Request,
    state: &S,
    openings: &[u8],
    shape: &str,
) -> Result<Bytes, ApiError> {
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json") || value.contains("+json"));
    if !is_json {
        return Err(ApiError::UnsupportedMediaType(
            "the body must be JSON (Content-Type: application/json)".into(),
        ));
    }
    let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(format!(
                "the body is larger than {} bytes ({} for a batch)",
                BODY_LIMIT_BYTES, BATCH_BODY_LIMIT_BYTES
            ))
        } else {
            ApiError::BadRequest(format!("cannot read the body: {rejection}"))
        }
    })?;
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| !openings.contains(b))
        && serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok()
    {
        return Err(ApiError::BadRequest(format!("the body must be {shape}")));
    }
    Ok(bytes)
}

/// Parses JSON, reporting syntax errors as malformed and data errors against their field.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let error = field_error(&path, &inner);
                let detail = if error.field.is_empty() {
                    error.message.clone()
                } else {
                    format!("{}: {}", error.field, error.message)
                };
                ApiError::Validation { detail, errors: vec![error] }
            }
            _ => ApiError::BadRequest(format!("malformed JSON: {inner}")),
        }
    })
}

/// Converts one already-parsed JSON value (a batch item), naming the field at fault.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        field_error(&path, err.inner())
    })
}

/// A data error at `path` (`.` for the top level, where a missing field is named by serde).
fn field_error(path: &str, error: &serde_json::Error) -> FieldError {
    let message = strip_position(&error.to_string());
    let field = if path == "." { missing_field(&message).unwrap_or_default() } else { path.to_owned() };
    FieldError::new(field, message)
}

/// "missing field `content`" -> "content".
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_owned())
}

/// serde_json appends " at line 1 column 20": keep the message, drop the position.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}
