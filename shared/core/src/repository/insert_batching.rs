//! Single creates, batched: concurrent creates share one INSERT and one commit (see
//! [`crate::batching`]); on an idle server a create still runs alone, at once. Every caller
//! gets its own row, and only once it is committed. A message with an idempotency key is
//! inserted on its own, so a repeated key keeps its meaning (the first message comes back)
//! without two keys ever meeting in one statement.

use sqlx::PgPool;

use super::messages::{self, Inserted};
use crate::batching::{Batcher, SharedError};
use crate::domain::{Message, NewMessage};

/// Rows per INSERT at most; 64 concurrent clients make batches of about 30.
const MAX_ROWS: usize = 500;
/// INSERTs in flight at once: two keep both cores busy, one waiting batch keeps growing.
const MAX_IN_FLIGHT: usize = 2;

type RowResult = Result<Message, SharedError>;

#[derive(Clone)]
pub struct InsertBatcher {
    pool: PgPool,
    batcher: Batcher<NewMessage, RowResult>,
}

impl InsertBatcher {
    pub fn new(pool: PgPool) -> Self {
        let batch_pool = pool.clone();
        let batcher =
            Batcher::new(MAX_ROWS, MAX_IN_FLIGHT, move |batch| insert_rows(batch_pool.clone(), batch));
        Self { pool, batcher }
    }

    /// Stores one message: batched with concurrent creates, or alone if it has a key.
    pub async fn insert(&self, new: NewMessage) -> anyhow::Result<Inserted> {
        if new.idempotency_key.is_some() {
            return Ok(messages::insert(&self.pool, &new).await?);
        }
        let created = self.batcher.submit(new).await??;
        Ok(Inserted::Created(created))
    }

    /// INSERT statements run for batched creates (fewer than the creates under load).
    pub fn statements_run(&self) -> u64 {
        self.batcher.batches_run()
    }
}

/// One INSERT for the batch. If the database refuses it (a row breaking a constraint the
/// validation does not know of), each row is tried alone, so only that row's create fails.
async fn insert_rows(pool: PgPool, batch: Vec<NewMessage>) -> Vec<RowResult> {
    match messages::insert_skipping_taken_keys(&pool, &batch).await {
        Ok(created) if created.len() == batch.len() => created.into_iter().map(Ok).collect(),
        Ok(_) | Err(sqlx::Error::Database(_)) if batch.len() > 1 => {
            let mut results = Vec::with_capacity(batch.len());
            for new in &batch {
                let alone = messages::insert(&pool, new).await.map(Inserted::into_message);
                results.push(alone.map_err(SharedError::new));
            }
            results
        }
        Ok(_) => {
            let missing = SharedError::new(sqlx::Error::RowNotFound);
            batch.iter().map(|_| Err(missing.clone())).collect()
        }
        Err(err) => {
            let shared = SharedError::new(err);
            batch.iter().map(|_| Err(shared.clone())).collect()
        }
    }
}
