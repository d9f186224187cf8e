//! `local migrate up|down|status` over the migrations embedded in `dispatcher-core`.

use anyhow::Context;
use clap::Subcommand;
use dispatcher_core::db::{self, MIGRATOR};
use dispatcher_core::Config;
use sqlx::PgPool;

/// What `local migrate` does.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Revert the latest migration, or down to `--to VERSION` (0 reverts all).
    Down {
        #[arg(long)]
        to: Option<i64>,
    },
    /// List migrations and whether each is applied.
    Status,
}

pub async fn run(config: &Config, action: MigrateAction) -> anyhow::Result<()> {
    let pool = db::connect(&config.database, 2).await?;
    match action {
        MigrateAction::Up => {
            MIGRATOR.run(&pool).await.context("applying migrations")?;
            println!("migrations applied; schema at version {}", current_version(&pool).await?);
        }
        MigrateAction::Down { to } => {
            let current = current_version(&pool).await?;
            let target = match to {
                Some(target) if target < 0 => {
                    anyhow::bail!("--to must be a version >= 0, got {target}")
                }
                Some(target) => target,
                None => previous_version(current),
            };
            MIGRATOR.undo(&pool, target).await.context("reverting migrations")?;
            println!("migrations reverted; schema at version {}", current_version(&pool).await?);
        }
        MigrateAction::Status => print_status(&pool).await?,
    }
    Ok(())
}

/// The version before `current` among the known migrations (0 when none is left).
fn previous_version(current: i64) -> i64 {
    MIGRATOR.iter().map(|m| m.version).filter(|&v| v < current).max().unwrap_or(0)
}

async fn applied_versions(pool: &PgPool) -> anyhow::Result<Vec<(i64, chrono::DateTime<chrono::Utc>)>> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await
        .context("reading migration history")?;
    if !exists {
        return Ok(Vec::new());
    }
    sqlx::query_as("SELECT version, installed_on FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await
        .context("reading migration history")
}

async fn current_version(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(applied_versions(pool).await?.last().map_or(0, |(v, _)| *v))
}

async fn print_status(pool: &PgPool) -> anyhow::Result<()> {
    let applied = applied_versions(pool).await?;
    println!("{:<8} {:<24} {:<8} applied at", "version", "name", "state");
    for migration in MIGRATOR.iter().filter(|m| !m.migration_type.is_down_migration()) {
        let applied_at = applied.iter().find(|(v, _)| *v == migration.version);
        let (state, at) = match applied_at {
            Some((_, at)) => ("applied", at.to_rfc3339()),
            None => ("pending", String::new()),
        };
        println!("{:<8} {:<24} {:<8} {}", migration.version, migration.description, state, at);
    }
    Ok(())
}
