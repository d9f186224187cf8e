//! Queue health: what a claim costs next to rows it should never look at. Claims of 100 with a
//! million scheduled messages (created before the due ones, not due until tomorrow), and with
//! 200,000 waiting for a retry, against the same claims with only the due ones; and dispatch
//! while another session holds a REPEATABLE READ snapshot open for a minute (an analytics query,
//! a `pg_dump`), which keeps every claimed row's old index entry alive.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dispatcher_core::dispatch::RunLimits;
use secrecy::ExposeSecret;
use serde::Serialize;
use sqlx::{Connection, PgConnection};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::claims;
use crate::database::BenchDatabase;
use crate::dispatch::{self, Drain, RUNNERS};
use crate::sizes::QueueSizes;

#[derive(Debug, Default, Serialize)]
pub struct QueueHealthFigures {
    /// Claims of 100 with only the due messages in the table: what the two below compare with.
    pub due_only_claim_p99_ms: f64,
    /// With a million scheduled messages created before the due ones.
    pub scheduled_claim_p99_ms: f64,
    /// With 200,000 messages waiting for a retry, created before the due ones.
    pub retry_wait_claim_p99_ms: f64,
    pub scheduled_claim_p99_growth: f64,
    pub retry_wait_claim_p99_growth: f64,
    /// Dispatch at batch 1,000 in the last 10 s of 15 s with nothing else open, then in the
    /// last 10 s of 60 s with a REPEATABLE READ snapshot held in another session; the second
    /// over the first.
    pub horizon_free_dispatch_msgs_per_sec: f64,
    pub horizon_held_dispatch_msgs_per_sec: f64,
    pub horizon_dispatch_ratio: f64,
}

pub async fn measure(db: &BenchDatabase, sizes: &QueueSizes) -> anyhow::Result<QueueHealthFigures> {
    let mut figures = QueueHealthFigures::default();
    eprintln!("queue health: claims of 100 on {} due messages ...", sizes.due);
    db.reset().await?;
    db.insert_pending(sizes.due).await?;
    figures.due_only_claim_p99_ms = claim_p99(db, sizes.due).await?;

    eprintln!(
        "queue health: {} scheduled messages created before {} due ones ...",
        sizes.scheduled, sizes.due
    );
    db.reset().await?;
    insert_waiting(db, sizes.scheduled, "0").await?;
    db.insert_pending(sizes.due).await?;
    figures.scheduled_claim_p99_ms = claim_p99(db, sizes.due).await?;

    eprintln!(
        "queue health: {} messages waiting for a retry before {} due ones ...",
        sizes.retry_waiting, sizes.due
    );
    db.reset().await?;
    insert_waiting(db, sizes.retry_waiting, "1").await?;
    db.insert_pending(sizes.due).await?;
    figures.retry_wait_claim_p99_ms = claim_p99(db, sizes.due).await?;
    figures.scheduled_claim_p99_growth = figures.scheduled_claim_p99_ms / figures.due_only_claim_p99_ms;
    figures.retry_wait_claim_p99_growth = figures.retry_wait_claim_p99_ms / figures.due_only_claim_p99_ms;

    eprintln!("queue health: {} pending messages for the two dispatch stretches ...", sizes.backlog);
    db.reset().await?;
    db.insert_pending(sizes.backlog).await?;
    sqlx::raw_sql("VACUUM ANALYZE messages").execute(&db.pool).await?;
    db.checkpoint().await;
    eprintln!("queue health: dispatch for {:?}, nothing else open ...", sizes.free_stretch);
    figures.horizon_free_dispatch_msgs_per_sec = dispatch_rate(db, sizes.free_stretch, sizes.window).await?;
    eprintln!("queue health: dispatch for {:?} with a snapshot held open ...", sizes.held_stretch);
    let mut holder = PgConnection::connect(db.url.expose_secret()).await?;
    sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM scheduler_state")
        .execute(&mut holder)
        .await?;
    let held = dispatch_rate(db, sizes.held_stretch, sizes.window).await;
    sqlx::raw_sql("ROLLBACK").execute(&mut holder).await?;
    holder.close().await?;
    figures.horizon_held_dispatch_msgs_per_sec = held?;
    figures.horizon_dispatch_ratio =
        figures.horizon_held_dispatch_msgs_per_sec / figures.horizon_free_dispatch_msgs_per_sec;
    Ok(figures)
}

/// `n` pending messages not due for a day, created before everything else: scheduled ones
/// (`attempts` 0) or ones waiting for a retry (`attempts` 1, an error kept).
async fn insert_waiting(db: &BenchDatabase, n: i64, attempts: &str) -> anyhow::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO messages (phone_number, content, created_at, next_attempt_at, attempts, error_code)
         SELECT '+90533' || lpad(i::text, 7, '0'), 'waiting ' || i, now() - interval '2 days' + i * interval '1 ms',
                now() + interval '1 day', {attempts}, CASE WHEN {attempts} > 0 THEN 'http_503' END
         FROM generate_series(1, $1) AS i"
    ))
    .bind(n)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The claims' p99 on the table as filled, its writes flushed: claims of 100 over at most half
/// the `due` rows (300 in a full run, fewer in a quick one), so none runs out of due rows.
async fn claim_p99(db: &BenchDatabase, due: i64) -> anyhow::Result<f64> {
    sqlx::raw_sql("VACUUM ANALYZE messages").execute(&db.pool).await?;
    db.checkpoint().await;
    let samples = usize::try_from(due / 100 / 2).unwrap_or(0).clamp(10, 300);
    let (_, p99) = claims::latency(db, 100, samples).await?;
    Ok(p99)
}

/// Messages per second the real dispatcher (batch 1,000, 4 runs at once, a fast receiver)
/// sends in the last `window` of `stretch`.
async fn dispatch_rate(db: &BenchDatabase, stretch: Duration, window: Duration) -> anyhow::Result<f64> {
    let stop = CancellationToken::new();
    let url = dispatch::fast_receiver(&stop).await?;
    let dispatcher = dispatch::dispatcher(db, &url, Drain::at(1000))?;
    let sent = Arc::new(AtomicU64::new(0));
    let ends = Instant::now() + stretch;
    let mut runners = Vec::new();
    for _ in 0..RUNNERS {
        let (dispatcher, sent) = (dispatcher.clone(), sent.clone());
        runners.push(tokio::spawn(async move {
            while Instant::now() < ends {
                let limits = RunLimits { batch_size: None, budget: Duration::from_secs(60) };
                let summary = dispatcher.run_once(limits).await?;
                anyhow::ensure!(summary.claimed > 0, "the backlog ran out before the stretch ended");
                sent.fetch_add(u64::try_from(summary.sent).unwrap_or(0), Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    tokio::time::sleep_until(ends - window).await;
    let (at_window, window_started) = (sent.load(Ordering::Relaxed), Instant::now());
    for runner in runners {
        runner.await??;
    }
    let rate = (sent.load(Ordering::Relaxed) - at_window) as f64 / window_started.elapsed().as_secs_f64();
    stop.cancel();
    Ok(rate)
}
