//! `POST /api/v1/messages/cancel`: stop a campaign (or a lane, or everything created before a
//! time) in one call. Its pending messages become `cancelled`, oldest first, in short chunks
//! while sending goes on; messages already claimed finish and are not counted.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Datelike, Utc};
use dispatcher_core::domain::{Label, Priority};
use dispatcher_core::repository::cancellation::{self, PendingFilter};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::json_body::JsonBody;
use crate::problem::{ApiError, FieldError, Problem};
use crate::state::AppState;
use crate::wire::PriorityOut;

pub const DEFAULT_LIMIT: u64 = 1_000_000;
/// How long one call cancels before it answers (`complete: false` then): inside the API
/// Gateway's 29 s and the api function's 30 s.
pub const TIME_BUDGET: Duration = Duration::from_secs(20);

/// Which pending messages to cancel: at least one of `campaign`, `priority` and
/// `created_before`; filters combine with AND.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct BulkCancelRequest {
    /// Only this campaign's messages.
    #[schema(
        example = "spring-sale-2026",
        min_length = 1,
        max_length = 64,
        pattern = r"^[A-Za-z0-9_.-]{1,64}$"
    )]
    #[serde(default)]
    pub campaign: Option<String>,
    /// Only messages in this lane.
    #[schema(value_type = Option<PriorityOut>)]
    #[serde(default)]
    pub priority: Option<String>,
    /// Only messages created before this time (RFC 3339).
    #[serde(default, deserialize_with = "crate::request_fields::time")]
    pub created_before: Option<DateTime<Utc>>,
    /// At most this many, oldest first (default 1,000,000).
    #[schema(minimum = 1, maximum = 1000000, example = 1000000)]
    #[serde(default, deserialize_with = "crate::request_fields::whole_number")]
    pub limit: Option<u64>,
    /// Any other field: refused, each named.
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: BTreeMap<String, Value>,
}

impl BulkCancelRequest {
    /// Checks every field and reports all problems at once; `now` bounds `created_before`.
    fn validate(self, now: DateTime<Utc>) -> Result<(PendingFilter, u64), Vec<FieldError>> {
        let mut errors: Vec<FieldError> =
            self.unknown.keys().map(|field| FieldError::new(field.clone(), "unknown field")).collect();
        if self.campaign.is_none() && self.priority.is_none() && self.created_before.is_none() {
            errors.push(FieldError::new(
                "campaign",
                "give at least one of campaign, priority and created_before (nothing is cancelled by default)",
            ));
        }
        let campaign = self.campaign.as_deref().map(Label::parse).transpose().unwrap_or_else(|err| {
            errors.push(FieldError::new("campaign", err.to_string()));
            None
        });
        let priority =
            self.priority.as_deref().map(str::parse::<Priority>).transpose().unwrap_or_else(|_| {
                errors.push(FieldError::new("priority", "must be high, normal or low"));
                None
            });
        if self.created_before.is_some_and(|time| !(1..=9999).contains(&time.year())) {
            errors.push(FieldError::new("created_before", "must be a time in the years 0001 to 9999"));
        }
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=DEFAULT_LIMIT).contains(&limit) {
            errors.push(FieldError::new("limit", format!("must be from 1 to {DEFAULT_LIMIT}, got {limit}")));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        // Messages created after the call began are not what the operator saw: left alone.
        let created_before = self.created_before.map_or(now, |before| before.min(now));
        Ok((PendingFilter { campaign, priority, created_before }, limit))
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkCancelResult {
    /// How many pending messages are `cancelled` now; none of them will be sent.
    pub cancelled: u64,
    /// `true`: no pending message matching the filter is left (or `limit` were cancelled);
    /// `false`: the call's time ran out first: call again to go on.
    pub complete: bool,
}

/// Cancels the `pending` messages that match, oldest first, as
/// `POST /api/v1/messages/{id}/cancel` does one. A message a run has already claimed is sent
/// (or not) as usual and is not counted; a message counted is never sent. Messages created
/// after the call began are left alone.
#[utoipa::path(post, path = "/api/v1/messages/cancel", tag = "messages", request_body = BulkCancelRequest,
    responses(
        (status = 200, description = "how many were cancelled (0 when none matched), and whether all were", body = BulkCancelResult),
        (status = 400, description = "malformed JSON, an unknown field, no filter, or a bad one", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "not JSON", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn cancel_pending(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<BulkCancelRequest>,
) -> Result<Json<BulkCancelResult>, ApiError> {
    let (filter, limit) = body.validate(Utc::now()).map_err(ApiError::validation)?;
    let until = tokio::time::Instant::now() + TIME_BUDGET;
    let done = cancellation::cancel_pending(&state.pool, &filter, limit, until).await?;
    tracing::info!(
        cancelled = done.cancelled,
        complete = done.complete,
        ?filter,
        "pending messages cancelled on request"
    );
    Ok(Json(BulkCancelResult { cancelled: done.cancelled, complete: done.complete }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(request: BulkCancelRequest) -> Vec<String> {
        request.validate(Utc::now()).unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_filter_is_required_and_every_bad_field_is_reported_at_once() {
        assert_eq!(fields(BulkCancelRequest::default()), ["campaign"]);
        let mut bad = BulkCancelRequest {
            campaign: Some("spring sale".into()),
            priority: Some("urgent".into()),
            limit: Some(DEFAULT_LIMIT + 1),
            ..BulkCancelRequest::default()
        };
        bad.unknown.insert("segment".into(), Value::Null);
        assert_eq!(fields(bad), ["segment", "campaign", "priority", "limit"]);
    }

    #[test]
    fn nothing_created_after_the_call_began_is_cancelled() {
        let now = Utc::now();
        let later = now + chrono::Duration::hours(1);
        let request = BulkCancelRequest { created_before: Some(later), ..BulkCancelRequest::default() };
        let (filter, limit) = request.validate(now).unwrap();
        assert_eq!((filter.created_before, limit), (now, DEFAULT_LIMIT));
    }
}
