//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    bulk_retry, dashboard, health, message_actions, message_batch, message_list, messages, metrics, problem,
    prometheus, scheduler,
};
use crate::domain::{BreakerState, Message, MessageId, MessageStatus};
use crate::repository::{
    DispatchRun, MessageList, MinuteCounts, ReceiverBreaker, SentPage, Stats, Throughput,
};
use crate::scheduler::ScheduleState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "message-dispatcher",
        description = "Stores outbound messages and delivers them to a webhook on a schedule. \
                       When API_AUTH_TOKEN is set, /api/v1 needs `Authorization: Bearer <token>`."
    ),
    paths(
        messages::create,
        message_batch::create_batch,
        message_list::list,
        messages::get,
        message_actions::retry,
        message_actions::cancel,
        bulk_retry::retry_failed,
        message_list::list_sent,
        messages::stats,
        metrics::throughput,
        prometheus::metrics,
        scheduler::start,
        scheduler::stop,
        scheduler::status,
        scheduler::runs,
        health::live,
        health::health,
        health::ready,
        dashboard::page,
    ),
    components(schemas(
        Message, MessageId, MessageStatus, SentPage, MessageList, Stats, Throughput, MinuteCounts,
        DispatchRun, ScheduleState, ReceiverBreaker, BreakerState, messages::CreateMessageRequest,
        message_batch::BatchMessageRequest, bulk_retry::BulkRetryRequest, bulk_retry::BulkRetryResult,
        scheduler::SchedulerStatus, scheduler::RunList, problem::Problem, problem::FieldError,
        health::HealthReport, health::HealthChecks, health::Liveness,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "messages", description = "Store and read messages"),
        (name = "metrics", description = "Throughput over time, for charts; gauges for Prometheus"),
        (name = "scheduler", description = "Start, stop and inspect the dispatch schedule"),
        (name = "health", description = "Liveness and readiness"),
        (name = "dashboard", description = "The live operations page"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The document as served, true to this deployment: the content length limit is the configured
/// MESSAGE_CHAR_LIMIT, and operations require the bearer token only when API_AUTH_TOKEN is set.
pub fn served_document(char_limit: usize, auth_required: bool) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::{RefOr, Schema};
    let mut doc = ApiDoc::openapi();
    if !auth_required {
        for item in doc.paths.paths.values_mut() {
            for operation in [&mut item.get, &mut item.post].into_iter().flatten() {
                operation.security = None;
            }
        }
    }
    // The batch item's schema refers to this one, so it carries the limit too.
    let content = doc
        .components
        .as_mut()
        .and_then(|components| components.schemas.get_mut("CreateMessageRequest"))
        .and_then(|schema| match schema {
            RefOr::T(Schema::Object(object)) => object.properties.get_mut("content"),
            _ => None,
        });
    if let Some(RefOr::T(Schema::Object(content))) = content {
        content.max_length = Some(char_limit);
    }
    doc
}
