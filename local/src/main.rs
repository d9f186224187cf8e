//! The local harness: the whole system in one process (`serve`, the default), and the
//! `migrate`, `seed`, `purge` and one-shot `dispatch` tools.

mod bench;
mod cli;
mod dispatch_once;
mod embedded_postgres;
mod harness_options;
mod migrate;
mod mock_receiver;
mod purge;
mod seed;
mod serve;

use std::process::ExitCode;

use clap::Parser;
use dispatcher_core::telemetry::{self, LogFormat};

use crate::cli::{Cli, Command};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The benchmark measures the system, not its log output: warnings only, unless asked.
    if matches!(cli.command, Some(Command::Bench { .. })) && std::env::var_os("RUST_LOG").is_none() {
        telemetry::init_with_filter(LogFormat::detect(), "warn");
    } else {
        telemetry::init(LogFormat::detect());
    }
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line, with the cause chain, and no secrets: errors carry redacted URLs only.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = dispatcher_core::Config::from_env()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let options = harness_options::from_env()?;
            serve::run(config, options).await
        }
        Command::Migrate { action } => migrate::run(&config, action).await,
        Command::Bench { quick, only, binaries } => {
            let options = harness_options::from_env()?;
            bench::run(config, options, bench::BenchOptions { quick, only, binaries }).await
        }
        Command::Dispatch { batch_size } => dispatch_once::run(&config, batch_size).await,
        Command::Purge { days } => purge::run(&config, days).await,
        Command::Seed { count } => {
            let count = match count {
                Some(count) => count,
                None => harness_options::seed_message_count()?,
            };
            seed::run(&config, count).await
        }
    }
}
