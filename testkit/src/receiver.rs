//! A real webhook receiver on 127.0.0.1 whose answers each test decides: it records every
//! request, can answer late, and can be taken down (connections refused) and brought back on
//! the same port.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: String,
    pub at: Instant,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// Carries message number `n` of the test factories (content "message number n").
    pub fn is_message(&self, n: usize) -> bool {
        self.body.contains(&format!("number {n}\""))
    }

    pub fn idempotency_key(&self) -> String {
        self.headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
    }
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
    pub delay: Duration,
}

impl Reply {
    /// What the reference receiver answers.
    pub fn accepted() -> Self {
        let body = format!(r#"{{"message":"Accepted","messageId":"{}"}}"#, uuid::Uuid::new_v4());
        Self::status(202, &body)
    }

    pub fn status(status: u16, body: &str) -> Self {
        Self { status, body: body.into(), headers: Vec::new(), delay: Duration::ZERO }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Behaviour = Arc<dyn Fn(&Received) -> Reply + Send + Sync>;

#[derive(Clone)]
struct Shared {
    received: Arc<Mutex<Vec<Received>>>,
    behaviour: Arc<Mutex<Behaviour>>,
    /// Requests being answered now, and the most there ever were at once.
    in_flight: Arc<Mutex<(usize, usize)>>,
}

pub struct Receiver {
    pub url: String,
    pub port: u16,
    shared: Shared,
    running: Mutex<Option<CancellationToken>>,
}

impl Receiver {
    pub async fn start(reply: impl Fn(&Received) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_on(0, reply).await
    }

    /// A receiver on a chosen loopback port (0: any free one), e.g. one that refused
    /// connections until now.
    pub async fn start_on(port: u16, reply: impl Fn(&Received) -> Reply + Send + Sync + 'static) -> Self {
        let shared = Shared {
            received: Arc::default(),
            behaviour: Arc::new(Mutex::new(Arc::new(reply))),
            in_flight: Arc::default(),
        };
        // Bound here, not picked and bound later: another test could take a port in between.
        let listener = bind(port).await;
        let port = listener.local_addr().unwrap().port();
        let receiver =
            Self { url: format!("http://127.0.0.1:{port}/webhook"), port, shared, running: Mutex::new(None) };
        receiver.serve(listener);
        receiver
    }

    /// Accepts every message but number `n` of the test factories, which gets `reply` each time:
    /// one message failing while the others pass.
    pub async fn failing_message(n: usize, reply: Reply) -> Self {
        Self::start(move |r| if r.is_message(n) { reply.clone() } else { Reply::accepted() }).await
    }

    /// Answers every request as the reference receiver does.
    pub async fn accepting() -> Self {
        Self::start(|_| Reply::accepted()).await
    }

    pub fn set_reply(&self, reply: impl Fn(&Received) -> Reply + Send + Sync + 'static) {
        *self.shared.behaviour.lock().unwrap() = Arc::new(reply);
    }

    /// Accepts every request from now on, after `delay`.
    pub fn set_delay(&self, delay: Duration) {
        self.set_reply(move |_| Reply::accepted().after(delay));
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

    /// Listens again on the same port.
    pub async fn up(&self) {
        let listener = bind(self.port).await;
        self.serve(listener);
    }

    fn serve(&self, listener: TcpListener) {
        let stop = CancellationToken::new();
        let app = Router::new().route("/webhook", post(receive)).with_state(self.shared.clone());
        let shutdown = stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await.unwrap();
        });
        *self.running.lock().unwrap() = Some(stop);
    }

    pub fn peak_in_flight(&self) -> usize {
        self.shared.in_flight.lock().unwrap().1
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// The Idempotency-Key of every request, in arrival order.
    pub fn keys(&self) -> Vec<String> {
        self.shared.received.lock().unwrap().iter().map(Received::idempotency_key).collect()
    }

    /// Requests received per Idempotency-Key (per message).
    pub fn requests_per_key(&self) -> HashMap<String, usize> {
        requests_per_key(&self.shared.received.lock().unwrap())
    }

    /// (distinct messages received, requests beyond the first per message)
    pub fn distinct_and_duplicates(&self) -> (usize, usize) {
        let per_key = self.requests_per_key();
        (per_key.len(), per_key.values().sum::<usize>() - per_key.len())
    }
}

/// How many of `requests` carry each Idempotency-Key (per message).
pub fn requests_per_key(requests: &[Received]) -> HashMap<String, usize> {
    let mut per_key = HashMap::new();
    for request in requests {
        *per_key.entry(request.idempotency_key()).or_default() += 1;
    }
    per_key
}

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let received =
        Received { headers, body: String::from_utf8_lossy(&body).into_owned(), at: Instant::now() };
    let behaviour = shared.behaviour.lock().unwrap().clone();
    let reply = behaviour(&received);
    shared.received.lock().unwrap().push(received);
    {
        let mut in_flight = shared.in_flight.lock().unwrap();
        in_flight.0 += 1;
        in_flight.1 = in_flight.1.max(in_flight.0);
    }
    tokio::time::sleep(reply.delay).await;
    // Counted out before the answer leaves, so the client cannot start another one first.
    shared.in_flight.lock().unwrap().0 -= 1;
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (name, value) in reply.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

/// Binds a loopback port, waiting while a connection of another test still holds a chosen one.
async fn bind(port: u16) -> TcpListener {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(listener) => return listener,
            Err(err) if Instant::now() < deadline => {
                eprintln!("port {port} busy ({err}); trying again");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(err) => panic!("cannot listen on 127.0.0.1:{port}: {err}"),
        }
    }
}

/// A loopback URL with nothing listening: connections are refused.
pub async fn refused_url() -> String {
    format!("http://127.0.0.1:{}/webhook", super::free_port())
}
