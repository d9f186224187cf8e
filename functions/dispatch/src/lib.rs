//! The dispatch function's handler: any JSON payload (an EventBridge Scheduler invocation),
//! with an optional `{"batch_size": N}` override; returns the run's summary and writes its
//! metrics record.

pub mod emf;

use std::time::Duration;

use dispatcher_core::config::MAX_BATCH_SIZE;
use dispatcher_core::deadline::{budget_until, DEADLINE_MARGIN, RECORD_MARGIN};
use dispatcher_core::dispatch::{DispatchError, Dispatcher, RunLimits, RunSummary};
use dispatcher_core::repository::gauges;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use sqlx::PgPool;

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("invalid payload: {0}")]
    InvalidPayload(String),
    /// The invocation's time cannot fit one webhook request: claiming would only hand the
    /// batch back. The function's Timeout (or WEBHOOK_TIMEOUT_SECONDS) must change.
    #[error(
        "the invocation had {:.1} s left before its deadline (the function's Timeout, less {} s for the runtime), \
         too little for one webhook request (WEBHOOK_TIMEOUT_SECONDS={}) plus {} ms to record it: \
         raise the dispatch function's Timeout above {} s or lower WEBHOOK_TIMEOUT_SECONDS; nothing was claimed",
        budget.as_secs_f64(),
        DEADLINE_MARGIN.as_secs(),
        webhook_timeout.as_secs(),
        RECORD_MARGIN.as_millis(),
        (*webhook_timeout + RECORD_MARGIN + DEADLINE_MARGIN).as_secs_f64().ceil()
    )]
    BudgetTooShort { budget: Duration, webhook_timeout: Duration },
    #[error(transparent)]
    Dispatch(DispatchError),
}

impl From<DispatchError> for HandlerError {
    fn from(err: DispatchError) -> Self {
        match err {
            DispatchError::BudgetTooShort { budget, webhook_timeout } => {
                Self::BudgetTooShort { budget, webhook_timeout }
            }
            other => Self::Dispatch(other),
        }
    }
}

/// Lambda sees a typed error: `InvalidPayload` is the caller's to fix, `BudgetTooShort` the
/// deployment's; `DatabaseUnavailable` is worth the async retry Lambda makes (runs are safe
/// to repeat).
impl From<HandlerError> for Diagnostic {
    fn from(err: HandlerError) -> Self {
        let error_type = match &err {
            HandlerError::InvalidPayload(_) => "InvalidPayload",
            HandlerError::BudgetTooShort { .. } => "BudgetTooShort",
            HandlerError::Dispatch(DispatchError::Database(_)) => "DatabaseUnavailable",
            HandlerError::Dispatch(DispatchError::BudgetTooShort { .. }) => "BudgetTooShort",
        };
        Diagnostic { error_type: error_type.into(), error_message: err.to_string() }
    }
}

/// Where the metrics records go: stdout on Lambda (CloudWatch reads them from the log).
pub type MetricsSink = Box<dyn Fn(&str) + Send + Sync>;

pub struct DispatchFunction {
    dispatcher: Dispatcher,
    /// The queue gauges in the metrics record are read through it, after the run.
    pool: PgPool,
    function_name: String,
    metrics: MetricsSink,
}

impl DispatchFunction {
    /// Named as Lambda names it (AWS_LAMBDA_FUNCTION_NAME), writing its records to stdout.
    pub fn new(dispatcher: Dispatcher, pool: PgPool) -> Self {
        let function_name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "dispatch".into());
        Self::with_metrics(dispatcher, pool, function_name, Box::new(|line| println!("{line}")))
    }

    pub fn with_metrics(
        dispatcher: Dispatcher,
        pool: PgPool,
        function_name: String,
        metrics: MetricsSink,
    ) -> Self {
        Self { dispatcher, pool, function_name, metrics }
    }

    #[tracing::instrument(skip_all, fields(request_id = %event.context.request_id))]
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<RunSummary, HandlerError> {
        let batch_size = batch_size_override(&event.payload)?;
        let budget = budget_until(event.context.deadline, self.dispatcher.config().dispatch.lease);
        tracing::debug!(
            budget_ms = budget.as_millis() as u64,
            deadline_ms = event.context.deadline,
            ?batch_size,
            "dispatch invocation"
        );
        let summary = self.dispatcher.run_once(RunLimits { batch_size, budget }).await?;
        self.write_metrics(summary).await;
        Ok(summary)
    }

    /// One metrics record for the run, with the queue's age read after it.
    async fn write_metrics(&self, summary: RunSummary) {
        let age = match gauges::read(&self.pool).await {
            Ok(gauges) => Some(gauges.oldest_pending_age_seconds),
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the oldest pending age for the metrics record");
                None
            }
        };
        let metrics = emf::Metrics { summary, oldest_pending_age_seconds: age };
        (self.metrics)(&metrics.emf_line(&self.function_name, chrono::Utc::now().timestamp_millis()));
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
    fn errors_map_to_typed_diagnostics() {
        let diagnostic: Diagnostic = HandlerError::InvalidPayload("x".into()).into();
        assert_eq!(diagnostic.error_type, "InvalidPayload");
        let short = DispatchError::BudgetTooShort {
            budget: Duration::from_millis(4_000),
            webhook_timeout: Duration::from_secs(10),
        };
        let diagnostic: Diagnostic = HandlerError::from(short).into();
        assert_eq!(diagnostic.error_type, "BudgetTooShort");
        assert_eq!(
            diagnostic.error_message,
            "the invocation had 4.0 s left before its deadline (the function's Timeout, less 1 s for the \
             runtime), too little for one webhook request (WEBHOOK_TIMEOUT_SECONDS=10) plus 500 ms to \
             record it: raise the dispatch function's Timeout above 12 s or lower WEBHOOK_TIMEOUT_SECONDS; \
             nothing was claimed"
        );
    }
}
