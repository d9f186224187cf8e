//! `local bench`: measures, in one run on one machine, the dispatcher next to the database's own
//! ceiling, the claim and API latencies at a million rows, and the functions' size, start-up
//! time and memory. Prints a table and writes `bench-results.json` with the same figures.

mod api;
mod claims;
mod database;
mod dispatch;
mod functions;
mod history;
mod http_load;
mod lambda_runtime_emulator;
mod minimal_ceiling;
mod purge;
mod report;
mod scaleout;

use std::time::Duration;

use dispatcher_core::Config;
use secrecy::ExposeSecret;

use crate::cli::BenchPart;
use crate::serve::HarnessOptions;

pub use report::Results;

/// The scale-out's shared rate limit lives here when REDIS_URL is unset (scripts/services
/// starts it).
const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Which parts to run (all by default); `--quick` shrinks the sizes for a smoke run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub quick: bool,
    pub only: Option<BenchPart>,
    /// Prebuilt function binaries to use instead of a release build.
    pub binaries: Option<std::path::PathBuf>,
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
    /// The two history sizes compared (1M and 10M sent messages).
    pub history_rows: [i64; 2],
    /// Dispatch processes at once, and how long each count runs.
    pub scaleout_processes: &'static [usize],
    pub scaleout_window: Duration,
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
                history_rows: [20_000, 100_000],
                scaleout_processes: &[1, 2],
                scaleout_window: Duration::from_secs(1),
            }
        } else {
            Self {
                drain: 50_000,
                sent_rows: 1_000_000,
                pending_rows: 100_000,
                api_duration: Duration::from_secs(10),
                rss_messages: 10_000,
                expired_rows: 1_000_000,
                history_rows: [1_000_000, 10_000_000],
                scaleout_processes: &[1, 2, 4, 8],
                scaleout_window: Duration::from_secs(5),
            }
        }
    }

    /// Claims of 100 timed on the pending rows: half of them, within 10..=300.
    fn claim_samples(&self) -> usize {
        (self.pending_rows / 100 / 2).clamp(10, 300) as usize
    }
}

pub async fn run(config: Config, options: HarnessOptions, bench: BenchOptions) -> anyhow::Result<()> {
    let sizes = Sizes::new(bench.quick);
    let server = database::BenchDatabase::open(&config, &options).await?;
    let mut results = Results::default();
    let outcome = measure(&server, &sizes, &bench, &config, &mut results).await;
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
    bench: &BenchOptions,
    config: &Config,
    results: &mut Results,
) -> anyhow::Result<()> {
    let binaries = if bench.runs(BenchPart::Functions) || bench.runs(BenchPart::Scaleout) {
        let binaries = match &bench.binaries {
            Some(dir) => functions::Binaries::prebuilt(dir),
            None => {
                eprintln!("building the release functions ...");
                functions::build_release()?
            }
        };
        if bench.runs(BenchPart::Functions) {
            results.binary_bytes = functions::sizes(&binaries)?;
        }
        Some(binaries)
    } else {
        None
    };

    if bench.runs(BenchPart::Dispatch) {
        if let Some(signer) = &config.webhook.signer {
            eprintln!("dispatch: signing every request with {} secret(s)", signer.secret_count());
        }
        for batch in [2u32, 100, 1000] {
            eprintln!("dispatch: draining {} messages at batch {batch} ...", sizes.drain);
            db.only_pending(sizes.drain).await?;
            let rate = dispatch::drain(db, sizes.drain, batch, config.webhook.signer.as_ref()).await?;
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
        let (p50, p99) = claims::latency(db, 100, sizes.claim_samples()).await?;
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

    if bench.runs(BenchPart::History) {
        for rows in sizes.history_rows {
            eprintln!("history: {rows} sent messages: claim p99, dispatch, create rate, sent page p99 ...");
            results.history.push(history::measure(db, rows, sizes).await?);
        }
    }

    if let (true, Some(binaries)) = (bench.runs(BenchPart::Scaleout), &binaries) {
        let redis = config.redis_url.as_ref().map_or(DEFAULT_REDIS_URL, |url| url.expose_secret());
        eprintln!(
            "scale-out: dispatch processes against a receiver answering in {} ms ...",
            scaleout::RECEIVER_LATENCY.as_millis()
        );
        results.scaleout =
            scaleout::measure(db, binaries, redis, sizes.scaleout_processes, sizes.scaleout_window).await?;
    }

    if let (true, Some(binaries)) = (bench.runs(BenchPart::Functions), binaries) {
        eprintln!("functions: start-up time and peak memory ...");
        db.reset().await?;
        results.init_ms = functions::init_times(db, &binaries).await?;
        results.dispatch_peak_rss_mb =
            functions::dispatch_peak_rss(db, &binaries, sizes.rss_messages).await?;
    }
    Ok(())
}
