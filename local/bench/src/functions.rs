//! The three function binaries: release size, start-up time under a Lambda Runtime API, and the
//! dispatch function's peak memory while it sends.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use local::mock_receiver;
use secrecy::ExposeSecret;
use serde::Serialize;
use testkit::lambda_runtime_emulator::Emulator;
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::database::BenchDatabase;
use crate::percentile::percentile;

pub const FUNCTIONS: [&str; 3] = ["api", "dispatch", "migrate"];

#[derive(Debug, Default, Serialize)]
pub struct FunctionFigures {
    /// By function.
    pub binary_bytes: BTreeMap<String, u64>,
    /// Milliseconds from process start to ready to serve, by function.
    pub init_ms: BTreeMap<String, f64>,
    pub dispatch_peak_rss_mb: f64,
}

/// Sizes, start-up times and the dispatch function's peak memory sending `rss_messages`.
pub async fn measure(
    db: &BenchDatabase,
    binaries: &Binaries,
    rss_messages: i64,
) -> anyhow::Result<FunctionFigures> {
    eprintln!("functions: start-up time and peak memory ...");
    db.reset().await?;
    Ok(FunctionFigures {
        binary_bytes: sizes(binaries)?,
        init_ms: init_times(db, binaries).await?,
        dispatch_peak_rss_mb: dispatch_peak_rss(db, binaries, rss_messages).await?,
    })
}

pub struct Binaries {
    dir: PathBuf,
}

impl Binaries {
    /// Binaries already built in `dir` (a target's `release` or `debug` folder).
    pub fn prebuilt(dir: &std::path::Path) -> Self {
        Self { dir: dir.to_path_buf() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// `cargo build --release` of the three functions, in this workspace's target folder.
pub fn build_release() -> anyhow::Result<Binaries> {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(&workspace).args(["build", "--release", "--quiet"]);
    for name in FUNCTIONS {
        command.args(["-p", name]);
    }
    let status = command.status().context("running cargo build --release")?;
    if !status.success() {
        bail!("cargo build --release of the functions failed");
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace.join("target"));
    Ok(Binaries { dir: target.join("release") })
}

fn sizes(binaries: &Binaries) -> anyhow::Result<BTreeMap<String, u64>> {
    FUNCTIONS
        .iter()
        .map(|name| {
            let bytes = std::fs::metadata(binaries.path(name))
                .with_context(|| format!("no release binary {name}"))?
                .len();
            Ok((name.to_string(), bytes))
        })
        .collect()
}

/// Starts a function binary under `emulator` with the benchmark's database.
fn spawn(
    binaries: &Binaries,
    name: &str,
    emulator: &Emulator,
    db: &BenchDatabase,
    webhook: &str,
) -> anyhow::Result<Child> {
    spawn_with(binaries, name, emulator, db, webhook, &[])
}

/// As [`spawn`], with `extra` environment variables (REDIS_URL, ...), set last so that they
/// override the defaults above them.
pub fn spawn_with(
    binaries: &Binaries,
    name: &str,
    emulator: &Emulator,
    db: &BenchDatabase,
    webhook: &str,
    extra: &[(&str, &str)],
) -> anyhow::Result<Child> {
    Command::new(binaries.path(name))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &emulator.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("DATABASE_URL", db.url.expose_secret())
        .env("WEBHOOK_URL", webhook)
        .env("WEBHOOK_RATE_LIMIT_PER_SECOND", "1000000")
        .env("MESSAGE_WORKER_COUNT", "64")
        .env("RUST_LOG", "warn")
        .envs(extra.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {name}"))
}

/// When the function started under `emulator` at `started` first asked for work (it is ready);
/// an error naming what it reported at `init/error` if it did not within 10 s.
pub async fn wait_ready(name: &str, emulator: &Emulator, started: Instant) -> anyhow::Result<Instant> {
    let deadline = started + Duration::from_secs(10);
    loop {
        if let Some(at) = emulator.first_poll() {
            return Ok(at);
        }
        if Instant::now() > deadline {
            let reported = emulator.init_error().unwrap_or_else(|| "nothing reported".into());
            bail!("{name} did not ask for work within 10 s (init error: {reported})");
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

/// Median of 5 starts, process start to the first request for work.
async fn init_times(db: &BenchDatabase, binaries: &Binaries) -> anyhow::Result<BTreeMap<String, f64>> {
    let mut results = BTreeMap::new();
    for name in ["api", "dispatch"] {
        let mut samples = Vec::new();
        for _ in 0..5 {
            let emulator = Emulator::start().await?;
            let started = Instant::now();
            let mut child = spawn(binaries, name, &emulator, db, "http://127.0.0.1:9/unused")?;
            let ready = wait_ready(name, &emulator, started).await;
            let _ = child.kill();
            let _ = child.wait();
            let ready = ready?;
            samples.push((ready - started).as_secs_f64() * 1000.0);
        }
        results.insert(name.to_string(), percentile(&mut samples, 50.0));
    }
    Ok(results)
}

/// Peak resident memory (VmHWM) of the dispatch function while it sends `messages` messages.
async fn dispatch_peak_rss(db: &BenchDatabase, binaries: &Binaries, messages: i64) -> anyhow::Result<f64> {
    db.only_pending(messages).await?;
    let stop = CancellationToken::new();
    let webhook = mock_receiver::spawn_quiet(TcpListener::bind("127.0.0.1:0").await?, stop.clone())?;
    let emulator = Emulator::start().await?;
    let mut child = spawn(binaries, "dispatch", &emulator, db, &webhook)?;
    let pid = child.id();
    let outcome = async {
        loop {
            let answer = emulator.invoke(r#"{"batch_size": 1000}"#, Duration::from_secs(120)).await?;
            let summary: serde_json::Value = serde_json::from_str(&answer)?;
            if summary["claimed"].as_i64().unwrap_or(0) == 0 {
                return Ok::<_, anyhow::Error>(());
            }
        }
    }
    .await;
    let peak_kb = std::fs::read_to_string(format!("/proc/{pid}/status")).ok().and_then(|status| {
        status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse::<f64>().ok()
    });
    let _ = child.kill();
    let _ = child.wait();
    stop.cancel();
    outcome?;
    let sent = db.count_messages("status = 'sent'").await?;
    anyhow::ensure!(sent == messages, "the dispatch function sent {sent} of {messages}");
    Ok(peak_kb.context("cannot read VmHWM")? / 1024.0)
}
