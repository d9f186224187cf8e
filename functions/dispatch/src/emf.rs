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
struct Record<'a> {
    #[serde(rename = "_aws")]
    aws: Aws,
    #[serde(rename = "FunctionName")]
    function_name: &'a str,
    #[serde(rename = "Claimed")]
    claimed: i32,
    #[serde(rename = "Sent")]
    sent: i32,
    #[serde(rename = "Retried")]
    retried: i32,
    #[serde(rename = "Failed")]
    failed: i32,
    #[serde(rename = "Released")]
    released: i32,
    #[serde(rename = "Expired")]
    expired: i32,
    #[serde(rename = "RunDurationMs")]
    run_duration_ms: u64,
    #[serde(rename = "OldestPendingAgeSeconds", skip_serializing_if = "Option::is_none")]
    oldest_pending_age_seconds: Option<f64>,
    #[serde(rename = "BreakerOpen")]
    breaker_open: u8,
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
    name: &'static str,
    #[serde(rename = "Unit")]
    unit: &'static str,
}

impl Metrics {
    /// The record as one JSON line, at `timestamp_ms` (milliseconds since the epoch).
    pub fn emf_line(&self, function_name: &str, timestamp_ms: i64) -> String {
        let mut metrics: Vec<Metric> = [
            ("Claimed", "Count"),
            ("Sent", "Count"),
            ("Retried", "Count"),
            ("Failed", "Count"),
            ("Released", "Count"),
            ("Expired", "Count"),
            ("RunDurationMs", "Milliseconds"),
            ("OldestPendingAgeSeconds", "Seconds"),
            ("BreakerOpen", "None"),
        ]
        .into_iter()
        .map(|(name, unit)| Metric { name, unit })
        .collect();
        if self.oldest_pending_age_seconds.is_none() {
            metrics.retain(|metric| metric.name != "OldestPendingAgeSeconds");
        }
        let s = &self.summary;
        let record = Record {
            aws: Aws {
                timestamp: timestamp_ms,
                cloudwatch_metrics: [Directive {
                    namespace: NAMESPACE,
                    dimensions: [["FunctionName"]],
                    metrics,
                }],
            },
            function_name,
            claimed: s.claimed,
            sent: s.sent,
            retried: s.retried,
            failed: s.failed,
            released: s.released,
            expired: s.expired,
            run_duration_ms: s.duration_ms,
            oldest_pending_age_seconds: self.oldest_pending_age_seconds,
            breaker_open: u8::from(s.breaker_open),
        };
        // A struct of plain fields always serializes.
        serde_json::to_string(&record).unwrap_or_default()
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
        assert_eq!(
            metrics.emf_line("message-dispatcher-DispatchFunction-AbC", 1_764_000_000_000),
            concat!(
                r#"{"_aws":{"Timestamp":1764000000000,"CloudWatchMetrics":[{"Namespace":"MessageDispatcher","#,
                r#""Dimensions":[["FunctionName"]],"Metrics":[{"Name":"Claimed","Unit":"Count"},"#,
                r#"{"Name":"Sent","Unit":"Count"},{"Name":"Retried","Unit":"Count"},{"Name":"Failed","Unit":"Count"},"#,
                r#"{"Name":"Released","Unit":"Count"},{"Name":"Expired","Unit":"Count"},"#,
                r#"{"Name":"RunDurationMs","Unit":"Milliseconds"},"#,
                r#"{"Name":"OldestPendingAgeSeconds","Unit":"Seconds"},{"Name":"BreakerOpen","Unit":"None"}]}]},"#,
                r#""FunctionName":"message-dispatcher-DispatchFunction-AbC","Claimed":10,"Sent":8,"Retried":1,"#,
                r#""Failed":1,"Released":0,"Expired":0,"RunDurationMs":412,"OldestPendingAgeSeconds":3.5,"#,
                r#""BreakerOpen":0}"#
            )
        );
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
        assert_eq!(names.len(), 8, "every metric but the unread age: {names:?}");
    }
}
