//! Cost as history grows: the claim's p99, dispatch throughput, the API's create rate and the sent
//! page's p99, each with a table of 1,000,000 and then 10,000,000 terminal messages. A table
//! whose cost grows with what it has already sent slows down a little more every day.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::database::BenchDatabase;
use crate::sizes::Sizes;
use crate::{api, claims, dispatch};

#[derive(Debug, Default, Serialize)]
pub struct HistoryFigures {
    /// By history size (`1m`, `10m`; `20k` and `100k` in a quick run).
    pub history: BTreeMap<String, AtHistorySize>,
    /// Claim p99 at the largest size over the smallest.
    pub history_claim_p99_growth: f64,
    /// Dispatch at the largest size over the smallest.
    pub history_dispatch_ratio: f64,
}

/// What one history size measured.
#[derive(Debug, Default, Serialize)]
pub struct AtHistorySize {
    pub claim_p99_ms: f64,
    pub dispatch_msgs_per_sec: f64,
    pub api_create_rps: f64,
    pub api_sent_page_p99_ms: f64,
}

/// "1m" for 1,000,000, "10m", "20k": the key each size has in bench-results.json.
pub fn label(rows: i64) -> String {
    match rows {
        r if r >= 1_000_000 && r % 1_000_000 == 0 => format!("{}m", r / 1_000_000),
        r if r >= 1_000 && r % 1_000 == 0 => format!("{}k", r / 1_000),
        r => r.to_string(),
    }
}

/// Each history size of `sizes`, smallest first.
pub async fn measure(db: &BenchDatabase, sizes: &Sizes) -> anyhow::Result<HistoryFigures> {
    let mut figures = HistoryFigures::default();
    let mut measured = Vec::new();
    for rows in sizes.history_rows {
        eprintln!("history: {rows} sent messages: claim p99, dispatch, create rate, sent page p99 ...");
        let at = at_size(db, rows, sizes).await?;
        measured.push((at.claim_p99_ms, at.dispatch_msgs_per_sec));
        figures.history.insert(label(rows), at);
    }
    if let (Some(smallest), Some(largest)) = (measured.first(), measured.last()) {
        figures.history_claim_p99_growth = largest.0 / smallest.0;
        figures.history_dispatch_ratio = largest.1 / smallest.1;
    }
    Ok(figures)
}

async fn at_size(db: &BenchDatabase, history_rows: i64, sizes: &Sizes) -> anyhow::Result<AtHistorySize> {
    db.fill(history_rows, sizes.pending_rows).await?;
    let (_, claim_p99_ms) = claims::latency(db, 100, sizes.claim_samples()).await?;

    // Dispatch drains a fresh backlog beside the same history.
    sqlx::query("DELETE FROM messages WHERE status <> 'sent'").execute(&db.pool).await?;
    db.insert_pending(sizes.drain).await?;
    db.checkpoint().await;
    let dispatch_msgs_per_sec = dispatch::drain(db, sizes.drain, dispatch::Drain::at(1000)).await?;

    let api = api::measure(db, sizes.api_duration, 64).await?;
    Ok(AtHistorySize {
        claim_p99_ms,
        dispatch_msgs_per_sec,
        api_create_rps: api.api_create_rps,
        api_sent_page_p99_ms: api.api_sent_page_p99_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::label;

    #[test]
    fn sizes_are_labelled_as_the_json_keys_name_them() {
        assert_eq!(label(1_000_000), "1m");
        assert_eq!(label(10_000_000), "10m");
        assert_eq!(label(20_000), "20k");
        assert_eq!(label(1_500), "1500");
    }
}
