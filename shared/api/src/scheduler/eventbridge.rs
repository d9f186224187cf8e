//! The EventBridge Scheduler backend. UpdateSchedule replaces the whole schedule, so start and
//! stop read it first and send every field back with only `State` changed.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_scheduler::error::DisplayErrorContext;
use aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput;
use aws_sdk_scheduler::types::ScheduleState as AwsState;

use super::{ScheduleInfo, ScheduleState, SchedulerControl, SchedulerError, SchedulerFuture};

/// Asks the dispatch function for one run now (asynchronous invoke), so `start` need not
/// wait a whole period for the first send.
#[derive(Debug, Clone)]
pub struct ImmediateRun {
    pub lambda: aws_sdk_lambda::Client,
    /// Name or ARN of the dispatch function (DISPATCH_FUNCTION_NAME).
    pub function_name: String,
}

#[derive(Debug, Clone)]
pub struct EventBridgeScheduler {
    client: aws_sdk_scheduler::Client,
    name: String,
    group: Option<String>,
    immediate_run: Option<ImmediateRun>,
}

impl EventBridgeScheduler {
    pub fn new(
        client: aws_sdk_scheduler::Client,
        name: impl Into<String>,
        group: Option<String>,
        immediate_run: Option<ImmediateRun>,
    ) -> Self {
        Self { client, name: name.into(), group, immediate_run }
    }

    async fn read(&self) -> Result<GetScheduleOutput, SchedulerError> {
        self.client
            .get_schedule()
            .name(&self.name)
            .set_group_name(self.group.clone())
            .send()
            .await
            .map_err(|err| aws_error("GetSchedule", &self.name, err))
    }

    /// Sets `State`, keeping every other field; does nothing when it is already so.
    async fn set_state(&self, wanted: AwsState) -> Result<ScheduleInfo, SchedulerError> {
        let current = self.read().await?;
        if current.state.as_ref() == Some(&wanted) {
            return info(&current);
        }
        self.client
            .update_schedule()
            .name(&self.name)
            .set_group_name(current.group_name.clone().or_else(|| self.group.clone()))
            .set_schedule_expression(current.schedule_expression.clone())
            .set_schedule_expression_timezone(current.schedule_expression_timezone.clone())
            .set_start_date(current.start_date)
            .set_end_date(current.end_date)
            .set_description(current.description.clone())
            .set_kms_key_arn(current.kms_key_arn.clone())
            .set_target(current.target.clone())
            .set_flexible_time_window(current.flexible_time_window.clone())
            .set_action_after_completion(current.action_after_completion.clone())
            .state(wanted)
            .send()
            .await
            .map_err(|err| aws_error("UpdateSchedule", &self.name, err))?;
        info(&self.read().await?)
    }

    async fn run_now(&self) {
        let Some(run) = &self.immediate_run else {
            return;
        };
        let result = run
            .lambda
            .invoke()
            .function_name(&run.function_name)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(r#"{"source":"scheduler.start"}"#))
            .send()
            .await;
        if let Err(err) = result {
            // The schedule is enabled either way; the first run then comes at the next period.
            tracing::warn!(error = %DisplayErrorContext(&err), function = %run.function_name, "could not ask for an immediate dispatch run");
        }
    }
}

fn info(output: &GetScheduleOutput) -> Result<ScheduleInfo, SchedulerError> {
    let state = match output.state.as_ref() {
        Some(AwsState::Enabled) => ScheduleState::Running,
        Some(AwsState::Disabled) => ScheduleState::Stopped,
        other => return Err(SchedulerError::Unknown(format!("{other:?}"))),
    };
    Ok(ScheduleInfo { state, expression: output.schedule_expression.clone() })
}

fn aws_error<E: std::error::Error + 'static>(operation: &str, name: &str, err: E) -> SchedulerError {
    SchedulerError::Aws(format!("{operation} {name}: {}", DisplayErrorContext(&err)))
}

impl SchedulerControl for EventBridgeScheduler {
    fn backend(&self) -> &'static str {
        "eventbridge"
    }

    fn start(&self) -> SchedulerFuture<'_> {
        Box::pin(async move {
            let info = self.set_state(AwsState::Enabled).await?;
            self.run_now().await;
            Ok(info)
        })
    }

    fn stop(&self) -> SchedulerFuture<'_> {
        Box::pin(self.set_state(AwsState::Disabled))
    }

    fn status(&self) -> SchedulerFuture<'_> {
        Box::pin(async move { info(&self.read().await?) })
    }
}
