//! dispatcher-core's integration tests: one binary, a module per concern (as zero-to-production's
//! `tests/api/main.rs`), against the real PostgreSQL and Redis. What every suite of the workspace
//! needs lives in the `testkit` crate; what only these tests need, in `support`.
//! (database_secret.rs is a binary of its own: it sets the process's AWS environment.)
#![allow(clippy::unwrap_used)]

mod support;

mod attempt_log;
mod breaker_scenarios;
mod bulk_cancel;
mod db_pool;
mod dispatch_concurrency;
mod dispatch_outcomes;
mod dispatch_redis;
mod dispatch_secrets;
mod dispatch_stalls;
mod dispatch_wire;
mod expiry;
mod lanes;
mod migrations;
mod parsers_properties;
mod queue_health;
mod receipts;
mod receiver_breaker;
mod repository_claims;
mod repository_messages;
mod retention;
mod webhook_signatures;
