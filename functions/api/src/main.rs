//! The api Lambda: pool and clients built once at init, then the shared router per request.

use std::sync::Arc;

use dispatcher_api::scheduler;
use dispatcher_api::{router, AppState};
use dispatcher_core::redis_connection::RedisConnection;
use dispatcher_core::telemetry::{self, LogFormat};
use dispatcher_core::{db, lambda_init, Config};

/// Requests are served one at a time per instance; a few connections cover the handlers' queries.
const POOL_SIZE: u32 = 3;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init(LogFormat::detect());
    let state = lambda_init::or_exit(set_up()).await;
    lambda_http::run(router(state)).await
}

/// Configuration, the database (its URL from DATABASE_SECRET_ARN on AWS), Redis, the scheduler.
async fn set_up() -> anyhow::Result<AppState> {
    let config = Config::from_env()?;
    let pool = db::connect(&config.database, POOL_SIZE).await?;
    let redis = config.redis_url.as_ref().map(RedisConnection::lazy).transpose()?;
    let scheduler = scheduler::from_config(&config, pool.clone()).await?;
    Ok(AppState::new(pool, redis, Arc::new(config), scheduler))
}
