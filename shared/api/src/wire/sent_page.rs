//! `SentPage`: one numbered page of `GET /api/v1/messages/sent`, encoded once per page and
//! shared by the requests that wait together (`sent_pages`).

use dispatcher_core::repository::SentPage;
use serde::Serialize;

use super::MessageOut;

/// One numbered page of sent messages.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SentPage)]
pub struct SentPageOut {
    pub items: Vec<MessageOut>,
    pub page: u32,
    pub page_size: u32,
    /// Sent messages in all.
    pub total: i64,
}

impl From<SentPage> for SentPageOut {
    fn from(sent: SentPage) -> Self {
        let SentPage { items, page, page_size, total } = sent;
        Self { items: items.into_iter().map(MessageOut::from).collect(), page, page_size, total }
    }
}
