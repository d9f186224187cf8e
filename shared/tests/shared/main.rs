//! shared's integration tests: one binary, a module per concern (as zero-to-production's
//! `tests/api/main.rs`), against the real PostgreSQL and Redis. What every suite of the workspace
//! needs lives in the `testkit` crate; what only these tests need, in `support`.
//! (database_secret.rs is a binary of its own: it sets the process's AWS environment.)
#![allow(clippy::unwrap_used)]

mod support;

mod db_pool;
mod dispatch_concurrency;
mod dispatch_outcomes;
mod dispatch_redis;
mod dispatch_secrets;
mod dispatch_stalls;
mod dispatch_wire;
mod http_batch;
mod http_bulk_retry;
mod http_health;
mod http_messages;
mod http_metrics;
mod http_openapi;
mod http_operations;
mod http_request_id;
mod http_scheduler;
mod http_schemathesis;
mod migrations;
mod parsers_properties;
mod receiver_breaker;
mod reliability_load;
mod repository_claims;
mod repository_messages;
mod request_batching;
mod retention;
mod scheduler_eventbridge;
mod webhook_signatures;
