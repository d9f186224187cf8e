//! Secrets never appear in logs or responses: the harness runs with a webhook key, a database
//! password and an API token, logging at TRACE, through good requests, bad ones and a database
//! outage; then its whole log and every response body are searched. Also: TLS is rustls only,
//! and the harness's mock receiver verifies webhook signatures and logs its verdict.

use std::time::Duration;

use crate::support;
use sqlx::Connection;
use support::harness::Harness;
use testkit::Receiver;
use testkit::{wait_until, ScratchDatabase};

const WEBHOOK_KEY: &str = "whk-3f9c1e7a-secret";
const API_TOKEN: &str = "api-7d2b9e41-secret";
/// `provider:API_TOKEN` in base64: the token as a receipts callback's Basic password, as it travels.
const API_TOKEN_AS_BASIC: &str = "cHJvdmlkZXI6YXBpLTdkMmI5ZTQxLXNlY3JldA==";
const DB_PASSWORD: &str = "dbpw-5a8e2c90-secret";
/// The base64 of a signing secret (its `whsec_` prefix is not the secret).
const SIGNING_KEY: &str = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A login role with a password, owning the scratch database.
async fn role_with_password(db: &ScratchDatabase) -> String {
    let admin_url = std::env::var("DATABASE_URL").unwrap();
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    let role = format!("app_{}", &db.name[db.name.len() - 8..]);
    sqlx::raw_sql(&format!("CREATE ROLE {role} LOGIN PASSWORD '{DB_PASSWORD}'"))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::raw_sql(&format!("GRANT ALL ON DATABASE {name} TO {role};", name = db.name))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::raw_sql(&format!(
        "ALTER SCHEMA public OWNER TO {role}; GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}; \
         GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role};"
    ))
    .execute(&db.pool)
    .await
    .unwrap();
    let server =
        admin_url.rsplit_once('/').unwrap().0.replace("postgres@", &format!("{role}:{DB_PASSWORD}@"));
    format!("{server}/{}", db.name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_key_database_password_and_api_token_appear_in_no_log_and_no_response() {
    let db = ScratchDatabase::create().await;
    let database_url = role_with_password(&db).await;
    assert!(database_url.contains(DB_PASSWORD));
    let receiver = Receiver::accepting().await;
    let url = receiver.url.clone();
    let signing_secret = format!("whsec_{SIGNING_KEY}");
    let mut harness = Harness::start(&[
        ("DATABASE_URL", database_url.as_str()),
        ("WEBHOOK_URL", url.as_str()),
        ("WEBHOOK_AUTH_KEY", WEBHOOK_KEY),
        ("WEBHOOK_SIGNING_SECRET", signing_secret.as_str()),
        ("API_AUTH_TOKEN", API_TOKEN),
        ("RUST_LOG", "trace"),
        ("MESSAGE_INTERVAL_SECONDS", "1"),
    ])
    .await;

    let client = reqwest::Client::new();
    let mut bodies = Vec::new();
    let base = &harness.base;
    for (auth, body) in [
        (None, r#"{"phone_number":"+905551111111","content":"no token"}"#),
        (Some(format!("Bearer {API_TOKEN}x")), r#"{"phone_number":"+905551111111","content":"wrong token"}"#),
        (Some(format!("Bearer {API_TOKEN}")), r#"{"phone_number":"+905551111111","content":"right token"}"#),
        (Some(format!("Bearer {API_TOKEN}")), r#"{"phone_number":"bad","content":""}"#),
        (Some(format!("Bearer {API_TOKEN}")), r#"{"phone_number":"#),
    ] {
        let mut request = client
            .post(format!("{base}/api/v1/messages"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        bodies.push(request.send().await.unwrap().text().await.unwrap());
    }
    wait_until(Duration::from_secs(20), "the message sent", || async { db.status_count("sent").await == 1 })
        .await;
    // Delivery receipts with the token as the Basic password (right, then wrong), as providers send them.
    for (password, expected) in [(API_TOKEN.to_owned(), 202), (format!("{API_TOKEN}x"), 401)] {
        let reply = client
            .post(format!("{base}/api/v1/receipts"))
            .basic_auth("provider", Some(password))
            .json(&serde_json::json!({"messageId": "unknown-id", "status": "delivered"}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status().as_u16(), expected);
        bodies.push(reply.text().await.unwrap());
    }

    // A database outage: errors with their cause chains are logged and answered.
    db.cut_connections().await;
    let during =
        client.get(format!("{base}/api/v1/messages/stats")).bearer_auth(API_TOKEN).send().await.unwrap();
    bodies.push(during.text().await.unwrap());
    bodies.push(client.get(format!("{base}/ready")).send().await.unwrap().text().await.unwrap());
    tokio::time::sleep(Duration::from_secs(2)).await;
    db.restore_connections().await;
    assert!(harness.terminate().success());

    let logs = harness.logs();
    assert!(logs.lines().count() > 50, "TRACE logs were written");
    for (name, secret) in [
        ("webhook key", WEBHOOK_KEY),
        ("signing secret", SIGNING_KEY),
        ("API token", API_TOKEN),
        ("API token as Basic credentials", API_TOKEN_AS_BASIC),
        ("database password", DB_PASSWORD),
    ] {
        assert!(!logs.contains(secret), "the {name} is in the logs");
        for body in &bodies {
            assert!(!body.contains(secret), "the {name} is in a response: {body}");
        }
    }
    drop(db); // the role owns objects in it until it is gone
    let admin_url = std::env::var("DATABASE_URL").unwrap();
    let role = database_url.split("//").nth(1).unwrap().split(':').next().unwrap().to_owned();
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::raw_sql(&format!("DROP ROLE IF EXISTS {role}")).execute(&mut admin).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mock_receiver_verifies_signatures_and_logs_each_verdict() {
    let db = ScratchDatabase::create().await;
    let mock_port = testkit::free_port().to_string();
    let signing_secret = format!("whsec_{SIGNING_KEY}");
    let mut harness = Harness::start(&[
        ("DATABASE_URL", db.url.as_str()),
        ("MOCK_RECEIVER_PORT", mock_port.as_str()),
        ("WEBHOOK_SIGNING_SECRET", signing_secret.as_str()),
        ("MESSAGE_INTERVAL_SECONDS", "1"),
    ])
    .await;
    let client = reqwest::Client::new();
    assert_eq!(harness.post_message(&client, 1).await, 201);
    wait_until(Duration::from_secs(20), "the message sent", || async { db.status_count("sent").await == 1 })
        .await;
    // A forged request: the headers are there, its signature is one of another message.
    let forged = client
        .post(format!("http://127.0.0.1:{mock_port}/webhook"))
        .header("webhook-id", "msg_forged")
        .header("webhook-timestamp", chrono::Utc::now().timestamp().to_string())
        .header("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        .body(r#"{"to":"+905551111111","content":"forged"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    assert!(harness.terminate().success());

    let logs = harness.logs();
    let line = |message: &str| logs.lines().find(|line| line.contains(message)).map(str::to_owned);
    let received = line("mock receiver: message received").expect("the message reached the mock receiver");
    assert!(received.contains(r#""signature":"verified""#), "{received}");
    let refused = line("mock receiver: signature did not verify").expect("the forgery was logged");
    assert!(refused.contains("no v1 signature matches"), "{refused}");
    assert!(!logs.contains(SIGNING_KEY), "the signing secret is in the logs");
}

#[test]
fn tls_is_rustls_and_openssl_is_nowhere_in_the_dependency_tree() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).unwrap();
    for crate_name in ["openssl", "openssl-sys", "native-tls"] {
        assert!(!lock.contains(&format!("name = \"{crate_name}\"")), "{crate_name} is in Cargo.lock");
    }
    assert!(lock.contains("name = \"rustls\""));
}
