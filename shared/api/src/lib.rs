//! The HTTP API: one router, served by the api Lambda, the local harness and the tests. Its
//! wire types (`wire`, and the request and answer types beside each endpoint) are its own,
//! built `From` the core's types, so the stored form can change without the API changing.

mod auth;
mod document_rules;
mod endpoints;
mod json_body;
mod openapi;
mod params;
mod problem;
mod request_fields;
mod request_id;
pub mod scheduler;
mod sent_pages;
mod state;
mod swagger;
pub mod wire;

use axum::extract::DefaultBodyLimit;
use axum::{middleware, Router};

pub use endpoints::SchedulerStatus;
pub use json_body::{BATCH_BODY_LIMIT_BYTES, BODY_LIMIT_BYTES};
pub use openapi::ApiDoc;
pub use problem::{ApiError, FieldError, Problem};
pub use sent_pages::SentPages;
pub use state::AppState;

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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use sqlx::postgres::PgPoolOptions;
    use tower::ServiceExt;
    use utoipa::OpenApi;

    use dispatcher_core::Config;

    use super::*;
    use crate::scheduler::LocalScheduler;

    /// An operation in the document that no route serves would answer from the fallback (404)
    /// or with 405. No database: guarded routes answer 401 first, health checks 503.
    #[tokio::test]
    async fn every_documented_operation_is_served() {
        let pool = PgPoolOptions::new()
            .acquire_timeout(Duration::from_millis(200))
            .connect_lazy("postgres://nobody@127.0.0.1:1/none")
            .unwrap();
        let config = Arc::new(Config::from_pairs(&[("API_AUTH_TOKEN", "t")]).unwrap());
        let scheduler = Arc::new(LocalScheduler::new(pool.clone()));
        let app = router(AppState::new(pool, None, config, scheduler));
        let mut served = 0;
        let routers = [endpoints::guarded(), endpoints::receipts(), endpoints::open()];
        let operations: usize = routers
            .iter()
            .flat_map(|router| router.get_openapi().paths.paths.values())
            .map(|item| {
                [&item.get, &item.post, &item.put, &item.delete, &item.patch]
                    .iter()
                    .filter(|o| o.is_some())
                    .count()
            })
            .sum();
        for (path, item) in ApiDoc::openapi().paths.paths {
            let uri = path.replace("{id}", "0190a0b0-0000-7000-8000-000000000000");
            for (method, operation) in [("GET", &item.get), ("POST", &item.post), ("PUT", &item.put)] {
                if operation.is_none() {
                    continue;
                }
                let request = Request::builder().method(method).uri(&uri).body(Body::empty()).unwrap();
                let status = app.clone().oneshot(request).await.unwrap().status();
                let routed = ![StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].contains(&status);
                assert!(routed, "{method} {path} is documented but answers {status}");
                served += 1;
            }
        }
        assert_eq!(served, operations, "every operation the routers register was tried");
    }
}
