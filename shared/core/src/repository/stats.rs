//! Message counts by status and by delivery receipt, for everything or one campaign: read from
//! the counts the schema's statement-level triggers keep (`message_counts`, `delivery_counts`,
//! `campaign_counts`, `campaign_delivery_counts`), so they cost a few rows at any size.

use std::collections::HashMap;

use sqlx::PgExecutor;

use crate::domain::{DeliveryStatus, Label, MessageStatus};

/// Messages by status, and sent ones by delivery receipt, from the counts the schema's
/// triggers keep (O(1) at any size).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    by_status: HashMap<MessageStatus, i64>,
    by_delivery: HashMap<DeliveryStatus, i64>,
}

impl Stats {
    pub fn from_counts(counts: impl IntoIterator<Item = (MessageStatus, i64)>) -> Self {
        Self { by_status: counts.into_iter().collect(), by_delivery: HashMap::new() }
    }

    /// These counts with these delivery counts.
    pub fn with_deliveries(mut self, counts: impl IntoIterator<Item = (DeliveryStatus, i64)>) -> Self {
        self.by_delivery = counts.into_iter().collect();
        self
    }

    /// Messages whose latest receipt says `status`.
    pub fn deliveries(&self, status: DeliveryStatus) -> i64 {
        self.by_delivery.get(&status).copied().unwrap_or(0)
    }

    /// Messages in `status`; 0 for a status no message is in.
    pub fn count(&self, status: MessageStatus) -> i64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }

    pub fn total(&self) -> i64 {
        self.by_status.values().sum()
    }

    /// From `(is a delivery count, status, n)` rows as the count tables give them.
    fn of_rows(rows: impl IntoIterator<Item = (bool, String, i64)>) -> sqlx::Result<Self> {
        let decode = |err: Box<dyn std::error::Error + Send + Sync>| sqlx::Error::Decode(err);
        let (mut by_status, mut by_delivery) = (Vec::new(), Vec::new());
        for (delivery, status, n) in rows {
            if delivery {
                by_delivery.push((status.parse::<DeliveryStatus>().map_err(|e| decode(Box::new(e)))?, n));
            } else {
                by_status.push((status.parse::<MessageStatus>().map_err(|e| decode(Box::new(e)))?, n));
            }
        }
        Ok(Self::from_counts(by_status).with_deliveries(by_delivery))
    }
}

/// Message counts by status and by delivery, in one round trip.
#[tracing::instrument(skip_all)]
pub async fn all(executor: impl PgExecutor<'_>) -> sqlx::Result<Stats> {
    let rows = sqlx::query!(
        r#"SELECT false AS "delivery!", status AS "status!", coalesce(sum(n), 0)::int8 AS "n!"
           FROM message_counts GROUP BY status
           UNION ALL
           SELECT true, status, coalesce(sum(n), 0)::int8 FROM delivery_counts GROUP BY status"#
    )
    .fetch_all(executor)
    .await?;
    Stats::of_rows(rows.into_iter().map(|row| (row.delivery, row.status, row.n)))
}

/// [`all`] for the messages of one campaign (zero counts for a campaign no message has).
#[tracing::instrument(skip(executor))]
pub async fn of_campaign(executor: impl PgExecutor<'_>, campaign: &Label) -> sqlx::Result<Stats> {
    let rows = sqlx::query!(
        r#"SELECT false AS "delivery!", status AS "status!", coalesce(sum(n), 0)::int8 AS "n!"
           FROM campaign_counts WHERE campaign = $1 GROUP BY status
           UNION ALL
           SELECT true, status, coalesce(sum(n), 0)::int8 FROM campaign_delivery_counts
           WHERE campaign = $1 GROUP BY status"#,
        campaign.as_str(),
    )
    .fetch_all(executor)
    .await?;
    Stats::of_rows(rows.into_iter().map(|row| (row.delivery, row.status, row.n)))
}
