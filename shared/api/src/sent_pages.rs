//! The sent list's pages, read in batches (see [`dispatcher_core::batching`]): requests for the same page
//! that wait together (many dashboards polling page 1) share one query and one JSON encoding.
//! Each request still gets a page read after it arrived, never an older one.

use axum::body::Bytes;
use sqlx::PgPool;

use dispatcher_core::batching::{Batcher, SharedError};
use dispatcher_core::repository::messages;

use crate::wire::SentPageOut;

/// (page, page_size)
type PageKey = (u32, u32);
type PageResult = Result<Bytes, SharedError>;

/// Requests taken into one round of reads at most.
const MAX_WAITING: usize = 1000;
/// Rounds of reads at once; a round reads each distinct page it holds concurrently.
const MAX_IN_FLIGHT: usize = 2;

#[derive(Clone)]
pub struct SentPages {
    batcher: Batcher<PageKey, PageResult>,
}

impl SentPages {
    pub fn new(pool: PgPool) -> Self {
        Self { batcher: Batcher::new(MAX_WAITING, MAX_IN_FLIGHT, move |keys| read_pages(pool.clone(), keys)) }
    }

    /// The page as JSON (a [`SentPageOut`]).
    pub async fn page(&self, page: u32, page_size: u32) -> anyhow::Result<Bytes> {
        Ok(self.batcher.submit((page, page_size)).await??)
    }

    /// Rounds of reads run so far (fewer than the requests when they were shared).
    pub fn rounds_run(&self) -> u64 {
        self.batcher.batches_run()
    }
}

/// Reads each distinct page of the round once, concurrently; every request gets its page.
async fn read_pages(pool: PgPool, keys: Vec<PageKey>) -> Vec<PageResult> {
    let mut distinct = keys.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let pages = futures::future::join_all(distinct.iter().map(|&(page, page_size)| {
        let pool = &pool;
        async move {
            let sent = messages::list_sent(pool, page, page_size).await.map_err(SharedError::new)?;
            Ok(Bytes::from(serde_json::to_vec(&SentPageOut::from(sent)).map_err(SharedError::new)?))
        }
    }))
    .await;
    // `distinct` is sorted and holds every key, so each key's page is at its partition point.
    keys.iter().map(|key| pages[distinct.partition_point(|k| k < key)].clone()).collect()
}
