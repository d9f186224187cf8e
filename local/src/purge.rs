//! `local purge`: the retention purge on demand (MESSAGE_RETENTION_DAYS, or `--days`), chunk
//! by chunk until nothing past the retention is left, with progress. The dispatch path does the same a
//! bounded amount a minute; this is for a first clean-up of years of history.

use std::time::Instant;

use anyhow::bail;
use dispatcher_core::repository::retention::purge_past;
use dispatcher_core::{db, Config};
use indicatif::{ProgressBar, ProgressStyle};

pub async fn run(config: &Config, days: Option<u32>) -> anyhow::Result<()> {
    let days = days.unwrap_or(config.dispatch.retention_days);
    if days == 0 {
        bail!("nothing to purge by: set MESSAGE_RETENTION_DAYS or pass --days N (N >= 1)");
    }
    let pool = db::connect(&config.database, 2).await?;
    let cutoff = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
    let progress = ProgressBar::new_spinner();
    progress.set_style(ProgressStyle::with_template("{spinner} {msg}")?);
    let started = Instant::now();
    let purged = purge_past(&pool, cutoff, None, |purged| {
        let rate = purged as f64 / started.elapsed().as_secs_f64().max(0.001);
        progress.set_message(format!("{purged} messages purged ({rate:.0}/s)"));
        progress.tick();
    })
    .await?;
    progress.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "purged {purged} sent, failed and cancelled messages last changed before {} ({days} days) in {seconds:.1} s",
        cutoff.format("%Y-%m-%d %H:%M:%S UTC")
    );
    Ok(())
}
