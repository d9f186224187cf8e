//! Lambda that applies the database migrations embedded in the binary.
//! Invoked on deploy; safe to invoke again (applied migrations are skipped).

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};
use shared::db::{self, MIGRATOR};
use shared::telemetry::{self, LogFormat};
use shared::Config;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::detect());
    let config = Config::from_env()?;
    let pool = db::connect(config.require_database_url()?, 1).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let pool = pool.clone();
        async move { migrate(&pool, event).await }
    }))
    .await
}

async fn migrate(pool: &sqlx::PgPool, _event: LambdaEvent<Value>) -> Result<Value, Error> {
    MIGRATOR.run(pool).await?;
    let version = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    tracing::info!(version, "migrations applied");
    Ok(json!({ "schema_version": version }))
}
