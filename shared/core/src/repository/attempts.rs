//! The attempt log, read back: every webhook request of a message, oldest first. They are
//! written with their outcomes (`outcomes`) and deleted with their message (a trigger).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::domain::{AttemptOutcome, MessageId};

/// One logged webhook request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedAttempt {
    /// 1-based per message, counting every request (also those an outage did not count).
    pub number: i32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i32,
    /// `None`: no HTTP answer came (timeout, refused, TLS).
    pub status_code: Option<i16>,
    pub outcome: AttemptOutcome,
    /// Spent one of the message's `max_attempts`: false for a request made while the receiver
    /// breaker judged the receiver down.
    pub counted: bool,
    pub error_code: Option<String>,
    /// The answer's first 4 KiB.
    pub response_body: Option<String>,
}

/// The message's attempts, oldest first; `None` if there is no such message. One statement:
/// the message's row carries its attempts (none: one row of NULLs).
#[tracing::instrument(skip(executor))]
pub async fn of_message(
    executor: impl PgExecutor<'_>,
    id: MessageId,
) -> sqlx::Result<Option<Vec<LoggedAttempt>>> {
    let rows = sqlx::query!(
        r#"SELECT a.number AS "number?", a.started_at AS "started_at?", a.duration_ms AS "duration_ms?",
                  a.status_code, a.outcome AS "outcome?: AttemptOutcome", a.counted AS "counted?",
                  a.error_code, a.response_body
           FROM messages AS m LEFT JOIN message_attempts AS a ON a.message_id = m.id
           WHERE m.id = $1
           ORDER BY a.number"#,
        id.as_uuid(),
    )
    .fetch_all(executor)
    .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let attempts = rows
        .into_iter()
        .filter_map(|row| {
            Some(LoggedAttempt {
                number: row.number?,
                started_at: row.started_at?,
                duration_ms: row.duration_ms?,
                status_code: row.status_code,
                outcome: row.outcome?,
                counted: row.counted?,
                error_code: row.error_code,
                response_body: row.response_body,
            })
        })
        .collect();
    Ok(Some(attempts))
}
