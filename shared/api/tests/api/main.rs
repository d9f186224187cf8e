//! dispatcher-api's integration tests: the router driven in-process against the real
//! PostgreSQL, the scheduler backends against moto, one binary with a module per concern.
//! What every suite of the workspace needs lives in the `testkit` crate; what only these tests
//! need, in `support`.
#![allow(clippy::unwrap_used)]

mod support;

mod attempts;
mod batch;
mod bulk_retry;
mod campaigns;
mod create_rules;
mod document_strictness;
mod health;
mod messages;
mod metrics;
mod openapi;
mod operations;
mod receipts;
mod reliability_load;
mod request_batching;
mod request_id;
mod scheduler;
mod scheduler_eventbridge;
mod schemathesis;
