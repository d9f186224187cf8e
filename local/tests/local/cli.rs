//! The `local` binary's migrate and seed commands, run as a user would, against a scratch database.

use std::process::{Command, Output};

use testkit::{Receiver, ScratchDatabase};

fn local(database_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_local"))
        .args(args)
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .unwrap()
}

/// What a command that must fail said: its stderr, trimmed.
fn failure_line(output: &Output) -> String {
    assert!(!output.status.success(), "succeeded: {}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8_lossy(&output.stderr).trim().to_owned()
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A scratch database brought up by `local migrate up`, holding `count` messages from `local seed`.
async fn migrated_and_seeded(count: usize) -> ScratchDatabase {
    let db = ScratchDatabase::create_empty().await;
    stdout(&local(&db.url, &["migrate", "up"]));
    stdout(&local(&db.url, &["seed", "--count", &count.to_string()]));
    db
}

#[tokio::test]
async fn migrate_down_to_zero_and_up_again_then_seed_works() {
    let db = ScratchDatabase::create_empty().await;
    let url = db.url.clone();
    let latest = dispatcher_core::db::MIGRATOR.iter().map(|m| m.version).max().unwrap();
    let at_latest = format!("schema at version {latest}");

    assert!(stdout(&local(&url, &["migrate", "status"])).contains("pending"));
    assert!(stdout(&local(&url, &["migrate", "up"])).contains(&at_latest));
    assert!(!stdout(&local(&url, &["migrate", "status"])).contains("pending"));
    let previous = format!("schema at version {}", latest - 1);
    assert!(stdout(&local(&url, &["migrate", "down"])).contains(&previous));
    assert!(stdout(&local(&url, &["migrate", "down", "--to", "0"])).contains("schema at version 0"));
    let tables = "SELECT count(*) FROM information_schema.tables
                  WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'";
    assert_eq!(db.count(tables).await, 0);

    assert!(stdout(&local(&url, &["migrate", "up"])).contains(&at_latest));
    assert!(stdout(&local(&url, &["seed", "--count", "2500"])).contains("seeded 2500"));
    let pending = "SELECT count(*) FROM messages WHERE status = 'pending'";
    assert_eq!(db.count(pending).await, 2500);
    let distinct = "SELECT count(DISTINCT content) FROM messages";
    assert!(db.count(distinct).await > 100, "texts vary");
}

#[tokio::test]
async fn seed_defaults_to_seed_message_count() {
    let db = ScratchDatabase::create_empty().await;
    let url = db.url.clone();
    stdout(&local(&url, &["migrate", "up"]));
    let output = Command::new(env!("CARGO_BIN_EXE_local"))
        .args(["seed"])
        .env("DATABASE_URL", &url)
        .env("SEED_MESSAGE_COUNT", "7")
        .output()
        .unwrap();
    assert!(stdout(&output).contains("seeded 7"));
    assert_eq!(db.count("SELECT count(*) FROM messages").await, 7);
}

#[test]
fn bad_configuration_fails_with_one_line_naming_the_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_local"))
        .args(["seed"])
        .env("MESSAGE_CHAR_LIMIT", "lots")
        .output()
        .unwrap();
    assert_eq!(
        failure_line(&output),
        "error: invalid MESSAGE_CHAR_LIMIT=\"lots\": expected an integer from 1 to 1600"
    );
}

#[test]
fn the_harness_refuses_a_lease_that_cannot_fit_one_webhook_timeout_in_one_line() {
    // `local` with no command serves the whole system; it must refuse before starting anything.
    let output = Command::new(env!("CARGO_BIN_EXE_local"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MESSAGE_LEASE_SECONDS", "5")
        .output()
        .unwrap();
    assert_eq!(
        failure_line(&output),
        "error: invalid MESSAGE_LEASE_SECONDS=\"5\": expected at least 11: a claim must outlast one webhook \
         request (WEBHOOK_TIMEOUT_SECONDS=10) plus the time to record it"
    );
}

#[test]
fn an_unreachable_database_is_one_clear_line_without_the_password() {
    let output = local("postgres://app:hunter2@127.0.0.1:1/x", &["migrate", "up"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot connect to PostgreSQL at postgres://app:***@127.0.0.1:1/x"));
    assert!(!stderr.contains("hunter2"));
}

#[tokio::test]
async fn dispatch_runs_one_batch_against_the_webhook_and_prints_the_summary() {
    let db = migrated_and_seeded(5).await;
    let url = db.url.clone();
    let receiver = Receiver::accepting().await;

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_local"))
        .args(["dispatch", "--batch-size", "3"])
        .env("DATABASE_URL", &url)
        .env("WEBHOOK_URL", &receiver.url)
        .output()
        .await
        .unwrap();
    let summary: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!((summary["claimed"].as_i64(), summary["sent"].as_i64()), (Some(3), Some(3)));
    assert_eq!(receiver.received().len(), 3);
    assert_eq!(db.count("SELECT count(*) FROM messages WHERE status = 'sent'").await, 3);

    let missing = local(&url, &["dispatch"]);
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("WEBHOOK_URL"), "{stderr}");
}

#[tokio::test]
async fn purge_deletes_only_expired_terminal_messages_and_says_how_many() {
    let db = migrated_and_seeded(2500).await;
    let url = db.url.clone();
    // 2,100 sent 40 days ago (more than two chunks), 300 sent yesterday, 100 still pending.
    sqlx::raw_sql(
        "UPDATE messages SET status = 'sent', attempts = 1, sent_at = t, updated_at = t,
                             next_attempt_at = NULL, webhook_message_id = 'w'
         FROM (SELECT id AS old_id, now() - interval '40 days' AS t FROM messages ORDER BY id LIMIT 2100) AS old
         WHERE id = old_id;
         UPDATE messages SET status = 'sent', attempts = 1, sent_at = now() - interval '1 day',
                             updated_at = now() - interval '1 day', next_attempt_at = NULL, webhook_message_id = 'w'
         WHERE id IN (SELECT id FROM messages WHERE status = 'pending' ORDER BY id LIMIT 300)",
    )
    .execute(&db.pool)
    .await
    .unwrap();

    let refused = local(&url, &["purge"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("MESSAGE_RETENTION_DAYS"));
    assert_eq!(db.count("SELECT count(*) FROM messages").await, 2500, "nothing deleted");

    let printed = stdout(&local(&url, &["purge", "--days", "30"]));
    assert!(printed.contains("purged 2100 "), "{printed}");
    let left = "SELECT count(*) FILTER (WHERE status = 'sent') * 1000 + count(*) FILTER (WHERE status = 'pending') FROM messages";
    assert_eq!(db.count(left).await, 300 * 1000 + 100);
    let kept_total = db.count("SELECT sum(n)::bigint FROM message_counts WHERE status = 'sent'").await;
    assert_eq!(kept_total, 300, "the kept count follows the deletes");
}
