//! The filtered message listing, newest first, paged by keyset: a page starts strictly after
//! the cursor's `(created_at, id)`, so it walks an index from there and stops at its limit.
//! Page cost does not grow with the table or the page number, and rows inserted while a
//! client pages (which are newer) never shift or repeat the pages it has still to read.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::domain::{DeliveryStatus, Label, Message, MessageStatus, PhoneNumber, Priority};

/// Where the next page starts: the last listed message's `created_at` and id. Its text form
/// (`<microseconds since the epoch>-<id as 32 hex digits>`) is opaque to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListCursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a cursor this API returned")]
pub struct BadCursor;

impl fmt::Display for ListCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.created_at.timestamp_micros(), self.id.simple())
    }
}

impl FromStr for ListCursor {
    type Err = BadCursor;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Exactly what `Display` writes (the OpenAPI document's pattern): 1 to 18 digits, `-`,
        // 32 hex digits; any such position is a place to page from.
        let (micros, id) = s.split_once('-').ok_or(BadCursor)?;
        if micros.is_empty() || micros.len() > 18 || !micros.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BadCursor);
        }
        let micros: i64 = micros.parse().map_err(|_| BadCursor)?;
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(BadCursor);
        }
        let id = Uuid::try_parse(id).map_err(|_| BadCursor)?;
        let created_at = DateTime::from_timestamp_micros(micros).ok_or(BadCursor)?;
        Ok(Self { created_at, id })
    }
}

/// What to list; `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub status: Option<MessageStatus>,
    pub phone_number: Option<PhoneNumber>,
    /// Messages whose latest delivery receipt says this.
    pub delivery: Option<DeliveryStatus>,
    pub priority: Option<Priority>,
    pub campaign: Option<Label>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageList {
    pub items: Vec<Message>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The listed columns of `messages AS m` (every page reads `messages` under that name).
const COLUMNS: &str =
    "m.id, m.phone_number, m.content, m.status, m.priority, m.campaign, m.attempts, m.max_attempts, \
                       m.created_at, m.sent_at, m.next_attempt_at, m.webhook_message_id, \
                       m.last_error, m.error_code, m.expires_at, m.delivery_status, m.delivery_at, \
                       m.delivery_error_code";

/// One page of at most `limit` messages matching `filter`, after `cursor`.
///
/// Built at run time so each filter combination is its own statement with the status as a
/// literal (from the enum, never from input): the planner can then pick that status's partial
/// index, which a `status = $1` parameter would not let it prove usable. Without a status, a
/// phone number or a delivery, each status's newest rows are taken from its own index (with a
/// campaign, from `messages_campaign_idx` under that campaign and status) and merged; with a
/// delivery, the page walks `messages_delivery_created_idx`. A priority filters what those walk.
#[tracing::instrument(skip(pool))]
pub async fn list(
    pool: &PgPool,
    filter: &MessageFilter,
    cursor: Option<ListCursor>,
    limit: u32,
) -> sqlx::Result<MessageList> {
    // One more than asked: its presence says there is a next page.
    let fetch = i64::from(limit) + 1;
    let mut query = QueryBuilder::<Postgres>::new("");
    match filter {
        MessageFilter { status: None, phone_number: None, delivery: None, .. } => {
            // `*`: the merged pages select exactly COLUMNS.
            query.push("SELECT * FROM (");
            for (i, status) in MessageStatus::ALL.iter().enumerate() {
                query.push(if i == 0 { "(" } else { " UNION ALL (" });
                let one_status = MessageFilter { status: Some(*status), ..filter.clone() };
                push_page(&mut query, &one_status, cursor, fetch);
                query.push(")");
            }
            query.push(format_args!(") AS newest ORDER BY created_at DESC, id DESC LIMIT {fetch}"));
        }
        filter => push_page(&mut query, filter, cursor, fetch),
    }
    let mut items: Vec<Message> = query.build_query_as().fetch_all(pool).await?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|last| ListCursor { created_at: last.created_at, id: last.id.as_uuid() }.to_string())
    } else {
        None
    };
    Ok(MessageList { items, next_cursor })
}

/// `SELECT ... WHERE <filters> AND (created_at, id) < cursor ORDER BY ... DESC LIMIT fetch`.
/// With a phone number, the page is walked in `message_phones` (the phone lookup, which claims
/// and records never write) and each row read from `messages` by its id.
fn push_page(
    query: &mut QueryBuilder<'_, Postgres>,
    filter: &MessageFilter,
    cursor: Option<ListCursor>,
    fetch: i64,
) {
    let order = match &filter.phone_number {
        Some(phone) => {
            query.push(format_args!(
                "SELECT {COLUMNS} FROM message_phones AS p JOIN messages AS m ON m.id = p.id \
                 WHERE p.phone_number = "
            ));
            query.push_bind(phone.as_str().to_owned());
            "p."
        }
        None => {
            query.push(format_args!("SELECT {COLUMNS} FROM messages AS m WHERE true"));
            "m."
        }
    };
    // Literals from the enums, never from input (see `list`).
    if let Some(status) = filter.status {
        query.push(format_args!(" AND m.status = '{}'", status.as_str()));
    }
    if let Some(delivery) = filter.delivery {
        query.push(format_args!(" AND m.delivery_status = '{}'", delivery.as_str()));
    }
    if let Some(priority) = filter.priority {
        query.push(format_args!(" AND m.priority = {}", priority.lane()));
    }
    if let Some(campaign) = &filter.campaign {
        query.push(" AND m.campaign = ").push_bind(campaign.as_str().to_owned());
    }
    if let Some(cursor) = cursor {
        query.push(format_args!(" AND ({order}created_at, {order}id) < (")).push_bind(cursor.created_at);
        query.push(", ").push_bind(cursor.id).push(")");
    }
    // A literal LIMIT, like the status: a `LIMIT $n` parameter keeps PostgreSQL from caching
    // a generic plan (see `messages::list_sent`), so it would plan every page again.
    query.push(format_args!(" ORDER BY {order}created_at DESC, {order}id DESC LIMIT {fetch}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_through_its_text() {
        let cursor = ListCursor {
            created_at: DateTime::from_timestamp_micros(1_764_258_243_123_456).unwrap(),
            id: Uuid::new_v4(),
        };
        assert_eq!(cursor.to_string().parse::<ListCursor>(), Ok(cursor));
    }

    #[test]
    fn text_that_is_not_a_cursor_is_refused() {
        for text in [
            "",
            "-",
            "abc",
            "12-xyz",
            "12-0190c4c5d1a87c1a9b1f2e3d4c5b6a7",
            "x-0190c4c5d1a87c1a9b1f2e3d4c5b6a79",
        ] {
            assert_eq!(text.parse::<ListCursor>(), Err(BadCursor), "{text:?}");
        }
    }
}
