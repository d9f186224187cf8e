//! schemathesis (PyPI) against the served /openapi.json, every check and every phase (examples,
//! coverage, fuzzing, and the stateful phase that follows the document's links from a created
//! message to the operations that take its id): no 5xx, every response as documented, every
//! schema-invalid request refused and every schema-valid one accepted, except a refusal for a
//! rule JSON Schema cannot express (`cross_field_rules.py` names each). Run without and with a
//! bearer token.

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
        .args(["--checks", "all", "--exclude-checks", "positive_data_acceptance"])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--max-examples", "40", "--workers", "1", "--no-color", "--continue-on-failure"])
        .args(extra)
        .env("SCHEMATHESIS_HOOKS", "cross_field_rules")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/schemathesis"))
        // Its example database lives in the working folder: keep it out of the source tree.
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .output()
        .await
        .unwrap_or_else(|err| {
            panic!("cannot run schemathesis ({err}); run the tests with scripts/test, which installs it")
        });
    let report = String::from_utf8_lossy(&output.stdout);
    std::fs::write("/tmp/st-report.txt", report.as_bytes()).unwrap();
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
