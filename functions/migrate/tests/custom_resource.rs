//! The migrate handler as CloudFormation drives it, with a local HTTP server standing in for
//! the pre-signed ResponseURL: success, failure, delete, and a stack that is always answered.

#![allow(clippy::unwrap_used)]

use lambda_runtime::{Context, LambdaEvent};
use migrate::MigrateHandler;
use serde_json::{json, Value};
use sqlx::PgPool;
use testkit::cloudformation::ResponseUrl;
use testkit::database::url_of;

fn event(request_type: &str, url: &str) -> LambdaEvent<Value> {
    let payload = json!({
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:message-dispatcher-migrate",
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/message-dispatcher/5b1c",
        "RequestId": "3f1c2a8e-6b1d-4c55-9d0e-7a2b9c1d4e5f",
        "ResourceType": "Custom::Migrations",
        "LogicalResourceId": "Migrations",
        "ResourceProperties": {"ServiceToken": "arn:...", "Version": "1"}
    });
    LambdaEvent::new(payload, Context::default())
}

fn handler(database_url: String) -> MigrateHandler {
    MigrateHandler::new(Box::new(move |var| (var == "DATABASE_URL").then(|| database_url.clone())))
}

#[sqlx::test(migrations = false)]
async fn create_applies_the_migrations_and_answers_success(pool: PgPool) {
    let cloudformation = ResponseUrl::answering(200).await;
    let url = cloudformation.url.clone();
    handler(url_of(&pool)).handle(event("Create", &url)).await.unwrap();

    let tables = testkit::database::fetch_i64(
        &pool,
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'messages'",
    )
    .await;
    assert_eq!(tables, 1, "migrations applied");
    let answers = cloudformation.answers();
    assert_eq!(answers.len(), 1);
    let (headers, body) = &answers[0];
    assert_eq!(body["Status"], "SUCCESS");
    assert_eq!(body["PhysicalResourceId"], "message-dispatcher-migrations");
    assert_eq!(body["RequestId"], "3f1c2a8e-6b1d-4c55-9d0e-7a2b9c1d4e5f");
    assert_eq!(body["LogicalResourceId"], "Migrations");
    assert_eq!(
        body["StackId"],
        "arn:aws:cloudformation:eu-west-1:123456789012:stack/message-dispatcher/5b1c"
    );
    let latest = dispatcher_core::db::MIGRATOR.iter().map(|m| m.version).max().unwrap();
    assert_eq!(body["Data"]["SchemaVersion"], latest.to_string());
    assert_eq!(headers["content-type"], "", "the pre-signed URL expects an empty Content-Type");
}

#[sqlx::test(migrations = false)]
async fn update_is_idempotent(pool: PgPool) {
    let cloudformation = ResponseUrl::answering(200).await;
    let url = cloudformation.url.clone();
    let handler = handler(url_of(&pool));
    handler.handle(event("Create", &url)).await.unwrap();
    handler.handle(event("Update", &url)).await.unwrap();
    let statuses: Vec<Value> = cloudformation.answers().iter().map(|(_, b)| b["Status"].clone()).collect();
    assert_eq!(statuses, [json!("SUCCESS"), json!("SUCCESS")]);
}

#[tokio::test]
async fn an_unreachable_database_answers_failed_with_the_reason_and_no_password() {
    let cloudformation = ResponseUrl::answering(200).await;
    let url = cloudformation.url.clone();
    let handler = handler("postgres://app:hunter2@127.0.0.1:1/x".into());
    handler.handle(event("Create", &url)).await.unwrap();
    let answers = cloudformation.answers();
    assert_eq!(answers.len(), 1, "the stack is answered, not left waiting");
    let reason = answers[0].1["Reason"].as_str().unwrap();
    assert_eq!(answers[0].1["Status"], "FAILED");
    assert!(reason.contains("cannot connect to PostgreSQL at postgres://app:***@127.0.0.1:1/x"), "{reason}");
    assert!(!reason.contains("hunter2"));
}

#[tokio::test]
async fn bad_configuration_answers_failed_too() {
    let cloudformation = ResponseUrl::answering(200).await;
    let url = cloudformation.url.clone();
    let handler = MigrateHandler::new(Box::new(|_| None));
    handler.handle(event("Update", &url)).await.unwrap();
    let answers = cloudformation.answers();
    assert_eq!(answers[0].1["Status"], "FAILED");
    assert!(answers[0].1["Reason"].as_str().unwrap().contains("DATABASE_URL"));
}

#[tokio::test]
async fn delete_answers_success_and_touches_no_database() {
    let cloudformation = ResponseUrl::answering(200).await;
    let url = cloudformation.url.clone();
    // No database at all: Delete must not need one (and must not drop the data).
    handler("postgres://app@127.0.0.1:1/x".into()).handle(event("Delete", &url)).await.unwrap();
    assert_eq!(cloudformation.answers()[0].1["Status"], "SUCCESS");
}

#[tokio::test]
async fn a_response_url_that_keeps_failing_is_an_invocation_error() {
    let cloudformation = ResponseUrl::answering(500).await;
    let url = cloudformation.url.clone();
    let result = handler("postgres://app@127.0.0.1:1/x".into()).handle(event("Delete", &url)).await;
    assert!(result.is_err());
    assert_eq!(cloudformation.answers().len(), 3, "retried");
}
