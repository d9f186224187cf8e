//! The SAM template passes cfn-lint (PyPI), and declares what the deployment promises.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;

fn template() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("template.yaml")
}

#[test]
fn cfn_lint_finds_nothing_in_the_template() {
    let output = Command::new("cfn-lint")
        .arg(template())
        .output()
        .expect("cannot run cfn-lint: run the tests with scripts/test, which installs it");
    assert!(
        output.status.success(),
        "cfn-lint:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_template_builds_three_arm64_rust_functions_and_an_enabled_schedule() {
    let text = std::fs::read_to_string(template()).unwrap();
    assert_eq!(text.matches("BuildMethod: rust-cargolambda").count(), 3);
    for binary in ["Binary: api", "Binary: dispatch", "Binary: migrate"] {
        assert!(text.contains(binary), "{binary}");
    }
    for needle in [
        "Runtime: provided.al2023",
        "Architectures: [arm64]",
        "Type: AWS::Scheduler::Schedule",
        "State: ENABLED",
        "rate(${IntervalMinutes} minutes)",
        "Type: Custom::Migrations",
        "NoEcho: true",
        "{{resolve:secretsmanager:${DatabaseUrlSecret}}}",
    ] {
        assert!(text.contains(needle), "template lacks {needle}");
    }
}

#[test]
fn the_http_api_routes_every_documented_operation_to_the_api_function() {
    use utoipa::OpenApi;
    let text = std::fs::read_to_string(template()).unwrap();
    let document = shared::http::ApiDoc::openapi();
    let mut routes: Vec<(String, String)> = Vec::new();
    for (path, item) in &document.paths.paths {
        for (method, operation) in
            [("GET", &item.get), ("POST", &item.post), ("PUT", &item.put), ("DELETE", &item.delete)]
        {
            if operation.is_some() {
                routes.push((method.into(), path.clone()));
            }
        }
    }
    assert!(routes.contains(&("GET".into(), "/dashboard".into())), "{routes:?}");
    for (method, path) in routes {
        let quoted = if path.contains('{') { format!("\"{path}\"") } else { path.clone() };
        let line = format!("Method: {method}, Path: {quoted}}}");
        assert!(text.contains(&line), "template.yaml does not route {method} {path} (looked for {line:?})");
    }
}
