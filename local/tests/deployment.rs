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

/// `(webhook timeout, function timeout, lease)` for each row of the DispatchTimeouts mapping.
fn dispatch_timeouts(text: &str) -> Vec<(u64, u64, u64)> {
    let section = text.split("  DispatchTimeouts:\n").nth(1).unwrap();
    let number = |s: &str, key: &str| -> u64 {
        let rest = s.split(key).nth(1).unwrap().trim_start_matches(": ");
        rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap()
    };
    section
        .lines()
        .take_while(|line| line.starts_with("    \""))
        .map(|line| {
            let webhook = line.trim().trim_start_matches('"').split('"').next().unwrap().parse().unwrap();
            (webhook, number(line, "FunctionSeconds"), number(line, "LeaseSeconds"))
        })
        .collect()
}

#[test]
fn every_allowed_webhook_timeout_fits_in_the_dispatch_functions_timeout_and_lease() {
    let text = std::fs::read_to_string(template()).unwrap();
    let rows = dispatch_timeouts(&text);
    let allowed: Vec<u64> = rows.iter().map(|row| row.0).collect();
    assert_eq!(allowed, [5, 10, 15, 20, 30, 60]);
    assert!(
        text.contains("AllowedValues: [5, 10, 15, 20, 30, 60]"),
        "the parameter allows exactly the mapped values"
    );
    for (webhook, function, lease) in rows {
        let config = shared::Config::from_pairs(&[
            ("WEBHOOK_TIMEOUT_SECONDS", &webhook.to_string()),
            ("MESSAGE_LEASE_SECONDS", &lease.to_string()),
        ]);
        assert!(config.is_ok(), "the functions refuse the lease {lease} for a {webhook} s timeout");
        // What the dispatch function has when invoked, less the runtime's second.
        let budget = std::time::Duration::from_secs(function) - shared::deadline::DEADLINE_MARGIN;
        let needed = shared::deadline::room_for_one_send(std::time::Duration::from_secs(webhook));
        assert!(budget > needed * 2, "a {function} s function leaves too little for {webhook} s requests");
    }
    assert!(
        text.contains("Timeout: !FindInMap [DispatchTimeouts, !Ref WebhookTimeoutSeconds, FunctionSeconds]")
    );
    assert!(text.contains(
        "MESSAGE_LEASE_SECONDS: !FindInMap [DispatchTimeouts, !Ref WebhookTimeoutSeconds, LeaseSeconds]"
    ));
}
