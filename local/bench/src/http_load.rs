//! The API benchmark's load generator: `concurrency` loops, each with its own keep-alive
//! HTTP/1.1 connection (the way wrk drives a server), each reading every response to its end.
//! It shares the machine's 2 cores with the server and PostgreSQL, so it is kept lean: one
//! hyper connection per loop, no client pool, no redirects, no per-request URL parsing.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::header::{CONTENT_TYPE, HOST};
use axum::http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// One request of a load: method, path with query, and a JSON body for POSTs.
pub struct LoadRequest {
    pub method: Method,
    pub path: String,
    pub json: Option<Vec<u8>>,
}

impl LoadRequest {
    pub fn get(path: impl Into<String>) -> Self {
        Self { method: Method::GET, path: path.into(), json: None }
    }

    pub fn post_json(path: impl Into<String>, body: &serde_json::Value) -> Self {
        Self { method: Method::POST, path: path.into(), json: Some(body.to_string().into_bytes()) }
    }
}

/// What a load measured: requests answered, the wall time, and each request's latency in ms.
pub struct LoadRun {
    pub completed: usize,
    pub elapsed: Duration,
    pub latencies_ms: Vec<f64>,
}

impl LoadRun {
    pub fn per_second(&self) -> f64 {
        self.completed as f64 / self.elapsed.as_secs_f64()
    }
}

/// `concurrency` loops sending requests to `addr` for `duration`. `request(n)` makes the
/// loop's n-th request (n is unique across loops). Any non-2xx answer fails the load.
pub async fn run<F>(
    addr: SocketAddr,
    concurrency: usize,
    duration: Duration,
    request: F,
) -> anyhow::Result<LoadRun>
where
    F: Fn(usize) -> LoadRequest + Send + Sync + Clone + 'static,
{
    let host = addr.to_string();
    let started = Instant::now();
    let until = started + duration;
    let mut loops = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let request = request.clone();
        let host = host.clone();
        loops.push(tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
            let connection = tokio::spawn(connection);
            let mut latencies = Vec::new();
            let mut n = worker * 10_000_000;
            while Instant::now() < until {
                let LoadRequest { method, path, json } = request(n);
                let mut builder = Request::builder().method(method).uri(path).header(HOST, host.as_str());
                if json.is_some() {
                    builder = builder.header(CONTENT_TYPE, "application/json");
                }
                let http_request = builder.body(Full::new(Bytes::from(json.unwrap_or_default())))?;
                sender.ready().await?;
                let sent_at = Instant::now();
                let response = sender.send_request(http_request).await?;
                let status = response.status();
                response.into_body().collect().await?;
                latencies.push(sent_at.elapsed().as_secs_f64() * 1000.0);
                anyhow::ensure!(status.is_success(), "the API answered {status}");
                n += 1;
            }
            drop(sender);
            connection.await??;
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut latencies_ms = Vec::new();
    for task in loops {
        latencies_ms.extend(task.await??);
    }
    Ok(LoadRun { completed: latencies_ms.len(), elapsed: started.elapsed(), latencies_ms })
}
