//! The webhook auth key never reaches a log line, even with every log level on.
//! The logs are this test's thread's (`set_default`): the test runs on one thread, and so does
//! everything it spawns.

use std::time::Duration;

use crate::support;
use sqlx::PgPool;
use support::dispatch::{limits, Setup, AUTH_KEY};
use testkit::receiver::{refused_url, Receiver, Reply};

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_auth_key_is_in_no_log_line_at_trace_level(pool: PgPool) {
    let captured = testkit::log_capture::Captured::default();
    let writer = captured.clone();
    let _logging = testkit::log_capture::set_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .json()
            .finish(),
    );

    support::insert_each(&pool, 0..4).await;
    let setup = Setup::default().with_settings(|s| s.webhook.timeout = Duration::from_millis(300));
    // Delivered, server error, client error echoing the request headers, timeout, refused.
    let receiver = Receiver::start(|r| match r.body.contains("number 0") {
        true => Reply::accepted(),
        false => Reply::status(400, &format!("{:?}", r.headers)),
    })
    .await;
    setup.build(&pool, &receiver.url).run_once(limits()).await.unwrap();
    support::insert_each(&pool, 10..12).await;
    let slow = Receiver::start(|_| Reply::status(500, "x").after(Duration::from_secs(1))).await;
    setup.build(&pool, &slow.url).run_once(limits()).await.unwrap();
    support::insert(&pool, 20).await;
    setup.build(&pool, &refused_url().await).run_once(limits()).await.unwrap();

    let logs = captured.text();
    assert!(logs.lines().count() > 10, "logs were captured:\n{logs}");
    assert!(logs.contains("dispatch run finished"));
    assert!(!logs.contains(AUTH_KEY), "the auth key leaked into the logs");
}
