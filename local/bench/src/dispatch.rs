//! End-to-end dispatch throughput (claim -> POST -> record) against a fast receiver on
//! 127.0.0.1, and the database's ceiling: the same claim and record SQL with no HTTP.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::ensure;
use dispatcher_core::dispatch::{Dispatcher, RunLimits};
use dispatcher_core::repository::claims;
use dispatcher_core::repository::outcomes::{self, Outcome, OutcomeRecord};
use dispatcher_core::webhook::WebhookSigner;
use dispatcher_core::Config;
use local::mock_receiver;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::database::BenchDatabase;
use crate::{minimal_ceiling, Sizes};

/// Concurrent runs, as concurrent Lambda invocations (or harness ticks) would make.
pub const RUNNERS: usize = 4;
const LEASE: Duration = Duration::from_secs(60);

/// The batch sizes drained, smallest first; the ceilings and targets are at the largest.
const BATCHES: [u32; 3] = [2, 100, 1000];

#[derive(Debug, Default, Serialize)]
pub struct DispatchFigures {
    /// The best of the batch sizes.
    pub dispatch_msgs_per_sec: f64,
    /// `batch_N`: messages per second draining the backlog at N per run.
    pub dispatch_msgs_per_sec_by_batch: BTreeMap<String, f64>,
    /// Our claim and record SQL alone, no HTTP, at batch 1,000.
    pub pg_claim_ceiling_rows_per_sec: f64,
    /// The minimal claim + record (a primary key and the FIFO index, no triggers).
    pub pg_minimal_ceiling_rows_per_sec: f64,
    /// Dispatch at batch 1,000 over each ceiling.
    pub dispatch_share_of_claim_ceiling: f64,
    pub dispatch_share_of_minimal_ceiling: f64,
}

/// Drains the backlog at each batch size, then the two ceilings at the largest.
pub async fn measure(
    db: &BenchDatabase,
    sizes: &Sizes,
    signer: Option<&WebhookSigner>,
) -> anyhow::Result<DispatchFigures> {
    if let Some(signer) = signer {
        eprintln!("dispatch: signing every request with {} secret(s)", signer.secret_count());
    }
    let mut figures = DispatchFigures::default();
    let mut at_largest = 0.0;
    for batch in BATCHES {
        eprintln!("dispatch: draining {} messages at batch {batch} ...", sizes.drain);
        db.only_pending(sizes.drain).await?;
        at_largest = drain(db, sizes.drain, batch, signer).await?;
        figures.dispatch_msgs_per_sec = figures.dispatch_msgs_per_sec.max(at_largest);
        figures.dispatch_msgs_per_sec_by_batch.insert(format!("batch_{batch}"), at_largest);
    }
    let largest = BATCHES[BATCHES.len() - 1];
    eprintln!("database ceiling: the same claim and record SQL without HTTP ...");
    figures.pg_claim_ceiling_rows_per_sec = ceiling(db, sizes.drain, largest).await?;
    eprintln!("database minimum: a FIFO claim and one UPDATE on a table with two indexes ...");
    figures.pg_minimal_ceiling_rows_per_sec =
        minimal_ceiling::rows_per_sec(db, sizes.drain, i64::from(largest), RUNNERS).await?;
    figures.dispatch_share_of_claim_ceiling = at_largest / figures.pg_claim_ceiling_rows_per_sec;
    figures.dispatch_share_of_minimal_ceiling = at_largest / figures.pg_minimal_ceiling_rows_per_sec;
    Ok(figures)
}

async fn fast_receiver(stop: &CancellationToken) -> anyhow::Result<String> {
    mock_receiver::spawn_quiet(TcpListener::bind("127.0.0.1:0").await?, stop.clone())
}

/// Messages per second to send the `total` pending messages the table holds, at `batch` per
/// run; `signer`: the harness's WEBHOOK_SIGNING_SECRET, so that signing can be measured.
pub async fn drain(
    db: &BenchDatabase,
    total: i64,
    batch: u32,
    signer: Option<&WebhookSigner>,
) -> anyhow::Result<f64> {
    let stop = CancellationToken::new();
    let url = fast_receiver(&stop).await?;
    let workers = batch.clamp(1, 64).to_string();
    let batch_text = batch.to_string();
    let mut config = Config::from_pairs(&[
        ("WEBHOOK_URL", url.as_str()),
        ("MESSAGE_BATCH_SIZE", batch_text.as_str()),
        ("MESSAGE_WORKER_COUNT", workers.as_str()),
        ("WEBHOOK_RATE_LIMIT_PER_SECOND", "1000000"),
    ])?;
    config.webhook.signer = signer.cloned();
    let dispatcher = Dispatcher::from_config(&config, db.pool.clone())?;
    let started = Instant::now();
    let mut runners = Vec::new();
    for _ in 0..RUNNERS {
        let dispatcher = dispatcher.clone();
        runners.push(tokio::spawn(async move {
            loop {
                let summary = dispatcher.run_once(RunLimits { batch_size: None, budget: LEASE }).await?;
                if summary.claimed == 0 {
                    return Ok::<_, anyhow::Error>(());
                }
            }
        }));
    }
    for runner in runners {
        runner.await??;
    }
    let elapsed = started.elapsed();
    stop.cancel();
    let unsent = db.count_messages("status <> 'sent'").await?;
    ensure!(unsent == 0, "{unsent} of {total} messages were not sent");
    Ok(total as f64 / elapsed.as_secs_f64())
}

/// Rows per second through the claim and the outcome statement alone (every message sent),
/// with the same concurrency.
pub async fn ceiling(db: &BenchDatabase, total: i64, batch: u32) -> anyhow::Result<f64> {
    db.only_pending(total).await?;
    let started = Instant::now();
    let mut runners = Vec::new();
    for _ in 0..RUNNERS {
        let pool = db.pool.clone();
        runners.push(tokio::spawn(async move {
            loop {
                let claimed = claims::claim_batch(&pool, batch, LEASE).await?;
                if claimed.is_empty() {
                    return Ok::<_, anyhow::Error>(());
                }
                let records: Vec<OutcomeRecord> = claimed
                    .iter()
                    .map(|row| OutcomeRecord {
                        id: row.id.into(),
                        version: row.version,
                        outcome: Outcome::Sent {
                            webhook_message_id: "ceiling".into(),
                            response: Some(r#"{"message":"Accepted","messageId":"ceiling"}"#.into()),
                        },
                    })
                    .collect();
                for chunk in records.chunks(256) {
                    outcomes::record(&pool, chunk).await?;
                }
            }
        }));
    }
    for runner in runners {
        runner.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}
