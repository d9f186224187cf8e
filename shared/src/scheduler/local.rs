use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::Notify;

use super::{ScheduleState, SchedulerControl, SchedulerError, SchedulerFuture};
use crate::repository::scheduler_state;

/// The local backend: a row in PostgreSQL, and a wake-up for the harness's ticker so that
/// `start` runs the dispatcher at once instead of a period later.
#[derive(Clone)]
pub struct LocalScheduler {
    pool: PgPool,
    wake: Arc<Notify>,
}

impl LocalScheduler {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Notified on every `start`; the ticker waits on it between periods.
    pub fn wake_signal(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    async fn set(&self, state: &str) -> Result<ScheduleState, SchedulerError> {
        parse(&scheduler_state::set(&self.pool, state).await?.state)
    }
}

fn parse(state: &str) -> Result<ScheduleState, SchedulerError> {
    match state {
        "running" => Ok(ScheduleState::Running),
        "stopped" => Ok(ScheduleState::Stopped),
        other => Err(SchedulerError::Unknown(other.to_owned())),
    }
}

impl SchedulerControl for LocalScheduler {
    fn backend(&self) -> &'static str {
        "local"
    }

    fn start(&self) -> SchedulerFuture<'_> {
        Box::pin(async move {
            let state = self.set("running").await?;
            self.wake.notify_one();
            Ok(state)
        })
    }

    fn stop(&self) -> SchedulerFuture<'_> {
        Box::pin(self.set("stopped"))
    }

    fn state(&self) -> SchedulerFuture<'_> {
        Box::pin(async move {
            match scheduler_state::get(&self.pool).await? {
                Some(row) => parse(&row.state),
                None => self.set("running").await,
            }
        })
    }
}
