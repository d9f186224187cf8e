//! The API under load at a given concurrency: create requests per second, the p99 latency of
//! the sent list's first page with a million sent rows, and of a filtered listing page half way
//! down those rows (keyset paging: a deep page should cost what the first one does).

use std::sync::Arc;
use std::time::Duration;

use shared::db;
use shared::http::{router, AppState};
use shared::repository::ListCursor;
use shared::scheduler::LocalScheduler;
use shared::Config;
use tokio::time::Instant;

use super::database::BenchDatabase;
use super::report::percentile;

pub struct ApiFigures {
    pub create_rps: f64,
    pub sent_page_p99_ms: f64,
    pub list_deep_page_p99_ms: f64,
}

pub async fn measure(
    db: &BenchDatabase,
    duration: Duration,
    concurrency: usize,
) -> anyhow::Result<ApiFigures> {
    let pool = db::connect(&db.url, crate::serve::HARNESS_POOL).await?;
    let config = Arc::new(Config::from_pairs(&[])?);
    let state =
        AppState { pool: pool.clone(), redis: None, config, scheduler: Arc::new(LocalScheduler::new(pool)) };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, router(state)).await });
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;

    let create_base = base.clone();
    let (created, elapsed, _) = load(&client, concurrency, duration, move |client, n| {
        client
            .post(format!("{create_base}/api/v1/messages"))
            .json(&serde_json::json!({"phone_number": format!("+9055{n:09}"), "content": "benchmark create"}))
    })
    .await?;
    let sent_base = base.clone();
    let (_, _, mut latencies) = load(&client, concurrency, duration, move |client, _| {
        client.get(format!("{sent_base}/api/v1/messages/sent?page=1&page_size=20"))
    })
    .await?;
    let cursor = half_way_cursor(&db.pool).await?;
    let (_, _, mut deep) = load(&client, concurrency, duration, move |client, _| {
        client.get(format!("{base}/api/v1/messages?status=sent&limit=20&cursor={cursor}"))
    })
    .await?;
    server.abort();
    Ok(ApiFigures {
        create_rps: created as f64 / elapsed.as_secs_f64(),
        sent_page_p99_ms: percentile(&mut latencies, 99.0),
        list_deep_page_p99_ms: percentile(&mut deep, 99.0),
    })
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

/// `concurrency` loops sending requests for `duration`; returns successes, elapsed time and
/// each request's latency in ms. Any non-2xx answer fails the benchmark.
async fn load<F>(
    client: &reqwest::Client,
    concurrency: usize,
    duration: Duration,
    request: F,
) -> anyhow::Result<(usize, Duration, Vec<f64>)>
where
    F: Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync + Clone + 'static,
{
    let started = Instant::now();
    let until = started + duration;
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let client = client.clone();
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = worker * 10_000_000;
            while Instant::now() < until {
                let sent_at = Instant::now();
                let status = request(&client, n).send().await?.status();
                anyhow::ensure!(status.is_success(), "the API answered {status}");
                latencies.push(sent_at.elapsed().as_secs_f64() * 1000.0);
                n += 1;
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    Ok((all.len(), started.elapsed(), all))
}
