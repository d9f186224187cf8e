//! The endpoints, a module each, and every documented route registered with its documentation
//! in one step: `routes!` takes the path and method from each handler's `#[utoipa::path]`, so a
//! route cannot be served without being in the OpenAPI document, nor documented without being
//! served.

mod attempts;
mod bulk_cancel;
mod bulk_retry;
mod dashboard;
mod health;
mod message_actions;
mod message_batch;
mod message_list;
mod messages;
mod prometheus;
mod receipts;
mod scheduler;
mod throughput;

use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

pub use message_batch::MAX_BATCH;
pub use messages::CreateMessageRequest;
pub use receipts::MAX_RECEIPTS;
pub use scheduler::SchedulerStatus;

use crate::json_body::BATCH_BODY_LIMIT_BYTES;
use crate::state::AppState;

/// `/api/v1` and `/metrics` (scrapers expect it at the root): the routes the bearer token
/// guards when API_AUTH_TOKEN is set.
pub fn guarded() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(messages::create, message_list::list))
        .routes(routes!(message_batch::create_batch).layer(DefaultBodyLimit::max(BATCH_BODY_LIMIT_BYTES)))
        .routes(routes!(message_list::list_sent))
        .routes(routes!(messages::stats))
        .routes(routes!(bulk_retry::retry_failed))
        .routes(routes!(bulk_cancel::cancel_pending))
        .routes(routes!(messages::get))
        .routes(routes!(attempts::list_attempts))
        .routes(routes!(message_actions::retry))
        .routes(routes!(message_actions::cancel))
        .routes(routes!(throughput::throughput))
        .routes(routes!(scheduler::start))
        .routes(routes!(scheduler::stop))
        .routes(routes!(scheduler::status))
        .routes(routes!(scheduler::runs))
        .routes(routes!(prometheus::metrics))
}

/// `/api/v1/receipts`: guarded like the rest, but its token may also come as the HTTP Basic
/// password (providers put credentials in the callback URL).
pub fn receipts() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(receipts::record))
}

/// Health checks and the dashboard page: open to anyone.
pub fn open() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(health::live))
        .routes(routes!(health::health))
        .routes(routes!(health::ready))
        .routes(routes!(dashboard::page))
}
