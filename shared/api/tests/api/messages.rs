//! The message routes through the real router (`oneshot`) against real PostgreSQL:
//! shapes, status codes, problem+json for every bad input, and nothing written on error.

use crate::support;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use support::api::{app, assert_problem, get, post_json, send};

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn create_returns_201_and_the_message(pool: PgPool) {
    let body = json!({"phone_number": "+905551111111", "content": "Merhaba 🚀"}).to_string();
    let reply = send(app(&pool, &[]), post_json("/api/v1/messages", body)).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.content_type, "application/json");
    let m = &reply.body;
    assert_eq!(m["phone_number"], "+905551111111");
    assert_eq!(m["content"], "Merhaba 🚀");
    assert_eq!(m["status"], "pending");
    assert_eq!((m["attempts"].as_i64(), m["max_attempts"].as_i64()), (Some(0), Some(3)));
    for field in ["sent_at", "webhook_message_id", "last_error", "error_code", "expires_at", "delivery"] {
        assert!(m[field].is_null(), "{field} is null");
    }
    let keys: Vec<&String> = m.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 16, "{keys:?}");
    assert_eq!((m["priority"].as_str(), &m["campaign"]), (Some("normal"), &Value::Null), "the defaults");
    assert!(m["id"].as_str().unwrap().parse::<uuid::Uuid>().is_ok());
    assert!(m["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(support::count(&pool).await, 1);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn an_idempotency_key_repeat_returns_the_first_message_with_200(pool: PgPool) {
    let request = |content: &str| {
        Request::post("/api/v1/messages")
            .header(header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", "campaign-7:+905551111111")
            .body(Body::from(json!({"phone_number": "+905551111111", "content": content}).to_string()))
            .unwrap()
    };
    let first = send(app(&pool, &[]), request("first")).await;
    let repeat = send(app(&pool, &[]), request("second")).await;
    assert_eq!((first.status, repeat.status), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(repeat.body, first.body);
    assert_eq!(support::count(&pool).await, 1);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn every_bad_create_is_a_clear_4xx_and_writes_nothing(pool: PgPool) {
    let long = "ş".repeat(161);
    let cases: Vec<(String, u16, &str, Option<&str>)> = vec![
        ("{\"phone_number\": ".into(), 400, "malformed JSON", None),
        ("not json".into(), 400, "malformed JSON", None),
        (
            json!({"phone_number": 905551111111_i64, "content": "x"}).to_string(),
            400,
            "phone_number: invalid type",
            Some("phone_number"),
        ),
        (
            json!({"phone_number": "+905551111111"}).to_string(),
            400,
            "missing field `content`",
            Some("content"),
        ),
        (json!({"content": "x"}).to_string(), 400, "missing field `phone_number`", Some("phone_number")),
        (
            json!({"phone_number": "905551111111", "content": "x"}).to_string(),
            400,
            "must start with '+'",
            Some("phone_number"),
        ),
        (
            json!({"phone_number": "+90abc", "content": "x"}).to_string(),
            400,
            "only digits",
            Some("phone_number"),
        ),
        (
            json!({"phone_number": "+905551111111", "content": ""}).to_string(),
            400,
            "content is empty",
            Some("content"),
        ),
        (
            json!({"phone_number": "+905551111111", "content": long}).to_string(),
            400,
            "161 characters; the limit is 160",
            Some("content"),
        ),
        (
            json!({"phone_number": "+905551111111", "content": "x", "send_at": "tomorrow"}).to_string(),
            400,
            "send_at",
            Some("send_at"),
        ),
        ("[]".into(), 400, "must be a JSON object", None),
        ("\"text\"".into(), 400, "must be a JSON object", None),
        (
            format!("{{\"phone_number\": {}1{}}}", "[".repeat(200), "]".repeat(200)),
            400,
            "phone_number: invalid type",
            Some("phone_number"),
        ),
        (
            json!({"phone_number": "+905551111111", "content": "x".repeat(2_000_000)}).to_string(),
            413,
            "larger than",
            None,
        ),
    ];
    for (body, status, detail, field) in cases {
        let reply = send(app(&pool, &[]), post_json("/api/v1/messages", body.clone())).await;
        assert_problem(&reply, status, detail);
        if let Some(field) = field {
            let errors = reply.body["errors"].as_array().unwrap();
            assert!(errors.iter().any(|e| e["field"] == field), "{field} in {errors:?}");
        }
    }
    // Both field problems at once.
    let reply = send(
        app(&pool, &[]),
        post_json("/api/v1/messages", json!({"phone_number": "1", "content": ""}).to_string()),
    )
    .await;
    assert_problem(&reply, 400, "phone_number");
    assert_eq!(reply.body["errors"].as_array().unwrap().len(), 2);
    // Not JSON at all.
    let plain = Request::post("/api/v1/messages")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("hi"))
        .unwrap();
    assert_problem(&send(app(&pool, &[]), plain).await, 415, "must be JSON");
    // A bad idempotency key.
    let bad_key = Request::post("/api/v1/messages")
        .header(header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", "x".repeat(300))
        .body(Body::from(json!({"phone_number": "+905551111111", "content": "x"}).to_string()))
        .unwrap();
    assert_problem(&send(app(&pool, &[]), bad_key).await, 400, "Idempotency-Key");
    assert_eq!(support::count(&pool).await, 0, "nothing was written");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_char_limit_is_the_configured_one(pool: PgPool) {
    let create = |content: &str| {
        let body = json!({"phone_number": "+905551111111", "content": content}).to_string();
        send(app(&pool, &[("MESSAGE_CHAR_LIMIT", "5")]), post_json("/api/v1/messages", body))
    };
    let ok = create("abcde").await;
    assert_eq!(ok.status, StatusCode::CREATED);
    let long = create("abcdef").await;
    assert_problem(&long, 400, "the limit is 5");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn get_by_id_finds_the_message_or_says_why_not(pool: PgPool) {
    let message = support::insert(&pool, 1).await;
    let found = send(app(&pool, &[]), get(&format!("/api/v1/messages/{}", message.id))).await;
    assert_eq!(found.status, StatusCode::OK);
    assert_eq!(found.body["id"], message.id.to_string());

    let unknown = send(app(&pool, &[]), get(&format!("/api/v1/messages/{}", uuid::Uuid::new_v4()))).await;
    assert_problem(&unknown, 404, "no message with id");
    let not_uuid = send(app(&pool, &[]), get("/api/v1/messages/12345")).await;
    assert_problem(&not_uuid, 400, "is not a UUID");
    assert_eq!(not_uuid.body["errors"][0]["field"], "id");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_sent_list_pages_and_rejects_out_of_range_paging(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 3).await;
    sqlx::query("UPDATE messages SET status = 'sent', sent_at = created_at, next_attempt_at = NULL, webhook_message_id = 'w'")
        .execute(&pool)
        .await
        .unwrap();
    let reply = send(app(&pool, &[]), get("/api/v1/messages/sent?page=1&page_size=2")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        (reply.body["page"].as_i64(), reply.body["page_size"].as_i64(), reply.body["total"].as_i64()),
        (Some(1), Some(2), Some(3))
    );
    let items = reply.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items[0]["sent_at"].as_str() > items[1]["sent_at"].as_str(), "newest first");
    let defaults = send(app(&pool, &[]), get("/api/v1/messages/sent")).await;
    assert_eq!((defaults.body["page"].as_i64(), defaults.body["page_size"].as_i64()), (Some(1), Some(20)));

    for query in ["page_size=0", "page_size=101", "page_size=abc", "page=0", "page=-1"] {
        let reply = send(app(&pool, &[]), get(&format!("/api/v1/messages/sent?{query}"))).await;
        assert_problem(&reply, 400, "must be an integer");
    }
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn stats_count_by_status(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 4).await;
    let reply = send(app(&pool, &[]), get("/api/v1/messages/stats")).await;
    assert_eq!(
        reply.body,
        json!({
            "pending": 4, "processing": 0, "sent": 0, "failed": 0, "cancelled": 0, "expired": 0, "total": 4,
            "deliveries": {"delivered": 0, "undelivered": 0}
        })
    );
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn with_a_token_set_api_routes_need_the_bearer_and_health_stays_open(pool: PgPool) {
    let token = [("API_AUTH_TOKEN", "s3cret-token")];
    let with = |auth: Option<&str>| {
        let mut request = Request::get("/api/v1/messages/stats");
        if let Some(auth) = auth {
            request = request.header(header::AUTHORIZATION, auth);
        }
        request.body(Body::empty()).unwrap()
    };
    let missing = send(app(&pool, &token), with(None)).await;
    assert_problem(&missing, 401, "bearer token");
    let wrong = send(app(&pool, &token), with(Some("Bearer s3cret-tokeN"))).await;
    assert_problem(&wrong, 401, "bearer token");
    let not_bearer = send(app(&pool, &token), with(Some("Basic s3cret-token"))).await;
    assert_eq!(not_bearer.status, StatusCode::UNAUTHORIZED);
    let right = send(app(&pool, &token), with(Some("Bearer s3cret-token"))).await;
    assert_eq!(right.status, StatusCode::OK);
    let lowercase = send(app(&pool, &token), with(Some("bearer s3cret-token"))).await;
    assert_eq!(lowercase.status, StatusCode::OK, "the scheme is case-insensitive (RFC 7235)");
    assert!(!missing.body.to_string().contains("s3cret-token"));

    let create = send(
        app(&pool, &token),
        post_json("/api/v1/messages", json!({"phone_number": "+905551111111", "content": "x"}).to_string()),
    )
    .await;
    assert_eq!(create.status, StatusCode::UNAUTHORIZED);
    assert_eq!(support::count(&pool).await, 0);
    assert_eq!(send(app(&pool, &token), get("/live")).await.status, StatusCode::OK);
    assert_eq!(send(app(&pool, &token), get("/health")).await.status, StatusCode::OK);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn an_internal_error_is_an_opaque_500(pool: PgPool) {
    let app = app(&pool, &[]);
    pool.close().await;
    let reply = send(app, get("/api/v1/messages/stats")).await;
    assert_problem(&reply, 500, "an internal error occurred");
    let text = reply.body.to_string();
    assert!(!text.contains("pool") && !text.contains("sqlx") && !text.contains("closed"), "{text}");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn unknown_routes_are_a_problem_404(pool: PgPool) {
    assert_problem(&send(app(&pool, &[]), get("/api/v1/nope")).await, 404, "no route for /api/v1/nope");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn sql_and_control_characters_are_stored_and_returned_verbatim(pool: PgPool) {
    let texts = [
        "'; DROP TABLE messages; --",
        "Robert'); DELETE FROM messages WHERE ('1'='1",
        "tab\tnew line\ncarriage\rbell\u{7}escape\u{1b}[31m del\u{7f}",
        "\\x00 \\u0000 %s %n {{}} <script>alert(1)</script>",
        "Çok güzel 👍🏽 ﷽ \u{202e}reversed",
    ];
    for text in texts {
        let body = json!({"phone_number": "+905551111111", "content": text}).to_string();
        let created = send(app(&pool, &[]), post_json("/api/v1/messages", body)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{text:?}: {}", created.body);
        assert_eq!(created.body["content"], text);
        let id = created.body["id"].as_str().unwrap();
        let read = send(app(&pool, &[]), get(&format!("/api/v1/messages/{id}"))).await;
        assert_eq!(read.body["content"], text, "returned verbatim");
    }
    let stored: Vec<String> = sqlx::query_scalar("SELECT content FROM messages ORDER BY created_at")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(stored, texts);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_nul_character_is_a_400_not_a_database_error(pool: PgPool) {
    let body = json!({"phone_number": "+905551111111", "content": "a\u{0}b"}).to_string();
    let reply = send(app(&pool, &[]), post_json("/api/v1/messages", body)).await;
    assert_problem(&reply, 400, "NUL character");
    assert_eq!(support::count(&pool).await, 0);
}
