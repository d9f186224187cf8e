//! The two message lists. `GET /api/v1/messages` is every message, filtered, newest first,
//! paged by cursor (keyset): fast at any depth, and pages do not shift while messages arrive.
//! `GET /api/v1/messages/sent` keeps the numbered pages (`page`, `page_size`, `total`) of the
//! seed project (docs/design.md keeps its routes), for the clients written against it; a deep
//! page there costs an OFFSET, so anything that pages far should use the keyset listing.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Json;
use dispatcher_core::domain::{DeliveryStatus, MessageStatus, PhoneNumber, Priority};
use dispatcher_core::repository::listing::{self, ListCursor, MessageFilter, MessageList};
use serde::Serialize;

use crate::params::{QueryErrors, QueryParams, MAX_PAGE_SIZE};
use crate::problem::{ApiError, FieldError};
use crate::state::AppState;
use crate::wire::{DeliveryStatusOut, MessageOut, MessageStatusOut, PriorityOut, SentPageOut};

/// One page of the keyset listing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MessageList)]
pub struct MessageListOut {
    pub items: Vec<MessageOut>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    #[schema(example = "1764258243123456-0190c4c5d1a87c1a9b1f2e3d4c5b6a79")]
    pub next_cursor: Option<String>,
}

impl From<MessageList> for MessageListOut {
    fn from(list: MessageList) -> Self {
        Self { items: list.items.into_iter().map(MessageOut::from).collect(), next_cursor: list.next_cursor }
    }
}

/// Messages newest first (`created_at`, then id), optionally by status, phone number, delivery,
/// priority and campaign (filters combine with AND).
/// Keyset paging: pass `next_cursor` back as `cursor`; pages stay fast at any depth and do
/// not shift when new messages arrive.
#[utoipa::path(get, path = "/api/v1/messages", tag = "messages",
    params(
        ("status" = Option<MessageStatusOut>, Query, description = "only messages in this status"),
        ("delivery_status" = Option<DeliveryStatusOut>, Query, description = "only messages whose latest delivery receipt says this"),
        ("phone_number" = Option<String>, Query, pattern = r"^\+[0-9]{8,15}$", description = "only messages to this E.164 number"),
        ("priority" = Option<PriorityOut>, Query, description = "only messages in this lane"),
        ("campaign" = Option<String>, Query, pattern = r"^[A-Za-z0-9_.-]{1,64}$", description = "only this campaign's messages"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "page size (default 20)"),
        ("cursor" = Option<String>, Query, pattern = r"^([0-9]{1,18}-[0-9a-fA-F]{32})?$", description = "`next_cursor` of the previous page; empty or absent: the first page"),
    ),
    responses(
        (status = 200, description = "one page", body = MessageListOut),
        QueryErrors,
    ))]
pub async fn list(
    State(state): State<AppState>,
    query: QueryParams,
) -> Result<Json<MessageListOut>, ApiError> {
    let mut errors = Vec::new();
    let mut filter = MessageFilter {
        status: query.choice("status", MessageStatus::ALL, &mut errors),
        delivery: query.choice("delivery_status", DeliveryStatus::ALL, &mut errors),
        priority: query.choice("priority", Priority::ALL, &mut errors),
        campaign: query.label("campaign", &mut errors),
        ..MessageFilter::default()
    };
    if let Some(raw) = query.get("phone_number") {
        match PhoneNumber::parse(raw) {
            Ok(phone) => filter.phone_number = Some(phone),
            Err(err) => errors.push(FieldError::new("phone_number", err.to_string())),
        }
    }
    let limit = query.int("limit", 20, 1, MAX_PAGE_SIZE, &mut errors);
    // An empty cursor (a client sending `cursor=` with no page before) is the first page.
    let cursor = match query.get("cursor").filter(|raw| !raw.is_empty()).map(|raw| raw.parse::<ListCursor>())
    {
        None => None,
        Some(Ok(cursor)) => Some(cursor),
        Some(Err(err)) => {
            errors.push(FieldError::new("cursor", err.to_string()));
            None
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(Json(listing::list(&state.pool, &filter, cursor, limit).await?.into()))
}

/// Sent messages, newest `sent_at` first.
// Numbered pages for the seed's compatibility (see the module's comment).
#[utoipa::path(get, path = "/api/v1/messages/sent", tag = "messages",
    params(
        ("page" = Option<u32>, Query, minimum = 1, maximum = 1000000, description = "1-based page (default 1)"),
        ("page_size" = Option<u32>, Query, minimum = 1, maximum = 100, description = "default 20"),
    ),
    responses(
        (status = 200, description = "one page", body = SentPageOut),
        QueryErrors,
    ))]
pub async fn list_sent(State(state): State<AppState>, query: QueryParams) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let page = query.int("page", 1, 1, 1_000_000, &mut errors);
    let page_size = query.int("page_size", 20, 1, MAX_PAGE_SIZE, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let json = state.sent_pages.page(page, page_size).await?;
    Ok(([(CONTENT_TYPE, "application/json")], json).into_response())
}
