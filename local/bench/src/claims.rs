//! Claim latency on a big table: `claim_batch(100)` with a million sent rows and a hundred
//! thousand pending ones, and the API under load beside the same rows.

use std::time::{Duration, Instant};

use dispatcher_core::repository::claim_cursor::ClaimCursor;
use serde::Serialize;

use crate::api::{self, ApiFigures};
use crate::database::BenchDatabase;
use crate::percentile::percentile;
use crate::sizes::Sizes;

#[derive(Debug, Default, Serialize)]
pub struct LatencyFigures {
    pub claim_p50_ms: f64,
    pub claim_p99_ms: f64,
    #[serde(flatten)]
    pub api: ApiFigures,
}

/// Claim latency, then the API at concurrency 64, on the table as filled.
pub async fn latency_and_api(db: &BenchDatabase, sizes: &Sizes) -> anyhow::Result<LatencyFigures> {
    let (claim_p50_ms, claim_p99_ms) = latency(db, 100, sizes.claim_samples()).await?;
    eprintln!("API at concurrency 64 ...");
    let api = api::measure(db, sizes.api_duration, 64).await?;
    Ok(LatencyFigures { claim_p50_ms, claim_p99_ms, api })
}

/// The p50 and p99, in milliseconds, of `samples` claims of `batch`, made as the dispatcher
/// makes them: through one `ClaimCursor`, each claim starting where the last one left off.
pub async fn latency(db: &BenchDatabase, batch: u32, samples: usize) -> anyhow::Result<(f64, f64)> {
    let cursor = ClaimCursor::new();
    let mut timings = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        let claimed = cursor.claim(&db.pool, batch, Duration::from_secs(60)).await?;
        timings.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(claimed.len() == batch as usize, "the table ran out of pending rows");
    }
    Ok((percentile(&mut timings, 50.0), percentile(&mut timings, 99.0)))
}
