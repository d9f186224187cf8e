//! `local` (or `local serve`): the whole system in one process. PostgreSQL (DATABASE_URL or a
//! private server), migrations, the API on APP_PORT, a ticker playing EventBridge, and a mock
//! receiver when WEBHOOK_URL is unset. Ctrl-C / SIGTERM: in-flight sends finish, unsent claims
//! are handed back, the private PostgreSQL is stopped.

mod banner;
mod ticker;

use std::sync::Arc;

use anyhow::Context;
use dispatcher_api::scheduler::LocalScheduler;
use dispatcher_api::{router, AppState};
use dispatcher_core::dispatch::Dispatcher;
use dispatcher_core::redis_connection::RedisConnection;
use dispatcher_core::{db, Config};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::embedded_postgres::EmbeddedPostgres;
use crate::{mock_receiver, HarnessOptions};

/// The API and the ticker share it. 10, not 20: on 2 cores, 20 busy backends made API creates
/// slower and the sent page's p99 worse (BENCHMARKS.md has the figures).
pub const HARNESS_POOL: u32 = 10;

pub async fn run(mut config: Config, options: HarnessOptions) -> anyhow::Result<()> {
    if let Some(name) = &config.scheduler.schedule_name {
        tracing::warn!(
            schedule = %name,
            "SCHEDULE_NAME is set, but the harness plays the scheduler itself: its start/stop drive the \
             local scheduler state, not that EventBridge schedule (the api function drives it: cargo lambda watch)"
        );
    }
    let shutdown = CancellationToken::new();
    spawn_signal_handler(shutdown.clone());

    let embedded = match (&config.database.url, &config.database.secret_arn) {
        (Some(_), _) | (None, Some(_)) => None,
        (None, None) => {
            let data_dir = options.data_dir.clone();
            let port = options.postgres_port;
            let server =
                tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&data_dir, port)).await??;
            server.ensure_database().await?;
            config.database.url = Some(server.url());
            Some(server)
        }
    };
    let result = serve(&mut config, &options, shutdown).await;
    if let Some(server) = embedded {
        tokio::task::spawn_blocking(move || server.stop()).await?;
    }
    result
}

async fn serve(
    config: &mut Config,
    options: &HarnessOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool = db::connect(&config.database, HARNESS_POOL).await?;
    db::MIGRATOR.run(&pool).await.context("applying migrations")?;

    let mock_url = match &config.webhook.url {
        Some(_) => None,
        None => {
            let listener =
                TcpListener::bind((options.host.as_str(), options.mock_receiver_port)).await.with_context(
                    || format!("binding the mock receiver to port {}", options.mock_receiver_port),
                )?;
            let url = mock_receiver::spawn(listener, shutdown.clone(), config.webhook.signer.clone())?;
            config.webhook.url = Some(url.parse()?);
            Some(url)
        }
    };
    let redis = config.redis_url.as_ref().map(RedisConnection::lazy).transpose()?;
    let dispatcher = Dispatcher::with_redis(config, pool.clone(), redis.clone())?;
    let scheduler = LocalScheduler::new(pool.clone());
    let state = AppState::new(pool, redis, Arc::new(config.clone()), Arc::new(scheduler.clone()));

    let listener = TcpListener::bind((options.host.as_str(), options.app_port)).await.with_context(|| {
        format!("binding the API to {}:{} (set APP_PORT)", options.host, options.app_port)
    })?;
    banner::print(config, listener.local_addr()?, mock_url.as_deref());

    let ticker = tokio::spawn(ticker::run(
        dispatcher,
        scheduler,
        config.scheduler.interval(),
        config.dispatch.lease,
        shutdown.clone(),
    ));
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await
        .context("serving the API")?;
    shutdown.cancel();
    ticker.await.context("the dispatch ticker panicked")?;
    tracing::info!("harness stopped");
    Ok(())
}

fn spawn_signal_handler(shutdown: CancellationToken) {
    tokio::spawn(async move {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            () = terminate => {},
        }
        tracing::info!("shutting down: finishing sends in flight, handing back unsent claims");
        shutdown.cancel();
    });
}
