//! Delivery receipts through the API: 8 clients posting arrays of 1,000 receipts for messages
//! sent earlier, each receipt newer than the last for its message (so every one is applied),
//! on a table of a million sent messages.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::Utc;
use serde::Serialize;
use serde_json::json;

use crate::api;
use crate::database::BenchDatabase;
use crate::http_load::{self, LoadRequest};
use crate::percentile::percentile;
use crate::sizes::Sizes;

/// Receipts per request, and requests in flight: as a provider flushing its callbacks would.
const PER_REQUEST: usize = 1000;
const CLIENTS: usize = 8;

#[derive(Debug, Default, Serialize)]
pub struct ReceiptFigures {
    pub receipts_per_sec: f64,
    /// One request of 1,000 receipts, at that load.
    pub receipts_request_p99_ms: f64,
}

pub async fn measure(db: &BenchDatabase, sizes: &Sizes) -> anyhow::Result<ReceiptFigures> {
    eprintln!(
        "receipts: {CLIENTS} clients posting {PER_REQUEST} receipts a request to {} sent messages ...",
        sizes.sent_rows
    );
    db.reset().await?;
    db.insert_sent(sizes.sent_rows, 1).await?;
    sqlx::raw_sql("VACUUM ANALYZE messages").execute(&db.pool).await?;
    db.checkpoint().await;
    let ids: Arc<Vec<String>> = Arc::new(
        sqlx::query_scalar("SELECT webhook_message_id FROM messages ORDER BY sent_at")
            .fetch_all(&db.pool)
            .await?,
    );
    anyhow::ensure!(ids.len() >= PER_REQUEST, "too few sent messages for one request");
    let (addr, server) = api::serve(db).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Utc::now();
    let load = http_load::run(addr, CLIENTS, sizes.api_duration, move |_| {
        // Each request takes the next 1,000 messages (round the table again when done), each
        // receipt later than any before it for its message.
        let n = next.fetch_add(1, Ordering::Relaxed);
        let at = (started + chrono::Duration::milliseconds(n as i64)).to_rfc3339();
        let status = if n % 10 == 9 { "undelivered" } else { "delivered" };
        let first = (n * PER_REQUEST) % (ids.len() - PER_REQUEST + 1);
        let receipts: Vec<serde_json::Value> = ids[first..first + PER_REQUEST]
            .iter()
            .map(|id| json!({"messageId": id, "status": status, "timestamp": at}))
            .collect();
        LoadRequest::post_json("/api/v1/receipts", &serde_json::Value::Array(receipts))
    })
    .await;
    server.abort();
    let mut load = load?;
    let delivered = db.count_messages("delivery_status IS NOT NULL").await?;
    let expected = (load.completed * PER_REQUEST).min(sizes.sent_rows as usize) as i64;
    anyhow::ensure!(delivered >= expected, "{delivered} messages carry a receipt; {expected} were sent one");
    Ok(ReceiptFigures {
        receipts_per_sec: (load.completed * PER_REQUEST) as f64 / load.elapsed.as_secs_f64(),
        receipts_request_p99_ms: percentile(&mut load.latencies_ms, 99.0),
    })
}
