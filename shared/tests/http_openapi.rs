//! The served OpenAPI document is valid (openapi-spec-validator from PyPI) and lists every
//! route; Swagger UI is served from the binary.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use shared::http::{router, AppState};
use shared::scheduler::LocalScheduler;
use shared::Config;
use sqlx::PgPool;
use tower::ServiceExt;

fn app(pool: PgPool) -> axum::Router {
    let scheduler = Arc::new(LocalScheduler::new(pool.clone()));
    let config = Arc::new(Config::from_pairs(&[("API_AUTH_TOKEN", "t")]).unwrap());
    router(AppState { pool, redis: None, config, scheduler })
}

async fn fetch(app: axum::Router, path: &str) -> (StatusCode, String, String) {
    let response = app.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, String::from_utf8_lossy(&body).into_owned())
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn the_served_document_is_valid_openapi_and_lists_every_route(pool: PgPool) {
    let (status, content_type, body) = fetch(app(pool), "/openapi.json").await;
    assert_eq!(status, StatusCode::OK, "open without a token");
    assert!(content_type.starts_with("application/json"));
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();

    let listed: BTreeSet<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object().unwrap().keys().map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    let expected: BTreeSet<String> = [
        "POST /api/v1/messages",
        "POST /api/v1/messages/batch",
        "GET /api/v1/messages",
        "GET /api/v1/messages/{id}",
        "POST /api/v1/messages/{id}/retry",
        "POST /api/v1/messages/{id}/cancel",
        "GET /api/v1/messages/sent",
        "GET /api/v1/messages/stats",
        "GET /api/v1/metrics/throughput",
        "POST /api/v1/scheduler/start",
        "POST /api/v1/scheduler/stop",
        "GET /api/v1/scheduler/status",
        "GET /api/v1/scheduler/runs",
        "GET /dashboard",
        "GET /live",
        "GET /health",
        "GET /ready",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(listed, expected);
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");

    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi.json");
    std::fs::write(&file, &body).unwrap();
    let validator = Command::new("openapi-spec-validator").arg(&file).output().unwrap_or_else(|err| {
        panic!(
            "cannot run openapi-spec-validator ({err}); run the tests with scripts/test, which installs it"
        )
    });
    assert!(
        validator.status.success(),
        "openapi-spec-validator rejected the document:\n{}{}",
        String::from_utf8_lossy(&validator.stdout),
        String::from_utf8_lossy(&validator.stderr)
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn swagger_ui_is_served_from_the_binary_and_points_at_the_document(pool: PgPool) {
    let (status, content_type, page) = fetch(app(pool.clone()), "/swagger/index.html").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(page.contains("swagger-ui"), "{page}");
    assert!(page.contains(r#"url: "/openapi.json""#), "{page}");
    let css = gunzip(app(pool.clone()), "/swagger/swagger-ui.css", "text/css").await;
    assert!(css.contains(".swagger-ui"));
    let (status, _, _) = fetch(app(pool.clone()), "/swagger").await;
    assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    let bundle = gunzip(app(pool), "/swagger/swagger-ui-bundle.js", "text/javascript").await;
    assert!(bundle.len() > 1_000_000 && bundle.contains("SwaggerUIBundle"), "the UI's script is embedded");
}

/// Fetches a gzip-encoded asset and returns it decompressed.
async fn gunzip(app: axum::Router, path: &str, content_type: &str) -> String {
    use std::io::Read;
    let response = app.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    assert!(response.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with(content_type));
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&body[..]).read_to_string(&mut text).unwrap();
    text
}
