//! The database's own limit for the dispatcher's state changes: the same `FOR UPDATE SKIP LOCKED`
//! claim of a batch and one `UPDATE ... WHERE id = ANY(...)` marking it sent, on a scratch table
//! with only a primary key and the pending FIFO index (no other index, no trigger). What our
//! write path costs is measured against this, in the same run. Its like-for-like variant also
//! inserts one narrow attempt row per message in the same statement, as our record does.

use std::time::Instant;

use sqlx::PgPool;
use uuid::Uuid;

use crate::database::BenchDatabase;

const TABLE_SETUP: &str = "
    DROP TABLE IF EXISTS bench_minimal_queue;
    CREATE TABLE bench_minimal_queue (
        id                 uuid PRIMARY KEY DEFAULT messages_new_id(),
        phone_number       text NOT NULL,
        content            text NOT NULL,
        status             text NOT NULL DEFAULT 'pending',
        created_at         timestamptz NOT NULL,
        sent_at            timestamptz,
        webhook_message_id text
    );
    CREATE INDEX bench_minimal_queue_fifo ON bench_minimal_queue (created_at) WHERE status = 'pending';
    DROP TABLE IF EXISTS bench_minimal_attempts;
    CREATE TABLE bench_minimal_attempts (
        message_id  uuid NOT NULL,
        number      integer NOT NULL,
        started_at  timestamptz NOT NULL,
        status_code smallint,
        PRIMARY KEY (message_id, number)
    );";

/// How the minimal queue marks a batch sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// The UPDATE alone.
    Update,
    /// The UPDATE and an INSERT of one narrow attempt row per message, in one statement.
    UpdateAndAttempt,
}

impl Record {
    fn sql(self) -> &'static str {
        match self {
            Self::Update => {
                "UPDATE bench_minimal_queue SET status = 'sent', sent_at = now(), webhook_message_id = 'minimal'
                 WHERE id = ANY($1)"
            }
            Self::UpdateAndAttempt => {
                "WITH sent AS (
                     UPDATE bench_minimal_queue SET status = 'sent', sent_at = now(), webhook_message_id = 'minimal'
                     WHERE id = ANY($1) RETURNING id
                 )
                 INSERT INTO bench_minimal_attempts (message_id, number, started_at, status_code)
                 SELECT id, 1, now(), 202 FROM sent"
            }
        }
    }
}

/// Rows per second claimed and marked sent, `batch` at a time, by `runners` connections at once.
pub async fn rows_per_sec(
    db: &BenchDatabase,
    total: i64,
    batch: i64,
    runners: usize,
    record: Record,
) -> anyhow::Result<f64> {
    db.reset().await?;
    sqlx::raw_sql(TABLE_SETUP).execute(&db.pool).await?;
    db.insert_pending_into("bench_minimal_queue", total).await?;
    sqlx::raw_sql("VACUUM ANALYZE bench_minimal_queue").execute(&db.pool).await?;
    db.checkpoint().await;

    let started = Instant::now();
    let runners: Vec<_> = (0..runners).map(|_| tokio::spawn(drain(db.pool.clone(), batch, record))).collect();
    let mut done = 0;
    for runner in runners {
        done += runner.await??;
    }
    let rate = done as f64 / started.elapsed().as_secs_f64();
    sqlx::raw_sql("DROP TABLE bench_minimal_queue, bench_minimal_attempts").execute(&db.pool).await?;
    anyhow::ensure!(done == total, "the minimal queue marked {done} of {total} rows sent");
    Ok(rate)
}

async fn drain(pool: PgPool, batch: i64, record: Record) -> anyhow::Result<i64> {
    let mut done = 0;
    loop {
        let claimed: Vec<Uuid> = sqlx::query_scalar(
            "WITH due AS (SELECT id FROM bench_minimal_queue WHERE status = 'pending'
                          ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED)
             UPDATE bench_minimal_queue q SET status = 'processing' FROM due WHERE q.id = due.id
             RETURNING q.id",
        )
        .bind(batch)
        .fetch_all(&pool)
        .await?;
        if claimed.is_empty() {
            return Ok(done);
        }
        sqlx::query(record.sql()).bind(&claimed).execute(&pool).await?;
        done += claimed.len() as i64;
    }
}
