//! The migrate Lambda. Nothing that can fail happens at init: a failure there would leave the
//! CloudFormation stack waiting for an answer that never comes. Every invocation answers.

use dispatcher_core::telemetry::{self, LogFormat};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init(LogFormat::detect());
    let handler = migrate::MigrateHandler::from_process_env();
    let handler = &handler;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Value>| async move { handler.handle(event).await },
    ))
    .await
}
