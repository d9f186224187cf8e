//! Claiming a batch: the claim statement where the process's cursor says, then the domain rules
//! on each row. A row that breaks them (written by another tool) is recorded `failed` with an
//! error code at once, so it never blocks the queue.

use std::time::Duration;

use sqlx::PgPool;

use super::outcome::{self, Outcome, OutcomeRecord};
use crate::domain::Claim;
use crate::repository::claim_cursor::ClaimCursor;

/// A claimed batch: the sendable claims, and how many rows were failed for breaking the rules.
#[derive(Debug, Default)]
pub struct ClaimedBatch {
    pub claims: Vec<Claim>,
    pub rejected: usize,
}

/// Claims up to `limit` messages where `cursor` says and returns the sendable part.
pub async fn claim_valid_batch(
    pool: &PgPool,
    cursor: &ClaimCursor,
    limit: u32,
    lease: Duration,
    char_limit: usize,
) -> sqlx::Result<ClaimedBatch> {
    let rows = cursor.claim(pool, limit, lease).await?;
    let mut claims = Vec::with_capacity(rows.len());
    let mut rejected = Vec::new();
    for row in rows {
        let hold = row.hold();
        match row.validate(char_limit) {
            Ok(claim) => claims.push(claim),
            Err(rejection) => {
                tracing::warn!(message_id = %hold.id, error_code = %rejection.error_code, "claimed message breaks the rules; marking it failed");
                let outcome = Outcome::Failed {
                    error_code: rejection.error_code,
                    last_error: rejection.detail,
                    response: None,
                };
                // Never sent: no request to log.
                rejected.push(OutcomeRecord { hold, outcome, request: None });
            }
        }
    }
    let rejected = if rejected.is_empty() { 0 } else { outcome::record(pool, &rejected).await?.len() };
    Ok(ClaimedBatch { claims, rejected })
}
