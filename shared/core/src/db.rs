//! Connection pool and the embedded migrations.

use std::time::Duration;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use sqlx::{ConnectOptions, Connection};

use crate::config::{redact_url, DatabaseSettings};
use crate::database_secret;

/// Every migration in `migrations/`, compiled into each binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// A pooled connection idle longer than this is pinged before use; busy ones are not. A ping
/// on every acquire (sqlx's default) is one more round trip per query: dropping it made API
/// creates faster and the sent page's tail latency lower (BENCHMARKS.md has the figures).
/// A connection that dies while busy fails its next query, and the pool replaces it.
pub const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(5);

/// The pool a function, the harness or a tool uses, at most `max_connections` (Lambda functions
/// pass a small number, the harness a larger one): the URL from DATABASE_URL or, read once per
/// process, from DATABASE_SECRET_ARN; DATABASE_STATEMENT_CACHE_CAPACITY prepared statements
/// kept per connection (0: none, for RDS Proxy, which pins a connection that prepares one, and
/// PgBouncer in transaction mode).
pub async fn connect(settings: &DatabaseSettings, max_connections: u32) -> anyhow::Result<PgPool> {
    let url = match (&settings.url, &settings.secret_arn) {
        (Some(url), _) => url.clone(),
        (None, Some(arn)) => database_secret::read_once(arn, &settings.location).await?,
        (None, None) => return Err(DatabaseSettings::missing_url().into()),
    };
    pool(&url, max_connections, settings.statement_cache_capacity).await
}

async fn pool(url: &SecretString, max_connections: u32, statement_cache: usize) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = url
        .expose_secret()
        .parse()
        .with_context(|| format!("DATABASE_URL {} is not a valid PostgreSQL URL", redact_url(url)))?;
    let options = options.application_name("message-dispatcher").statement_cache_capacity(statement_cache);
    // One direct connection first: its error says why (refused, auth, no such database),
    // where a pool would only report that it timed out.
    options
        .connect()
        .await
        .with_context(|| format!("cannot connect to PostgreSQL at {}", redact_url(url)))?;
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_WHEN_IDLE_FOR {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
        .with_context(|| format!("cannot connect to PostgreSQL at {}", redact_url(url)))
}
