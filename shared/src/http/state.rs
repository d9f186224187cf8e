use std::sync::Arc;

use sqlx::PgPool;

use crate::redis_connection::RedisConnection;
use crate::scheduler::SchedulerControl;
use crate::Config;

/// What every handler may use; cheap to clone (pool and connections are shared handles).
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub redis: Option<RedisConnection>,
    pub config: Arc<Config>,
    pub scheduler: Arc<dyn SchedulerControl>,
}
