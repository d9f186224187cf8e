//! `GET /metrics`: the gauges in the Prometheus text format, computed from the database at each
//! scrape (so any replica answers the same), under the same bearer rule as `/api/v1`.

use std::fmt::Write;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use crate::problem::ApiError;
use crate::state::AppState;
use dispatcher_core::domain::{DeliveryStatus, MessageStatus, Priority};
use dispatcher_core::repository::gauges::{self, Gauges};
use dispatcher_core::repository::{stats, Stats};

pub const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Gauges for scraping: messages by status, the age of the oldest due pending message, whether
/// the receiver breaker is open and the failure rate it decides on, when the last dispatch run
/// started.
#[utoipa::path(get, path = "/metrics", tag = "metrics",
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4", body = String, content_type = "text/plain"),
    ))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let stats = stats::all(&state.pool).await?;
    let gauges = gauges::read(&state.pool).await?;
    Ok(([(CONTENT_TYPE, CONTENT_TYPE_TEXT)], render(&stats, &gauges)).into_response())
}

/// The exposition text; every series is a gauge.
pub fn render(stats: &Stats, gauges: &Gauges) -> String {
    let mut text = String::new();
    let mut gauge = |name: &str, help: &str, samples: &[(String, f64)]| {
        let _ = writeln!(text, "# HELP message_dispatcher_{name} {help}");
        let _ = writeln!(text, "# TYPE message_dispatcher_{name} gauge");
        for (labels, value) in samples {
            let _ = writeln!(text, "message_dispatcher_{name}{labels} {value}");
        }
    };
    let by_status: Vec<(String, f64)> = MessageStatus::ALL
        .iter()
        .copied()
        .map(|status| (format!("{{status=\"{status}\"}}"), stats.count(status) as f64))
        .collect();
    gauge("messages", "Messages by status.", &by_status);
    let by_delivery: Vec<(String, f64)> = DeliveryStatus::ALL
        .iter()
        .copied()
        .map(|status| (format!("{{status=\"{status}\"}}"), stats.deliveries(status) as f64))
        .collect();
    gauge("deliveries", "Sent messages by their latest delivery receipt.", &by_delivery);
    // The unlabelled series (any lane) is kept for the alarms and dashboards made before lanes.
    let mut ages = vec![(String::new(), gauges.oldest_pending_age_seconds)];
    ages.extend(
        Priority::ALL
            .iter()
            .zip(gauges.oldest_pending_age_by_priority)
            .map(|(priority, age)| (format!("{{priority=\"{priority}\"}}"), age)),
    );
    gauge(
        "oldest_pending_age_seconds",
        "How long the oldest due pending message has been due, of any lane and of each (priority); 0 when none is.",
        &ages,
    );
    gauge(
        "receiver_breaker_open",
        "1 while the receiver breaker is open or probing (the receiver looks down), else 0.",
        &[(String::new(), f64::from(u8::from(gauges.breaker_open)))],
    );
    gauge(
        "receiver_failure_rate",
        "Endpoint failures among the receiver breaker's last results (its window), 0..1; it opens at RECEIVER_BREAKER_FAILURE_RATE.",
        &[(String::new(), gauges.receiver_failure_rate)],
    );
    let last_run = gauges.last_run_at.map_or(0.0, |at| at.timestamp_millis() as f64 / 1000.0);
    gauge(
        "last_run_timestamp_seconds",
        "When the newest dispatch run started (Unix seconds); 0 before the first.",
        &[(String::new(), last_run)],
    );
    text
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_text_is_the_prometheus_exposition_format() {
        let stats = Stats::from_counts([
            (MessageStatus::Pending, 3),
            (MessageStatus::Processing, 1),
            (MessageStatus::Sent, 40),
            (MessageStatus::Failed, 2),
            (MessageStatus::Expired, 5),
        ])
        .with_deliveries([(DeliveryStatus::Delivered, 31), (DeliveryStatus::Undelivered, 4)]);
        let gauges = Gauges {
            oldest_pending_age_seconds: 12.5,
            oldest_pending_age_by_priority: [0.0, 12.5, 3.0],
            breaker_open: true,
            receiver_failure_rate: 0.95,
            last_run_at: Some(chrono::Utc.timestamp_millis_opt(1_764_000_000_250).unwrap()),
        };
        let text = render(&stats, &gauges);
        let expected = "\
# HELP message_dispatcher_messages Messages by status.
# TYPE message_dispatcher_messages gauge
message_dispatcher_messages{status=\"pending\"} 3
message_dispatcher_messages{status=\"processing\"} 1
message_dispatcher_messages{status=\"sent\"} 40
message_dispatcher_messages{status=\"failed\"} 2
message_dispatcher_messages{status=\"cancelled\"} 0
message_dispatcher_messages{status=\"expired\"} 5
# HELP message_dispatcher_deliveries Sent messages by their latest delivery receipt.
# TYPE message_dispatcher_deliveries gauge
message_dispatcher_deliveries{status=\"delivered\"} 31
message_dispatcher_deliveries{status=\"undelivered\"} 4
# HELP message_dispatcher_oldest_pending_age_seconds How long the oldest due pending message has been due, of any lane and of each (priority); 0 when none is.
# TYPE message_dispatcher_oldest_pending_age_seconds gauge
message_dispatcher_oldest_pending_age_seconds 12.5
message_dispatcher_oldest_pending_age_seconds{priority=\"high\"} 0
message_dispatcher_oldest_pending_age_seconds{priority=\"normal\"} 12.5
message_dispatcher_oldest_pending_age_seconds{priority=\"low\"} 3
# HELP message_dispatcher_receiver_breaker_open 1 while the receiver breaker is open or probing (the receiver looks down), else 0.
# TYPE message_dispatcher_receiver_breaker_open gauge
message_dispatcher_receiver_breaker_open 1
# HELP message_dispatcher_receiver_failure_rate Endpoint failures among the receiver breaker's last results (its window), 0..1; it opens at RECEIVER_BREAKER_FAILURE_RATE.
# TYPE message_dispatcher_receiver_failure_rate gauge
message_dispatcher_receiver_failure_rate 0.95
# HELP message_dispatcher_last_run_timestamp_seconds When the newest dispatch run started (Unix seconds); 0 before the first.
# TYPE message_dispatcher_last_run_timestamp_seconds gauge
message_dispatcher_last_run_timestamp_seconds 1764000000.25
";
        assert_eq!(text, expected);
    }
}
