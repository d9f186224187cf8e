//! The built-in webhook receiver used when WEBHOOK_URL is unset: it answers like the reference
//! receiver (202 `{"message":"Accepted","messageId":<uuid>}`) and logs what it receives, so
//! messages visibly flow end to end on a laptop. Given WEBHOOK_SIGNING_SECRET, it verifies each
//! request's Standard Webhooks signature as a real receiver would, logs the verdict, and
//! answers 401 to a request that does not verify.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use dispatcher_core::webhook::WebhookSigner;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

type Verifier = Option<Arc<WebhookSigner>>;

/// Serves on `listener` until `shutdown`; returns its URL. `verifier`: check signatures.
pub fn spawn(
    listener: TcpListener,
    shutdown: CancellationToken,
    verifier: Option<WebhookSigner>,
) -> anyhow::Result<String> {
    let app = Router::new().route("/webhook", post(receive)).with_state(verifier.map(Arc::new));
    serve(listener, shutdown, app)
}

/// The same answers without a log line per message: the benchmark's fast receiver.
pub fn spawn_quiet(listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<String> {
    serve(listener, shutdown, Router::new().route("/webhook", post(receive_quietly)))
}

/// The quiet receiver answering each request after `latency`, as a receiver across a network
/// would: the scale-out benchmark's receiver, where one process's sends are bound by waiting.
pub fn spawn_slow(
    listener: TcpListener,
    shutdown: CancellationToken,
    latency: Duration,
) -> anyhow::Result<String> {
    let answer_late = move || async move {
        tokio::time::sleep(latency).await;
        receive_quietly().await
    };
    serve(listener, shutdown, Router::new().route("/webhook", post(answer_late)))
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

async fn receive(
    State(verifier): State<Verifier>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let idempotency_key = header("idempotency-key").unwrap_or("-");
    let signature = match &verifier {
        None => "not checked",
        Some(signer) => match verify(signer, &headers, &body) {
            Ok(()) => "verified",
            Err(reason) => {
                tracing::warn!(idempotency_key, signature = "rejected", %reason, "mock receiver: signature did not verify");
                return (StatusCode::UNAUTHORIZED, Json(json!({ "message": "signature did not verify" })));
            }
        },
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let message_id = uuid::Uuid::new_v4().to_string();
    tracing::info!(
        to = %body["to"].as_str().unwrap_or("?"),
        content = %body["content"].as_str().unwrap_or("?"),
        idempotency_key,
        signature,
        message_id,
        "mock receiver: message received"
    );
    (StatusCode::ACCEPTED, Json(json!({ "message": "Accepted", "messageId": message_id })))
}

fn verify(signer: &WebhookSigner, headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
    let header = |name: &'static str| {
        headers.get(name).and_then(|v| v.to_str().ok()).ok_or_else(|| format!("no {name} header"))
    };
    let now = chrono::Utc::now().timestamp();
    signer
        .verify(header("webhook-id")?, header("webhook-timestamp")?, header("webhook-signature")?, body, now)
        .map_err(|err| err.to_string())
}

async fn receive_quietly() -> (StatusCode, Json<Value>) {
    (
        StatusCode::ACCEPTED,
        Json(json!({ "message": "Accepted", "messageId": uuid::Uuid::new_v4().to_string() })),
    )
}
