//! The router driven in-process (`oneshot`) against real PostgreSQL: requests, replies and
//! the problem+json checks the API tests share.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use shared::http::{router, AppState};
use shared::scheduler::LocalScheduler;
use shared::Config;
use sqlx::PgPool;
use tower::ServiceExt;

pub fn app(pool: &PgPool, pairs: &[(&str, &str)]) -> axum::Router {
    let config = Config::from_pairs(pairs).unwrap();
    let scheduler = Arc::new(LocalScheduler::new(pool.clone()));
    router(AppState { pool: pool.clone(), redis: None, config: Arc::new(config), scheduler })
}

pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

pub async fn send(app: axum::Router, request: Request<Body>) -> Reply {
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply { status, content_type, body }
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

pub fn post_empty(path: &str) -> Request<Body> {
    Request::post(path).body(Body::empty()).unwrap()
}
