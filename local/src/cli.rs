use clap::{Parser, Subcommand};
use local::migrate::MigrateAction;

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
