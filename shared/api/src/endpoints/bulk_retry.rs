//! `POST /api/v1/messages/retry`: requeue every `failed` message that matches a filter, the
//! way back after a receiver outage or a fixed misconfiguration, without one call per message.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use dispatcher_core::domain::Label;

use crate::json_body::JsonBody;
use crate::problem::{ApiError, FieldError, Problem};
use crate::state::AppState;
use dispatcher_core::repository::transitions::{self, FailedFilter};

pub const DEFAULT_LIMIT: u32 = 10_000;
pub const MAX_LIMIT: u32 = 100_000;
const MAX_ERROR_CODE_LEN: usize = Label::MAX_LEN;
/// PostgreSQL's `timestamptz` and RFC 3339 agree on years 1 to 9999; outside them is a typo.
const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// Which failed messages to requeue; every field is optional and `{}` means all of them (up
/// to `limit`). Filters combine with AND.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRetryRequest {
    /// Only messages whose `error_code` is exactly this, e.g. `connection_error` or `http_503`.
    #[schema(
        example = "connection_error",
        min_length = 1,
        max_length = 64,
        pattern = "^[A-Za-z0-9_.-]{1,64}$"
    )]
    pub error_code: Option<String>,
    /// Only messages that failed at or after this time (RFC 3339).
    #[serde(default, deserialize_with = "crate::request_fields::time")]
    pub failed_after: Option<DateTime<Utc>>,
    /// Only messages that failed before this time (RFC 3339); later than `failed_after` when
    /// both are given.
    #[serde(default, deserialize_with = "crate::request_fields::time")]
    pub failed_before: Option<DateTime<Utc>>,
    /// At most this many, the oldest failures first (default 10,000).
    #[schema(minimum = 1, maximum = 100000, example = 10000)]
    #[serde(default, deserialize_with = "crate::request_fields::whole_number")]
    pub limit: Option<u64>,
}

impl BulkRetryRequest {
    /// Checks every field and reports all problems at once.
    fn validate(self) -> Result<FailedFilter, Vec<FieldError>> {
        let mut errors = Vec::new();
        let asked = self.limit.unwrap_or(u64::from(DEFAULT_LIMIT));
        let limit = u32::try_from(asked).ok().filter(|limit| (1..=MAX_LIMIT).contains(limit));
        if limit.is_none() {
            errors.push(FieldError::new("limit", format!("must be from 1 to {MAX_LIMIT}, got {asked}")));
        }
        let error_code = self.error_code;
        if let Some(code) = &error_code {
            if Label::parse(code).is_err() {
                errors.push(FieldError::new(
                    "error_code",
                    format!(
                        "must be 1 to {MAX_ERROR_CODE_LEN} letters, digits, '_', '.' or '-' \
                         (e.g. connection_error, http_503)"
                    ),
                ));
            }
        }
        for (field, time) in [("failed_after", self.failed_after), ("failed_before", self.failed_before)] {
            if time.is_some_and(|time| !YEARS.contains(&time.year())) {
                errors.push(FieldError::new(field, "must be a time in the years 0001 to 9999"));
            }
        }
        if let (Some(after), Some(before)) = (self.failed_after, self.failed_before) {
            if after >= before {
                errors.push(FieldError::new("failed_before", "must be later than failed_after"));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(FailedFilter {
            error_code,
            failed_after: self.failed_after,
            failed_before: self.failed_before,
            limit: limit.unwrap_or(DEFAULT_LIMIT),
        })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkRetryResult {
    /// How many failed messages are pending again.
    pub requeued: u64,
}

/// Requeues the `failed` messages that match, oldest failure first, exactly as
/// `POST /api/v1/messages/{id}/retry` does one: `pending`, due now, attempts reset to 0, the
/// last error kept until it is sent. Messages in any other status never move.
///
/// A rule the schema cannot say, refused with a 400 naming the field: `failed_before` must be
/// later than `failed_after` when both are given.
#[utoipa::path(post, path = "/api/v1/messages/retry", tag = "messages", request_body = BulkRetryRequest,
    responses(
        (status = 200, description = "how many were requeued (0 when none matched)", body = BulkRetryResult),
        (status = 400, description = "malformed JSON, an unknown field or a bad filter", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "not JSON", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn retry_failed(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<BulkRetryRequest>,
) -> Result<Json<BulkRetryResult>, ApiError> {
    let filter = body.validate().map_err(ApiError::validation)?;
    let requeued = transitions::retry_failed_matching(&state.pool, &filter).await?;
    tracing::info!(requeued, ?filter, "failed messages requeued on request");
    Ok(Json(BulkRetryResult { requeued }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_filter_means_every_failed_message_up_to_the_default_limit() {
        let filter = BulkRetryRequest::default().validate().unwrap();
        assert_eq!(filter, FailedFilter { limit: DEFAULT_LIMIT, ..FailedFilter::default() });
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let now = Utc::now();
        let request = BulkRetryRequest {
            error_code: Some("  ".into()),
            failed_after: Some(now),
            failed_before: Some(now),
            limit: Some(u64::from(MAX_LIMIT) + 1),
        };
        let fields: Vec<String> = request.validate().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["limit", "error_code", "failed_before"]);
    }

    #[test]
    fn an_error_code_is_a_machine_word_and_a_nul_never_reaches_the_database() {
        for good in ["connection_error", "http_503", "a", &"x".repeat(MAX_ERROR_CODE_LEN)] {
            assert!(Label::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            " http_503",
            "http\u{0}503",
            "\u{1e}W\u{e4}",
            "caf\u{e9}",
            &"x".repeat(MAX_ERROR_CODE_LEN + 1),
        ] {
            let request = BulkRetryRequest { error_code: Some(bad.into()), ..BulkRetryRequest::default() };
            assert!(request.validate().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_pattern_in_the_openapi_document_is_the_one_enforced() {
        let document = serde_json::to_value(<BulkRetryRequest as utoipa::PartialSchema>::schema()).unwrap();
        let pattern = format!("^[A-Za-z0-9_.-]{{1,{MAX_ERROR_CODE_LEN}}}$");
        assert_eq!(document["properties"]["error_code"]["pattern"], pattern);
    }

    #[test]
    fn a_time_outside_the_databases_years_is_refused() {
        let far =
            chrono::NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc();
        let request = BulkRetryRequest { failed_before: Some(far), ..BulkRetryRequest::default() };
        let fields: Vec<String> = request.validate().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["failed_before"]);
    }
}
