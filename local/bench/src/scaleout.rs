//! Scale-out: 1 to 8 dispatch function processes at once, each the release binary under its own
//! Lambda Runtime API emulator (Lambda runs one invocation per sandbox at a time), against a
//! receiver that answers in 50 ms, all sharing one Redis rate limit set far above what they
//! reach. More concurrent invocations is the path AWS takes when one is not enough.

use std::collections::BTreeMap;
use std::process::Child;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{ensure, Context};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::database::BenchDatabase;
use crate::functions::{self, Binaries};
use local::mock_receiver;
use testkit::lambda_runtime_emulator::Emulator;

/// The dispatch function's MemorySize in template.yaml: what Lambda bills GB-seconds of.
const TEMPLATE_MEMORY_MB: f64 = 256.0;

pub const RECEIVER_LATENCY: Duration = Duration::from_millis(50);
/// Each process's concurrent sends, as the template's dispatch function sets them.
const WORKERS: u32 = 64;
/// Claims per invocation: with 64 workers and 50 ms answers, about 0.4 s of sending.
const BATCH_SIZE: u32 = 500;

#[derive(Debug, Default, Serialize)]
pub struct ScaleoutFigures {
    /// By the number of dispatch processes at once.
    pub dispatch_scaleout: BTreeMap<usize, WithProcesses>,
    /// Eight processes' rate over one's (when eight ran).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispatch_scaleout_speedup_8: Option<f64>,
}

/// What one number of processes measured.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct WithProcesses {
    pub msgs_per_sec: f64,
    /// Invocation time (what Lambda bills) per 1,000 messages sent, summed over the processes.
    pub invocation_seconds_per_1000_msgs: f64,
    /// Lambda's billed unit per 1,000 messages at the template's memory size.
    pub gb_seconds_per_1000_msgs: f64,
}

/// Each number of processes in `counts`, each run for `window`.
pub async fn measure(
    db: &BenchDatabase,
    binaries: &Binaries,
    redis_url: &str,
    counts: &[usize],
    window: Duration,
) -> anyhow::Result<ScaleoutFigures> {
    eprintln!(
        "scale-out: dispatch processes against a receiver answering in {} ms ...",
        RECEIVER_LATENCY.as_millis()
    );
    let mut figures = ScaleoutFigures::default();
    for &processes in counts {
        let measured = with_processes(db, binaries, redis_url, processes, window).await?;
        eprintln!("  {processes} dispatch process(es): {:.0} msg/s", measured.msgs_per_sec);
        figures.dispatch_scaleout.insert(processes, measured);
    }
    let rate =
        |processes| figures.dispatch_scaleout.get(&processes).map(|at: &WithProcesses| at.msgs_per_sec);
    figures.dispatch_scaleout_speedup_8 = rate(8).zip(rate(1)).map(|(eight, one)| eight / one);
    Ok(figures)
}

/// The processes and their emulators; the processes are killed when it goes out of scope.
#[derive(Default)]
struct Fleet {
    emulators: Vec<Arc<Emulator>>,
    children: Vec<Child>,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn with_processes(
    db: &BenchDatabase,
    binaries: &Binaries,
    redis_url: &str,
    processes: usize,
    window: Duration,
) -> anyhow::Result<WithProcesses> {
    // Enough that no process runs dry: each sends at most WORKERS per receiver latency, and an
    // invocation started just before the window closes still finds its batch.
    let per_process = f64::from(WORKERS) / RECEIVER_LATENCY.as_secs_f64();
    let pending = (per_process * processes as f64 * window.as_secs_f64() * 1.5) as i64
        + i64::from(BATCH_SIZE) * processes as i64 * 2;
    db.only_pending(pending).await?;

    let stop = CancellationToken::new();
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let webhook = mock_receiver::spawn_slow(listener, stop.clone(), RECEIVER_LATENCY)?;
    let _stop_receiver = stop.drop_guard();
    let workers = WORKERS.to_string();
    let mut fleet = Fleet::default();
    for _ in 0..processes {
        let emulator = Emulator::start().await?;
        let started = Instant::now();
        fleet.children.push(functions::spawn_with(
            binaries,
            "dispatch",
            &emulator,
            db,
            &webhook,
            &[("REDIS_URL", redis_url), ("MESSAGE_WORKER_COUNT", workers.as_str())],
        )?);
        functions::wait_ready("dispatch", &emulator, started).await?;
        fleet.emulators.push(Arc::new(emulator));
    }

    let payload = format!(r#"{{"batch_size": {BATCH_SIZE}}}"#);
    let started = Instant::now();
    let mut drivers = JoinSet::new();
    for emulator in &fleet.emulators {
        let (emulator, payload) = (emulator.clone(), payload.clone());
        drivers.spawn(async move {
            let (mut sent, mut invoked) = (0, Duration::ZERO);
            while started.elapsed() < window {
                let invocation = Instant::now();
                let answer = emulator.invoke(&payload, Duration::from_secs(60)).await?;
                invoked += invocation.elapsed();
                let summary: serde_json::Value = serde_json::from_str(&answer)?;
                sent += summary["sent"].as_i64().context("the dispatch summary has no sent count")?;
            }
            Ok::<_, anyhow::Error>((sent, invoked))
        });
    }
    let (mut sent, mut invoked) = (0, Duration::ZERO);
    while let Some(driver) = drivers.join_next().await {
        let (driver_sent, driver_invoked) = driver??;
        sent += driver_sent;
        invoked += driver_invoked;
    }
    let elapsed = started.elapsed();
    drop(fleet);

    let recorded = db.count_messages("status = 'sent'").await?;
    ensure!(recorded == sent, "the processes reported {sent} sent; the table holds {recorded}");
    let left = db.count_messages("status NOT IN ('sent', 'pending')").await?;
    ensure!(left == 0, "{left} messages were left claimed or failed");
    ensure!(sent > 0, "{processes} process(es) sent nothing");
    let invocation_seconds_per_1000_msgs = invoked.as_secs_f64() / sent as f64 * 1000.0;
    Ok(WithProcesses {
        msgs_per_sec: sent as f64 / elapsed.as_secs_f64(),
        invocation_seconds_per_1000_msgs,
        gb_seconds_per_1000_msgs: invocation_seconds_per_1000_msgs * TEMPLATE_MEMORY_MB / 1024.0,
    })
}

#[cfg(test)]
mod tests {
    use super::TEMPLATE_MEMORY_MB;

    /// The MemorySize of the DispatchFunction resource (not the Globals' default).
    #[test]
    fn the_billed_memory_is_the_dispatch_functions_in_the_template() {
        let template = include_str!("../../../template.yaml");
        let resource = template.split("\n  DispatchFunction:").nth(1).expect("a DispatchFunction resource");
        let memory = resource
            .lines()
            .take_while(|line| !line.starts_with("  ") || line.starts_with("   "))
            .find_map(|line| line.trim().strip_prefix("MemorySize:"))
            .expect("the dispatch function sets its MemorySize");
        assert_eq!(memory.trim().parse::<f64>().unwrap(), TEMPLATE_MEMORY_MB);
    }
}
