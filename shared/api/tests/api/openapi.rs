//! The served OpenAPI document is valid (openapi-spec-validator from PyPI) and lists every
//! route; Swagger UI is served from the binary.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;

use crate::support;
use axum::http::StatusCode;
use dispatcher_api::scheduler::LocalScheduler;
use dispatcher_api::{router, AppState};
use dispatcher_core::Config;
use sqlx::PgPool;
use support::api::{fetch, get};

fn app(pool: PgPool) -> axum::Router {
    let scheduler = Arc::new(LocalScheduler::new(pool.clone()));
    let config = Arc::new(Config::from_pairs(&[("API_AUTH_TOKEN", "t")]).unwrap());
    router(AppState::new(pool, None, config, scheduler))
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_served_document_is_valid_openapi_and_lists_every_route(pool: PgPool) {
    let reply = fetch(app(pool), get("/openapi.json")).await;
    let (status, content_type, body) = (reply.status, reply.content_type(), reply.text());
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
        "GET /api/v1/messages/{id}/attempts",
        "POST /api/v1/messages/{id}/retry",
        "POST /api/v1/receipts",
        "POST /api/v1/messages/{id}/cancel",
        "POST /api/v1/messages/retry",
        "POST /api/v1/messages/cancel",
        "GET /api/v1/messages/sent",
        "GET /api/v1/messages/stats",
        "GET /api/v1/metrics/throughput",
        "GET /metrics",
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
    let attempt = &doc["components"]["schemas"]["Attempt"]["properties"];
    for field in [
        "number",
        "started_at",
        "duration_ms",
        "status_code",
        "outcome",
        "counted",
        "error_code",
        "response_body",
    ] {
        assert!(attempt[field].is_object(), "the Attempt schema documents {field}: {attempt}");
    }
    let message = &doc["components"]["schemas"]["Message"]["properties"];
    assert!(message["expires_at"].is_object() && message["delivery"].is_object(), "{message}");
    let receipt = &doc["components"]["schemas"]["Receipt"]["properties"];
    for field in ["messageId", "status", "timestamp", "error_code"] {
        assert!(receipt[field].is_object(), "the Receipt schema documents {field}: {receipt}");
    }
    assert_eq!(doc["components"]["securitySchemes"]["basic"]["scheme"], "basic");
    let receipts_security = &doc["paths"]["/api/v1/receipts"]["post"]["security"];
    assert_eq!(receipts_security, &serde_json::json!([{"bearer": []}, {"basic": []}]));

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

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn swagger_ui_is_served_from_the_binary_and_points_at_the_document(pool: PgPool) {
    let reply = fetch(app(pool.clone()), get("/swagger/index.html")).await;
    let (status, content_type, page) = (reply.status, reply.content_type(), reply.text());
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(page.contains("swagger-ui"), "{page}");
    assert!(page.contains(r#"url: "/openapi.json""#), "{page}");
    let css = gunzip(app(pool.clone()), "/swagger/swagger-ui.css", "text/css").await;
    assert!(css.contains(".swagger-ui"));
    assert_eq!(fetch(app(pool.clone()), get("/swagger")).await.status, StatusCode::PERMANENT_REDIRECT);
    let bundle = gunzip(app(pool), "/swagger/swagger-ui-bundle.js", "text/javascript").await;
    assert!(bundle.len() > 1_000_000 && bundle.contains("SwaggerUIBundle"), "the UI's script is embedded");
}

/// A gzip-encoded asset of `content_type`, decompressed.
async fn gunzip(app: axum::Router, path: &str, content_type: &str) -> String {
    let reply = fetch(app, get(path)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.content_type().starts_with(content_type), "{}", reply.content_type());
    reply.gunzipped()
}
