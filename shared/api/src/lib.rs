//! The HTTP API: one router, served by the api Lambda, the local harness and the tests. Its
//! wire types (`wire`, and the request and answer types beside each endpoint) are its own,
//! built `From` the core's types, so the stored form can change without the API changing.

mod auth;
mod endpoints;
mod json_body;
mod openapi;
mod params;
mod problem;
mod request_id;
pub mod scheduler;
mod sent_pages;
mod state;
mod swagger;
pub mod wire;

use axum::extract::DefaultBodyLimit;
use axum::{middleware, Router};

pub use endpoints::SchedulerStatus;
pub use openapi::ApiDoc;
pub use problem::{ApiError, FieldError, Problem};
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
    let auth_required = state.config.api.auth_token.is_some();
    let guarded =
        endpoints::guarded().route_layer(middleware::from_fn_with_state(state.clone(), auth::require_bearer));
    let receipts = endpoints::receipts()
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require_bearer_or_basic));
    let (routes, document) =
        openapi::documented(guarded, receipts, state.config.messages.char_limit, auth_required)
            .split_for_parts();
    let routes = routes.fallback(not_found).layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES)).with_state(state);
    request_id::layer(routes.merge(swagger::routes(document)))
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}
