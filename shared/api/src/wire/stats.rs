//! Message counts by status: `GET /api/v1/messages/stats` and the scheduler status's `stats`.

use dispatcher_core::domain::{DeliveryStatus, MessageStatus};
use dispatcher_core::repository::Stats;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = Stats)]
pub struct StatsOut {
    pub pending: i64,
    pub processing: i64,
    pub sent: i64,
    pub failed: i64,
    pub cancelled: i64,
    pub expired: i64,
    pub total: i64,
    /// Sent messages by their latest delivery receipt.
    pub deliveries: DeliveriesOut,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = Deliveries)]
pub struct DeliveriesOut {
    pub delivered: i64,
    pub undelivered: i64,
}

impl From<Stats> for StatsOut {
    fn from(stats: Stats) -> Self {
        Self {
            pending: stats.count(MessageStatus::Pending),
            processing: stats.count(MessageStatus::Processing),
            sent: stats.count(MessageStatus::Sent),
            failed: stats.count(MessageStatus::Failed),
            cancelled: stats.count(MessageStatus::Cancelled),
            expired: stats.count(MessageStatus::Expired),
            total: stats.total(),
            deliveries: DeliveriesOut {
                delivered: stats.deliveries(DeliveryStatus::Delivered),
                undelivered: stats.deliveries(DeliveryStatus::Undelivered),
            },
        }
    }
}
