//! `bench --quick`, run as a user would, part by part (all but the functions part, which
//! builds release binaries, too slow for a test): it exits 0, prints its table and writes
//! `bench-results.json` with the figures of the part it ran and no other. The figures
//! themselves are not checked here: this is a debug build on a shared machine, and targets
//! belong to the benchmark.

#![allow(clippy::unwrap_used)]

use std::process::Command;

use serde_json::{Map, Value};

/// Runs `bench --quick --only <part>` in a folder of its own; returns the JSON it wrote.
fn bench_quick(part: &str, extra: &[&str]) -> Map<String, Value> {
    let dir = std::env::temp_dir().join(format!("bench_smoke_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(["--quick", "--only", part])
        .args(extra)
        .current_dir(&dir)
        .env("DATABASE_URL", std::env::var("DATABASE_URL").unwrap())
        .env_remove("REDIS_URL")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "bench --only {part} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("| figure"), "no table printed:\n{stdout}");
    assert!(stdout.contains("wrote bench-results.json"), "{stdout}");
    assert!(!stderr.contains("cannot run CHECKPOINT"), "the setups were not checkpointed:\n{stderr}");
    assert!(
        !stderr.contains("WARN") && !stderr.contains("slow statement"),
        "log lines in the output:\n{stderr}"
    );
    let results = std::fs::read_to_string(dir.join("bench-results.json")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let Value::Object(mut json) = serde_json::from_str(&results).unwrap() else {
        panic!("not an object: {results}")
    };
    assert!(json.remove("targets_met").is_some_and(|met| met.is_boolean()), "{results}");
    assert!(json.remove("machine_cores").is_some_and(|cores| cores.as_u64() > Some(0)), "{results}");
    json
}

/// Every number in `value`, with its dotted path.
fn figures(value: &Value, path: &str, out: &mut Vec<(String, f64)>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                figures(field, &format!("{path}.{key}"), out);
            }
        }
        Value::Number(n) => out.push((path.to_owned(), n.as_f64().unwrap())),
        other => panic!("{path} is neither a figure nor a group of figures: {other}"),
    }
}

/// Every figure the part wrote is a positive number (a rate, a latency, a ratio of two).
fn assert_all_positive(part: &str, json: &Map<String, Value>) -> Vec<(String, f64)> {
    let mut all = Vec::new();
    figures(&Value::Object(json.clone()), "", &mut all);
    assert!(!all.is_empty(), "{part} wrote no figure");
    for (path, value) in &all {
        assert!(*value > 0.0, "{part}: {path} = {value}");
    }
    all
}

fn group_keys(json: &Map<String, Value>, group: &str) -> Vec<String> {
    json[group].as_object().unwrap_or_else(|| panic!("{group}: {json:?}")).keys().cloned().collect()
}

/// One test: the parts share one scratch database, so they run one after the other.
#[test]
fn the_quick_benchmark_writes_each_parts_figures_and_only_those() {
    let dispatch = bench_quick("dispatch", &[]);
    assert_all_positive("dispatch", &dispatch);
    assert_eq!(
        group_keys(&dispatch, "dispatch_msgs_per_sec_by_batch"),
        ["batch_100", "batch_1000", "batch_2"]
    );

    let retention = bench_quick("retention", &[]);
    assert_all_positive("retention", &retention);
    assert!(retention.keys().all(|key| !dispatch.contains_key(key)), "parts share no figure");

    let receipts = bench_quick("receipts", &[]);
    assert_eq!(assert_all_positive("receipts", &receipts).len(), 2, "{receipts:?}");
    assert!(receipts.contains_key("receipts_per_sec"));

    let expiry = bench_quick("expiry", &[]);
    assert_eq!(assert_all_positive("expiry", &expiry).len(), 3, "{expiry:?}");
    assert!(expiry.contains_key("expire_rows_per_sec"));

    let queue_health = bench_quick("queue-health", &[]);
    assert_eq!(assert_all_positive("queue-health", &queue_health).len(), 8, "{queue_health:?}");
    assert!(queue_health.contains_key("horizon_dispatch_ratio"));

    let latency = bench_quick("latency", &[]);
    assert_all_positive("latency", &latency);

    let history = bench_quick("history", &[]);
    assert_all_positive("history", &history);
    assert_eq!(group_keys(&history, "history"), ["100k", "20k"], "two history sizes");

    // Scale-out runs the debug dispatch binary this test run built, under the Lambda Runtime
    // API emulator.
    let binaries = std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().to_path_buf();
    assert!(binaries.join("dispatch").is_file(), "no debug dispatch binary in {}", binaries.display());
    let scaleout = bench_quick("scaleout", &["--binaries", binaries.to_str().unwrap()]);
    assert_all_positive("scaleout", &scaleout);
    assert_eq!(group_keys(&scaleout, "dispatch_scaleout"), ["1", "2"]);
}
