//! `local bench --quick`, run as a user would (the dispatch and latency parts; the functions
//! part builds release binaries, too slow for a test): it exits 0, prints its table and writes
//! `bench-results.json` with every figure of the parts it ran. The figures themselves are not
//! checked here: this is a debug build on a shared machine, and targets belong to the benchmark.

#![allow(clippy::unwrap_used)]

use std::process::Command;

use serde_json::Value;

/// Runs `local bench --quick --only <part>` in a folder of its own; returns the JSON it wrote.
fn bench_quick(part: &str, extra: &[&str]) -> Value {
    let dir = std::env::temp_dir().join(format!("bench_smoke_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_local"))
        .args(["bench", "--quick", "--only", part])
        .args(extra)
        .current_dir(&dir)
        .env("DATABASE_URL", std::env::var("DATABASE_URL").unwrap())
        .env_remove("REDIS_URL")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "bench --only {part} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("| figure"), "no table printed:\n{stdout}");
    assert!(stdout.contains("wrote bench-results.json"), "{stdout}");
    assert!(!stderr.contains("cannot run CHECKPOINT"), "the setups were not checkpointed:\n{stderr}");
    let results = std::fs::read_to_string(dir.join("bench-results.json")).unwrap();
    let json: Value = serde_json::from_str(&results).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(json["parts_measured"][part], true, "{json}");
    json
}

fn positive(json: &Value, field: &str) -> f64 {
    let value = json[field].as_f64().unwrap_or_else(|| panic!("{field} missing: {json}"));
    assert!(value > 0.0, "{field} = {value}: {json}");
    value
}

#[test]
fn the_quick_benchmark_measures_every_part_but_the_functions_and_writes_every_figure() {
    let dispatch = bench_quick("dispatch", &[]);
    let by_batch = dispatch["dispatch_msgs_per_sec_by_batch"].as_object().unwrap();
    let batches: Vec<&str> = by_batch.keys().map(String::as_str).collect();
    assert_eq!(batches.len(), 3, "batches 2, 100 and 1,000: {batches:?}");
    for batch in ["batch_2", "batch_100", "batch_1000"] {
        let rate = by_batch.get(batch).and_then(Value::as_f64);
        assert!(rate.is_some_and(|rate| rate > 0.0), "{batch}: {dispatch}");
    }
    let best = positive(&dispatch, "dispatch_msgs_per_sec");
    assert!(by_batch.values().all(|rate| rate.as_f64().unwrap() <= best), "the headline is the best");
    positive(&dispatch, "pg_claim_ceiling_rows_per_sec");
    positive(&dispatch, "pg_minimal_ceiling_rows_per_sec");

    let retention = bench_quick("retention", &[]);
    positive(&retention, "purge_rows_per_sec");
    positive(&retention, "dispatch_msgs_per_sec_during_purge");

    let latency = bench_quick("latency", &[]);
    let p50 = positive(&latency, "claim_p50_ms");
    assert!(positive(&latency, "claim_p99_ms") >= p50);
    for field in [
        "api_create_rps",
        "api_sent_page_rps",
        "api_sent_page_p50_ms",
        "api_sent_page_p99_ms",
        "api_list_deep_page_p99_ms",
    ] {
        positive(&latency, field);
    }

    // History and scale-out, at small sizes; scale-out runs the debug dispatch binary this test
    // run built, under the Lambda Runtime API emulator. One test: the parts share one scratch
    // database, so they run one after the other.
    let history = bench_quick("history", &[]);
    for field in [
        "history_claim_p99_ms",
        "history_dispatch_msgs_per_sec",
        "history_api_create_rps",
        "history_api_sent_page_p99_ms",
    ] {
        let by_size = history[field].as_object().unwrap_or_else(|| panic!("{field}: {history}"));
        let sizes: Vec<&str> = by_size.keys().map(String::as_str).collect();
        assert_eq!(sizes.len(), 2, "{field}: two history sizes: {history}");
        assert!(by_size.values().all(|v| v.as_f64().is_some_and(|v| v > 0.0)), "{field}: {history}");
    }

    let binaries = std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().to_path_buf();
    assert!(binaries.join("dispatch").is_file(), "no debug dispatch binary in {}", binaries.display());
    let binaries = binaries.to_str().unwrap().to_string();
    let scaleout = bench_quick("scaleout", &["--binaries", &binaries]);
    let by_processes = scaleout["dispatch_scaleout_msgs_per_sec"].as_object().unwrap();
    let counts: Vec<&str> = by_processes.keys().map(String::as_str).collect();
    assert_eq!(counts, ["1", "2"], "{scaleout}");
    assert!(by_processes.values().all(|v| v.as_f64().is_some_and(|v| v > 0.0)), "{scaleout}");
}
