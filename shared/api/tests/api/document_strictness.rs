//! The OpenAPI document says what the server enforces where JSON Schema can, and the server
//! agrees with it at each such edge: the form of a time, unknown fields, array bounds, the bulk
//! cancel's "at least one filter", an empty cursor (the first page), whole numbers written with
//! a zero fraction. The rules a schema cannot express are the only refusals the schemathesis run
//! excuses, and its hook excuses exactly those.

use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::support::api::{app, assert_problem, get, post_json, send, Reply};

async fn document(pool: &PgPool) -> Value {
    send(app(pool, &[]), get("/openapi.json")).await.body
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_document_carries_the_rules_json_schema_can_express(pool: PgPool) {
    let doc = document(&pool).await;
    let schemas = &doc["components"]["schemas"];
    for (schema, field) in [
        ("CreateMessageRequest", "send_at"),
        ("CreateMessageRequest", "expires_at"),
        ("Receipt", "timestamp"),
        ("BulkCancelRequest", "created_before"),
        ("BulkRetryRequest", "failed_after"),
        ("BulkRetryRequest", "failed_before"),
    ] {
        let object =
            if schema == "BulkCancelRequest" { &schemas[schema]["allOf"][0] } else { &schemas[schema] };
        let pattern = object["properties"][field]["pattern"].as_str().unwrap_or_default();
        assert!(pattern.starts_with('^') && pattern.contains("[Tt]"), "{schema}.{field}: {pattern:?}");
    }
    for schema in ["CreateMessageRequest", "BatchMessageRequest", "Receipt", "BulkRetryRequest"] {
        assert_eq!(schemas[schema]["additionalProperties"], false, "{schema}");
    }
    assert_eq!(
        schemas["BatchMessageRequest"]["properties"]["idempotency_key"]["type"],
        json!(["string", "null"])
    );
    let cancel = &schemas["BulkCancelRequest"]["allOf"];
    assert_eq!(cancel[0]["additionalProperties"], false);
    let required: Vec<&Value> =
        cancel[1]["anyOf"].as_array().unwrap().iter().map(|b| &b["required"][0]).collect();
    assert_eq!(required, [&json!("campaign"), &json!("priority"), &json!("created_before")]);

    let body = |path: &str| {
        doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"].clone()
    };
    let batch = body("/api/v1/messages/batch");
    assert_eq!((batch["minItems"].clone(), batch["maxItems"].clone()), (json!(1), json!(1000)));
    let receipts = body("/api/v1/receipts");
    assert_eq!(receipts["oneOf"][0]["$ref"], "#/components/schemas/Receipt");
    assert_eq!(
        (receipts["oneOf"][1]["minItems"].clone(), receipts["oneOf"][1]["maxItems"].clone()),
        (json!(1), json!(1000))
    );

    let list = doc["paths"]["/api/v1/messages"]["get"]["parameters"].as_array().unwrap();
    let cursor = list.iter().find(|p| p["name"] == "cursor").unwrap();
    assert_eq!(cursor["schema"]["pattern"], "^([0-9]{1,18}-[0-9a-fA-F]{32})?$");
}

/// Links from every answer that carries a created message to the four operations that take
/// its id, by operation ids the document has.
#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn created_messages_link_to_every_operation_that_takes_a_message_id(pool: PgPool) {
    let doc = document(&pool).await;
    let mut operation_ids = std::collections::BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operation_ids
                .insert(operation["operationId"].as_str().unwrap().to_owned(), format!("{method} {path}"));
        }
    }
    for (path, status, id) in [
        ("/api/v1/messages", "201", "$response.body#/id"),
        ("/api/v1/messages", "200", "$response.body#/id"),
        ("/api/v1/messages/batch", "201", "$response.body#/0/id"),
    ] {
        let links = doc["paths"][path]["post"]["responses"][status]["links"].as_object().unwrap();
        let mut targets: Vec<&str> = links
            .values()
            .map(|link| {
                assert_eq!(link["parameters"]["id"], id, "{path} {status}");
                assert!(link.get("operation_id").is_none(), "only OpenAPI's own name: {link}");
                operation_ids[link["operationId"].as_str().unwrap()].as_str()
            })
            .collect();
        targets.sort_unstable();
        assert_eq!(
            targets,
            [
                "get /api/v1/messages/{id}",
                "get /api/v1/messages/{id}/attempts",
                "post /api/v1/messages/{id}/cancel",
                "post /api/v1/messages/{id}/retry"
            ],
            "{path} {status}"
        );
    }
}

fn create(extra: Value) -> String {
    let mut body = json!({"phone_number": "+905551111111", "content": "hi"});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    body.to_string()
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_server_refuses_what_the_document_refuses_and_takes_what_it_allows(pool: PgPool) {
    let app = || app(&pool, &[]);
    // An empty cursor is the first page; anything but the documented form is refused.
    send(app(), post_json("/api/v1/messages", create(json!({})))).await;
    let first = send(app(), get("/api/v1/messages")).await;
    let empty = send(app(), get("/api/v1/messages?cursor=")).await;
    assert_eq!((empty.status, &empty.body), (StatusCode::OK, &first.body));
    let hex = "0".repeat(32);
    for cursor in
        [format!("%2B5-{hex}"), format!("5-{hex}x"), format!("1234567890123456789-{hex}"), "5-".into()]
    {
        let reply = send(app(), get(&format!("/api/v1/messages?cursor={cursor}"))).await;
        assert_problem(&reply, 400, "cursor");
    }
    let deep = send(app(), get(&format!("/api/v1/messages?cursor=999999999999999999-{hex}"))).await;
    assert_eq!(deep.status, StatusCode::OK, "any documented position is a place to page from");

    // Times: RFC 3339 with T, no leap second.
    for time in ["2999-01-01 00:00:00Z", "2999-01-01T00:00:60Z", ""] {
        let reply = send(app(), post_json("/api/v1/messages", create(json!({"send_at": time})))).await;
        assert_problem(&reply, 400, "send_at");
        let receipt = json!({"messageId": "m", "status": "delivered", "timestamp": time});
        assert_problem(
            &send(app(), post_json("/api/v1/receipts", receipt.to_string())).await,
            400,
            "timestamp",
        );
    }
    let later =
        send(app(), post_json("/api/v1/messages", create(json!({"send_at": "2999-01-01t00:00:00.5z"}))))
            .await;
    assert_eq!(later.status, StatusCode::CREATED, "{}", later.body);

    // Whole numbers may carry a zero fraction, as JSON Schema's integer allows.
    let cancel = |body: Value| post_json("/api/v1/messages/cancel", body.to_string());
    let whole = send(app(), cancel(json!({"campaign": "c", "limit": 5.0}))).await;
    assert_eq!(whole.status, StatusCode::OK, "{}", whole.body);
    assert_problem(&send(app(), cancel(json!({"campaign": "c", "limit": 5.5}))).await, 400, "limit");
    let retry = post_json("/api/v1/messages/retry", json!({"limit": 7.0}).to_string());
    assert_eq!(send(app(), retry).await.status, StatusCode::OK);
    // At least one filter, not null.
    for body in [json!({}), json!({"campaign": null, "limit": 3})] {
        assert_problem(&send(app(), cancel(body)).await, 400, "at least one");
    }

    // Arrays of 1 to 1,000; a receipt's id without NUL, not only white space.
    assert_problem(&send(app(), post_json("/api/v1/messages/batch", "[]")).await, 400, "empty");
    assert_problem(&send(app(), post_json("/api/v1/receipts", "[]")).await, 400, "0 receipts");
    for id in ["a\u{0}b", "   "] {
        let receipt = json!({"messageId": id, "status": "delivered"});
        assert_problem(
            &send(app(), post_json("/api/v1/receipts", receipt.to_string())).await,
            400,
            "messageId",
        );
    }
}

/// The refusals the schemathesis run excuses: exactly the server's answers for the rules a
/// schema cannot express, and no other (`schemathesis/cross_field_rules.py`, run by the Python
/// that runs schemathesis).
#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_schemathesis_run_excuses_exactly_the_cross_field_rules(pool: PgPool) {
    // Each body is posted and must be refused with a 400; its problem is kept.
    let mut problems = Vec::new();
    let batch_of = |items: Value| items.to_string();
    let posts = [
        ("/api/v1/messages", create(json!({"expires_at": "2001-01-01T00:00:00Z"}))),
        (
            "/api/v1/messages/batch",
            batch_of(json!([{"phone_number": "+905551111111", "content": "a",
                             "send_at": "2999-01-02T00:00:00Z", "expires_at": "2999-01-01T00:00:00Z"}])),
        ),
        (
            "/api/v1/messages/batch",
            batch_of(json!([
                {"phone_number": "+905551111111", "content": "a", "idempotency_key": "k"},
                {"phone_number": "+905551111112", "content": "b", "idempotency_key": "k"},
            ])),
        ),
        (
            "/api/v1/messages/retry",
            json!({"failed_after": "2001-01-01T00:00:00Z", "failed_before": "2001-01-01T00:00:00Z"})
                .to_string(),
        ),
        // Not excused: another rule, and a cross-field rule beside another problem.
        ("/api/v1/messages", create(json!({"phone_number": "12"}))),
        ("/api/v1/messages", create(json!({"expires_at": "2001-01-01T00:00:00Z", "campaign": "a b"}))),
    ];
    for (path, body) in posts {
        let reply: Reply = send(app(&pool, &[]), post_json(path, body)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        problems.push(reply.body);
    }
    let script = r#"
import json, sys
sys.path.insert(0, sys.argv[1])
from cross_field_rules import _only_rules
class Reply:
    def __init__(self, body): self.status_code, self.content = 400, json.dumps(body).encode()
bodies = json.loads(sys.argv[2])
print(json.dumps([_only_rules(Reply(body)) for body in bodies]))
"#;
    let bodies = &problems;
    let output = std::process::Command::new("python3")
        .args(["-c", script, concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/schemathesis")])
        .arg(serde_json::to_string(bodies).unwrap())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 (scripts/test puts the venv with schemathesis first on PATH)");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let excused: Vec<bool> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(excused, [true, true, true, true, false, false], "{bodies:#?}");
}
