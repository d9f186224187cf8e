//! The HTTP API's one router, used by the api Lambda, the local harness and the tests.

mod auth;
mod bulk_retry;
mod dashboard;
mod health;
mod json_body;
mod message_actions;
mod message_batch;
mod message_list;
mod messages;
mod metrics;
mod openapi;
mod params;
mod problem;
mod prometheus;
mod request_id;
mod scheduler;
mod sent_pages;
mod state;
mod swagger;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{middleware, Router};

pub use openapi::ApiDoc;
pub use problem::{ApiError, FieldError, Problem};
pub use scheduler::SchedulerStatus;
pub use sent_pages::SentPages;
pub use state::AppState;

/// Request bodies above this are refused with 413.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;
/// The batch route's limit: room for 1,000 messages at the hard content limit. (On AWS, a
/// Lambda request is capped at 6 MB before it reaches the code.)
pub const BATCH_BODY_LIMIT_BYTES: usize = 10 * 1024 * 1024;

/// Every route of the API, the dashboard, the OpenAPI document and Swagger UI (the last
/// two served from the binary).
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/messages", post(messages::create).get(message_list::list))
        .route(
            "/messages/batch",
            post(message_batch::create_batch).layer(DefaultBodyLimit::max(BATCH_BODY_LIMIT_BYTES)),
        )
        .route("/messages/sent", get(message_list::list_sent))
        .route("/messages/stats", get(messages::stats))
        .route("/messages/retry", post(bulk_retry::retry_failed))
        .route("/messages/{id}", get(messages::get))
        .route("/messages/{id}/retry", post(message_actions::retry))
        .route("/messages/{id}/cancel", post(message_actions::cancel))
        .route("/metrics/throughput", get(metrics::throughput))
        .route("/scheduler/start", post(scheduler::start))
        .route("/scheduler/stop", post(scheduler::stop))
        .route("/scheduler/status", get(scheduler::status))
        .route("/scheduler/runs", get(scheduler::runs))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require_bearer));
    // Scrapers expect /metrics at the root; it is guarded like /api/v1.
    let metrics = Router::new()
        .route("/metrics", get(prometheus::metrics))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require_bearer));
    let auth_required = state.config.api_auth_token.is_some();
    let document = openapi::served_document(state.config.char_limit, auth_required);
    let routes = Router::new()
        .nest("/api/v1", api)
        .merge(metrics)
        .route("/live", get(health::live))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .with_state(state);
    request_id::layer(routes.merge(swagger::routes(document)).merge(dashboard::routes(auth_required)))
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}
