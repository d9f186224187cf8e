//! The benchmark's own database: `dispatcher_bench`, made afresh on DATABASE_URL's server (or on
//! the harness's private PostgreSQL), and dropped at the end.

use anyhow::Context;
use dispatcher_core::config::DatabaseSettings;
use dispatcher_core::{db, Config};
use secrecy::{ExposeSecret, SecretString};
use sqlx::{Connection, PgConnection, PgPool};

use local::embedded_postgres::EmbeddedPostgres;
use local::HarnessOptions;

const NAME: &str = "dispatcher_bench";

pub struct BenchDatabase {
    pub url: SecretString,
    admin_url: String,
    pub pool: PgPool,
    embedded: Option<EmbeddedPostgres>,
}

impl BenchDatabase {
    pub async fn open(config: &Config, options: &HarnessOptions) -> anyhow::Result<Self> {
        let (server_url, embedded) = match &config.database.url {
            Some(url) => (url.expose_secret().to_owned(), None),
            None => {
                let (dir, port) = (options.data_dir.clone(), options.postgres_port);
                let server =
                    tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&dir, port)).await??;
                server.ensure_database().await?;
                (server.url().expose_secret().to_owned(), Some(server))
            }
        };
        let (base, _) = server_url.rsplit_once('/').context("DATABASE_URL has no database name")?;
        let admin_url = format!("{base}/postgres");
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .context("connecting to the server's postgres database")?;
        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {NAME} WITH (FORCE)")).execute(&mut admin).await?;
        sqlx::raw_sql(&format!("CREATE DATABASE {NAME}")).execute(&mut admin).await?;
        let url: SecretString = format!("{base}/{NAME}").into();
        let pool = db::connect(&DatabaseSettings::at(url.clone()), 80).await?;
        db::MIGRATOR.run(&pool).await?;
        Ok(Self { url, admin_url, pool, embedded })
    }

    /// How many messages match `condition` (a WHERE clause), to check a measurement lost nothing.
    pub async fn count_messages(&self, condition: &str) -> anyhow::Result<i64> {
        let sql = format!("SELECT count(*) FROM messages WHERE {condition}");
        Ok(sqlx::query_scalar(&sql).fetch_one(&self.pool).await?)
    }

    /// Empties the tables between measurements.
    pub async fn reset(&self) -> anyhow::Result<()> {
        sqlx::raw_sql("TRUNCATE messages, dispatch_runs").execute(&self.pool).await?;
        sqlx::raw_sql("VACUUM ANALYZE messages").execute(&self.pool).await?;
        Ok(())
    }

    /// A table of `n` pending messages, due now, and nothing else, its writes flushed.
    pub async fn only_pending(&self, n: i64) -> anyhow::Result<()> {
        self.reset().await?;
        self.insert_pending(n).await?;
        self.checkpoint().await;
        Ok(())
    }

    /// `n` pending messages, due now, oldest first.
    pub async fn insert_pending(&self, n: i64) -> anyhow::Result<()> {
        self.insert_pending_into("messages", n).await?;
        sqlx::raw_sql("ANALYZE messages").execute(&self.pool).await?;
        Ok(())
    }

    /// `n` rows due now, oldest first, into `table`: `messages`, or the minimal ceiling's queue,
    /// so both measure the same rows.
    pub async fn insert_pending_into(&self, table: &str, n: i64) -> anyhow::Result<()> {
        let sql = format!(
            "INSERT INTO {table} (phone_number, content, created_at)
             SELECT '+90555' || lpad(i::text, 7, '0'), 'benchmark message ' || i, now() - interval '1 day' + i * interval '1 ms'
             FROM generate_series(1, $1) AS i"
        );
        sqlx::query(&sql).bind(n).execute(&self.pool).await?;
        Ok(())
    }

    /// `n` messages sent (their last change) `days_ago`, each created a day before it was sent,
    /// each with the one attempt that sent it in the attempt log, as a dispatch run leaves them.
    pub async fn insert_sent(&self, n: i64, days_ago: i32) -> anyhow::Result<()> {
        sqlx::query(
            "WITH sent AS (
                 INSERT INTO messages (phone_number, content, status, created_at, updated_at, sent_at,
                                       next_attempt_at, attempts, request_count, webhook_message_id,
                                       webhook_response)
                 SELECT '+90555' || lpad(i::text, 7, '0'), 'sent message ' || i, 'sent', sent_at - interval '1 day',
                        sent_at, sent_at, NULL, 1, 1, md5(i::text), '{\"message\":\"Accepted\"}'
                 FROM (SELECT i, now() - make_interval(days => $2) + i * interval '1 ms' AS sent_at
                       FROM generate_series(1, $1) AS i) AS s
                 RETURNING id, sent_at, webhook_response
             )
             INSERT INTO message_attempts (message_id, number, started_at, duration_ms, status_code, outcome,
                                           response_body)
             SELECT id, 1, sent_at - interval '40 ms', 40, 202, 'sent', webhook_response FROM sent",
        )
        .bind(n)
        .bind(days_ago)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The large table of the latency measurements: `sent` rows, then `pending` due ones.
    pub async fn fill(&self, sent: i64, pending: i64) -> anyhow::Result<()> {
        self.reset().await?;
        self.insert_sent(sent, 29).await?;
        self.insert_pending(pending).await?;
        sqlx::raw_sql("VACUUM ANALYZE messages").execute(&self.pool).await?;
        self.checkpoint().await;
        Ok(())
    }

    /// Flushes what the setup wrote, so that a checkpoint set off by it does not fall into the
    /// measurement: filling a million rows writes about 500 MB of WAL, over the point at which
    /// PostgreSQL's default `max_wal_size` (1 GB) starts a checkpoint. Two of those, back to
    /// back, made a run's claim p99 19.18 ms against a p50 of 2.59 (BENCHMARKS.md). The work
    /// measured after it still pays the full-page writes that follow any checkpoint.
    /// CHECKPOINT needs a superuser or the pg_checkpoint role; without, the run says so.
    pub async fn checkpoint(&self) {
        if let Err(err) = sqlx::raw_sql("CHECKPOINT").execute(&self.pool).await {
            eprintln!(
                "warning: cannot run CHECKPOINT ({err}): a checkpoint set off by the setup's writes may fall into the measurement"
            );
        }
    }

    pub async fn close(self) {
        self.pool.close().await;
        if let Ok(mut admin) = PgConnection::connect(&self.admin_url).await {
            let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {NAME} WITH (FORCE)"))
                .execute(&mut admin)
                .await;
        }
        if let Some(server) = self.embedded {
            let _ = tokio::task::spawn_blocking(move || server.stop()).await;
        }
    }
}
