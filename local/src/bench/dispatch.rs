//! End-to-end dispatch throughput (claim -> POST -> record) against a fast receiver on
//! 127.0.0.1, and the database's ceiling: the same claim and record SQL with no HTTP.

use std::time::{Duration, Instant};

use anyhow::ensure;
use dispatcher_core::dispatch::{Dispatcher, RunLimits};
use dispatcher_core::repository::claims::{self, SentRecord};
use dispatcher_core::webhook::WebhookSigner;
use dispatcher_core::Config;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::database::BenchDatabase;
use crate::mock_receiver;

/// Concurrent runs, as concurrent Lambda invocations (or harness ticks) would make.
pub const RUNNERS: usize = 4;
const LEASE: Duration = Duration::from_secs(60);

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
                if summary.counts.claimed == 0 {
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

/// Rows per second through claim_batch + record_sent alone, with the same concurrency.
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
                let records: Vec<SentRecord> = claimed
                    .iter()
                    .map(|row| SentRecord {
                        id: row.id.into(),
                        version: row.version,
                        webhook_message_id: "ceiling".into(),
                        response: Some(r#"{"message":"Accepted","messageId":"ceiling"}"#.into()),
                    })
                    .collect();
                for chunk in records.chunks(256) {
                    claims::record_sent(&pool, chunk).await?;
                }
            }
        }));
    }
    for runner in runners {
        runner.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}
