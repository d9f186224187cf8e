//! Lanes and campaigns: how long a one-time code waits behind a draining campaign, what a claim
//! costs beside a million low-priority messages, a campaign's stats in a ten-million-row table,
//! and the bulk cancel of a million-message campaign with dispatch going on beside it.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use dispatcher_core::dispatch::RunLimits;
use dispatcher_core::domain::{Content, Label, NewMessage, PhoneNumber, Priority};
use dispatcher_core::repository::cancellation::{self, PendingFilter};
use dispatcher_core::repository::claim_cursor::ClaimCursor;
use dispatcher_core::repository::{messages, stats};
use serde::Serialize;
use tokio::sync::Mutex;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::database::BenchDatabase;
use crate::dispatch::{self, Drain, RUNNERS};
use crate::percentile::percentile;
use crate::sizes::CampaignSizes;

#[derive(Debug, Default, Serialize)]
pub struct CampaignFigures {
    /// From the create of a high message to its `sent_at`, p99, while dispatch drains a low
    /// backlog at batch 1,000 (four runs at once); the p99 of those runs' durations; the first
    /// less the second (target: within 250 ms of one run).
    pub priority_wait_ms: f64,
    pub priority_wait_run_p99_ms: f64,
    pub priority_wait_margin_ms: f64,
    /// Claims of 100 with the low backlog and a few high messages due, over claims of 100 with
    /// only due messages (as the queue-health part's `due_only_claim_p99_ms`).
    pub priority_claim_p99_ms: f64,
    pub priority_due_only_claim_p99_ms: f64,
    pub priority_claim_p99_growth: f64,
    /// `GET /api/v1/messages/stats?campaign=` (its statement) for a campaign of a million in a
    /// table of ten million.
    pub campaign_stats_p99_ms: f64,
    /// The bulk cancel of the campaign, and dispatch of other messages beside it over alone.
    pub bulk_cancel_rows_per_sec: f64,
    pub cancel_dispatch_alone_msgs_per_sec: f64,
    pub cancel_dispatch_beside_msgs_per_sec: f64,
    pub cancel_dispatch_ratio: f64,
}

pub async fn measure(db: &BenchDatabase, sizes: &CampaignSizes) -> anyhow::Result<CampaignFigures> {
    let mut figures = CampaignFigures::default();
    eprintln!("lanes: {} high messages created while {} low ones drain ...", sizes.codes, sizes.low_backlog);
    (figures.priority_wait_ms, figures.priority_wait_run_p99_ms) = priority_wait(db, sizes).await?;
    figures.priority_wait_margin_ms = figures.priority_wait_ms - figures.priority_wait_run_p99_ms;

    eprintln!("lanes: claims of 100 beside {} low messages ...", sizes.low_backlog);
    db.reset().await?;
    db.insert_pending(sizes.due_only).await?;
    figures.priority_due_only_claim_p99_ms = claim_p99(db, sizes.claim_samples, 0).await?;
    db.reset().await?;
    insert_lane(db, Priority::Low, None, sizes.low_backlog, 0).await?;
    figures.priority_claim_p99_ms = claim_p99(db, sizes.claim_samples, 5).await?;
    figures.priority_claim_p99_growth =
        figures.priority_claim_p99_ms / figures.priority_due_only_claim_p99_ms;

    eprintln!("campaigns: stats of {} in {} rows ...", sizes.campaign_rows, sizes.table_rows);
    figures.campaign_stats_p99_ms = campaign_stats_p99(db, sizes).await?;

    eprintln!("campaigns: cancel {} beside a dispatch of {} ...", sizes.cancelled, sizes.dispatched_beside);
    db.only_pending(sizes.dispatched_beside).await?;
    figures.cancel_dispatch_alone_msgs_per_sec =
        dispatch::drain(db, sizes.dispatched_beside, Drain::at(1000)).await?;
    let (cancel_rate, beside) = cancel_beside_dispatch(db, sizes).await?;
    figures.bulk_cancel_rows_per_sec = cancel_rate;
    figures.cancel_dispatch_beside_msgs_per_sec = beside;
    figures.cancel_dispatch_ratio = beside / figures.cancel_dispatch_alone_msgs_per_sec;
    Ok(figures)
}

/// `n` pending messages in `lane`, of `campaign` if given, due now or `due_in_hours` from now.
async fn insert_lane(
    db: &BenchDatabase,
    lane: Priority,
    campaign: Option<&str>,
    n: i64,
    due_in_hours: i32,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO messages (phone_number, content, created_at, next_attempt_at, priority, campaign)
         SELECT '+90555' || lpad(i::text, 7, '0'), 'offer ' || i, now() - interval '1 day' + i * interval '1 ms',
                now() + make_interval(hours => $4), $2, $3
         FROM generate_series(1, $1) AS i",
    )
    .bind(n)
    .bind(lane.lane())
    .bind(campaign)
    .bind(due_in_hours)
    .execute(&db.pool)
    .await?;
    sqlx::raw_sql("VACUUM ANALYZE messages").execute(&db.pool).await?;
    db.checkpoint().await;
    Ok(())
}

/// The p99 of each high message's wait (create to `sent_at`, database times) and of the runs'
/// durations while they wait, in milliseconds.
async fn priority_wait(db: &BenchDatabase, sizes: &CampaignSizes) -> anyhow::Result<(f64, f64)> {
    db.reset().await?;
    insert_lane(db, Priority::Low, Some("spring"), sizes.low_backlog, 0).await?;
    // The runs stop first, the receiver after: a request meeting a stopped receiver would open
    // the breaker for the parts after this one.
    let (stop, stop_receiver) = (CancellationToken::new(), CancellationToken::new());
    let url = dispatch::fast_receiver(&stop_receiver).await?;
    let dispatcher = dispatch::dispatcher(db, &url, Drain::at(1000))?;
    let durations = Arc::new(Mutex::new(Vec::new()));
    let mut runners = Vec::new();
    for _ in 0..RUNNERS {
        let (dispatcher, durations, stop) = (dispatcher.clone(), durations.clone(), stop.clone());
        runners.push(tokio::spawn(async move {
            while !stop.is_cancelled() {
                let summary = dispatcher
                    .run_once(RunLimits { batch_size: None, budget: Duration::from_secs(60) })
                    .await?;
                anyhow::ensure!(summary.claimed > 0, "the low backlog ran out before the codes were sent");
                durations.lock().await.push(summary.duration_ms as f64);
            }
            Ok(())
        }));
    }
    let mut waits = Vec::new();
    let mut new =
        NewMessage::new(PhoneNumber::parse("+905550000000")?, Content::parse("Your code: 482913", 160)?, 3);
    new.priority = Priority::High;
    for i in 0..sizes.codes {
        // Land at different points of the runs.
        tokio::time::sleep(Duration::from_millis(50 + (i as u64 * 137) % 400)).await;
        let id = messages::insert(&db.pool, &new).await?.into_message().id;
        let waited_until = Instant::now() + Duration::from_secs(60);
        loop {
            let waited: Option<f64> = sqlx::query_scalar(
                "SELECT extract(epoch FROM sent_at - created_at)::float8 * 1000 FROM messages
                 WHERE id = $1 AND status = 'sent'",
            )
            .bind(id.as_uuid())
            .fetch_optional(&db.pool)
            .await?;
            if let Some(waited) = waited {
                waits.push(waited);
                break;
            }
            anyhow::ensure!(Instant::now() < waited_until, "a high message waited over a minute");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    stop.cancel();
    for runner in runners {
        runner.await??;
    }
    stop_receiver.cancel();
    let mut durations = durations.lock().await.clone();
    Ok((percentile(&mut waits, 99.0), percentile(&mut durations, 99.0)))
}

/// The p99 of `samples` claims of 100 through one cursor, `high` high messages made due before
/// each (untimed).
async fn claim_p99(db: &BenchDatabase, samples: usize, high: i64) -> anyhow::Result<f64> {
    let cursor = ClaimCursor::new();
    let mut timings = Vec::with_capacity(samples);
    for _ in 0..samples {
        if high > 0 {
            sqlx::query(
                "INSERT INTO messages (phone_number, content, priority)
                 SELECT '+90544' || lpad(i::text, 7, '0'), 'code ' || i, 0 FROM generate_series(1, $1) AS i",
            )
            .bind(high)
            .execute(&db.pool)
            .await?;
        }
        let started = Instant::now();
        let claimed = cursor.claim(&db.pool, 100, Duration::from_secs(60)).await?;
        timings.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(claimed.len() == 100, "the table ran out of due messages");
        let high_claimed = claimed.iter().filter(|row| row.priority == Priority::High).count();
        anyhow::ensure!(high_claimed as i64 == high, "a claim took {high_claimed} of {high} high messages");
    }
    Ok(percentile(&mut timings, 99.0))
}

/// A table of `table_rows` (sent, with one campaign of `campaign_rows` in every status), then
/// the p99 of reading that campaign's stats.
async fn campaign_stats_p99(db: &BenchDatabase, sizes: &CampaignSizes) -> anyhow::Result<f64> {
    db.reset().await?;
    sqlx::query(
        "INSERT INTO messages (phone_number, content, status, sent_at, next_attempt_at, created_at)
         SELECT '+90555' || lpad((i % 10000000)::text, 7, '0'), 'sent ' || i, 'sent', now(), NULL,
                now() - interval '20 days' + i * interval '1 ms'
         FROM generate_series(1, $1) AS i",
    )
    .bind(sizes.table_rows - sizes.campaign_rows)
    .execute(&db.pool)
    .await?;
    sqlx::query(
        "INSERT INTO messages (phone_number, content, status, sent_at, next_attempt_at, campaign, priority)
         SELECT '+90556' || lpad(i::text, 7, '0'), 'offer ' || i,
                (ARRAY['sent', 'sent', 'sent', 'failed', 'pending', 'cancelled'])[1 + i % 6],
                CASE WHEN i % 6 < 3 THEN now() END, CASE WHEN i % 6 = 4 THEN now() + interval '1 day' END,
                'autumn-sale', 2
         FROM generate_series(1, $1) AS i",
    )
    .bind(sizes.campaign_rows)
    .execute(&db.pool)
    .await?;
    sqlx::raw_sql("VACUUM ANALYZE messages").execute(&db.pool).await?;
    db.checkpoint().await;
    let campaign = Label::parse("autumn-sale")?;
    let mut timings = Vec::with_capacity(sizes.stats_samples);
    for _ in 0..sizes.stats_samples {
        let started = Instant::now();
        let counts = stats::of_campaign(&db.pool, &campaign).await?;
        timings.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(counts.total() == sizes.campaign_rows, "the campaign counts {}", counts.total());
    }
    Ok(percentile(&mut timings, 99.0))
}

/// Cancels a campaign of `cancelled` (scheduled for tomorrow: caught before it started) while the
/// real dispatcher drains `dispatched_beside` other messages; (cancelled rows per second,
/// dispatched messages per second).
async fn cancel_beside_dispatch(db: &BenchDatabase, sizes: &CampaignSizes) -> anyhow::Result<(f64, f64)> {
    db.reset().await?;
    insert_lane(db, Priority::Low, Some("autumn-sale"), sizes.cancelled, 24).await?;
    db.insert_pending(sizes.dispatched_beside).await?;
    db.checkpoint().await;
    let filter = PendingFilter {
        campaign: Some(Label::parse("autumn-sale")?),
        priority: None,
        created_before: Utc::now(),
    };
    let pool = db.pool.clone();
    let cancelling = tokio::spawn(async move {
        let started = Instant::now();
        let until = started + Duration::from_secs(600);
        let done = cancellation::cancel_pending(&pool, &filter, u64::MAX, until).await?;
        anyhow::Ok((done, started.elapsed()))
    });
    let dispatched =
        dispatch::drain_those(db, sizes.dispatched_beside, Drain::at(1000), "campaign IS NULL").await?;
    let (done, took) = cancelling.await??;
    anyhow::ensure!(done.complete, "the cancel did not finish");
    anyhow::ensure!(
        i64::try_from(done.cancelled)? == sizes.cancelled,
        "cancelled {} of {}",
        done.cancelled,
        sizes.cancelled
    );
    Ok((done.cancelled as f64 / took.as_secs_f64(), dispatched))
}
