//! Requeue, cancel, the filtered listing, throughput, recent runs and the dashboard page,
//! through the real router against real PostgreSQL.

use std::collections::HashSet;
use std::time::Duration;

use crate::support;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use dispatcher_core::domain::Message;
use dispatcher_core::repository::{claims, dispatch_runs, RunSummary};
use sqlx::PgPool;
use support::api::{app, assert_problem, fetch, get, post_empty, send};
use support::{insert, status_of};

const LEASE: Duration = Duration::from_secs(60);
const STATUSES: [&str; 5] = ["pending", "processing", "sent", "failed", "cancelled"];

/// A message in `status`, as the dispatcher (or a cancel) would have left it.
async fn message_in(pool: &PgPool, n: usize, status: &str) -> Message {
    let message = insert(pool, n).await;
    let sql = match status {
        "pending" => return message,
        "processing" => "UPDATE messages SET status = 'processing', attempts = 1, locked_until = now() + interval '1 minute' WHERE id = $1",
        "sent" => "UPDATE messages SET status = 'sent', attempts = 1, sent_at = now(), next_attempt_at = NULL, webhook_message_id = 'wm-1' WHERE id = $1",
        "failed" => "UPDATE messages SET status = 'failed', attempts = 3, next_attempt_at = NULL, error_code = 'http_400', last_error = 'receiver said 400 Bad Request' WHERE id = $1",
        "cancelled" => "UPDATE messages SET status = 'cancelled' WHERE id = $1",
        other => panic!("no status {other}"),
    };
    sqlx::query(sql).bind(message.id.as_uuid()).execute(pool).await.unwrap();
    message
}

async fn row_state(pool: &PgPool, message: &Message) -> (String, i32, Option<String>, Option<String>, i64) {
    sqlx::query_as("SELECT status, attempts, error_code, last_error, version FROM messages WHERE id = $1")
        .bind(message.id.as_uuid())
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn retry_requeues_a_failed_message_and_keeps_its_last_error(pool: PgPool) {
    let message = message_in(&pool, 1, "failed").await;
    let reply = send(app(&pool, &[]), post_empty(&format!("/api/v1/messages/{}/retry", message.id))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let m = &reply.body;
    assert_eq!((m["status"].as_str(), m["attempts"].as_i64()), (Some("pending"), Some(0)));
    assert_eq!(m["error_code"], "http_400");
    assert_eq!(m["last_error"], "receiver said 400 Bad Request");
    let due: chrono::DateTime<chrono::Utc> = m["next_attempt_at"].as_str().unwrap().parse().unwrap();
    assert!((chrono::Utc::now() - due).num_seconds() < 60, "due now");

    let claimed = claims::claim_batch(&pool, 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 1, "back in the queue");
    assert_eq!((claimed[0].attempts, claimed[0].max_attempts), (1, 3), "a full set of attempts again");
}

/// `action` on a message in every status but `from`: 409 naming the status, and nothing changes.
async fn refused_from_every_other_status(pool: &PgPool, action: &str, from: &str, done: &str) {
    for (n, status) in STATUSES.iter().enumerate().filter(|(_, s)| **s != from) {
        let message = message_in(pool, n, status).await;
        let before = row_state(pool, &message).await;
        let reply =
            send(app(pool, &[]), post_empty(&format!("/api/v1/messages/{}/{action}", message.id))).await;
        assert_problem(&reply, 409, &format!("is {status}; only a {from} message can be {done}"));
        assert_eq!(row_state(pool, &message).await, before, "{status} unchanged");
    }
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn retry_of_any_other_status_is_409_and_changes_nothing(pool: PgPool) {
    refused_from_every_other_status(&pool, "retry", "failed", "retried").await;
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn cancel_withdraws_a_pending_message_for_good(pool: PgPool) {
    let message = message_in(&pool, 1, "pending").await;
    let reply = send(app(&pool, &[]), post_empty(&format!("/api/v1/messages/{}/cancel", message.id))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["status"], "cancelled");
    assert!(
        claims::claim_batch(&pool, 10, LEASE).await.unwrap().is_empty(),
        "a cancelled message is never claimed"
    );

    let stats = send(app(&pool, &[]), get("/api/v1/messages/stats")).await;
    assert_eq!((stats.body["cancelled"].as_i64(), stats.body["pending"].as_i64()), (Some(1), Some(0)));
    assert_eq!(stats.body["total"], 1);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn cancel_of_any_other_status_is_409_and_changes_nothing(pool: PgPool) {
    refused_from_every_other_status(&pool, "cancel", "pending", "cancelled").await;
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn retry_and_cancel_say_404_for_an_unknown_id_and_400_for_a_bad_one(pool: PgPool) {
    for action in ["retry", "cancel"] {
        let unknown = uuid::Uuid::new_v4();
        let reply = send(app(&pool, &[]), post_empty(&format!("/api/v1/messages/{unknown}/{action}"))).await;
        assert_problem(&reply, 404, "no message with id");
        let reply = send(app(&pool, &[]), post_empty(&format!("/api/v1/messages/not-a-uuid/{action}"))).await;
        assert_problem(&reply, 400, "is not a UUID");
    }
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_cancel_racing_a_claim_never_cancels_a_message_in_flight(pool: PgPool) {
    let message = message_in(&pool, 1, "pending").await;
    let claimed = claims::claim_batch(&pool, 1, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let reply = send(app(&pool, &[]), post_empty(&format!("/api/v1/messages/{}/cancel", message.id))).await;
    assert_problem(&reply, 409, "is processing");
    assert_eq!(status_of(&pool, &message).await, "processing");
}

async fn list(pool: &PgPool, query: &str) -> (Vec<String>, Option<String>) {
    let reply = send(app(pool, &[]), get(&format!("/api/v1/messages?{query}"))).await;
    assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
    let ids = reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    (ids, reply.body["next_cursor"].as_str().map(str::to_owned))
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_listing_pages_by_cursor_newest_first_and_inserts_do_not_shift_pages(pool: PgPool) {
    let mut created = Vec::new();
    for n in 0..25 {
        created.push(insert(&pool, n).await.id.to_string());
    }
    let (page1, cursor) = list(&pool, "limit=10").await;
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    assert_eq!(page1, newest_first[..10]);

    // New messages arrive while the client pages: they are newer, so they never enter the
    // pages still to come.
    for n in 100..105 {
        insert(&pool, n).await;
    }
    let (page2, cursor) = list(&pool, &format!("limit=10&cursor={}", cursor.unwrap())).await;
    let (page3, last) = list(&pool, &format!("limit=10&cursor={}", cursor.unwrap())).await;
    assert_eq!(page2, newest_first[10..20]);
    assert_eq!(page3, newest_first[20..]);
    assert_eq!(last, None, "the last page has no next cursor");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_listing_filters_by_status_and_phone_number(pool: PgPool) {
    let mut by_status = std::collections::HashMap::new();
    for (n, status) in STATUSES.iter().enumerate() {
        for k in 0..3 {
            let message = message_in(&pool, n * 10 + k, status).await;
            by_status.entry(*status).or_insert_with(HashSet::new).insert(message.id.to_string());
        }
    }
    for status in STATUSES {
        let (ids, next) = list(&pool, &format!("status={status}")).await;
        assert_eq!(ids.into_iter().collect::<HashSet<_>>(), by_status[status], "{status}");
        assert_eq!(next, None);
    }
    // new_message(n) sends to +9055500{n:05}: n = 31 is one failed message.
    let (ids, _) = list(&pool, "phone_number=%2B905550000031").await;
    assert_eq!(ids.len(), 1);
    assert!(by_status["failed"].contains(&ids[0]));
    let (ids, _) = list(&pool, "phone_number=%2B905550000031&status=sent").await;
    assert!(ids.is_empty());
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn bad_listing_parameters_are_400s(pool: PgPool) {
    for (query, field, detail) in [
        ("status=lost", "status", "is not one of pending, processing, sent, failed, cancelled"),
        ("phone_number=12345", "phone_number", "E.164"),
        ("limit=0", "limit", "from 1 to 100"),
        ("limit=101", "limit", "from 1 to 100"),
        ("cursor=abc", "cursor", "not a cursor this API returned"),
    ] {
        let reply = send(app(&pool, &[]), get(&format!("/api/v1/messages?{query}"))).await;
        assert_problem(&reply, 400, detail);
        assert_eq!(reply.body["errors"][0]["field"], field, "{query}");
    }
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn throughput_counts_sent_and_failed_per_minute_zero_filled(pool: PgPool) {
    for n in 0..5 {
        message_in(&pool, n, "sent").await;
    }
    for n in 5..7 {
        message_in(&pool, n, "failed").await;
    }
    // Three sent ten minutes ago, one sent two hours ago (outside the window).
    sqlx::query(
        "UPDATE messages SET sent_at = date_trunc('minute', now()) - interval '10 minutes' + interval '5 seconds'
         WHERE id IN (SELECT id FROM messages WHERE status = 'sent' ORDER BY created_at LIMIT 3)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE messages SET sent_at = now() - interval '2 hours'
         WHERE id = (SELECT id FROM messages WHERE status = 'sent' ORDER BY created_at DESC LIMIT 1)",
    )
    .execute(&pool)
    .await
    .unwrap();

    let reply = send(app(&pool, &[]), get("/api/v1/metrics/throughput?minutes=60")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let points = reply.body["points"].as_array().unwrap();
    assert_eq!(points.len(), 60);
    let minutes: Vec<chrono::DateTime<chrono::Utc>> =
        points.iter().map(|p| p["minute"].as_str().unwrap().parse().unwrap()).collect();
    assert!(minutes.windows(2).all(|w| w[1] - w[0] == chrono::Duration::minutes(1)), "one point a minute");
    let total = |key: &str| points.iter().map(|p| p[key].as_i64().unwrap()).sum::<i64>();
    assert_eq!((total("sent"), total("failed")), (4, 2));
    let last = &points[59];
    // The test may straddle a minute boundary: what was "now" is in the last two points.
    let recent = |key: &str| points[58][key].as_i64().unwrap() + last[key].as_i64().unwrap();
    assert_eq!((recent("sent"), recent("failed")), (1, 2));
    assert_eq!(points[49]["sent"].as_i64().unwrap() + points[50]["sent"].as_i64().unwrap(), 3);

    let reply = send(app(&pool, &[]), get("/api/v1/metrics/throughput")).await;
    assert_eq!(reply.body["minutes"], 60, "the default window");
    for bad in ["0", "1441", "x"] {
        let reply = send(app(&pool, &[]), get(&format!("/api/v1/metrics/throughput?minutes={bad}"))).await;
        assert_problem(&reply, 400, "minutes");
    }
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn recent_runs_come_newest_first(pool: PgPool) {
    for sent in 1..=3 {
        let run_id = dispatch_runs::start(&pool).await.unwrap().run_id;
        let run = RunSummary { run_id, claimed: sent, sent, expired: 10 * sent, ..RunSummary::default() };
        dispatch_runs::finish(&pool, &run, None).await.unwrap();
    }
    let reply = send(app(&pool, &[]), get("/api/v1/scheduler/runs?limit=2")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let counts: Vec<(i64, i64)> = reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["sent"].as_i64().unwrap(), r["expired"].as_i64().unwrap()))
        .collect();
    assert_eq!(counts, [(3, 30), (2, 20)], "newest first, each with what it sent and expired");
    let reply = send(app(&pool, &[]), get("/api/v1/scheduler/runs?limit=1000")).await;
    assert_problem(&reply, 400, "limit");
}

/// The dashboard as served with these settings to a browser: its headers and its HTML, unzipped.
async fn dashboard(pool: &PgPool, pairs: &[(&str, &str)]) -> (axum::http::HeaderMap, String) {
    let request = Request::get("/dashboard").header(header::ACCEPT_ENCODING, "gzip, deflate, br");
    let reply = fetch(app(pool, pairs), request.body(Body::empty()).unwrap()).await;
    assert_eq!(reply.status, StatusCode::OK);
    let html = reply.gunzipped();
    (reply.headers, html)
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_dashboard_is_one_self_contained_page_and_open_without_a_token(pool: PgPool) {
    let (headers, html) = dashboard(&pool, &[("API_AUTH_TOKEN", "dashboard-test-token-123")]).await;
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"), "{csp}");
    assert!(html.starts_with("<!doctype html>") || html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("name=\"viewport\""), "phone-width layout");
    for external in ["src=\"http", "href=\"http", "src='http", "href='http", "@import", "url(http"] {
        assert!(!html.contains(external), "the page loads nothing from elsewhere ({external})");
    }
    assert!(html.contains("'/api/v1'"), "the page calls the API on its own origin");
    for path in ["/messages/stats", "/scheduler/status", "/metrics/throughput", "/scheduler/runs", "/retry"] {
        assert!(html.contains(path), "the page reads {path}");
    }
    assert!(html.contains("'/messages/retry'"), "the failed panel's retry-all calls the bulk retry");
    assert!(html.contains(r#"data-testid="receiver-state""#), "the receiver breaker's panel");
    assert!(html.contains(r#"<meta name="dispatcher-auth" content="required">"#), "asks for the token first");
    assert!(!html.contains("dashboard-test-token-123"), "the token itself is never in the page");

    let (_, open) = dashboard(&pool, &[]).await;
    assert!(open.contains(r#"<meta name="dispatcher-auth" content="none">"#), "no token to ask for");

    // A client that does not take gzip (a bare curl) gets the same page uncompressed.
    let plain = fetch(app(&pool, &[]), get("/dashboard")).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.headers.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(plain.headers[header::VARY], "accept-encoding");
    assert_eq!(String::from_utf8(plain.bytes.to_vec()).unwrap(), open);
}
