//! The one HTTP client that talks to the receiver, built once per process.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use url::Url;

use super::retry_after::parse_retry_after;
use super::signing::WebhookSigner;
use super::verdict::{classify, Verdict};
use crate::domain::{Claim, ErrorCode};

/// At most this much of a response is read; the rest is ignored.
const MAX_BODY_READ: usize = 64 * 1024;

/// One webhook request as it went: when it started, how long it took, the HTTP status if an
/// answer came, and what it means for the message. The attempt log keeps all of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    /// `None`: no HTTP answer came (timeout, refused, TLS).
    pub status_code: Option<u16>,
    pub verdict: Verdict,
}

#[derive(Clone)]
pub struct WebhookClient {
    http: reqwest::Client,
    url: Url,
    auth_key: Option<HeaderValue>,
    /// WEBHOOK_SIGNING_SECRET: Standard Webhooks headers on every request when set.
    signer: Option<WebhookSigner>,
    timeout: Duration,
}

impl std::fmt::Debug for WebhookClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookClient")
            .field("url", &self.url.as_str())
            .field("auth_key", &self.auth_key.as_ref().map(|_| "***"))
            .field("signer", &self.signer)
            .finish()
    }
}

/// The body on the wire: exactly `{"to", "content"}`.
#[derive(Serialize)]
struct Payload<'a> {
    to: &'a str,
    content: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookClientError {
    #[error("WEBHOOK_AUTH_KEY contains characters not allowed in an HTTP header")]
    InvalidAuthKey,
    #[error("cannot build the HTTP client: {0}")]
    Build(#[from] reqwest::Error),
}

impl WebhookClient {
    /// `pool_size` is how many keep-alive connections to hold: the number of requests in flight.
    pub fn new(
        url: Url,
        auth_key: Option<&SecretString>,
        signer: Option<WebhookSigner>,
        timeout: Duration,
        pool_size: usize,
    ) -> Result<Self, WebhookClientError> {
        let auth_key = auth_key
            .map(|key| {
                let mut value = HeaderValue::from_str(key.expose_secret())
                    .map_err(|_| WebhookClientError::InvalidAuthKey)?;
                value.set_sensitive(true);
                Ok::<_, WebhookClientError>(value)
            })
            .transpose()?;
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            .pool_max_idle_per_host(pool_size.max(1))
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            // A redirect would carry the auth key elsewhere: a 3xx is a permanent failure instead.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("message-dispatcher/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, url, auth_key, signer, timeout })
    }

    /// POSTs one message and classifies the answer. Never fails: every problem is a [`Verdict`].
    #[tracing::instrument(skip_all, fields(message_id = %claim.id))]
    pub async fn send(&self, claim: &Claim) -> Exchange {
        let (started_at, started) = (Utc::now(), Instant::now());
        let (status_code, verdict) = self.exchange(claim).await;
        Exchange { started_at, duration: started.elapsed(), status_code, verdict }
    }

    /// The HTTP status, if an answer came, and the verdict.
    async fn exchange(&self, claim: &Claim) -> (Option<u16>, Verdict) {
        let request = match self.request(claim) {
            Ok(request) => request,
            Err(verdict) => return (None, verdict),
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => return (None, self.transport_failure(err)),
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, Utc::now()));
        // A body cut short still came with its status: the receiver answered.
        let body = match read_bounded(response).await {
            Ok(body) => body,
            Err(err) => return (Some(status.as_u16()), self.transport_failure(err)),
        };
        tracing::debug!(%status, "webhook answered");
        (Some(status.as_u16()), classify(status, retry_after, &body))
    }

    /// The POST: the body serialized once, and those exact bytes signed and sent.
    fn request(&self, claim: &Claim) -> Result<reqwest::RequestBuilder, Verdict> {
        let payload = Payload { to: claim.phone_number.as_str(), content: claim.content.as_str() };
        let body = serde_json::to_vec(&payload).map_err(|err| Verdict::Permanent {
            error_code: ErrorCode::InvalidPayload,
            reason: format!("cannot serialize the body: {err}"),
            body: None,
        })?;
        let id = claim.id.to_string();
        let mut request = self
            .http
            .post(self.url.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header("Idempotency-Key", &id);
        if let Some(key) = &self.auth_key {
            request = request.header("x-ins-auth-key", key.clone());
        }
        if let Some(signer) = &self.signer {
            // Fresh on every attempt: a retry is a new request, not a replay.
            let timestamp = chrono::Utc::now().timestamp();
            let signature = signer.sign(&id, timestamp, &body);
            request = request
                .header("webhook-id", &id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", signature);
        }
        Ok(request.body(body))
    }

    fn transport_failure(&self, err: reqwest::Error) -> Verdict {
        // Without the URL: it may carry a token in its query string.
        let err = err.without_url();
        let (error_code, reason) = if err.is_timeout() {
            (ErrorCode::Timeout, format!("no answer within {} s", self.timeout.as_secs_f32()))
        } else if err.is_connect() {
            (ErrorCode::ConnectionError, format!("cannot connect: {}", error_chain(&err)))
        } else {
            (ErrorCode::TransportError, error_chain(&err))
        };
        Verdict::Retry { error_code, reason, retry_after: None, body: None, receiver_down: true }
    }
}

async fn read_bounded(mut response: reqwest::Response) -> Result<String, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_BODY_READ.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_BODY_READ {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// `outer: inner: root`, the way operators want to read a failure.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
