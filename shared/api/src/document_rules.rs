//! What the OpenAPI document says beyond the routes' own annotations, so that it is as strict as
//! the server where JSON Schema can be: the form of every time a request carries, no field a
//! body does not know, the bounds of the arrays, the bulk cancel's "at least one filter", and
//! links from the operations that create messages to those that take a message id (so generated
//! tests, and readers, follow a created id). Rules a schema cannot express are in the
//! operations' descriptions.

use std::collections::BTreeMap;

use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, AnyOfBuilder, ArrayBuilder, Object, ObjectBuilder, OneOfBuilder, Type,
};
use utoipa::openapi::{OpenApi, Ref, RefOr, Schema};

use crate::endpoints::{MAX_BATCH, MAX_RECEIPTS};

/// An RFC 3339 time after its year, as the server reads it (`request_fields::time`: `T` or `t`
/// between date and time, any fraction of a second, no leap second, `Z` or an offset). A day past
/// its month's end (`02-30`) matches and is refused: a rule this pattern does not spell out.
macro_rules! after_the_year {
    () => {
        r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
    };
}

/// Any four-digit year.
const RFC3339: &str = concat!(r"^[0-9]{4}", after_the_year!());

/// The years 0001 to 9999 only, for the bulk filters (their times go to the database as
/// bounds; year 0000 is refused).
const RFC3339_YEAR_1_TO_9999: &str =
    concat!(r"^([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})", after_the_year!());

/// Each time field of a request body, and the pattern it is read with.
const TIMES: [(&str, &str, &str); 6] = [
    ("CreateMessageRequest", "send_at", RFC3339),
    ("CreateMessageRequest", "expires_at", RFC3339),
    ("Receipt", "timestamp", RFC3339),
    ("BulkCancelRequest", "created_before", RFC3339_YEAR_1_TO_9999),
    ("BulkRetryRequest", "failed_after", RFC3339_YEAR_1_TO_9999),
    ("BulkRetryRequest", "failed_before", RFC3339_YEAR_1_TO_9999),
];

/// The bodies whose every unknown field is refused, each named.
const CLOSED: [&str; 4] = ["CreateMessageRequest", "Receipt", "BulkCancelRequest", "BulkRetryRequest"];

/// The bulk cancel's filters: it refuses a request without at least one of them.
const CANCEL_FILTERS: [&str; 3] = ["campaign", "priority", "created_before"];

/// The operations that take a message id, by operation id, as links from a created message.
const TAKE_A_MESSAGE_ID: [(&str, &str); 4] = [
    ("GetMessage", "get_message"),
    ("ListMessageAttempts", "list_message_attempts"),
    ("RetryMessage", "retry_message"),
    ("CancelMessage", "cancel_message"),
];

/// Adds the rules above to `openapi`.
pub fn apply(openapi: &mut OpenApi) {
    if let Some(components) = openapi.components.as_mut() {
        let schemas = &mut components.schemas;
        for (schema, field, pattern) in TIMES {
            if let Some(RefOr::T(Schema::Object(property))) =
                object_mut(schemas, schema).and_then(|o| o.properties.get_mut(field))
            {
                property.pattern = Some(pattern.to_owned());
            }
        }
        for name in CLOSED {
            if let Some(object) = object_mut(schemas, name) {
                object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
            }
        }
        if let Some(item) = batch_item(schemas) {
            schemas.insert("BatchMessageRequest".into(), item.into());
        }
        if let Some(cancel) = schemas.remove("BulkCancelRequest") {
            schemas.insert("BulkCancelRequest".into(), at_least_one_of(cancel, &CANCEL_FILTERS));
        }
    }
    bound_array_bodies(openapi);
    // A created message's id, from each answer that carries one.
    for (path, statuses, id) in [
        ("/api/v1/messages", &["201", "200"][..], "$response.body#/id"),
        ("/api/v1/messages/batch", &["201"][..], "$response.body#/0/id"),
    ] {
        let Some(operation) = openapi.paths.paths.get_mut(path).and_then(|item| item.post.as_mut()) else {
            continue;
        };
        for status in statuses {
            if let Some(RefOr::T(response)) = operation.responses.responses.get_mut(*status) {
                for (name, operation_id) in TAKE_A_MESSAGE_ID {
                    // utoipa 5 writes the link's operation id as `operation_id`, which no
                    // reader knows: it goes out under its OpenAPI name as an extra field.
                    let link = LinkBuilder::new()
                        .extensions(Some(Extensions::from_iter([("operationId", operation_id)])))
                        .parameter("id", id)
                        .description("the message this request created")
                        .build();
                    response.links.insert(name.to_owned(), link.into());
                }
            }
        }
    }
}

/// The batch item as one closed object: the create body's fields and its `idempotency_key`
/// (the derive writes it as `allOf` of the two, which cannot refuse unknown fields).
fn batch_item(schemas: &BTreeMap<String, RefOr<Schema>>) -> Option<Object> {
    let RefOr::T(Schema::Object(create)) = schemas.get("CreateMessageRequest")? else {
        return None;
    };
    let RefOr::T(Schema::AllOf(derived)) = schemas.get("BatchMessageRequest")? else {
        return None;
    };
    let key = derived.items.iter().find_map(|item| match item {
        RefOr::T(Schema::Object(own)) => own.properties.get("idempotency_key").cloned(),
        _ => None,
    })?;
    let mut item = create.clone();
    item.properties.insert("idempotency_key".into(), key);
    item.description = derived.description.clone();
    Some(item)
}

/// The batch and the receipts take 1 to 1,000 items; the receipts also one receipt alone.
fn bound_array_bodies(openapi: &mut OpenApi) {
    let items = |schema: &str, max: usize| {
        ArrayBuilder::new()
            .items(Ref::from_schema_name(schema))
            .min_items(Some(1))
            .max_items(Some(max))
            .build()
    };
    let receipts = OneOfBuilder::new()
        .item(Ref::from_schema_name("Receipt"))
        .item(items("Receipt", MAX_RECEIPTS))
        .build();
    for (path, schema) in [
        ("/api/v1/messages/batch", Schema::Array(items("BatchMessageRequest", MAX_BATCH))),
        ("/api/v1/receipts", Schema::OneOf(receipts)),
    ] {
        let body =
            openapi.paths.paths.get_mut(path).and_then(|item| item.post.as_mut()?.request_body.as_mut());
        if let Some(content) = body.and_then(|body| body.content.get_mut("application/json")) {
            content.schema = Some(schema.into());
        }
    }
}

fn object_mut<'a>(schemas: &'a mut BTreeMap<String, RefOr<Schema>>, name: &str) -> Option<&'a mut Object> {
    match schemas.get_mut(name)? {
        RefOr::T(Schema::Object(object)) => Some(object),
        _ => None,
    }
}

/// `schema`, which also needs at least one of `fields` present and not `null`.
fn at_least_one_of(schema: RefOr<Schema>, fields: &[&str]) -> RefOr<Schema> {
    let mut any_of = AnyOfBuilder::new();
    for field in fields {
        let present = ObjectBuilder::new()
            .required(*field)
            .property(*field, ObjectBuilder::new().schema_type(Type::String));
        any_of = any_of.item(present);
    }
    AllOfBuilder::new().item(schema).item(any_of).into()
}
