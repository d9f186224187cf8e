//! Priorities and campaigns through the real router: the fields on create (single and batch)
//! and their refusals, the listing's filters, a campaign's stats, the bulk cancel and its
//! refusals, and the oldest-pending gauge per lane.

use crate::support;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::api::{app, assert_problem, get, item_errors, post_json, send, Reply};

async fn create(pool: &PgPool, body: Value) -> Reply {
    send(app(pool, &[]), post_json("/api/v1/messages", body.to_string())).await
}

fn message(n: usize, extra: Value) -> Value {
    let mut body = json!({"phone_number": format!("+9055500{n:05}"), "content": format!("message {n}")});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    body
}

/// Each field problem of a problem+json, as its field.
fn fields(reply: &Reply) -> Vec<&str> {
    reply.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect()
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn priority_and_campaign_are_stored_returned_and_refused_when_wrong(pool: PgPool) {
    let code = create(&pool, message(1, json!({"priority": "high"}))).await;
    assert_eq!(code.status, 201, "{}", code.body);
    assert_eq!((&code.body["priority"], &code.body["campaign"]), (&json!("high"), &Value::Null));
    let offer =
        create(&pool, message(2, json!({"priority": "low", "campaign": "spring-sale_2026.v2"}))).await;
    assert_eq!(
        (&offer.body["priority"], &offer.body["campaign"]),
        (&json!("low"), &json!("spring-sale_2026.v2"))
    );
    let fetched =
        send(app(&pool, &[]), get(&format!("/api/v1/messages/{}", offer.body["id"].as_str().unwrap()))).await;
    assert_eq!(fetched.body["campaign"], "spring-sale_2026.v2");

    let bad = create(&pool, message(3, json!({"priority": "urgent", "campaign": "spring sale"}))).await;
    assert_problem(&bad, 400, "");
    assert_eq!(fields(&bad), ["priority", "campaign"]);
    for priority in [json!("HIGH"), json!(""), json!(1)] {
        let reply = create(&pool, message(4, json!({"priority": priority}))).await;
        assert_eq!(reply.status, 400, "{priority}: {}", reply.body);
    }
    for campaign in ["", &"x".repeat(65), "a/b", "caf\u{e9}"] {
        let reply = create(&pool, message(5, json!({"campaign": campaign}))).await;
        assert_problem(&reply, 400, "");
        assert_eq!(fields(&reply), ["campaign"], "{campaign:?}");
    }
    let batch = json!([message(6, json!({"priority": "low"})), message(7, json!({"priority": "later"}))]);
    let reply = send(app(&pool, &[]), post_json("/api/v1/messages/batch", batch.to_string())).await;
    assert_eq!(item_errors(&reply), [(1, "priority")]);
    assert_eq!(support::count(&pool).await, 2, "nothing stored by a refused create");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_listing_filters_by_priority_and_campaign_with_keyset_pages(pool: PgPool) {
    let batch: Vec<Value> = (1..=30)
        .map(|n| {
            let campaign = if n % 3 == 0 { json!("spring") } else { Value::Null };
            message(n, json!({"priority": if n % 2 == 0 { "low" } else { "high" }, "campaign": campaign}))
        })
        .collect();
    let created =
        send(app(&pool, &[]), post_json("/api/v1/messages/batch", Value::Array(batch).to_string())).await;
    assert_eq!(created.status, 201);
    sqlx::query(
        "UPDATE messages SET status = 'sent', sent_at = now() WHERE content IN ('message 3', 'message 6')",
    )
    .execute(&pool)
    .await
    .unwrap();

    let mut listed = Vec::new();
    let mut path = "/api/v1/messages?campaign=spring&limit=4".to_owned();
    loop {
        let page = send(app(&pool, &[]), get(&path)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        listed.extend(
            page.body["items"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap().to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/messages?campaign=spring&limit=4&cursor={cursor}"),
            None => break,
        }
    }
    let expected: Vec<String> =
        (1..=30).rev().filter(|n| n % 3 == 0).map(|n| format!("message {n}")).collect();
    assert_eq!(listed, expected, "every campaign message, newest first, across statuses and pages");

    let low_sent =
        send(app(&pool, &[]), get("/api/v1/messages?campaign=spring&priority=low&status=sent")).await;
    let contents: Vec<&str> =
        low_sent.body["items"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert_eq!(contents, ["message 6"]);
    let high = send(app(&pool, &[]), get("/api/v1/messages?priority=high&limit=100")).await;
    assert_eq!(high.body["items"].as_array().unwrap().len(), 15);

    let bad = send(app(&pool, &[]), get("/api/v1/messages?priority=urgent&campaign=a%20b")).await;
    assert_problem(&bad, 400, "");
    assert_eq!(fields(&bad), ["priority", "campaign"]);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_campaigns_stats_have_the_shape_of_stats_and_count_only_it(pool: PgPool) {
    for n in 1..=5 {
        create(&pool, message(n, json!({"campaign": "spring"}))).await;
    }
    create(&pool, message(6, json!({"campaign": "summer"}))).await;
    create(&pool, message(7, json!({}))).await;
    sqlx::query("UPDATE messages SET status = 'failed' WHERE content = 'message 2'")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE messages SET status = 'sent', sent_at = now(), delivery_status = 'delivered', delivery_at = now() WHERE content = 'message 3'")
        .execute(&pool)
        .await
        .unwrap();

    let all = send(app(&pool, &[]), get("/api/v1/messages/stats")).await;
    let spring = send(app(&pool, &[]), get("/api/v1/messages/stats?campaign=spring")).await;
    assert_eq!(spring.status, 200);
    let keys = |reply: &Reply| reply.body.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&spring), keys(&all), "the shape of Stats");
    assert_eq!(
        (&spring.body["pending"], &spring.body["failed"], &spring.body["sent"], &spring.body["total"]),
        (&json!(3), &json!(1), &json!(1), &json!(5))
    );
    assert_eq!(spring.body["deliveries"], json!({"delivered": 1, "undelivered": 0}));
    let none = send(app(&pool, &[]), get("/api/v1/messages/stats?campaign=never-sent")).await;
    assert_eq!(none.body["total"], 0);
    let bad = send(app(&pool, &[]), get("/api/v1/messages/stats?campaign=")).await;
    assert_problem(&bad, 400, "");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_bulk_cancel_stops_a_campaign_and_refuses_what_it_cannot_read(pool: PgPool) {
    for n in 1..=6 {
        create(&pool, message(n, json!({"campaign": "spring", "priority": "low"}))).await;
    }
    create(&pool, message(7, json!({"campaign": "summer"}))).await;
    let cancel = |body: Value| {
        let pool = pool.clone();
        async move { send(app(&pool, &[]), post_json("/api/v1/messages/cancel", body.to_string())).await }
    };

    for (body, expected) in [
        (json!({}), vec!["campaign"]),
        (json!({"limit": 5}), vec!["campaign"]),
        (json!({"campaign": "spring", "segment": "all", "dry_run": true}), vec!["dry_run", "segment"]),
        (json!({"campaign": "spring sale"}), vec!["campaign"]),
        (json!({"priority": "urgent"}), vec!["priority"]),
        (json!({"campaign": "spring", "limit": 0}), vec!["limit"]),
        (json!({"campaign": "spring", "limit": 1_000_001}), vec!["limit"]),
    ] {
        let reply = cancel(body.clone()).await;
        assert_problem(&reply, 400, "");
        assert_eq!(fields(&reply), expected, "{body}");
    }
    assert_eq!(cancel(json!({"created_before": "yesterday"})).await.status, 400);
    assert_eq!(
        testkit::database::status_count(&pool, "cancelled").await,
        0,
        "a refused call cancels nothing"
    );

    let two = cancel(json!({"campaign": "spring", "limit": 2})).await;
    assert_eq!(two.body, json!({"cancelled": 2, "complete": true}));
    let rest = cancel(json!({"campaign": "spring", "priority": "low"})).await;
    assert_eq!(rest.body, json!({"cancelled": 4, "complete": true}));
    let again = cancel(json!({"campaign": "spring"})).await;
    assert_eq!(again.body, json!({"cancelled": 0, "complete": true}));
    let stats = send(app(&pool, &[]), get("/api/v1/messages/stats?campaign=spring")).await;
    assert_eq!((&stats.body["cancelled"], &stats.body["pending"]), (&json!(6), &json!(0)));
    assert_eq!(testkit::database::status_count(&pool, "pending").await, 1, "the other campaign is left");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_oldest_pending_age_is_given_per_lane(pool: PgPool) {
    create(&pool, message(1, json!({"priority": "low"}))).await;
    sqlx::query("UPDATE messages SET next_attempt_at = now() - interval '10 minutes'")
        .execute(&pool)
        .await
        .unwrap();
    create(&pool, message(2, json!({"priority": "high"}))).await;
    let text = support::api::fetch(app(&pool, &[]), get("/metrics")).await.text();
    let sample = |series: &str| -> f64 {
        let line = text
            .lines()
            .find(|line| line.starts_with(&format!("{series} ")))
            .unwrap_or_else(|| panic!("{series} in {text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let low = sample("message_dispatcher_oldest_pending_age_seconds{priority=\"low\"}");
    assert!((599.0..700.0).contains(&low), "{low}");
    assert!(sample("message_dispatcher_oldest_pending_age_seconds{priority=\"high\"}") < 60.0);
    assert_eq!(sample("message_dispatcher_oldest_pending_age_seconds{priority=\"normal\"}"), 0.0);
    assert_eq!(
        sample("message_dispatcher_oldest_pending_age_seconds"),
        low,
        "unlabelled: the oldest of any lane"
    );
}
