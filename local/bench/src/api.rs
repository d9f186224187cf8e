//! The API under load at a given concurrency: create requests per second, the p99 latency of
//! the sent list's first page with a million sent rows, and of a filtered listing page half way
//! down those rows (keyset paging: a deep page should cost what the first one does).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dispatcher_api::scheduler::LocalScheduler;
use dispatcher_api::{router, AppState};
use dispatcher_core::config::DatabaseSettings;
use dispatcher_core::db;
use dispatcher_core::repository::ListCursor;
use dispatcher_core::Config;
use serde::Serialize;
use tokio::task::JoinHandle;

use crate::database::BenchDatabase;
use crate::http_load::{self, LoadRequest};
use crate::percentile::percentile;

#[derive(Debug, Default, Serialize)]
pub struct ApiFigures {
    pub api_create_rps: f64,
    /// The sent page's throughput and median at the same load (they explain its p99).
    pub api_sent_page_rps: f64,
    pub api_sent_page_p50_ms: f64,
    pub api_sent_page_p99_ms: f64,
    /// A filtered listing page half way down a million rows (keyset paging).
    pub api_list_deep_page_p99_ms: f64,
}

pub async fn measure(
    db: &BenchDatabase,
    duration: Duration,
    concurrency: usize,
) -> anyhow::Result<ApiFigures> {
    let (addr, server) = serve(db).await?;
    let creates = http_load::run(addr, concurrency, duration, |n| {
        LoadRequest::post_json(
            "/api/v1/messages",
            &serde_json::json!({"phone_number": format!("+9055{n:09}"), "content": "benchmark create"}),
        )
    })
    .await?;
    let mut sent_page = http_load::run(addr, concurrency, duration, |_| {
        LoadRequest::get("/api/v1/messages/sent?page=1&page_size=20")
    })
    .await?;
    let cursor = half_way_cursor(&db.pool).await?;
    let deep_path = format!("/api/v1/messages?status=sent&limit=20&cursor={cursor}");
    let mut deep_page =
        http_load::run(addr, concurrency, duration, move |_| LoadRequest::get(deep_path.as_str())).await?;
    server.abort();
    Ok(ApiFigures {
        api_create_rps: creates.per_second(),
        api_sent_page_rps: sent_page.per_second(),
        api_sent_page_p50_ms: percentile(&mut sent_page.latencies_ms, 50.0),
        api_sent_page_p99_ms: percentile(&mut sent_page.latencies_ms, 99.0),
        api_list_deep_page_p99_ms: percentile(&mut deep_page.latencies_ms, 99.0),
    })
}

/// The API as the harness serves it (its pool size, no token), on a free port of 127.0.0.1.
pub async fn serve(db: &BenchDatabase) -> anyhow::Result<(SocketAddr, JoinHandle<std::io::Result<()>>)> {
    let pool = db::connect(&DatabaseSettings::at(db.url.clone()), local::serve::HARNESS_POOL).await?;
    let config = Arc::new(Config::from_pairs(&[])?);
    let state = AppState::new(pool.clone(), None, config, Arc::new(LocalScheduler::new(pool)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    Ok((addr, tokio::spawn(async move { axum::serve(listener, router(state)).await })))
}

/// The cursor of the sent row half way down the listing's order.
async fn half_way_cursor(pool: &sqlx::PgPool) -> anyhow::Result<String> {
    let (created_at, id): (chrono::DateTime<chrono::Utc>, uuid::Uuid) = sqlx::query_as(
        "SELECT created_at, id FROM messages WHERE status = 'sent'
         ORDER BY created_at DESC, id DESC
         OFFSET (SELECT count(*) / 2 FROM messages WHERE status = 'sent') LIMIT 1",
    )
    .fetch_one(pool)
    .await?;
    Ok(ListCursor { created_at, id }.to_string())
}
