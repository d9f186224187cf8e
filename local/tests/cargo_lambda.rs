//! The real functions under real Lambda tooling: `cargo lambda watch` serves the api, dispatch
//! and migrate functions; a message created through the api function is sent when the dispatch
//! function is invoked with the schedule's payload, and reaches a receiver on 127.0.0.1; the
//! migrate function answers a CloudFormation Create at its ResponseURL.

#![allow(clippy::unwrap_used)]

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use testkit::cloudformation::ResponseUrl;
use testkit::{Received, Receiver, Reply, ScratchDatabase};

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// cargo-lambda builds into its own target folder: the test run holds the main one's lock.
fn lambda_target_dir() -> String {
    std::env::var("CARGO_LAMBDA_TARGET_DIR")
        .unwrap_or_else(|_| "/var/tmp/message-dispatcher-lambda-target".into())
}

/// `cargo lambda watch` in its own process group, killed whole on drop.
struct Watch(Child);

impl Drop for Watch {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.0.wait();
    }
}

/// `cargo lambda invoke <function> <payload args>` against the watch on `port`; its JSON answer.
async fn invoke(port: &str, function: &str, payload: &[&str]) -> Value {
    let output = tokio::process::Command::new("cargo")
        .args(["lambda", "invoke", function])
        .args(payload)
        .args(["--invoke-address", "127.0.0.1", "--invoke-port", port])
        .current_dir(workspace_root())
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "invoking {function}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn a_message_created_through_the_api_function_is_sent_by_the_dispatch_function() {
    let database = ScratchDatabase::create().await;
    let receiver =
        Receiver::start(|_| Reply::status(202, r#"{"message":"Accepted","messageId":"cl-1"}"#)).await;
    let port = testkit::free_port().to_string();

    let watch = Command::new("cargo")
        .args(["lambda", "watch", "--quiet", "--invoke-address", "127.0.0.1", "--invoke-port", &port])
        .current_dir(workspace_root())
        .env("CARGO_TARGET_DIR", lambda_target_dir())
        .env("DATABASE_URL", &database.url)
        .env("WEBHOOK_URL", &receiver.url)
        .env("MESSAGE_BATCH_SIZE", "5")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect(
            "cannot start `cargo lambda watch`: run the tests with scripts/test, which installs cargo-lambda",
        );
    let served = Watch(watch);
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).is_err() {
        assert!(Instant::now() < deadline, "cargo lambda watch did not listen on {port}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The first request builds the function: allow for a cold build.
    let http = reqwest::Client::builder().timeout(Duration::from_secs(900)).build().unwrap();
    let response = http
        .post(format!("http://127.0.0.1:{port}/lambda-url/api/api/v1/messages"))
        .json(&json!({"phone_number": "+905551111111", "content": "through cargo lambda"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();

    let summary = invoke(&port, "dispatch", &["--data-file", "local/events/scheduler.json"]).await;
    assert_eq!((summary["claimed"].as_i64(), summary["sent"].as_i64()), (Some(1), Some(1)), "{summary}");

    // The ready-made API payloads work with `cargo lambda invoke` too.
    for (file, status) in
        [("api-create-message.json", 201), ("api-list-sent.json", 200), ("api-scheduler-status.json", 200)]
    {
        let response = invoke(&port, "api", &["--data-file", &format!("local/events/{file}")]).await;
        assert_eq!(response["statusCode"], status, "{file}: {response}");
    }

    // migrate as CloudFormation invokes it: `cargo lambda watch` passes its timeout where Lambda
    // passes the deadline, which must not leave the migrations 0 s.
    let cloudformation = ResponseUrl::answering(200).await;
    let response_url = cloudformation.url.clone();
    let create = json!({
        "RequestType": "Create",
        "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:message-dispatcher-migrate",
        "ResponseURL": response_url,
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/message-dispatcher/5b1c",
        "RequestId": "3f1c2a8e-6b1d-4c55-9d0e-7a2b9c1d4e5f",
        "ResourceType": "Custom::Migrations",
        "LogicalResourceId": "Migrations",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:x"}
    });
    invoke(&port, "migrate", &["--data-ascii", &create.to_string()]).await;
    let answers = cloudformation.bodies();
    assert_eq!(answers.len(), 1, "one answer at the ResponseURL");
    assert_eq!(answers[0]["Status"], "SUCCESS", "{}", answers[0]);

    let received: Vec<Value> = receiver.received().iter().map(Received::json).collect();
    assert_eq!(received, [json!({"to": "+905551111111", "content": "through cargo lambda"})]);
    let message = testkit::json_answer(http.get(format!(
        "http://127.0.0.1:{port}/lambda-url/api/api/v1/messages/{}",
        created["id"].as_str().unwrap()
    )))
    .await;
    assert_eq!(
        (message["status"].as_str(), message["webhook_message_id"].as_str()),
        (Some("sent"), Some("cl-1"))
    );
    drop(served);
}
