//! A webhook receiver on a fixed loopback port that records every request, answers after a
//! configurable delay, and can be taken down (connections refused) and brought back.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Default)]
struct State {
    /// Idempotency-Key of every request, in arrival order.
    keys: Arc<Mutex<Vec<String>>>,
    delay_ms: Arc<Mutex<u64>>,
}

pub struct Receiver {
    pub port: u16,
    state: State,
    running: Mutex<Option<CancellationToken>>,
}

impl Receiver {
    pub async fn start() -> Self {
        // Bound here, not picked and bound later: another test could take a port in between.
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let receiver = Self { port, state: State::default(), running: Mutex::new(None) };
        receiver.serve(listener);
        receiver
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/webhook", self.port)
    }

    pub fn set_delay(&self, delay: Duration) {
        *self.state.delay_ms.lock().unwrap() = delay.as_millis() as u64;
    }

    /// Listens again on the same port (waiting while a connection of another test holds it).
    pub async fn up(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(listener) => break listener,
                Err(err) if std::time::Instant::now() < deadline => {
                    eprintln!("receiver port {} busy ({err}); trying again", self.port);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(err) => panic!("cannot listen on port {} again: {err}", self.port),
            }
        };
        self.serve(listener);
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let stop = CancellationToken::new();
        let app = Router::new().route("/webhook", post(receive)).with_state(self.state.clone());
        let shutdown = stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await.unwrap();
        });
        *self.running.lock().unwrap() = Some(stop);
    }

    /// Stops listening: new connections are refused.
    pub async fn down(&self) {
        if let Some(stop) = self.running.lock().unwrap().take() {
            stop.cancel();
        }
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn keys(&self) -> Vec<String> {
        self.state.keys.lock().unwrap().clone()
    }

    /// (distinct messages received, requests beyond the first per message)
    pub fn distinct_and_duplicates(&self) -> (usize, usize) {
        let keys = self.keys();
        let mut per_key: HashMap<&String, usize> = HashMap::new();
        for key in &keys {
            *per_key.entry(key).or_default() += 1;
        }
        (per_key.len(), keys.len() - per_key.len())
    }
}

async fn receive(
    axum::extract::State(state): axum::extract::State<State>,
    headers: HeaderMap,
    Json(_body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    state.keys.lock().unwrap().push(key);
    let delay = *state.delay_ms.lock().unwrap();
    tokio::time::sleep(Duration::from_millis(delay)).await;
    (
        StatusCode::ACCEPTED,
        Json(json!({"message": "Accepted", "messageId": uuid::Uuid::new_v4().to_string()})),
    )
}
