//! `POST /api/v1/receipts`: the provider's delivery receipts (delivered or undelivered), one
//! object or an array of them, checked all or nothing and recorded in one statement.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use dispatcher_core::domain::Label;
use dispatcher_core::repository::receipts::{self, Receipt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::json_body::{from_value, JsonObjectOrArrayBody};
use crate::params::BodyErrors;
use crate::problem::{ApiError, FieldError, Problem};
use crate::state::AppState;
use crate::wire::DeliveryStatusOut;

pub const MAX_RECEIPTS: usize = 1000;
const MAX_MESSAGE_ID_LEN: usize = 512;

/// One delivery receipt.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = Receipt)]
pub struct ReceiptIn {
    /// The provider's id of the message: the `messageId` it answered our request with.
    #[serde(rename = "messageId")]
    /// Up to 512 characters, without NUL; surrounding white space is dropped and something must
    /// be left.
    #[schema(
        example = "SM1f0e8ae6ade43cb3c0ce4525424e404f",
        min_length = 1,
        max_length = 512,
        pattern = r"^[^\u0000]*[^\u0000\s][^\u0000]*$"
    )]
    pub message_id: String,
    pub status: DeliveryStatusOut,
    /// When it happened (RFC 3339); the receipt's arrival when absent.
    #[serde(default, deserialize_with = "crate::request_fields::time")]
    pub timestamp: Option<DateTime<Utc>>,
    /// The provider's reason, e.g. for an undelivered message.
    #[serde(default)]
    #[schema(pattern = r"^[A-Za-z0-9_.-]{1,64}$", example = "30008")]
    pub error_code: Option<String>,
    /// Any other field: refused, each named.
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: BTreeMap<String, Value>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReceiptsAccepted {
    /// Receipts in the request, all recorded (applied, or kept until their message is known).
    pub accepted: usize,
}

impl ReceiptIn {
    /// The receipt, arrived at `now`, or every problem with it.
    fn check(self, now: DateTime<Utc>) -> Result<Receipt, Vec<FieldError>> {
        let mut errors: Vec<FieldError> =
            self.unknown.keys().map(|field| FieldError::new(field.clone(), "unknown field")).collect();
        let message_id = self.message_id.trim();
        let too_long = self.message_id.chars().count() > MAX_MESSAGE_ID_LEN;
        if message_id.is_empty() || too_long || message_id.contains('\0') {
            errors.push(FieldError::new(
                "messageId",
                format!("must be 1 to {MAX_MESSAGE_ID_LEN} characters, without NUL"),
            ));
        }
        if let Some(Err(err)) = self.error_code.as_deref().map(Label::parse) {
            errors.push(FieldError::new("error_code", err.to_string()));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let status = self.status.0;
        Ok(Receipt {
            provider_message_id: message_id.to_owned(),
            status,
            at: self.timestamp.unwrap_or(now),
            error_code: self.error_code,
        })
    }
}

/// Records delivery receipts: one object or an array of 1 to 1,000. A receipt sets its
/// message's `delivery` (never its `status`); between receipts of one message the later
/// `timestamp` wins and a repeat changes nothing. A receipt for a message not (yet) known is
/// kept and applied once its send is recorded. Takes the bearer token, or the token as the
/// HTTP Basic password (`https://user:TOKEN@host/api/v1/receipts`).
#[utoipa::path(post, path = "/api/v1/receipts", tag = "messages", request_body = Vec<ReceiptIn>,
    responses(
        (status = 202, description = "every receipt recorded", body = ReceiptsAccepted),
        (status = 400, description = "not a receipt or an array of 1 to 1,000, or a bad receipt (nothing stored)", body = Problem, content_type = "application/problem+json"),
        BodyErrors,
    ))]
#[tracing::instrument(skip_all, fields(count))]
pub async fn record(
    State(state): State<AppState>,
    JsonObjectOrArrayBody(body): JsonObjectOrArrayBody,
) -> Result<(StatusCode, Json<ReceiptsAccepted>), ApiError> {
    let (items, single) = match body {
        Value::Array(items) => (items, false),
        object => (vec![object], true),
    };
    tracing::Span::current().record("count", items.len());
    if items.is_empty() || items.len() > MAX_RECEIPTS {
        return Err(ApiError::BadRequest(format!(
            "the array has {} receipts; send 1 to {MAX_RECEIPTS} per request",
            items.len()
        )));
    }
    let now = Utc::now();
    let mut batch = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let checked = from_value::<ReceiptIn>(item).map_err(|error| vec![error]).and_then(|r| r.check(now));
        match checked {
            Ok(receipt) => batch.push(receipt),
            Err(problems) => errors.extend(problems.into_iter().map(|problem| problem.at(index))),
        }
    }
    if !errors.is_empty() {
        return Err(match single {
            true => {
                ApiError::validation(errors.into_iter().map(|e| FieldError { index: None, ..e }).collect())
            }
            false => ApiError::item_validation(errors),
        });
    }
    let recorded = receipts::record(&state.pool, &batch).await?;
    tracing::info!(applied = recorded.applied, kept = recorded.kept, "delivery receipts recorded");
    Ok((StatusCode::ACCEPTED, Json(ReceiptsAccepted { accepted: batch.len() })))
}
