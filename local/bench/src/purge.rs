//! Retention at scale: the purge deleting a history of messages past the retention, chunk by chunk as the
//! dispatch path does, while dispatch runs drain a backlog beside it.

use std::time::Instant;

use dispatcher_core::repository::retention::purge_past;
use serde::Serialize;

use crate::database::BenchDatabase;
use crate::dispatch;

#[derive(Debug, Default, Serialize)]
pub struct RetentionFigures {
    pub purge_rows_per_sec: f64,
    /// Dispatch at batch 1,000 while the purge runs beside it.
    pub dispatch_msgs_per_sec_during_purge: f64,
}

/// Deletes `expired` sent messages 40 days old (retention 30 days) while `pending` messages are
/// dispatched at batch 1,000.
pub async fn measure(db: &BenchDatabase, expired: i64, pending: i64) -> anyhow::Result<RetentionFigures> {
    eprintln!("retention: purging {expired} messages past the retention while {pending} are dispatched ...");
    db.reset().await?;
    db.insert_sent(expired, 40).await?;
    db.insert_pending(pending).await?;
    sqlx::raw_sql("VACUUM ANALYZE messages").execute(&db.pool).await?;
    db.checkpoint().await;

    let cutoff = chrono::Utc::now() - chrono::Duration::days(30);
    let purge = async {
        let started = Instant::now();
        let purged = purge_past(&db.pool, cutoff, None, |_| ()).await?;
        Ok::<_, anyhow::Error>((purged, started.elapsed()))
    };
    let (purge, dispatched) = tokio::join!(purge, dispatch::drain(db, pending, dispatch::Drain::at(1000)));
    let (purged, took) = purge?;
    anyhow::ensure!(
        purged == expired as u64,
        "the purge deleted {purged} of {expired} messages past the retention"
    );
    Ok(RetentionFigures {
        purge_rows_per_sec: purged as f64 / took.as_secs_f64(),
        dispatch_msgs_per_sec_during_purge: dispatched?,
    })
}
