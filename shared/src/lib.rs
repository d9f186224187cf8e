//! Everything the functions and the local harness share: domain types, configuration,
//! the repository, the webhook client, the rate limit, the Redis cache and the dispatcher.

pub mod aws_http_client;
pub mod batching;
pub mod config;
pub mod database_secret;
pub mod db;
pub mod deadline;
pub mod dispatch;
pub mod domain;
pub mod http;
pub mod lambda_init;
pub mod rate_limit;
pub mod redis_connection;
pub mod repository;
pub mod retry_policy;
pub mod scheduler;
pub mod sent_cache;
pub mod telemetry;
pub mod webhook;

pub use config::{Config, ConfigError};
