//! The local crate's black-box tests: one binary, a module per concern, against real processes
//! (the harness binary, PostgreSQL, Redis, a receiver on 127.0.0.1). bench.rs and
//! cargo_lambda.rs are binaries of their own: each builds and runs whole programs and would
//! slow anything running beside it.
#![allow(clippy::unwrap_used)]

mod support;

mod cli;
mod dashboard_browser;
mod deployment;
mod harness;
mod reliability;
mod sam_artifact;
mod security;
