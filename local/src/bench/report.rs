//! The figures, the targets, the table and bench-results.json.

use serde::Serialize;

use super::history::{self, HistoryFigures};
use super::scaleout::ScaleoutFigures;

#[derive(Debug, Default, Serialize)]
pub struct Results {
    /// (batch size, messages per second)
    pub dispatch: Vec<(u32, f64)>,
    pub pg_claim_ceiling_rows_per_sec: f64,
    /// The minimal claim + record (a primary key and the FIFO index, no triggers).
    pub pg_minimal_ceiling_rows_per_sec: f64,
    pub purge_rows_per_sec: f64,
    pub dispatch_msgs_per_sec_during_purge: f64,
    pub claim_p50_ms: f64,
    pub claim_p99_ms: f64,
    pub api_create_rps: f64,
    /// The sent page's throughput and median at the same load (no target: they explain the p99).
    pub api_sent_page_rps: f64,
    pub api_sent_page_p50_ms: f64,
    pub api_sent_page_p99_ms: f64,
    /// A filtered listing page half way down a million rows (no target: it shows keyset paging).
    pub api_list_deep_page_p99_ms: f64,
    /// (function, bytes)
    pub binary_bytes: Vec<(String, u64)>,
    /// (function, milliseconds from process start to ready to serve)
    pub init_ms: Vec<(String, f64)>,
    pub dispatch_peak_rss_mb: f64,
    /// The same measurements at each history size, smallest first.
    pub history: Vec<HistoryFigures>,
    /// 1 to 8 dispatch processes against a receiver answering in 50 ms.
    pub scaleout: Vec<ScaleoutFigures>,
}

/// The p-th percentile (nearest rank) of `values`.
pub fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

struct Row {
    name: String,
    value: String,
    target: String,
    met: Option<bool>,
}

fn row(name: &str, value: String, target: &str, met: Option<bool>) -> Row {
    Row { name: name.into(), value, target: target.into(), met }
}

/// A figure whose target is a ceiling, shown with `decimals` places.
fn at_most(name: &str, value: f64, decimals: usize, limit: f64) -> Row {
    row(name, format!("{value:.decimals$}"), &format!("<= {limit}"), Some(value <= limit))
}

/// A figure whose target is a floor, shown with `decimals` places.
fn at_least(name: &str, value: f64, decimals: usize, floor: f64) -> Row {
    row(name, format!("{value:.decimals$}"), &format!(">= {floor}"), Some(value >= floor))
}

/// A ceiling's row and dispatch's share of it, when the run measured that ceiling.
fn share_of_ceiling(rows: &mut Vec<Row>, dispatch: f64, key: &str, ceiling: f64, label: &str, target: f64) {
    if ceiling <= 0.0 {
        return;
    }
    let ratio = dispatch / ceiling;
    rows.push(row(key, format!("{ceiling:.0}"), "", None));
    rows.push(row(
        &format!("dispatch / {label} (batch 1000)"),
        format!("{:.0}%", ratio * 100.0),
        &format!(">= {:.0}%", target * 100.0),
        Some(ratio >= target),
    ));
}

impl Results {
    /// The claim and API figures were taken (`--only` may skip them).
    fn latency_measured(&self) -> bool {
        self.api_create_rps > 0.0
    }

    pub fn dispatch_msgs_per_sec(&self) -> f64 {
        self.dispatch.iter().map(|(_, rate)| *rate).fold(0.0, f64::max)
    }

    fn at_batch(&self, batch: u32) -> f64 {
        self.dispatch.iter().find(|(b, _)| *b == batch).map_or(0.0, |(_, rate)| *rate)
    }

    fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        for (batch, rate) in &self.dispatch {
            let name = format!("dispatch_msgs_per_sec (batch {batch})");
            rows.push(match batch {
                1000 => at_least(&name, *rate, 0, 5000.0),
                _ => row(&name, format!("{rate:.0}"), "", None),
            });
        }
        let at_1000 = self.at_batch(1000);
        share_of_ceiling(
            &mut rows,
            at_1000,
            "pg_claim_ceiling_rows_per_sec",
            self.pg_claim_ceiling_rows_per_sec,
            "ceiling",
            0.5,
        );
        share_of_ceiling(
            &mut rows,
            at_1000,
            "pg_minimal_ceiling_rows_per_sec",
            self.pg_minimal_ceiling_rows_per_sec,
            "minimal",
            0.4,
        );
        if self.purge_rows_per_sec > 0.0 {
            rows.push(row("purge_rows_per_sec", format!("{:.0}", self.purge_rows_per_sec), "", None));
            let during = self.dispatch_msgs_per_sec_during_purge;
            rows.push(row("dispatch_msgs_per_sec during purge", format!("{during:.0}"), "", None));
        }
        if self.latency_measured() {
            rows.push(row("claim_p50_ms", format!("{:.2}", self.claim_p50_ms), "", None));
            rows.push(at_most("claim_p99_ms", self.claim_p99_ms, 2, 10.0));
            rows.push(at_least("api_create_rps", self.api_create_rps, 0, 3000.0));
            rows.push(row("api_sent_page_rps", format!("{:.0}", self.api_sent_page_rps), "", None));
            rows.push(row("api_sent_page_p50_ms", format!("{:.2}", self.api_sent_page_p50_ms), "", None));
            rows.push(at_most("api_sent_page_p99_ms", self.api_sent_page_p99_ms, 2, 20.0));
            let deep = self.api_list_deep_page_p99_ms;
            rows.push(row("api_list_deep_page_p99_ms", format!("{deep:.2}"), "", None));
        }
        rows.extend(self.history_rows());
        if let Some(one) = self.scaleout.first().map(|f| f.msgs_per_sec) {
            for figures in &self.scaleout {
                let (processes, rate) = (figures.processes, figures.msgs_per_sec);
                let (target, met) = match processes {
                    8 => (">= 3 x", Some(rate >= 3.0 * one)),
                    _ => ("", None),
                };
                let value = format!("{rate:.0} ({:.1} x)", rate / one);
                rows.push(row(&format!("dispatch_scaleout_msgs_per_sec ({processes})"), value, target, met));
                let gb_s = figures.gb_seconds_per_1000_msgs();
                rows.push(row(
                    &format!("dispatch_gb_seconds_per_1000_msgs ({processes})"),
                    format!("{gb_s:.3}"),
                    "",
                    None,
                ));
            }
        }
        for (name, bytes) in &self.binary_bytes {
            let mb = *bytes as f64 / 1_000_000.0;
            rows.push(row(
                &format!("binary_bytes ({name})"),
                format!("{bytes} ({mb:.1} MB)"),
                "<= 15 MB",
                Some(mb <= 15.0),
            ));
        }
        for (name, ms) in &self.init_ms {
            rows.push(at_most(&format!("init_ms ({name})"), *ms, 1, 100.0));
        }
        if !self.init_ms.is_empty() {
            rows.push(at_most("dispatch_peak_rss_mb", self.dispatch_peak_rss_mb, 1, 64.0));
        }
        rows
    }

    /// The history figures at each size; the largest size is held to the smallest: claim p99
    /// at most 1.5 times, dispatch at least 0.8 times.
    fn history_rows(&self) -> Vec<Row> {
        let Some(first) = self.history.first() else {
            return Vec::new();
        };
        let mut rows = Vec::new();
        for (i, figures) in self.history.iter().enumerate() {
            let size = history::label(figures.rows);
            let largest = i > 0 && i + 1 == self.history.len();
            let claim = figures.claim_p99_ms;
            let (target, met) =
                if largest { ("<= 1.5 x", Some(claim <= 1.5 * first.claim_p99_ms)) } else { ("", None) };
            rows.push(row(&format!("history_claim_p99_ms ({size})"), format!("{claim:.2}"), target, met));
            let rate = figures.dispatch_msgs_per_sec;
            let (target, met) = if largest {
                (">= 0.8 x", Some(rate >= 0.8 * first.dispatch_msgs_per_sec))
            } else {
                ("", None)
            };
            rows.push(row(
                &format!("history_dispatch_msgs_per_sec ({size})"),
                format!("{rate:.0}"),
                target,
                met,
            ));
            let create = figures.api_create_rps;
            rows.push(row(&format!("history_api_create_rps ({size})"), format!("{create:.0}"), "", None));
            let page = figures.api_sent_page_p99_ms;
            rows.push(row(&format!("history_api_sent_page_p99_ms ({size})"), format!("{page:.2}"), "", None));
        }
        rows
    }

    /// `{"1m": value, "10m": value}` of one history figure.
    fn by_history_size(&self, figure: impl Fn(&HistoryFigures) -> f64) -> serde_json::Value {
        let by_size: serde_json::Map<String, serde_json::Value> =
            self.history.iter().map(|f| (history::label(f.rows), serde_json::json!(figure(f)))).collect();
        serde_json::Value::Object(by_size)
    }

    /// `{"1": value, "2": value, ...}` of one scale-out figure.
    fn by_processes(&self, figure: impl Fn(&ScaleoutFigures) -> f64) -> serde_json::Value {
        let by_count: serde_json::Map<String, serde_json::Value> =
            self.scaleout.iter().map(|f| (f.processes.to_string(), serde_json::json!(figure(f)))).collect();
        serde_json::Value::Object(by_count)
    }

    pub fn print_table(&self) {
        let rows = self.rows();
        let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(10);
        println!("\n| {:width$} | {:>20} | {:>10} | met |", "figure", "value", "target");
        println!("|{}|{}|{}|-----|", "-".repeat(width + 2), "-".repeat(22), "-".repeat(12));
        for r in rows {
            let met = match r.met {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "",
            };
            println!("| {:width$} | {:>20} | {:>10} | {met:>3} |", r.name, r.value, r.target);
        }
    }

    pub fn write_json(&self, path: &str) -> anyhow::Result<()> {
        let dispatch: serde_json::Map<String, serde_json::Value> = self
            .dispatch
            .iter()
            .map(|(batch, rate)| (format!("batch_{batch}"), serde_json::json!(rate.round())))
            .collect();
        let json = serde_json::json!({
            "dispatch_msgs_per_sec": self.dispatch_msgs_per_sec().round(),
            "dispatch_msgs_per_sec_by_batch": dispatch,
            "pg_claim_ceiling_rows_per_sec": self.pg_claim_ceiling_rows_per_sec.round(),
            "pg_minimal_ceiling_rows_per_sec": self.pg_minimal_ceiling_rows_per_sec.round(),
            "purge_rows_per_sec": self.purge_rows_per_sec.round(),
            "dispatch_msgs_per_sec_during_purge": self.dispatch_msgs_per_sec_during_purge.round(),
            "claim_p50_ms": self.claim_p50_ms,
            "claim_p99_ms": self.claim_p99_ms,
            "api_create_rps": self.api_create_rps.round(),
            "api_sent_page_rps": self.api_sent_page_rps.round(),
            "api_sent_page_p50_ms": self.api_sent_page_p50_ms,
            "api_sent_page_p99_ms": self.api_sent_page_p99_ms,
            "api_list_deep_page_p99_ms": self.api_list_deep_page_p99_ms,
            "binary_bytes": self.binary_bytes.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
            "init_ms": self.init_ms.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
            "dispatch_peak_rss_mb": self.dispatch_peak_rss_mb,
            "history_claim_p99_ms": self.by_history_size(|f| f.claim_p99_ms),
            "history_dispatch_msgs_per_sec": self.by_history_size(|f| f.dispatch_msgs_per_sec.round()),
            "history_api_create_rps": self.by_history_size(|f| f.api_create_rps.round()),
            "history_api_sent_page_p99_ms": self.by_history_size(|f| f.api_sent_page_p99_ms),
            "dispatch_scaleout_msgs_per_sec": self.by_processes(|f| f.msgs_per_sec.round()),
            "dispatch_gb_seconds_per_1000_msgs": self.by_processes(ScaleoutFigures::gb_seconds_per_1000_msgs),
            "targets_met": self.rows().iter().all(|r| r.met != Some(false)),
            "parts_measured": {
                "dispatch": !self.dispatch.is_empty(),
                "latency": self.latency_measured(),
                "functions": !self.binary_bytes.is_empty(),
                "retention": self.purge_rows_per_sec > 0.0,
                "history": !self.history.is_empty(),
                "scaleout": !self.scaleout.is_empty(),
            },
            "machine": { "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0) },
        });
        std::fs::write(path, serde_json::to_string_pretty(&json)? + "\n")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&mut values, 50.0), 50.0);
        assert_eq!(percentile(&mut values, 99.0), 99.0);
        assert_eq!(percentile(&mut [3.0, 1.0, 2.0], 99.0), 3.0);
        assert_eq!(percentile(&mut [], 50.0), 0.0);
    }
}
