use std::sync::Arc;

use sqlx::PgPool;

use crate::scheduler::SchedulerControl;
use crate::sent_pages::SentPages;
use dispatcher_core::redis_connection::RedisConnection;
use dispatcher_core::repository::InsertBatcher;
use dispatcher_core::Config;

/// What every handler may use; cheap to clone (pool and connections are shared handles).
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub redis: Option<RedisConnection>,
    pub config: Arc<Config>,
    pub scheduler: Arc<dyn SchedulerControl>,
    /// Single creates, batched under load.
    pub creates: InsertBatcher,
    /// The sent list's pages, shared by identical requests that wait together.
    pub sent_pages: SentPages,
}

impl AppState {
    pub fn new(
        pool: PgPool,
        redis: Option<RedisConnection>,
        config: Arc<Config>,
        scheduler: Arc<dyn SchedulerControl>,
    ) -> Self {
        Self {
            creates: InsertBatcher::new(pool.clone()),
            sent_pages: SentPages::new(pool.clone()),
            pool,
            redis,
            config,
            scheduler,
        }
    }
}
