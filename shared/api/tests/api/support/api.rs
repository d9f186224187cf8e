//! The router driven in-process (`oneshot`) against real PostgreSQL: requests, replies and
//! the problem+json checks the API tests share.

use std::io::Read;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, Request, StatusCode};
use dispatcher_api::scheduler::LocalScheduler;
use dispatcher_api::{router, AppState};
use dispatcher_core::Config;
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;

pub fn app(pool: &PgPool, pairs: &[(&str, &str)]) -> axum::Router {
    let config = Config::from_pairs(pairs).unwrap();
    let scheduler = Arc::new(LocalScheduler::new(pool.clone()));
    router(AppState::new(pool.clone(), None, Arc::new(config), scheduler))
}

pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

/// A reply as it came: status, headers and the body's bytes (HTML, gzip, anything).
pub struct RawReply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Bytes,
}

impl RawReply {
    pub fn content_type(&self) -> String {
        self.headers.get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// The body of a `Content-Encoding: gzip` reply, unzipped.
    pub fn gunzipped(&self) -> String {
        assert_eq!(self.headers[header::CONTENT_ENCODING], "gzip");
        let mut text = String::new();
        flate2::read::GzDecoder::new(&self.bytes[..]).read_to_string(&mut text).unwrap();
        text
    }
}

pub async fn fetch(app: axum::Router, request: Request<Body>) -> RawReply {
    let response = app.oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    RawReply { status, headers, bytes }
}

/// A JSON reply (`Value::Null` when the body is not JSON).
pub async fn send(app: axum::Router, request: Request<Body>) -> Reply {
    let raw = fetch(app, request).await;
    let body = serde_json::from_slice(&raw.bytes).unwrap_or(Value::Null);
    Reply { status: raw.status, content_type: raw.content_type(), body }
}

pub fn post_json(path: &str, body: impl Into<String>) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.into()))
        .unwrap()
}

pub fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

pub fn assert_problem(reply: &Reply, status: u16, detail_contains: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
    assert_eq!(reply.content_type, "application/problem+json");
    assert_eq!(reply.body["status"], status);
    assert!(reply.body["type"].as_str().unwrap().starts_with("/problems/"));
    assert!(reply.body["title"].is_string());
    let detail = reply.body["detail"].as_str().unwrap();
    assert!(detail.contains(detail_contains), "detail {detail:?} lacks {detail_contains:?}");
}

/// Each field problem of a problem+json about array items, as (item index, field).
pub fn item_errors(reply: &Reply) -> Vec<(u64, &str)> {
    let errors = reply.body["errors"].as_array().unwrap_or_else(|| panic!("no errors: {}", reply.body));
    errors.iter().map(|e| (e["index"].as_u64().unwrap(), e["field"].as_str().unwrap())).collect()
}

pub fn post_empty(path: &str) -> Request<Body> {
    Request::post(path).body(Body::empty()).unwrap()
}
