//! What every function needs: domain types, configuration, the database, the repository, the
//! webhook client, the rate limit, the Redis cache and the dispatcher. The HTTP API lives in
//! `dispatcher-api`; the dispatch and migrate functions depend on this crate alone, so they
//! never compile an HTTP server, the OpenAPI document or the Scheduler and Lambda SDKs.

pub mod aws_http_client;
pub mod batching;
pub mod config;
pub mod database_secret;
pub mod db;
pub mod deadline;
pub mod dispatch;
pub mod domain;
pub mod lambda_init;
pub mod rate_limit;
pub mod redis_connection;
pub mod repository;
pub mod retry_policy;
pub mod sent_cache;
pub mod telemetry;
pub mod webhook;

pub use config::{Config, ConfigError};
