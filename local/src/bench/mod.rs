//! `local bench`: measures, in one run on one machine, the dispatcher next to the database's own
//! ceiling, the claim and API latencies at a million rows, and the functions' size, start-up
//! time and memory. Prints a table and writes `bench-results.json` with the same figures.

mod api;
mod claims;
mod database;
mod dispatch;
mod functions;
mod http_load;
mod lambda_runtime_emulator;
mod minimal_ceiling;
mod purge;
mod report;

use std::time::Duration;

use shared::Config;

use crate::cli::BenchPart;
use crate::serve::HarnessOptions;

pub use report::Results;

/// Which parts to run (all by default); `--quick` shrinks the sizes for a smoke run.
#[derive(Debug, Clone, Copy)]
pub struct BenchOptions {
    pub quick: bool,
    pub only: Option<BenchPart>,
}

impl BenchOptions {
    fn runs(&self, part: BenchPart) -> bool {
        self.only.is_none_or(|only| only == part)
    }
}

pub struct Sizes {
    pub drain: i64,
    pub sent_rows: i64,
    pub pending_rows: i64,
    pub api_duration: Duration,
    pub rss_messages: i64,
    /// Expired messages the retention purge deletes.
    pub expired_rows: i64,
}

impl Sizes {
    fn new(quick: bool) -> Self {
        if quick {
            Self {
                drain: 5_000,
                sent_rows: 50_000,
                pending_rows: 10_000,
                api_duration: Duration::from_secs(2),
                rss_messages: 2_000,
                expired_rows: 20_000,
            }
        } else {
            Self {
                drain: 50_000,
                sent_rows: 1_000_000,
                pending_rows: 100_000,
                api_duration: Duration::from_secs(10),
                rss_messages: 10_000,
                expired_rows: 1_000_000,
            }
        }
    }
}

pub async fn run(config: Config, options: HarnessOptions, bench: BenchOptions) -> anyhow::Result<()> {
    let sizes = Sizes::new(bench.quick);
    let server = database::BenchDatabase::open(&config, &options).await?;
    let mut results = Results::default();
    let outcome = measure(&server, &sizes, bench, &config, &mut results).await;
    server.close().await;
    outcome?;
    results.print_table();
    results.write_json("bench-results.json")?;
    println!("wrote bench-results.json");
    Ok(())
}

async fn measure(
    db: &database::BenchDatabase,
    sizes: &Sizes,
    bench: BenchOptions,
    config: &Config,
    results: &mut Results,
) -> anyhow::Result<()> {
    let binaries = if bench.runs(BenchPart::Functions) {
        eprintln!("building the release functions ...");
        let binaries = functions::build_release()?;
        results.binary_bytes = functions::sizes(&binaries)?;
        Some(binaries)
    } else {
        None
    };

    if bench.runs(BenchPart::Dispatch) {
        if let Some(signer) = &config.webhook_signer {
            eprintln!("dispatch: signing every request with {} secret(s)", signer.secret_count());
        }
        for batch in [2u32, 100, 1000] {
            eprintln!("dispatch: draining {} messages at batch {batch} ...", sizes.drain);
            let rate = dispatch::throughput(db, sizes.drain, batch, config.webhook_signer.as_ref()).await?;
            results.dispatch.push((batch, rate));
        }
        eprintln!("database ceiling: the same claim and record SQL without HTTP ...");
        results.pg_claim_ceiling_rows_per_sec = dispatch::ceiling(db, sizes.drain, 1000).await?;
        eprintln!("database minimum: a FIFO claim and one UPDATE on a table with two indexes ...");
        results.pg_minimal_ceiling_rows_per_sec =
            minimal_ceiling::rows_per_sec(db, sizes.drain, 1000).await?;
    }

    if bench.runs(BenchPart::Retention) {
        eprintln!(
            "retention: purging {} expired messages while {} are dispatched ...",
            sizes.expired_rows, sizes.drain
        );
        let figures = purge::measure(db, sizes.expired_rows, sizes.drain).await?;
        results.purge_rows_per_sec = figures.purge_rows_per_sec;
        results.dispatch_msgs_per_sec_during_purge = figures.dispatch_msgs_per_sec_during;
    }

    if bench.runs(BenchPart::Latency) {
        eprintln!("filling {} sent and {} pending rows ...", sizes.sent_rows, sizes.pending_rows);
        db.fill(sizes.sent_rows, sizes.pending_rows).await?;
        let samples = (sizes.pending_rows / 100 / 2).clamp(10, 300) as usize;
        let (p50, p99) = claims::latency(db, 100, samples).await?;
        results.claim_p50_ms = p50;
        results.claim_p99_ms = p99;

        eprintln!("API at concurrency 64 ...");
        let api = api::measure(db, sizes.api_duration, 64).await?;
        results.api_create_rps = api.create_rps;
        results.api_sent_page_rps = api.sent_page_rps;
        results.api_sent_page_p50_ms = api.sent_page_p50_ms;
        results.api_sent_page_p99_ms = api.sent_page_p99_ms;
        results.api_list_deep_page_p99_ms = api.list_deep_page_p99_ms;
    }

    if let Some(binaries) = binaries {
        eprintln!("functions: start-up time and peak memory ...");
        db.reset().await?;
        results.init_ms = functions::init_times(db, &binaries).await?;
        results.dispatch_peak_rss_mb =
            functions::dispatch_peak_rss(db, &binaries, sizes.rss_messages).await?;
    }
    Ok(())
}
