//! Expiry of a backlog: 100,000 pending messages past their `expires_at` (an outage outlived a
//! campaign's one-time codes), the oldest in the queue, while the runs send the others. Each
//! run expires for at most half a second after its sends, so the backlog goes within a few runs
//! and the others are still sent meanwhile; this measures both rates, and the sending rate
//! with no backlog beside it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use dispatcher_core::repository::expiry;
use serde::Serialize;

use crate::database::BenchDatabase;
use crate::dispatch::{self, Drain};

/// What one run expires at most, as the dispatch path does (`dispatch::expiry`).
const RUN_BUDGET: Duration = Duration::from_millis(500);
const RUN_CHUNK: i64 = 1000;

#[derive(Debug, Default, Serialize)]
pub struct ExpiryFigures {
    /// Messages past their `expires_at` ended `expired` per second, by the runs that send.
    pub expire_rows_per_sec: f64,
    /// Dispatch at batch 1,000 of the others while the backlog is expired, and that over the
    /// same drain with no backlog.
    pub dispatch_msgs_per_sec_during_expiry: f64,
    pub expiry_dispatch_ratio: f64,
}

pub async fn measure(db: &BenchDatabase, backlog: i64, pending: i64) -> anyhow::Result<ExpiryFigures> {
    eprintln!("expiry: {pending} messages sent with no backlog beside them ...");
    db.only_pending(pending).await?;
    let plain = dispatch::drain(db, pending, Drain::at(1000)).await?;

    eprintln!("expiry: {backlog} messages past their expiry while {pending} are sent ...");
    db.reset().await?;
    sqlx::query(
        "INSERT INTO messages (phone_number, content, created_at, expires_at)
         SELECT '+90544' || lpad(i::text, 7, '0'), 'one-time code ' || i,
                now() - interval '2 days' + i * interval '1 ms', now() - interval '1 hour'
         FROM generate_series(1, $1) AS i",
    )
    .bind(backlog)
    .execute(&db.pool)
    .await?;
    db.insert_pending(pending).await?;
    sqlx::raw_sql("VACUUM ANALYZE messages").execute(&db.pool).await?;
    db.checkpoint().await;

    let started = Instant::now();
    let sending_done = AtomicBool::new(false);
    let send = async {
        let outcome = async {
            let rate = dispatch::drain(db, pending, Drain::at(1000)).await?;
            // Runs that find nothing to send still expire, each for its budget.
            let run_budget = || Some(tokio::time::Instant::now() + RUN_BUDGET);
            while expiry::expire_due(&db.pool, RUN_CHUNK, run_budget()).await? > 0 {}
            Ok::<_, anyhow::Error>(rate)
        }
        .await;
        sending_done.store(true, Ordering::Release);
        outcome
    };
    let watch = async {
        loop {
            let done = sending_done.load(Ordering::Acquire);
            let expired = db.count_messages("status = 'expired'").await?;
            if expired == backlog {
                return Ok::<_, anyhow::Error>(started.elapsed());
            }
            anyhow::ensure!(!done, "{expired} of {backlog} messages past their expiry were expired");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let (rate, took) = tokio::join!(send, watch);
    let during = rate?;
    let took = took?;
    Ok(ExpiryFigures {
        expire_rows_per_sec: backlog as f64 / took.as_secs_f64(),
        dispatch_msgs_per_sec_during_expiry: during,
        expiry_dispatch_ratio: during / plain,
    })
}
