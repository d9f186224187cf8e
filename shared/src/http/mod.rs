//! The HTTP API's one router, used by the api Lambda, the local harness and the tests.

mod health;
mod state;

use axum::routing::get;
use axum::Router;

pub use state::AppState;

/// Every route of the API. (The message and scheduler routes arrive with the API issue.)
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/live", get(health::live))
        .route("/health", get(health::health))
        .route("/ready", get(health::health))
        .with_state(state)
}
