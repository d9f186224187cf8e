//! A minimal Lambda Runtime API on 127.0.0.1, enough to start a function binary as Lambda
//! would, time its start-up (process start -> first `invocation/next`), invoke it with a
//! deadline as a function's Timeout sets it, and hear what it reports at `init/error`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Where the function's answer (or error) to one invocation goes.
type AnswerSender = oneshot::Sender<Result<String, String>>;

#[derive(Clone)]
struct Shared {
    queue: Arc<Mutex<VecDeque<(String, String)>>>,
    queued: Arc<Notify>,
    waiting: Arc<Mutex<HashMap<String, AnswerSender>>>,
    first_poll: Arc<Mutex<Option<Instant>>>,
    /// Each invocation's time from its delivery to its deadline (the function's Timeout).
    timeout: Duration,
    /// Bodies the function posted to `/runtime/init/error`.
    init_errors: Arc<Mutex<Vec<String>>>,
}

pub struct Emulator {
    pub address: String,
    shared: Shared,
    stop: CancellationToken,
}

impl Emulator {
    pub async fn start() -> anyhow::Result<Self> {
        Self::with_timeout(Duration::from_secs(60)).await
    }

    /// An emulator whose invocations have `timeout` before their deadline.
    pub async fn with_timeout(timeout: Duration) -> anyhow::Result<Self> {
        let shared = Shared {
            queue: Arc::default(),
            queued: Arc::default(),
            waiting: Arc::default(),
            first_poll: Arc::default(),
            timeout,
            init_errors: Arc::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let stop = CancellationToken::new();
        let until = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).with_graceful_shutdown(until.cancelled_owned()).await;
        });
        Ok(Self { address, shared, stop })
    }

    /// When the function first asked for work: it is ready to serve.
    pub fn first_poll(&self) -> Option<Instant> {
        *self.shared.first_poll.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the function reported at `/runtime/init/error`, if anything.
    pub fn init_error(&self) -> Option<String> {
        self.shared.init_errors.lock().unwrap_or_else(|e| e.into_inner()).first().cloned()
    }

    /// Invokes the function with `payload` and waits for its answer.
    pub async fn invoke(&self, payload: &str, timeout: Duration) -> anyhow::Result<String> {
        let id = uuid::Uuid::new_v4().to_string();
        let (tx, rx) = oneshot::channel();
        self.shared.waiting.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), tx);
        self.shared.queue.lock().unwrap_or_else(|e| e.into_inner()).push_back((id, payload.to_owned()));
        self.shared.queued.notify_one();
        let answer =
            tokio::time::timeout(timeout, rx).await.context("the function did not answer in time")??;
        answer.map_err(|err| anyhow::anyhow!("the function failed: {err}"))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn next(State(shared): State<Shared>) -> Response {
    shared.first_poll.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(Instant::now);
    loop {
        let event = shared.queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
        if let Some((id, body)) = event {
            let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + shared.timeout;
            let mut headers = HeaderMap::new();
            let set = |headers: &mut HeaderMap, name: &'static str, value: String| {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(name, value);
                }
            };
            set(&mut headers, "lambda-runtime-aws-request-id", id);
            set(&mut headers, "lambda-runtime-deadline-ms", deadline.as_millis().to_string());
            set(
                &mut headers,
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:eu-west-1:123456789012:function:bench".into(),
            );
            return (StatusCode::OK, headers, body).into_response();
        }
        shared.queued.notified().await;
    }
}

async fn response(State(shared): State<Shared>, Path(id): Path<String>, body: String) -> StatusCode {
    if let Some(tx) = shared.waiting.lock().unwrap_or_else(|e| e.into_inner()).remove(&id) {
        let _ = tx.send(Ok(body));
    }
    StatusCode::ACCEPTED
}

async fn error(State(shared): State<Shared>, Path(id): Path<String>, body: String) -> StatusCode {
    if let Some(tx) = shared.waiting.lock().unwrap_or_else(|e| e.into_inner()).remove(&id) {
        let _ = tx.send(Err(body));
    }
    StatusCode::ACCEPTED
}

async fn init_error(State(shared): State<Shared>, body: String) -> StatusCode {
    tracing::error!(%body, "function init error");
    shared.init_errors.lock().unwrap_or_else(|e| e.into_inner()).push(body);
    StatusCode::ACCEPTED
}
