//! The built-in webhook receiver used when WEBHOOK_URL is unset: it answers like the reference
//! receiver (202 `{"message":"Accepted","messageId":<uuid>}`) and logs what it receives, so
//! messages visibly flow end to end on a laptop.

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Serves on `listener` until `shutdown`; returns its URL.
pub fn spawn(listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<String> {
    serve(listener, shutdown, Router::new().route("/webhook", post(receive)))
}

/// The same answers without a log line per message: the benchmark's fast receiver.
pub fn spawn_quiet(listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<String> {
    serve(listener, shutdown, Router::new().route("/webhook", post(receive_quietly)))
}

fn serve(listener: TcpListener, shutdown: CancellationToken, app: Router) -> anyhow::Result<String> {
    let url = format!("http://{}/webhook", listener.local_addr()?);
    tokio::spawn(async move {
        let served = axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await;
        if let Err(err) = served {
            tracing::error!(error = %err, "mock receiver stopped");
        }
    });
    Ok(url)
}

async fn receive(headers: HeaderMap, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let message_id = uuid::Uuid::new_v4().to_string();
    let idempotency_key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("-");
    tracing::info!(
        to = %body["to"].as_str().unwrap_or("?"),
        content = %body["content"].as_str().unwrap_or("?"),
        idempotency_key,
        message_id,
        "mock receiver: message received"
    );
    (StatusCode::ACCEPTED, Json(json!({ "message": "Accepted", "messageId": message_id })))
}

async fn receive_quietly() -> (StatusCode, Json<Value>) {
    (
        StatusCode::ACCEPTED,
        Json(json!({ "message": "Accepted", "messageId": uuid::Uuid::new_v4().to_string() })),
    )
}
