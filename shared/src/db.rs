//! Connection pool and the embedded migrations.

use std::time::Duration;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::ConnectOptions;
use sqlx::PgPool;

use crate::config::redact_url;

/// Every migration in `migrations/`, compiled into each binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Builds a pool. Lambda functions pass a small `max_connections`; the harness a larger one.
pub async fn connect(url: &SecretString, max_connections: u32) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = url
        .expose_secret()
        .parse()
        .with_context(|| format!("DATABASE_URL {} is not a valid PostgreSQL URL", redact_url(url)))?;
    let options = options.application_name("message-dispatcher");
    // One direct connection first: its error says why (refused, auth, no such database),
    // where a pool would only report that it timed out.
    options
        .connect()
        .await
        .with_context(|| format!("cannot connect to PostgreSQL at {}", redact_url(url)))?;
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .with_context(|| format!("cannot connect to PostgreSQL at {}", redact_url(url)))
}
