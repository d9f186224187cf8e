//! Claim latency on a big table: `claim_batch(100)` with a million sent rows and a hundred
//! thousand pending ones.

use std::time::{Duration, Instant};

use dispatcher_core::repository::claims;

use super::database::BenchDatabase;
use super::report::percentile;

pub async fn latency(db: &BenchDatabase, batch: u32, samples: usize) -> anyhow::Result<(f64, f64)> {
    let mut timings = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        let claimed = claims::claim_batch(&db.pool, batch, Duration::from_secs(60)).await?;
        timings.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(claimed.len() == batch as usize, "the table ran out of pending rows");
    }
    Ok((percentile(&mut timings, 50.0), percentile(&mut timings, 99.0)))
}
