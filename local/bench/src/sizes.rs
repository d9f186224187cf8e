//! How much each part of the benchmark measures: the full sizes, or `--quick` ones for a smoke
//! run. One leaf that every part reads, so the parts need nothing from `main.rs`.

use std::time::Duration;

/// How much each part measures: the full sizes, or `--quick` ones for a smoke run.
pub struct Sizes {
    pub drain: i64,
    pub sent_rows: i64,
    pub pending_rows: i64,
    pub api_duration: Duration,
    pub rss_messages: i64,
    /// Messages past the retention that the purge deletes.
    pub purge_rows: i64,
    /// Pending messages past their expiry, expired beside the drain.
    pub expiry_backlog: i64,
    pub queue: QueueSizes,
    pub campaigns: CampaignSizes,
    /// The two history sizes compared (1M and 10M sent messages).
    pub history_rows: [i64; 2],
    /// Dispatch processes at once, and how long each count runs.
    pub scaleout_processes: &'static [usize],
    pub scaleout_window: Duration,
}

impl Sizes {
    pub fn new(quick: bool) -> Self {
        if quick {
            Self {
                drain: 5_000,
                sent_rows: 50_000,
                pending_rows: 10_000,
                api_duration: Duration::from_secs(2),
                rss_messages: 2_000,
                purge_rows: 20_000,
                expiry_backlog: 10_000,
                queue: QueueSizes::new(true),
                campaigns: CampaignSizes::new(true),
                history_rows: [20_000, 100_000],
                scaleout_processes: &[1, 2],
                scaleout_window: Duration::from_secs(1),
            }
        } else {
            Self {
                drain: 50_000,
                sent_rows: 1_000_000,
                pending_rows: 100_000,
                api_duration: Duration::from_secs(10),
                rss_messages: 10_000,
                purge_rows: 1_000_000,
                expiry_backlog: 100_000,
                queue: QueueSizes::new(false),
                campaigns: CampaignSizes::new(false),
                history_rows: [1_000_000, 10_000_000],
                scaleout_processes: &[1, 2, 4, 8],
                scaleout_window: Duration::from_secs(5),
            }
        }
    }

    /// Claims of 100 timed on the pending rows: half of them, within 10..=300.
    pub fn claim_samples(&self) -> usize {
        (self.pending_rows / 100 / 2).clamp(10, 300) as usize
    }
}

/// How much the queue-health part measures.
pub struct QueueSizes {
    pub due: i64,
    pub scheduled: i64,
    pub retry_waiting: i64,
    /// The pending messages the two dispatch stretches drain from.
    pub backlog: i64,
    /// Dispatch without a snapshot, then with one held: each stretch's length, and the window
    /// at its end whose rate counts.
    pub free_stretch: Duration,
    pub held_stretch: Duration,
    pub window: Duration,
}

impl QueueSizes {
    pub fn new(quick: bool) -> Self {
        if quick {
            Self {
                due: 5_000,
                scheduled: 50_000,
                retry_waiting: 10_000,
                backlog: 100_000,
                free_stretch: Duration::from_secs(3),
                held_stretch: Duration::from_secs(6),
                window: Duration::from_secs(2),
            }
        } else {
            Self {
                due: 100_000,
                scheduled: 1_000_000,
                retry_waiting: 200_000,
                // Enough for 75 s at 40,000 msg/s: with the held snapshot costing nothing, the
                // two stretches drain at the free rate (about 20,000/s here; 1,500,000 ran out).
                backlog: 3_000_000,
                free_stretch: Duration::from_secs(15),
                held_stretch: Duration::from_secs(60),
                window: Duration::from_secs(10),
            }
        }
    }
}

/// How much the campaigns part measures.
pub struct CampaignSizes {
    /// Low-priority messages due while the codes are created, and beside the timed claims.
    pub low_backlog: i64,
    pub codes: usize,
    /// The claims' due-only baseline, as the queue-health part measures it.
    pub due_only: i64,
    pub claim_samples: usize,
    /// The table the campaign's stats are read from, and the campaign in it.
    pub table_rows: i64,
    pub campaign_rows: i64,
    pub stats_samples: usize,
    /// The campaign cancelled, and the other messages dispatched beside it.
    pub cancelled: i64,
    pub dispatched_beside: i64,
}

impl CampaignSizes {
    pub fn new(quick: bool) -> Self {
        if quick {
            Self {
                low_backlog: 100_000,
                codes: 5,
                due_only: 5_000,
                claim_samples: 20,
                table_rows: 100_000,
                campaign_rows: 10_000,
                stats_samples: 50,
                cancelled: 20_000,
                dispatched_beside: 5_000,
            }
        } else {
            Self {
                low_backlog: 1_000_000,
                codes: 20,
                due_only: 100_000,
                claim_samples: 300,
                table_rows: 10_000_000,
                campaign_rows: 1_000_000,
                stats_samples: 1_000,
                cancelled: 1_000_000,
                dispatched_beside: 50_000,
            }
        }
    }
}
