//! The harness as a real process, as a newcomer runs it: no DATABASE_URL, no WEBHOOK_URL.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

struct Harness {
    child: Child,
    base: String,
}

struct Setup {
    data_dir: PathBuf,
    app_port: u16,
    mock_port: u16,
    postgres_port: u16,
}

impl Setup {
    fn new() -> Self {
        let data_dir =
            std::env::temp_dir().join(format!("dispatcher-harness-{}", uuid::Uuid::new_v4().simple()));
        Self {
            data_dir,
            app_port: testkit::free_port(),
            mock_port: testkit::free_port(),
            postgres_port: testkit::free_port(),
        }
    }

    /// Starts `local` with nothing but these settings, and waits until /ready answers 200.
    async fn start(&self) -> Harness {
        let child = Command::new(env!("CARGO_BIN_EXE_local"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .env("LOCAL_DATA_DIR", &self.data_dir)
            .env("APP_PORT", self.app_port.to_string())
            .env("MOCK_RECEIVER_PORT", self.mock_port.to_string())
            .env("LOCAL_POSTGRES_PORT", self.postgres_port.to_string())
            .env("MESSAGE_INTERVAL_SECONDS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let harness = Harness { child, base: format!("http://127.0.0.1:{}", self.app_port) };
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(response) = reqwest::get(format!("{}/ready", harness.base)).await {
                if response.status() == 200 {
                    return harness;
                }
            }
            assert!(Instant::now() < deadline, "the harness did not become ready within 90 s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

impl Harness {
    /// SIGTERM, then the exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the harness did not stop within 30 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    async fn get(&self, path: &str) -> Value {
        reqwest::get(format!("{}{path}", self.base)).await.unwrap().json().await.unwrap()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn port_is_open(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

#[tokio::test]
async fn with_no_environment_a_created_message_is_sent_and_survives_a_restart() {
    let setup = Setup::new();
    let harness = setup.start().await;
    let created = testkit::json_answer(
        reqwest::Client::new()
            .post(format!("{}/api/v1/messages", harness.base))
            .json(&json!({"phone_number": "+905551111111", "content": "hello from the harness test"})),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();

    let deadline = Instant::now() + Duration::from_secs(20);
    let sent = loop {
        let message = harness.get(&format!("/api/v1/messages/{id}")).await;
        if message["status"] == "sent" {
            break message;
        }
        assert!(Instant::now() < deadline, "not sent within 20 s: {message}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        sent["webhook_message_id"].as_str().unwrap().parse::<uuid::Uuid>().is_ok(),
        "the mock receiver's id"
    );
    let status = harness.get("/api/v1/scheduler/status").await;
    assert_eq!((status["state"].as_str(), status["backend"].as_str()), (Some("running"), Some("local")));

    assert!(harness.stop().success(), "a clean exit on SIGTERM");
    assert!(!port_is_open(setup.postgres_port), "the private PostgreSQL was stopped");

    let again = setup.start().await;
    let message = again.get(&format!("/api/v1/messages/{id}")).await;
    assert_eq!(message["status"], "sent", "kept across the restart");
    assert_eq!(message["content"], "hello from the harness test");
    assert!(again.stop().success());
}

#[test]
fn without_postgres_binaries_or_database_url_it_says_how_to_fix_it_in_one_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_local"))
        .env_clear()
        .env("PATH", "/nonexistent")
        .env("POSTGRES_BIN_DIR", "/nonexistent")
        .env("LOCAL_DATA_DIR", std::env::temp_dir().join("dispatcher-harness-unused"))
        .env("APP_PORT", testkit::free_port().to_string())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    for hint in ["DATABASE_URL", "docker compose -f local/docker-compose.yml up -d", "install PostgreSQL"] {
        assert!(errors[0].contains(hint), "{hint} missing from {}", errors[0]);
    }
    assert!(!stderr.contains("panicked"));
}

/// The README's first minutes with the default interval (two minutes): a message created after
/// start-up waits for the next tick, and `POST /api/v1/scheduler/start` runs the dispatcher at
/// once, as the README and the banner say.
#[tokio::test]
async fn with_the_default_interval_starting_the_scheduler_sends_at_once() {
    let db = testkit::ScratchDatabase::create().await;
    let mock_port = testkit::free_port().to_string();
    let env = [("DATABASE_URL", db.url.as_str()), ("MOCK_RECEIVER_PORT", mock_port.as_str())];
    let mut harness = crate::support::harness::Harness::start(&env).await;
    let client = reqwest::Client::new();
    // The start-up run has happened (or found nothing) before the message exists.
    testkit::wait_until(Duration::from_secs(30), "the start-up run", || async {
        db.count("SELECT count(*) FROM dispatch_runs WHERE finished_at IS NOT NULL").await >= 1
    })
    .await;
    let created = testkit::json_answer(
        client
            .post(format!("{}/api/v1/messages", harness.base))
            .json(&json!({"phone_number": "+905551111111", "content": "first minutes"})),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let waiting: Value =
        reqwest::get(format!("{}/api/v1/messages/{id}", harness.base)).await.unwrap().json().await.unwrap();
    assert_eq!(waiting["status"], "pending", "waits for the next tick, two minutes away: {waiting}");

    let started = client.post(format!("{}/api/v1/scheduler/start", harness.base)).send().await.unwrap();
    assert_eq!(started.status(), 200);
    testkit::wait_until(Duration::from_secs(10), "sent after start", || async {
        let message: Value = reqwest::get(format!("{}/api/v1/messages/{id}", harness.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        message["status"] == "sent"
    })
    .await;
    assert!(harness.terminate().success());
}
