//! The endpoints, a module each, and every documented route registered with its documentation
//! in one step: `routes!` takes the path and method from each handler's `#[utoipa::path]`, so a
//! route cannot be served without being in the OpenAPI document, nor documented without being
//! served.

mod attempts;
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

pub use message_list::SentPageOut;
pub use messages::CreateMessageRequest;
pub use scheduler::SchedulerStatus;

use crate::{AppState, BATCH_BODY_LIMIT_BYTES};

/// `/api/v1` and `/metrics` (scrapers expect it at the root): the routes the bearer token
/// guards when API_AUTH_TOKEN is set.
pub fn guarded() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(messages::create, message_list::list))
        .routes(routes!(message_batch::create_batch).layer(DefaultBodyLimit::max(BATCH_BODY_LIMIT_BYTES)))
        .routes(routes!(message_list::list_sent))
        .routes(routes!(messages::stats))
        .routes(routes!(bulk_retry::retry_failed))
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

    use crate::scheduler::LocalScheduler;
    use crate::{router, ApiDoc, AppState};

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
        assert_eq!(served, 21, "every operation was tried");
    }
}
