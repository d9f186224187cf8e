//! schemathesis (PyPI) against the served /openapi.json: thousands of generated requests, good
//! and hostile; no 5xx, and every response conforms to the document (status, content type,
//! headers, body schema). Run without and with a bearer token.

use std::sync::Arc;

use dispatcher_api::scheduler::LocalScheduler;
use dispatcher_api::{router, AppState};
use dispatcher_core::Config;
use sqlx::PgPool;

async fn serve(pool: PgPool, pairs: &[(&str, &str)]) -> String {
    let scheduler = Arc::new(LocalScheduler::new(pool.clone()));
    let config = Arc::new(Config::from_pairs(pairs).unwrap());
    let state = AppState::new(pool, None, config, scheduler);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
    base
}

async fn schemathesis(base: &str, extra: &[&str]) {
    let output = tokio::process::Command::new("schemathesis")
        .args(["run", &format!("{base}/openapi.json")])
        .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance"])
        .args(["--max-examples", "40", "--workers", "1", "--no-color"])
        .args(extra)
        // Its example database lives in the working folder: keep it out of the source tree.
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .output()
        .await
        .unwrap_or_else(|err| panic!("cannot run schemathesis ({err}); run the tests with scripts/test, which installs it"));
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = report.lines().rev().find(|l| l.contains("generated")).unwrap_or("");
    println!("schemathesis {extra:?}: {}", summary.trim());
}

/// One test, two runs in turn: concurrent schemathesis processes share their example database.
#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn no_generated_request_gets_a_5xx_or_a_non_conforming_answer_with_or_without_a_token(pool: PgPool) {
    let open = serve(pool.clone(), &[]).await;
    schemathesis(&open, &[]).await;
    let closed = serve(pool, &[("API_AUTH_TOKEN", "schemathesis-token")]).await;
    schemathesis(&closed, &["--header", "Authorization: Bearer schemathesis-token"]).await;
}
