//! The independent verifier: shared/core/tests/dispatcher/support/standardwebhooks_receiver.py, a receiver on
//! 127.0.0.1 that checks each request with the `standardwebhooks` package from PyPI.
//! Never skipped: without python3 or the package the test fails, saying how to get them.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

const HOW_TO_FIX: &str = "run the tests with scripts/test, whose venv (scripts/python-tools) has the \
                          standardwebhooks package from scripts/requirements-test.txt";

pub struct PythonReceiver {
    _child: Child,
    base: String,
    pub url: String,
}

impl PythonReceiver {
    /// A receiver that accepts only requests signed with `secret` (one `whsec_` secret).
    pub async fn start(secret: &str) -> Self {
        let script =
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/dispatcher/support/standardwebhooks_receiver.py");
        let mut child = Command::new("python3")
            .arg(script)
            .env("WEBHOOK_SECRET", secret)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot run python3 ({err}): {HOW_TO_FIX}"));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
        let port = match first {
            Ok(Ok(Some(line))) => line.strip_prefix("listening on ").map(str::to_owned),
            _ => None,
        };
        let Some(port) = port else {
            let mut stderr = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut stderr).await;
            panic!("the standardwebhooks receiver did not start: {stderr}\n{HOW_TO_FIX}");
        };
        let base = format!("http://127.0.0.1:{port}");
        Self { _child: child, url: format!("{base}/webhook"), base }
    }

    /// Every verdict so far: `{"webhook_id", "idempotency_key", "signatures", "verified", "error"}`.
    pub async fn verdicts(&self) -> Vec<Value> {
        reqwest::get(format!("{}/verdicts", self.base)).await.unwrap().json().await.unwrap()
    }

    /// POSTs a request as given (a replay, or a tampered copy); returns the status and the
    /// library's reason for a refusal.
    pub async fn post(&self, headers: &[(&str, &str)], body: Vec<u8>) -> (u16, Value) {
        let mut request = reqwest::Client::new().post(&self.url).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }
}
