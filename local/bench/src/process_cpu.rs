//! The dispatcher's own CPU per message: the bench process drains a backlog while the receiver
//! answers from a child process (this binary again, `--serve-receiver`), so the process's user
//! and system time is the dispatcher's alone (its runtime, HTTP client, driver and logging).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::ensure;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::database::BenchDatabase;
use crate::dispatch::{self, Drain};
use crate::percentile::percentile;

#[derive(Debug, Default, Serialize)]
pub struct CpuFigures {
    /// User + system CPU of the dispatching process per message sent at batch 1,000 (the
    /// receiver answering from another process), in microseconds: the median of five drains.
    pub dispatch_cpu_us_per_msg: f64,
}

pub async fn measure(db: &BenchDatabase, total: i64) -> anyhow::Result<CpuFigures> {
    Ok(CpuFigures { dispatch_cpu_us_per_msg: cpu_per_message(db, total, 1000, 5).await? })
}

/// Microseconds of this process's CPU per message while it drains `total` at `batch`, the
/// receiver answering from a child process: the median of `drains`.
pub async fn cpu_per_message(
    db: &BenchDatabase,
    total: i64,
    batch: u32,
    drains: usize,
) -> anyhow::Result<f64> {
    eprintln!("dispatch: CPU per message, the receiver in another process ({drains} drains) ...");
    let receiver = ChildReceiver::start().await?;
    let dispatcher = dispatch::dispatcher(db, &receiver.url, Drain::at(batch))?;
    let mut samples = Vec::with_capacity(drains);
    for _ in 0..drains {
        db.only_pending(total).await?;
        let before = cpu_seconds()?;
        dispatch::run_until_idle(&dispatcher).await?;
        let used = cpu_seconds()? - before;
        let sent = db.count_messages("status = 'sent'").await?;
        ensure!(sent == total, "{sent} of {total} messages were sent");
        samples.push(used * 1e6 / total as f64);
    }
    Ok(percentile(&mut samples, 50.0))
}

/// Clock ticks per second of /proc's times (USER_HZ: 100 on every Linux architecture we run on).
const TICKS_PER_SECOND: f64 = 100.0;

/// This process's user + system CPU time so far, in seconds (from /proc/self/stat).
pub fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis are
    // numbered from 3: utime is the 14th field, stime the 15th.
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| -> anyhow::Result<f64> {
        let field =
            fields.get(index).ok_or_else(|| anyhow::anyhow!("/proc/self/stat has no field {}", index + 3))?;
        Ok(field.parse::<f64>()?)
    };
    Ok((ticks(11)? + ticks(12)?) / TICKS_PER_SECOND)
}

/// The quiet receiver in a child process; killed when dropped.
pub struct ChildReceiver {
    child: Child,
    pub url: String,
}

impl ChildReceiver {
    pub async fn start() -> anyhow::Result<Self> {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
            probe.local_addr()?.port()
        };
        let child = Command::new(std::env::current_exe()?)
            .args(["--serve-receiver", &port.to_string()])
            .stdout(Stdio::null())
            .spawn()?;
        let url = format!("http://127.0.0.1:{port}/webhook");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Ok(Self { child, url });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("the receiver process did not listen on port {port}")
    }
}

impl Drop for ChildReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What `--serve-receiver PORT` runs: the quiet receiver until the process is killed.
pub async fn serve_receiver(port: u16) -> anyhow::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    local::mock_receiver::spawn_quiet(listener, CancellationToken::new())?;
    std::future::pending::<()>().await;
    Ok(())
}
