//! What every test suite of the workspace needs, in one dev-only crate (River keeps
//! `riversharedtest` for the same reason): a real webhook receiver on 127.0.0.1, scratch
//! databases dropped even when a test fails, a message factory, the real dispatcher with
//! test-sized settings, the messages table held locked, moto's server standing in for AWS, a
//! private Redis, and a stand-in for CloudFormation's ResponseURL.
//!
//! It panics on any failure: a test helper that cannot do its job fails the test.
#![allow(clippy::unwrap_used)]

pub mod cloudformation;
pub mod database;
pub mod dispatch;
pub mod lambda_runtime_emulator;
pub mod log_capture;
pub mod messages;
pub mod moto;
pub mod receiver;
pub mod redis;
pub mod table_lock;

use std::future::Future;
use std::time::{Duration, Instant};

pub use database::ScratchDatabase;
pub use receiver::{Received, Receiver, Reply};

/// A loopback port free now (another process may take it before it is bound: prefer binding
/// port 0 where the code allows it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Runs every task at once, each spawned on the runtime as separate callers would be, and
/// returns their results in order; a task that panics fails the test.
pub async fn concurrently<T, Task>(tasks: impl IntoIterator<Item = Task>) -> Vec<T>
where
    T: Send + 'static,
    Task: Future<Output = T> + Send + 'static,
{
    let handles: Vec<_> = tasks.into_iter().map(tokio::spawn).collect();
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.await.unwrap());
    }
    results
}

/// Sends `request` and reads its answer's JSON body, whatever the status.
pub async fn json_answer(request: reqwest::RequestBuilder) -> serde_json::Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// Polls `check` every 100 ms until it is true; fails the test after `limit`.
pub async fn wait_until<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
