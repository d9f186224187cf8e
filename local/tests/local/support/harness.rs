//! The harness binary as a process: started with chosen settings, its logs kept in a file,
//! stopped with SIGTERM or killed with SIGKILL.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub struct Harness {
    child: Option<Child>,
    pub base: String,
    pub log_file: PathBuf,
}

impl Harness {
    /// Starts `local` with exactly `env` (plus PATH and a free APP_PORT) and waits for /live.
    pub async fn start(env: &[(&str, &str)]) -> Self {
        let port = testkit::free_port();
        let log_file = std::env::temp_dir().join(format!("harness-{}.log", uuid::Uuid::new_v4().simple()));
        let log = std::fs::File::create(&log_file).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_local"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .env("APP_PORT", port.to_string())
            .env("LOG_FORMAT", "json")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut harness = Self { child: Some(child), base: format!("http://127.0.0.1:{port}"), log_file };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let exited = harness.child.as_mut().unwrap().try_wait().unwrap();
            assert!(exited.is_none(), "harness exited at start ({exited:?}): {}", harness.logs());
            if let Ok(response) = reqwest::get(format!("{}/live", harness.base)).await {
                if response.status() == 200 {
                    return harness;
                }
            }
            assert!(Instant::now() < deadline, "harness did not start: {}", harness.logs());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().unwrap().id().to_string();
        Command::new("kill").args([signal, &pid]).status().unwrap();
    }

    /// SIGTERM and wait for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal("-TERM");
        self.wait(Duration::from_secs(60))
    }

    /// SIGKILL: no chance to clean up (a crash).
    pub fn kill(&mut self) {
        self.signal("-KILL");
        self.wait(Duration::from_secs(10));
    }

    fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        let child = self.child.as_mut().unwrap();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return status;
            }
            assert!(Instant::now() < deadline, "harness did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub async fn post_message(&self, client: &reqwest::Client, n: usize) -> reqwest::StatusCode {
        client
            .post(format!("{}/api/v1/messages", self.base))
            .json(&serde_json::json!({"phone_number": format!("+90555{n:07}"), "content": format!("api message {n}")}))
            .send()
            .await
            .map(|r| r.status())
            .unwrap_or(reqwest::StatusCode::SERVICE_UNAVAILABLE)
    }

    pub async fn ready_status(&self) -> u16 {
        reqwest::get(format!("{}/ready", self.base)).await.map(|r| r.status().as_u16()).unwrap_or(0)
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&self.log_file);
    }
}
