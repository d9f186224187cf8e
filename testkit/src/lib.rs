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

/// A loopback port free now, for a process a test starts that must be told its port (prefer
/// binding port 0 where the code allows it). Taken below the kernel's ephemeral range (32768 and
/// up here): a port from port 0 is an ephemeral one, and before the process binds it, any
/// outgoing connection of a concurrent test may get it as its source port ("Address already in
/// use"). Each call in a process takes another port; processes start at different places.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const FIRST: u32 = 20_000;
    const PORTS: u32 = 12_000;
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id().wrapping_mul(2_654_435_761)
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos();
    for _ in 0..PORTS {
        // 7,919 is prime, so a process's calls walk every port of the range before repeating one.
        let offset = start.wrapping_add(CALLS.fetch_add(7_919, Ordering::Relaxed)) % PORTS;
        let port = u16::try_from(FIRST + offset).unwrap();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port in {FIRST}..{}", FIRST + PORTS)
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
