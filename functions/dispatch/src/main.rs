//! The dispatch Lambda: set-up once at init, then one dispatch run per invocation.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use shared::telemetry::{self, LogFormat};
use shared::{db, dispatch::Dispatcher, Config};

/// One run at a time per instance needs few connections: claim, then batched records.
const POOL_SIZE: u32 = 2;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init(LogFormat::detect());
    let config = Config::from_env()?;
    let pool = db::connect(config.require_database_url()?, POOL_SIZE).await?;
    let function = dispatch::DispatchFunction::new(Dispatcher::from_config(&config, pool)?);
    let function = &function;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Value>| async move { function.handle(event).await },
    ))
    .await
}
