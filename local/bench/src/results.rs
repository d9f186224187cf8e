//! The figures: one struct, serialized as `bench-results.json` and printed as the table from
//! that same JSON, so each figure is named once (its field). A part that did not run is absent.
//! Targets name the figures they hold to; a test checks each names a real one.

use serde::Serialize;
use serde_json::Value;

use crate::campaigns::CampaignFigures;
use crate::claims::LatencyFigures;
use crate::dispatch::DispatchFigures;
use crate::expiry::ExpiryFigures;
use crate::functions::FunctionFigures;
use crate::history::HistoryFigures;
use crate::process_cpu::CpuFigures;
use crate::purge::RetentionFigures;
use crate::queue_health::QueueHealthFigures;
use crate::receipts::ReceiptFigures;
use crate::scaleout::ScaleoutFigures;
use crate::sql_cost::SqlCostFigures;

#[derive(Debug, Default, Serialize)]
pub struct Results {
    #[serde(flatten)]
    pub dispatch: Option<DispatchFigures>,
    #[serde(flatten)]
    pub retention: Option<RetentionFigures>,
    #[serde(flatten)]
    pub receipts: Option<ReceiptFigures>,
    #[serde(flatten)]
    pub expiry: Option<ExpiryFigures>,
    #[serde(flatten)]
    pub queue_health: Option<QueueHealthFigures>,
    #[serde(flatten)]
    pub campaigns: Option<CampaignFigures>,
    #[serde(flatten)]
    pub sql_cost: Option<SqlCostFigures>,
    #[serde(flatten)]
    pub cpu: Option<CpuFigures>,
    #[serde(flatten)]
    pub latency: Option<LatencyFigures>,
    #[serde(flatten)]
    pub history: Option<HistoryFigures>,
    #[serde(flatten)]
    pub scaleout: Option<ScaleoutFigures>,
    #[serde(flatten)]
    pub functions: Option<FunctionFigures>,
}

/// What a figure is held to.
#[derive(Debug, Clone, Copy)]
enum Bound {
    AtLeast(f64),
    AtMost(f64),
}

/// A figure's path in the JSON (`a.b`; `a.*` for every entry of `a`) and its bound.
const TARGETS: &[(&str, Bound)] = &[
    ("dispatch_msgs_per_sec_by_batch.batch_1000", Bound::AtLeast(5000.0)),
    ("dispatch_share_of_claim_ceiling", Bound::AtLeast(0.5)),
    ("dispatch_share_of_minimal_ceiling", Bound::AtLeast(0.4)),
    ("pg_claim_share_of_attempt_ceiling", Bound::AtLeast(0.8)),
    ("attempt_write_cost_ratio", Bound::AtLeast(0.9)),
    ("receipts_per_sec", Bound::AtLeast(20_000.0)),
    ("expiry_dispatch_ratio", Bound::AtLeast(0.5)),
    ("scheduled_claim_p99_growth", Bound::AtMost(2.0)),
    ("retry_wait_claim_p99_growth", Bound::AtMost(2.0)),
    ("horizon_dispatch_ratio", Bound::AtLeast(0.6)),
    ("dispatch_share_of_end_to_end_limit", Bound::AtLeast(0.6)),
    ("priority_wait_margin_ms", Bound::AtMost(250.0)),
    ("priority_claim_p99_growth", Bound::AtMost(2.0)),
    ("campaign_stats_p99_ms", Bound::AtMost(50.0)),
    ("cancel_dispatch_ratio", Bound::AtLeast(0.5)),
    ("claim_p99_ms", Bound::AtMost(10.0)),
    ("api_create_rps", Bound::AtLeast(3000.0)),
    ("api_sent_page_p99_ms", Bound::AtMost(20.0)),
    ("history_claim_p99_growth", Bound::AtMost(1.5)),
    ("history_dispatch_ratio", Bound::AtLeast(0.8)),
    ("dispatch_scaleout_speedup_8", Bound::AtLeast(3.0)),
    ("binary_bytes.*", Bound::AtMost(15_000_000.0)),
    ("init_ms.*", Bound::AtMost(100.0)),
    ("dispatch_peak_rss_mb", Bound::AtMost(64.0)),
];

impl Bound {
    fn holds(self, value: f64) -> bool {
        match self {
            Self::AtLeast(floor) => value >= floor,
            Self::AtMost(ceiling) => value <= ceiling,
        }
    }

    fn text(self) -> String {
        match self {
            Self::AtLeast(floor) => format!(">= {floor}"),
            Self::AtMost(ceiling) => format!("<= {ceiling}"),
        }
    }
}

/// One figure of the table: its path, value and, if it has one, its target.
struct Row {
    path: String,
    value: f64,
    bound: Option<Bound>,
}

impl Results {
    fn json(&self) -> anyhow::Result<Value> {
        Ok(serde_json::to_value(self)?)
    }

    fn rows(&self) -> anyhow::Result<Vec<Row>> {
        let mut leaves = Vec::new();
        leaves_of(&self.json()?, String::new(), &mut leaves);
        Ok(leaves.into_iter().map(|(path, value)| Row { bound: bound_of(&path), path, value }).collect())
    }

    pub fn print_table(&self) -> anyhow::Result<()> {
        let rows = self.rows()?;
        let width = rows.iter().map(|r| r.path.len()).max().unwrap_or(10);
        println!("\n| {:width$} | {:>14} | {:>14} | met |", "figure", "value", "target");
        println!("|{}|{}|{}|-----|", "-".repeat(width + 2), "-".repeat(16), "-".repeat(16));
        for row in rows {
            let (target, met) = match row.bound {
                Some(bound) => (bound.text(), if bound.holds(row.value) { "yes" } else { "NO" }),
                None => (String::new(), ""),
            };
            println!("| {:width$} | {:>14} | {target:>14} | {met:>3} |", row.path, shown(row.value));
        }
        Ok(())
    }

    /// The figures, and whether every target among them was met.
    pub fn write_json(&self, path: &str) -> anyhow::Result<()> {
        let met = self.rows()?.iter().all(|row| row.bound.is_none_or(|bound| bound.holds(row.value)));
        let mut json = self.json()?;
        if let Value::Object(fields) = &mut json {
            fields.insert("targets_met".into(), met.into());
            let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
            fields.insert("machine_cores".into(), cores.into());
        }
        std::fs::write(path, serde_json::to_string_pretty(&json)? + "\n")?;
        Ok(())
    }
}

/// Every number in `value`, with its dotted path, in key order.
fn leaves_of(value: &Value, path: String, leaves: &mut Vec<(String, f64)>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                let path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                leaves_of(field, path, leaves);
            }
        }
        Value::Number(number) => leaves.push((path, number.as_f64().unwrap_or(f64::NAN))),
        _ => {}
    }
}

fn bound_of(path: &str) -> Option<Bound> {
    TARGETS.iter().find(|(pattern, _)| matches(pattern, path)).map(|(_, bound)| *bound)
}

fn matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(parent) => path.strip_prefix(parent).is_some_and(|rest| rest.starts_with('.')),
        None => pattern == path,
    }
}

/// Large figures as integers, small ones with two decimals.
fn shown(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every target names a figure that a full run writes: a renamed field cannot leave its
    /// target checking nothing.
    #[test]
    fn every_target_names_a_figure_of_a_full_run() {
        let paths: Vec<String> =
            Results::full_example().rows().unwrap().into_iter().map(|r| r.path).collect();
        for (pattern, _) in TARGETS {
            assert!(paths.iter().any(|path| matches(pattern, path)), "{pattern} names no figure: {paths:?}");
        }
    }

    #[test]
    fn a_part_that_did_not_run_is_absent_from_the_json() {
        let json = Results::default().json().unwrap();
        assert_eq!(json, serde_json::json!({}));
    }

    #[test]
    fn a_pattern_matches_the_entries_below_its_parent_only() {
        assert!(matches("binary_bytes.*", "binary_bytes.api"));
        assert!(!matches("binary_bytes.*", "binary_bytes"));
        assert!(!matches("binary_bytes.*", "binary_bytes_total.api"));
        assert!(matches("claim_p99_ms", "claim_p99_ms"));
    }

    impl Results {
        /// Every part, as a full run writes it: zeros, one entry in each group a full run fills.
        fn full_example() -> Self {
            let mut dispatch = DispatchFigures::default();
            dispatch.dispatch_msgs_per_sec_by_batch.insert("batch_1000".into(), 0.0);
            let mut scaleout =
                ScaleoutFigures { dispatch_scaleout_speedup_8: Some(0.0), ..Default::default() };
            scaleout.dispatch_scaleout.insert(8, Default::default());
            let mut functions = FunctionFigures::default();
            functions.binary_bytes.insert("dispatch".into(), 0);
            functions.init_ms.insert("dispatch".into(), 0.0);
            Self {
                dispatch: Some(dispatch),
                retention: Some(RetentionFigures::default()),
                receipts: Some(ReceiptFigures::default()),
                expiry: Some(ExpiryFigures::default()),
                queue_health: Some(QueueHealthFigures::default()),
                campaigns: Some(CampaignFigures::default()),
                sql_cost: Some(SqlCostFigures::default()),
                cpu: Some(CpuFigures::default()),
                latency: Some(LatencyFigures::default()),
                history: Some(HistoryFigures::default()),
                scaleout: Some(scaleout),
                functions: Some(functions),
            }
        }
    }
}
