//! `bench`: measures, in one run on one machine, the dispatcher next to the database's own
//! ceilings, the claim and API latencies at a million rows, the cost as history grows, scale-out,
//! and the functions' size, start-up time and memory. Prints a table and writes
//! `bench-results.json` with the same figures (see `results`).

/// mimalloc, not glibc malloc: 5 to 10 % less CPU per message sent (BENCHMARKS.md); the
/// bench measures the dispatcher with the allocator the dispatch function has.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod api;
mod campaigns;
mod claims;
mod database;
mod dispatch;
mod expiry;
mod functions;
mod history;
mod http_load;
mod minimal_ceiling;
mod percentile;
mod process_cpu;
mod purge;
mod queue_health;
mod receipts;
mod results;
mod scaleout;
mod sizes;
mod sql_cost;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use dispatcher_core::telemetry::{self, LogFormat};
use dispatcher_core::Config;
use local::HarnessOptions;
use secrecy::ExposeSecret;

use crate::database::BenchDatabase;
use crate::results::Results;
use crate::sizes::Sizes;

/// The scale-out's shared rate limit lives here when REDIS_URL is unset (scripts/services
/// starts it).
const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Measure the dispatcher, the database's ceilings, the API, history, scale-out and the
/// functions; print a table and write bench-results.json. Uses DATABASE_URL's server (or the
/// harness's private PostgreSQL) through a scratch database it drops at the end.
#[derive(Debug, Parser)]
#[command(name = "bench", version, about)]
struct Cli {
    /// Small sizes, for a quick smoke run.
    #[arg(long)]
    quick: bool,
    /// Measure only this part (default: all).
    #[arg(long, value_enum)]
    only: Option<Part>,
    /// Take the function binaries from this folder instead of building release ones
    /// (the smoke test passes its debug build).
    #[arg(long, value_name = "DIR")]
    binaries: Option<PathBuf>,
    /// Serve the quiet receiver on this port until killed (the CPU measurement's child process).
    #[arg(long, hide = true, value_name = "PORT")]
    serve_receiver: Option<u16>,
}

/// The benchmark's parts, for `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Part {
    /// Dispatch throughput at batch 2, 100 and 1,000, and the database's ceilings.
    Dispatch,
    /// Claim latency and the API under load, on a million-row table.
    Latency,
    /// The release functions: binary size, start-up time, peak memory.
    Functions,
    /// The retention purge of a million messages past the retention, with dispatch beside it.
    Retention,
    /// Delivery receipts through the API: 8 clients, 1,000 receipts a request, 1M sent messages.
    Receipts,
    /// A backlog of 100,000 messages past their expiry, expired by the runs that send the others.
    Expiry,
    /// Claims next to a million scheduled and 200,000 retry-waiting messages, and dispatch
    /// while a REPEATABLE READ snapshot is held open.
    QueueHealth,
    /// Claim p99, dispatch, create rate and sent page p99 with 1M and then 10M sent messages.
    History,
    /// 1, 2, 4 and 8 dispatch function processes against a receiver answering in 50 ms.
    Scaleout,
    /// The dispatching process's CPU per message, the receiver in another process.
    DispatchCpu,
    /// Where our claim and record SQL's time goes: the database ceiling with one piece of the
    /// schema taken away at a time.
    SqlCost,
    /// Lanes and campaigns: a code's wait behind a million low messages, claims beside them, a
    /// campaign's stats in ten million rows, the bulk cancel of a million beside dispatch.
    Campaigns,
}

impl Cli {
    fn runs(&self, part: Part) -> bool {
        self.only.is_none_or(|only| only == part)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // The benchmark's output is its figures: errors only (its bulk fills would otherwise log
    // sqlx's slow-statement warnings), unless RUST_LOG asks for more.
    telemetry::init_with_filter(LogFormat::detect(), "error");
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(port) = cli.serve_receiver {
        return process_cpu::serve_receiver(port).await;
    }
    let config = Config::from_env()?;
    let options = HarnessOptions::from_env()?;
    let sizes = Sizes::new(cli.quick);
    let db = BenchDatabase::open(&config, &options).await?;
    let mut results = Results::default();
    let outcome = measure(&db, &sizes, &cli, &config, &mut results).await;
    db.close().await;
    outcome?;
    results.print_table()?;
    results.write_json("bench-results.json")?;
    println!("wrote bench-results.json");
    Ok(())
}

async fn measure(
    db: &BenchDatabase,
    sizes: &Sizes,
    cli: &Cli,
    config: &Config,
    results: &mut Results,
) -> anyhow::Result<()> {
    let binaries = if cli.runs(Part::Functions) || cli.runs(Part::Scaleout) {
        Some(match &cli.binaries {
            Some(dir) => functions::Binaries::prebuilt(dir),
            None => {
                eprintln!("building the release functions ...");
                functions::build_release()?
            }
        })
    } else {
        None
    };
    if cli.runs(Part::Dispatch) {
        results.dispatch = Some(dispatch::measure(db, sizes, config.webhook.signer.as_ref()).await?);
    }
    if cli.runs(Part::Retention) {
        results.retention = Some(purge::measure(db, sizes.purge_rows, sizes.drain).await?);
    }
    if cli.runs(Part::Receipts) {
        results.receipts = Some(receipts::measure(db, sizes).await?);
    }
    if cli.runs(Part::Expiry) {
        results.expiry = Some(expiry::measure(db, sizes.expiry_backlog, sizes.drain).await?);
    }
    if cli.runs(Part::QueueHealth) {
        results.queue_health = Some(queue_health::measure(db, &sizes.queue).await?);
    }
    if cli.runs(Part::DispatchCpu) {
        results.cpu = Some(process_cpu::measure(db, sizes.drain).await?);
    }
    if cli.runs(Part::SqlCost) {
        results.sql_cost = Some(sql_cost::measure(db, sizes.drain, if cli.quick { 1 } else { 3 }).await?);
    }
    if cli.runs(Part::Campaigns) {
        results.campaigns = Some(campaigns::measure(db, &sizes.campaigns).await?);
    }
    if cli.runs(Part::Latency) {
        eprintln!("filling {} sent and {} pending rows ...", sizes.sent_rows, sizes.pending_rows);
        db.fill(sizes.sent_rows, sizes.pending_rows).await?;
        results.latency = Some(claims::latency_and_api(db, sizes).await?);
    }
    if cli.runs(Part::History) {
        results.history = Some(history::measure(db, sizes).await?);
    }
    if let (true, Some(binaries)) = (cli.runs(Part::Scaleout), &binaries) {
        let redis = config.redis_url.as_ref().map_or(DEFAULT_REDIS_URL, |url| url.expose_secret());
        results.scaleout = Some(
            scaleout::measure(db, binaries, redis, sizes.scaleout_processes, sizes.scaleout_window).await?,
        );
    }
    if let (true, Some(binaries)) = (cli.runs(Part::Functions), binaries) {
        results.functions = Some(functions::measure(db, &binaries, sizes.rss_messages).await?);
    }
    Ok(())
}
