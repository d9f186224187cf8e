use clap::{Parser, Subcommand};

/// Message dispatcher: the whole system in one process (the default), and tools.
#[derive(Debug, Parser)]
#[command(name = "local", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole system: PostgreSQL (DATABASE_URL or a private one), the API, the
    /// dispatch ticker, and a mock receiver when WEBHOOK_URL is unset. The default command.
    Serve,
    /// Apply, revert or list the database migrations (DATABASE_URL).
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Run one dispatch run now, as the schedule would (needs WEBHOOK_URL); prints its summary.
    Dispatch {
        /// Messages to claim in this run (default MESSAGE_BATCH_SIZE).
        #[arg(long)]
        batch_size: Option<u32>,
    },
    /// Measure the dispatcher, the database ceiling, the API and the functions; print a table
    /// and write bench-results.json. Uses DATABASE_URL's server (or the private one).
    Bench {
        /// Small sizes, for a quick smoke run.
        #[arg(long)]
        quick: bool,
        /// Measure only this part (default: all).
        #[arg(long, value_enum)]
        only: Option<BenchPart>,
        /// Take the function binaries from this folder instead of building release ones
        /// (the smoke test passes its debug build).
        #[arg(long, value_name = "DIR")]
        binaries: Option<std::path::PathBuf>,
    },
    /// Delete sent, failed and cancelled messages last changed more than MESSAGE_RETENTION_DAYS
    /// (or --days) ago, in chunks, with progress; pending and processing ones stay.
    Purge {
        /// Retention in days (default MESSAGE_RETENTION_DAYS).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=36500))]
        days: Option<u32>,
    },
    /// Insert realistic pending messages (default SEED_MESSAGE_COUNT).
    Seed {
        /// How many messages to create.
        #[arg(long)]
        count: Option<u32>,
    },
}

/// The benchmark's parts, for `bench --only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchPart {
    /// Dispatch throughput at batch 2, 100 and 1,000, and the database ceiling.
    Dispatch,
    /// Claim latency and the API under load, on a million-row table.
    Latency,
    /// The release functions: binary size, start-up time, peak memory.
    Functions,
    /// The retention purge of a million expired messages, with dispatch beside it.
    Retention,
    /// Claim p99, dispatch, create rate and sent page p99 with 1M and then 10M sent messages.
    History,
    /// 1, 2, 4 and 8 dispatch function processes against a receiver answering in 50 ms.
    Scaleout,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Revert the latest migration, or down to `--to VERSION` (0 reverts all).
    Down {
        #[arg(long)]
        to: Option<i64>,
    },
    /// List migrations and whether each is applied.
    Status,
}
