//! One CloudWatch Embedded Metric Format record per run, written to stdout: CloudWatch turns it
//! into metrics (namespace `MessageDispatcher`, dimension `FunctionName`) with no API call
//! and no extra latency. The template's alarms watch these.

use dispatcher_core::dispatch::RunSummary;
use serde::Serialize;

pub const NAMESPACE: &str = "MessageDispatcher";

/// What one run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub summary: RunSummary,
    /// How long the next message to claim has been due (0: none due); `None` if it could not be read.
    pub oldest_pending_age_seconds: Option<f64>,
}

#[derive(Serialize)]
struct Aws {
    #[serde(rename = "Timestamp")]
    timestamp: i64,
    #[serde(rename = "CloudWatchMetrics")]
    cloudwatch_metrics: [Directive; 1],
}

#[derive(Serialize)]
struct Directive {
    #[serde(rename = "Namespace")]
    namespace: &'static str,
    #[serde(rename = "Dimensions")]
    dimensions: [[&'static str; 1]; 1],
    #[serde(rename = "Metrics")]
    metrics: Vec<Metric>,
}

#[derive(Serialize)]
struct Metric {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Unit")]
    unit: &'static str,
}

/// A summary count's metric name: `claimed` is `Claimed`.
fn metric_name(count: &str) -> String {
    let mut chars = count.chars();
    chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

impl Metrics {
    /// The record as one JSON line, at `timestamp_ms` (milliseconds since the epoch): every count
    /// of the run summary (Count), then `RunDurationMs`, `OldestPendingAgeSeconds` (when read) and
    /// `BreakerOpen`.
    pub fn emf_line(&self, function_name: &str, timestamp_ms: i64) -> String {
        let summary = &self.summary;
        let mut values = serde_json::Map::new();
        let mut metrics = Vec::new();
        let mut add = |name: String, unit: &'static str, value: serde_json::Value| {
            values.insert(name.clone(), value);
            metrics.push(Metric { name, unit });
        };
        for (count, value) in summary.counts() {
            add(metric_name(count), "Count", value.into());
        }
        add("RunDurationMs".into(), "Milliseconds", summary.duration_ms.into());
        if let Some(age) = self.oldest_pending_age_seconds {
            add("OldestPendingAgeSeconds".into(), "Seconds", age.into());
        }
        add("BreakerOpen".into(), "None", u8::from(summary.breaker_open).into());
        let aws = Aws {
            timestamp: timestamp_ms,
            cloudwatch_metrics: [Directive { namespace: NAMESPACE, dimensions: [["FunctionName"]], metrics }],
        };
        values.insert("FunctionName".into(), function_name.into());
        // Plain fields and numbers always serialize.
        values.insert("_aws".into(), serde_json::to_value(aws).unwrap_or_default());
        serde_json::Value::Object(values).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> RunSummary {
        RunSummary {
            run_id: 7,
            claimed: 10,
            sent: 8,
            retried: 1,
            failed: 1,
            released: 0,
            purged: 0,
            expired: 0,
            breaker_open: false,
            duration_ms: 412,
        }
    }

    #[test]
    fn the_record_is_exactly_the_embedded_metric_format() {
        let metrics = Metrics { summary: summary(), oldest_pending_age_seconds: Some(3.5) };
        let line = metrics.emf_line("message-dispatcher-DispatchFunction-AbC", 1_764_000_000_000);
        assert!(!line.contains('\n'), "one line");
        let count = |name: &str| serde_json::json!({"Name": name, "Unit": "Count"});
        let expected = serde_json::json!({
            "_aws": {
                "Timestamp": 1_764_000_000_000_i64,
                "CloudWatchMetrics": [{
                    "Namespace": "MessageDispatcher",
                    "Dimensions": [["FunctionName"]],
                    "Metrics": [
                        count("Claimed"), count("Sent"), count("Retried"), count("Failed"),
                        count("Released"), count("Expired"), count("Purged"),
                        {"Name": "RunDurationMs", "Unit": "Milliseconds"},
                        {"Name": "OldestPendingAgeSeconds", "Unit": "Seconds"},
                        {"Name": "BreakerOpen", "Unit": "None"},
                    ],
                }],
            },
            "FunctionName": "message-dispatcher-DispatchFunction-AbC",
            "Claimed": 10, "Sent": 8, "Retried": 1, "Failed": 1, "Released": 0, "Expired": 0, "Purged": 0,
            "RunDurationMs": 412, "OldestPendingAgeSeconds": 3.5, "BreakerOpen": 0,
        });
        assert_eq!(serde_json::from_str::<serde_json::Value>(&line).unwrap(), expected);
    }

    #[test]
    fn an_unread_age_is_left_out_and_an_open_breaker_is_one() {
        let mut held_back = summary();
        held_back.breaker_open = true;
        let line = Metrics { summary: held_back, oldest_pending_age_seconds: None }.emf_line("f", 1);
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(json["BreakerOpen"], 1);
        assert!(json.get("OldestPendingAgeSeconds").is_none());
        let names = json["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap();
        assert_eq!(names.len(), 9, "every metric but the unread age: {names:?}");
    }
}
