//! The OpenAPI document: the routes' own annotations (see `endpoints`), this deployment's
//! settings, and what every guarded route shares.

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::endpoints::{self, CreateMessageRequest};
use crate::state::AppState;
use dispatcher_core::domain::CONTENT_HARD_LIMIT;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "message-dispatcher",
        description = "Stores outbound messages and delivers them to a webhook on a schedule. \
                       When API_AUTH_TOKEN is set, /api/v1 needs `Authorization: Bearer <token>`."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "messages", description = "Store and read messages"),
        (name = "metrics", description = "Throughput over time, for charts; gauges for Prometheus"),
        (name = "scheduler", description = "Start, stop and inspect the dispatch schedule"),
        (name = "health", description = "Liveness and readiness"),
        (name = "dashboard", description = "The live operations page"),
    )
)]
struct Base;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
        // The receipts route only: the token as the password (any user name).
        let basic = HttpBuilder::new().scheme(HttpAuthScheme::Basic).build();
        components.add_security_scheme("basic", SecurityScheme::Http(basic));
    }
}

/// The document of every route, as served with API_AUTH_TOKEN set and content up to the hard
/// limit.
pub struct ApiDoc;

impl OpenApi for ApiDoc {
    fn openapi() -> utoipa::openapi::OpenApi {
        documented(endpoints::guarded(), endpoints::receipts(), CONTENT_HARD_LIMIT, true).into_openapi()
    }
}

/// Every documented route, `guarded` being [`endpoints::guarded`] behind the bearer layer and
/// `receipts` [`endpoints::receipts`] behind the bearer-or-Basic one, with the document true to
/// this deployment: content up to the configured MESSAGE_CHAR_LIMIT, and the token required
/// only when API_AUTH_TOKEN is set.
pub fn documented(
    mut guarded: OpenApiRouter<AppState>,
    mut receipts: OpenApiRouter<AppState>,
    char_limit: usize,
    auth_required: bool,
) -> OpenApiRouter<AppState> {
    for (router, schemes) in [(&mut guarded, &["bearer"][..]), (&mut receipts, &["bearer", "basic"][..])] {
        for item in router.get_openapi_mut().paths.paths.values_mut() {
            for operation in operations(item) {
                mark_guarded(operation, auth_required, schemes);
            }
        }
    }
    let mut api =
        OpenApiRouter::with_openapi(Base::openapi()).merge(guarded).merge(receipts).merge(endpoints::open());
    // The batch item's schema refers to this one, so it carries the limit too.
    let schema = CreateMessageRequest::schema_with_char_limit(char_limit);
    let components = api.get_openapi_mut().components.get_or_insert_with(Default::default);
    components.schemas.insert("CreateMessageRequest".into(), schema);
    crate::document_rules::apply(api.get_openapi_mut());
    api
}

/// A guarded operation answers 401 without the token, and, when one is set, requires it by one
/// of `schemes`.
fn mark_guarded(operation: &mut Operation, auth_required: bool, schemes: &[&str]) {
    let problem = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
    let unauthorized = ResponseBuilder::new()
        .description("missing or wrong token")
        .content("application/problem+json", problem)
        .build();
    operation.responses.responses.insert("401".into(), unauthorized.into());
    if auth_required {
        let any_of = schemes.iter().map(|scheme| SecurityRequirement::new(*scheme, Vec::<String>::new()));
        operation.security = Some(any_of.collect());
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content_max_length(document: &utoipa::openapi::OpenApi) -> serde_json::Value {
        let document = serde_json::to_value(document).unwrap();
        document["components"]["schemas"]["CreateMessageRequest"]["properties"]["content"]["maxLength"]
            .clone()
    }

    #[test]
    fn the_document_carries_the_configured_char_limit() {
        let served = documented(endpoints::guarded(), endpoints::receipts(), 5, false).into_openapi();
        assert_eq!(content_max_length(&served), 5);
        assert_eq!(content_max_length(&ApiDoc::openapi()), CONTENT_HARD_LIMIT);
    }

    #[test]
    fn every_guarded_operation_documents_the_401_and_the_token_only_when_one_is_set() {
        for auth_required in [true, false] {
            let document =
                documented(endpoints::guarded(), endpoints::receipts(), 160, auth_required).into_openapi();
            let document = serde_json::to_value(document).unwrap();
            for (path, item) in document["paths"].as_object().unwrap() {
                for (method, operation) in item.as_object().unwrap() {
                    let guarded = path.starts_with("/api/v1/") || path == "/metrics";
                    let unauthorized = &operation["responses"]["401"]["description"];
                    assert_eq!(unauthorized.is_string(), guarded, "{method} {path}");
                    let expected = match path.as_str() {
                        "/api/v1/receipts" => serde_json::json!([{"bearer": []}, {"basic": []}]),
                        _ => serde_json::json!([{"bearer": []}]),
                    };
                    assert_eq!(
                        operation["security"] == expected,
                        guarded && auth_required,
                        "{method} {path}"
                    );
                }
            }
        }
    }
}
