use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{Content, Message, MessageStatus, PhoneNumber, CONTENT_HARD_LIMIT};

/// A `messages` row as the queries return it; converted to the domain [`Message`].
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MessageRow {
    pub id: Uuid,
    pub phone_number: String,
    pub content: String,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub webhook_message_id: Option<String>,
    pub last_error: Option<String>,
    pub error_code: Option<String>,
}

impl TryFrom<MessageRow> for Message {
    type Error = sqlx::Error;

    fn try_from(row: MessageRow) -> Result<Self, Self::Error> {
        // The schema's checks hold every stored row to these rules: a row that breaks them is a
        // decode error, not a panic.
        let phone_number = PhoneNumber::parse(&row.phone_number).map_err(decode_error)?;
        let content = Content::parse(&row.content, CONTENT_HARD_LIMIT).map_err(decode_error)?;
        Ok(Message {
            id: row.id.into(),
            phone_number,
            content,
            status: decode_status(&row.status)?,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            created_at: row.created_at,
            sent_at: row.sent_at,
            next_attempt_at: row.next_attempt_at,
            webhook_message_id: row.webhook_message_id,
            last_error: row.last_error,
            error_code: row.error_code,
        })
    }
}

/// A stored status; one the schema does not allow is a decode error, not a panic.
pub(crate) fn decode_status(stored: &str) -> Result<MessageStatus, sqlx::Error> {
    stored.parse().map_err(decode_error)
}

fn decode_error(err: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(err))
}

pub(crate) fn into_messages(rows: Vec<MessageRow>) -> Result<Vec<Message>, sqlx::Error> {
    rows.into_iter().map(Message::try_from).collect()
}
