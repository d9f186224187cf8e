//! API errors as `application/problem+json` (RFC 9457): typed client errors with a clear
//! detail and field problems; internal errors logged with their cause chain, answered opaquely.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One field's problem, e.g. `{"field": "phone_number", "message": "..."}`; in a batch, with
/// the 0-based `index` of the item it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 3)]
    pub index: Option<usize>,
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { index: None, field: field.into(), message: message.into() }
    }

    /// The same problem, located in the batch item at `index`.
    pub fn at(self, index: usize) -> Self {
        Self { index: Some(index), ..self }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    Validation { detail: String, errors: Vec<FieldError> },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// The receipts route, which also takes the token as the HTTP Basic password.
    #[error("a valid bearer token, or the token as the HTTP Basic password, is required")]
    UnauthorizedBasic,
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        Self::Internal(anyhow::Error::new(err).context("database query failed"))
    }
}

/// The body of every error (RFC 9457 problem details).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    #[schema(example = "/problems/validation")]
    pub kind: &'static str,
    #[schema(example = "Bad Request")]
    pub title: &'static str,
    #[schema(example = 400)]
    pub status: u16,
    #[schema(example = "phone_number: phone number must start with '+' (E.164, e.g. +905551111111)")]
    pub detail: String,
    /// Field problems, all of them at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

impl ApiError {
    /// A 400 for field problems: the detail lists them all, `errors` carries them one by one.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail =
            errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
        Self::Validation { detail, errors }
    }

    /// A 400 for problems in the items of an array body: the detail says how many items are
    /// bad and names the first few problems; nothing of the request is stored.
    pub fn item_validation(errors: Vec<FieldError>) -> Self {
        let mut bad: Vec<usize> = errors.iter().filter_map(|error| error.index).collect();
        bad.dedup();
        let shown: Vec<String> = errors
            .iter()
            .take(3)
            .map(|e| format!("item {}: {}: {}", e.index.unwrap_or_default(), e.field, e.message))
            .collect();
        let more = if errors.len() > shown.len() { "; ..." } else { "" };
        let count = if bad.len() == 1 { "1 item is".to_owned() } else { format!("{} items are", bad.len()) };
        let detail = format!("{count} invalid; nothing was stored: {}{more}", shown.join("; "));
        Self::Validation { detail, errors }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Validation { .. } | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unauthorized | Self::UnauthorizedBasic => StatusCode::UNAUTHORIZED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable problem type per error class.
    fn kind(&self) -> &'static str {
        match self {
            Self::Validation { .. } => "/problems/validation",
            Self::BadRequest(_) => "/problems/bad-request",
            Self::NotFound(_) => "/problems/not-found",
            Self::Conflict(_) => "/problems/conflict",
            Self::Unauthorized | Self::UnauthorizedBasic => "/problems/unauthorized",
            Self::PayloadTooLarge(_) => "/problems/payload-too-large",
            Self::UnsupportedMediaType(_) => "/problems/unsupported-media-type",
            Self::Internal(_) => "/problems/internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = match &self {
            Self::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "internal error");
                "an internal error occurred; it has been logged".to_owned()
            }
            other => other.to_string(),
        };
        let errors = match &self {
            Self::Validation { errors, .. } => Some(errors.clone()),
            _ => None,
        };
        let problem = Problem {
            kind: self.kind(),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail,
            errors,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/problem+json"));
        // Providers that put the credentials in the callback URL send them only once challenged
        // for Basic (Twilio does).
        let challenge = match self {
            Self::Unauthorized => Some("Bearer"),
            Self::UnauthorizedBasic => Some("Basic realm=\"message-dispatcher\", Bearer"),
            _ => None,
        };
        if let Some(challenge) = challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static(challenge));
        }
        response
    }
}
