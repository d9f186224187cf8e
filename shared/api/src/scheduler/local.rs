use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::Notify;

use super::{ScheduleInfo, ScheduleState, SchedulerControl, SchedulerError, SchedulerFuture};
use dispatcher_core::repository::scheduler_state;

/// The local backend: a row in PostgreSQL, and a wake-up for the harness's ticker so that
/// `start` runs the dispatcher at once instead of a period later.
#[derive(Clone)]
pub struct LocalScheduler {
    pool: PgPool,
    wake: Arc<Notify>,
}

impl LocalScheduler {
    pub fn new(pool: PgPool) -> Self {
        Self { pool, wake: Arc::new(Notify::new()) }
    }

    /// Notified on every `start`; the ticker waits on it between periods.
    pub fn wake_signal(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    async fn set(&self, state: &str) -> Result<ScheduleInfo, SchedulerError> {
        parse(&scheduler_state::set(&self.pool, state).await?.state)
    }

    /// The state as the ticker reads it before each period.
    pub async fn is_running(&self) -> Result<bool, SchedulerError> {
        Ok(self.status().await?.state == ScheduleState::Running)
    }
}

fn parse(state: &str) -> Result<ScheduleInfo, SchedulerError> {
    match state {
        "running" => Ok(ScheduleInfo::local(ScheduleState::Running)),
        "stopped" => Ok(ScheduleInfo::local(ScheduleState::Stopped)),
        other => Err(SchedulerError::Unknown(other.to_owned())),
    }
}

impl SchedulerControl for LocalScheduler {
    fn backend(&self) -> &'static str {
        "local"
    }

    fn start(&self) -> SchedulerFuture<'_> {
        Box::pin(async move {
            let info = self.set("running").await?;
            self.wake.notify_one();
            Ok(info)
        })
    }

    fn stop(&self) -> SchedulerFuture<'_> {
        Box::pin(self.set("stopped"))
    }

    fn status(&self) -> SchedulerFuture<'_> {
        Box::pin(async move {
            match scheduler_state::get(&self.pool).await? {
                Some(row) => parse(&row.state),
                None => self.set("running").await,
            }
        })
    }
}
