//! End-to-end dispatch throughput (claim -> POST -> record) against a fast receiver on
//! 127.0.0.1, and the database's ceiling: the same claim and record SQL with no HTTP.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use chrono::Utc;
use dispatcher_core::dispatch::outcome::{self as outcomes, Outcome, OutcomeRecord, Request};
use dispatcher_core::dispatch::{Dispatcher, RunLimits};
use dispatcher_core::repository::claim_cursor::ClaimCursor;
use dispatcher_core::webhook::WebhookSigner;
use dispatcher_core::Config;
use local::mock_receiver;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::database::BenchDatabase;
use crate::http_load::{self, LoadRequest};
use crate::minimal_ceiling;
use crate::minimal_ceiling::Record;
use crate::percentile::percentile;
use crate::sizes::Sizes;

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
    /// The same with one narrow attempt row inserted per message in the record's statement: the
    /// like-for-like floor of our SQL, and ours over it.
    pub pg_minimal_attempt_ceiling_rows_per_sec: f64,
    pub pg_claim_share_of_attempt_ceiling: f64,
    /// Dispatch at batch 1,000 with the attempt log turned off (only here), and the rate with
    /// it over that: what logging every request costs (medians of alternating drains).
    pub dispatch_msgs_per_sec_without_attempt_log: f64,
    pub attempt_write_cost_ratio: f64,
    /// Dispatch at batch 1,000 over each ceiling.
    pub dispatch_share_of_claim_ceiling: f64,
    pub dispatch_share_of_minimal_ceiling: f64,
    pub dispatch_share_of_attempt_ceiling: f64,
    /// The HTTP half alone: a minimal hyper client POSTing the same body to the same receiver
    /// with as many requests in flight, no database.
    pub http_minimal_ceiling_msgs_per_sec: f64,
    /// What the two minimal halves allow together on the same cores,
    /// 1 / (1 / pg_minimal + 1 / http_minimal), and dispatch at batch 1,000 over it.
    pub end_to_end_limit_msgs_per_sec: f64,
    pub dispatch_share_of_end_to_end_limit: f64,
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
        at_largest = drain(db, sizes.drain, Drain { signer, ..Drain::at(batch) }).await?;
        figures.dispatch_msgs_per_sec = figures.dispatch_msgs_per_sec.max(at_largest);
        figures.dispatch_msgs_per_sec_by_batch.insert(format!("batch_{batch}"), at_largest);
    }
    let largest = BATCHES[BATCHES.len() - 1];
    let (with, without) = attempt_log_rates(db, sizes.drain, largest).await?;
    figures.dispatch_msgs_per_sec_without_attempt_log = without;
    figures.attempt_write_cost_ratio = with / without;
    eprintln!("database ceiling: the same claim and record SQL without HTTP ...");
    figures.pg_claim_ceiling_rows_per_sec = ceiling(db, sizes.drain, largest, AttemptRows::Logged).await?;
    eprintln!("database minimum: a FIFO claim and one UPDATE on a table with two indexes ...");
    figures.pg_minimal_ceiling_rows_per_sec =
        minimal_ceiling::rows_per_sec(db, sizes.drain, i64::from(largest), RUNNERS, Record::Update).await?;
    eprintln!("database floor: the same with one attempt row per message ...");
    figures.pg_minimal_attempt_ceiling_rows_per_sec =
        minimal_ceiling::rows_per_sec(db, sizes.drain, i64::from(largest), RUNNERS, Record::UpdateAndAttempt)
            .await?;
    eprintln!("HTTP minimum: a minimal client and the same receiver, no database ...");
    figures.http_minimal_ceiling_msgs_per_sec = http_minimal_ceiling(sizes.drain, largest).await?;
    figures.dispatch_share_of_claim_ceiling = at_largest / figures.pg_claim_ceiling_rows_per_sec;
    figures.dispatch_share_of_minimal_ceiling = at_largest / figures.pg_minimal_ceiling_rows_per_sec;
    figures.dispatch_share_of_attempt_ceiling = at_largest / figures.pg_minimal_attempt_ceiling_rows_per_sec;
    figures.pg_claim_share_of_attempt_ceiling =
        figures.pg_claim_ceiling_rows_per_sec / figures.pg_minimal_attempt_ceiling_rows_per_sec;
    figures.end_to_end_limit_msgs_per_sec = 1.0
        / (1.0 / figures.pg_minimal_ceiling_rows_per_sec + 1.0 / figures.http_minimal_ceiling_msgs_per_sec);
    figures.dispatch_share_of_end_to_end_limit = at_largest / figures.end_to_end_limit_msgs_per_sec;
    Ok(figures)
}

/// Dispatch rates at `batch` with and without the attempt log: the median of three drains
/// each, taken alternately so that the machine's drift falls on both alike.
async fn attempt_log_rates(db: &BenchDatabase, total: i64, batch: u32) -> anyhow::Result<(f64, f64)> {
    eprintln!("dispatch: the attempt log's cost, alternating drains at batch {batch} ...");
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        for (attempt_log, rates) in [(true, &mut with), (false, &mut without)] {
            db.only_pending(total).await?;
            rates.push(drain(db, total, Drain { attempt_log, ..Drain::at(batch) }).await?);
        }
    }
    Ok((percentile(&mut with, 50.0), percentile(&mut without, 50.0)))
}

/// The real dispatcher sending to `url` as `how` says, at full speed (no rate limit to speak of).
pub fn dispatcher(db: &BenchDatabase, url: &str, how: Drain<'_>) -> anyhow::Result<Dispatcher> {
    let workers = how.batch.clamp(1, 64).to_string();
    let batch_text = how.batch.to_string();
    let mut config = Config::from_pairs(&[
        ("WEBHOOK_URL", url),
        ("MESSAGE_BATCH_SIZE", batch_text.as_str()),
        ("MESSAGE_WORKER_COUNT", workers.as_str()),
        ("WEBHOOK_RATE_LIMIT_PER_SECOND", "1000000"),
    ])?;
    config.webhook.signer = how.signer.cloned();
    let dispatcher = Dispatcher::from_config(&config, db.pool.clone())?;
    Ok(if how.attempt_log { dispatcher } else { dispatcher.without_attempt_log() })
}

pub async fn fast_receiver(stop: &CancellationToken) -> anyhow::Result<String> {
    mock_receiver::spawn_quiet(TcpListener::bind("127.0.0.1:0").await?, stop.clone())
}

/// How a drain sends.
#[derive(Debug, Clone, Copy)]
pub struct Drain<'a> {
    /// Messages claimed per run.
    pub batch: u32,
    /// The harness's WEBHOOK_SIGNING_SECRET, so that signing can be measured.
    pub signer: Option<&'a WebhookSigner>,
    /// Whether each request is logged in `message_attempts` (off only to measure its cost).
    pub attempt_log: bool,
}

impl Drain<'_> {
    /// At `batch` per run, unsigned, with the attempt log, as deployed.
    pub fn at(batch: u32) -> Self {
        Self { batch, signer: None, attempt_log: true }
    }
}

/// Runs RUNNERS runs at once, each again until one claims nothing.
pub async fn run_until_idle(dispatcher: &Dispatcher) -> anyhow::Result<()> {
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
    Ok(())
}

/// Messages per second to send the `total` pending messages the table holds.
pub async fn drain(db: &BenchDatabase, total: i64, how: Drain<'_>) -> anyhow::Result<f64> {
    drain_those(db, total, how, "true").await
}

/// [`drain`] where only the messages matching `condition` (a WHERE clause) must end sent:
/// others beside them (scheduled for later, cancelled) are left as they are.
pub async fn drain_those(
    db: &BenchDatabase,
    total: i64,
    how: Drain<'_>,
    condition: &str,
) -> anyhow::Result<f64> {
    let stop = CancellationToken::new();
    let url = fast_receiver(&stop).await?;
    let dispatcher = dispatcher(db, &url, how)?;
    let started = Instant::now();
    run_until_idle(&dispatcher).await?;
    let elapsed = started.elapsed();
    stop.cancel();
    // Messages with an expiry may rightly end `expired` (the expiry part puts them beside).
    let unsent =
        db.count_messages(&format!("status <> 'sent' AND expires_at IS NULL AND ({condition})")).await?;
    ensure!(unsent == 0, "{unsent} of {total} messages were not sent");
    Ok(total as f64 / elapsed.as_secs_f64())
}

/// Requests per second from a minimal hyper client (one keep-alive connection per request in
/// flight, as many as the drain at `batch` has: RUNNERS x its workers) POSTing the webhook's
/// body to the same fast receiver, `total` requests' worth of time, no database.
async fn http_minimal_ceiling(total: i64, batch: u32) -> anyhow::Result<f64> {
    let stop = CancellationToken::new();
    let url = fast_receiver(&stop).await?;
    let addr: std::net::SocketAddr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default()
        .parse()
        .context("the receiver's address")?;
    let in_flight = RUNNERS * usize::try_from(batch.clamp(1, 64))?;
    let body = serde_json::json!({"to": "+905550000001", "content": "benchmark message 1"});
    // About as long as the drain of `total` took at its best, so both halves run alike.
    let duration = Duration::from_secs_f64((total as f64 / 20_000.0).clamp(1.0, 10.0));
    let load =
        http_load::run(addr, in_flight, duration, move |_| LoadRequest::post_json("/webhook", &body)).await?;
    stop.cancel();
    Ok(load.per_second())
}

/// Whether the ceiling's records carry their request (an attempt row each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptRows {
    Logged,
    /// Only to measure what the attempt rows cost.
    Skipped,
}

/// Rows per second through the claim and the outcome statement alone (every message sent),
/// with the same concurrency.
pub async fn ceiling(
    db: &BenchDatabase,
    total: i64,
    batch: u32,
    attempt_rows: AttemptRows,
) -> anyhow::Result<f64> {
    db.only_pending(total).await?;
    let started = Instant::now();
    let mut runners = Vec::new();
    // One process's runs share its cursor, as the dispatcher's do.
    let cursor = std::sync::Arc::new(ClaimCursor::new());
    for _ in 0..RUNNERS {
        let (pool, cursor) = (db.pool.clone(), cursor.clone());
        runners.push(tokio::spawn(async move {
            loop {
                let claimed = cursor.claim(&pool, batch, LEASE).await?;
                if claimed.is_empty() {
                    return Ok::<_, anyhow::Error>(());
                }
                let records: Vec<OutcomeRecord> = claimed
                    .iter()
                    .map(|row| OutcomeRecord {
                        hold: row.hold(),
                        outcome: Outcome::Sent {
                            webhook_message_id: "ceiling".into(),
                            response: Some(r#"{"message":"Accepted","messageId":"ceiling"}"#.into()),
                        },
                        request: (attempt_rows == AttemptRows::Logged).then(|| Request {
                            started_at: Utc::now(),
                            duration_ms: 1,
                            status_code: Some(202),
                        }),
                    })
                    .collect();
                for chunk in records.chunks(dispatcher_core::dispatch::RECORD_CHUNK) {
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
