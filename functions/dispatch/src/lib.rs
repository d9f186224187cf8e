//! The dispatch function's handler: any JSON payload (an EventBridge Scheduler invocation),
//! with an optional `{"batch_size": N}` override; returns the run's summary.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use shared::config::MAX_BATCH_SIZE;
use shared::dispatch::{DispatchError, Dispatcher, RunLimits, RunSummary};

/// Kept back from the Lambda deadline for the runtime to report the result.
const DEADLINE_MARGIN: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("invalid payload: {0}")]
    InvalidPayload(String),
    #[error(transparent)]
    Dispatch(#[from] DispatchError),
}

/// Lambda sees a typed error: `InvalidPayload` is the caller's to fix; `DatabaseUnavailable`
/// is worth the async retry Lambda makes (runs are safe to repeat).
impl From<HandlerError> for Diagnostic {
    fn from(err: HandlerError) -> Self {
        let error_type = match &err {
            HandlerError::InvalidPayload(_) => "InvalidPayload",
            HandlerError::Dispatch(DispatchError::Database(_)) => "DatabaseUnavailable",
        };
        Diagnostic { error_type: error_type.into(), error_message: err.to_string() }
    }
}

pub struct DispatchFunction {
    dispatcher: Dispatcher,
}

impl DispatchFunction {
    pub fn new(dispatcher: Dispatcher) -> Self {
        Self { dispatcher }
    }

    #[tracing::instrument(skip_all, fields(request_id = %event.context.request_id))]
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<RunSummary, HandlerError> {
        let batch_size = batch_size_override(&event.payload)?;
        let budget = budget_until(event.context.deadline, self.dispatcher.settings().lease);
        tracing::debug!(
            budget_ms = budget.as_millis() as u64,
            deadline_ms = event.context.deadline,
            ?batch_size,
            "dispatch invocation"
        );
        let summary = self.dispatcher.run_once(RunLimits { batch_size, budget }).await?;
        Ok(summary)
    }
}

/// `{"batch_size": N}` with 1 <= N <= MAX_BATCH_SIZE; absent or null means the configured size.
pub fn batch_size_override(payload: &Value) -> Result<Option<u32>, HandlerError> {
    let Some(value) = payload.get("batch_size").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| (1..=MAX_BATCH_SIZE).contains(n))
        .map(Some)
        .ok_or_else(|| {
            HandlerError::InvalidPayload(format!(
                "batch_size must be an integer from 1 to {MAX_BATCH_SIZE}, got {value}"
            ))
        })
}

/// Deadlines before this (2001-09-09) are not epoch times: `cargo lambda watch` sends its
/// timeout (e.g. 600000) in the deadline header.
const EARLIEST_EPOCH_DEADLINE_MS: u64 = 1_000_000_000_000;

/// Time left before the invocation's deadline (milliseconds since the epoch), less a margin.
/// Without a usable deadline (0, or an emulator's duration) the lease bounds the run.
pub fn budget_until(deadline_ms: u64, fallback: Duration) -> Duration {
    if deadline_ms < EARLIEST_EPOCH_DEADLINE_MS {
        return fallback;
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Duration::from_millis(deadline_ms).saturating_sub(now).saturating_sub(DEADLINE_MARGIN)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn batch_size_is_optional_and_checked() {
        assert_eq!(batch_size_override(&json!({})).unwrap(), None);
        assert_eq!(batch_size_override(&json!({"source": "aws.scheduler"})).unwrap(), None);
        assert_eq!(batch_size_override(&json!({"batch_size": null})).unwrap(), None);
        assert_eq!(batch_size_override(&json!("tick")).unwrap(), None);
        assert_eq!(batch_size_override(&json!({"batch_size": 50})).unwrap(), Some(50));
        for bad in [json!(0), json!(-1), json!("10"), json!(1.5), json!(10_001)] {
            let err = batch_size_override(&json!({ "batch_size": bad })).unwrap_err();
            assert!(err.to_string().starts_with("invalid payload: batch_size must be"), "{err}");
        }
    }

    #[test]
    fn the_budget_ends_before_the_deadline() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let deadline = (now + Duration::from_secs(30)).as_millis() as u64;
        let budget = budget_until(deadline, Duration::from_secs(60));
        assert!(budget <= Duration::from_secs(29) && budget > Duration::from_secs(28), "{budget:?}");
        assert_eq!(budget_until(0, Duration::from_secs(60)), Duration::from_secs(60));
        assert_eq!(
            budget_until(600_000, Duration::from_secs(60)),
            Duration::from_secs(60),
            "cargo lambda watch"
        );
        let past = (now - Duration::from_secs(5)).as_millis() as u64;
        assert_eq!(budget_until(past, Duration::from_secs(60)), Duration::ZERO);
    }

    #[test]
    fn errors_map_to_typed_diagnostics() {
        let diagnostic: Diagnostic = HandlerError::InvalidPayload("x".into()).into();
        assert_eq!(diagnostic.error_type, "InvalidPayload");
    }
}
