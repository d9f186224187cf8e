//! `local dispatch`: one run of the very dispatcher the Lambda uses, from the command line.

use dispatcher_core::config::MAX_BATCH_SIZE;
use dispatcher_core::dispatch::{Dispatcher, RunLimits};
use dispatcher_core::{db, Config};

pub async fn run(config: &Config, batch_size: Option<u32>) -> anyhow::Result<()> {
    if let Some(size) = batch_size.filter(|size| !(1..=MAX_BATCH_SIZE).contains(size)) {
        anyhow::bail!("--batch-size must be from 1 to {MAX_BATCH_SIZE}, got {size}");
    }
    let pool = db::connect(&config.database, 4).await?;
    let dispatcher = Dispatcher::from_config(config, pool)?;
    let limits = RunLimits { batch_size, budget: config.dispatch.lease };
    let summary = dispatcher.run_once(limits).await?;
    println!("{}", serde_json::to_string(&summary)?);
    Ok(())
}
