//! The dashboard in a real browser: Debian's Chromium driven by playwright-core
//! (`local/browser/dashboard.test.mjs`) against the harness as a process, with a bearer token
//! set. The page must ask for the token, show the right counts (expired and the delivered and
//! undelivered sent messages among them), stop the scheduler (and the API must agree), open a
//! failed message's detail from its row (its state and the attempt log seeded here, row by row;
//! another row replaces it, Escape and its close button close it), filter its message list by
//! status and by delivery and open an expired, a delivered and an undelivered message's detail
//! (when it expired, its delivery receipt), filter it by campaign (priority and campaign on each
//! row and in the detail) and cancel that campaign after confirming, show the receiver breaker, requeue a failed message
//! from its retry button (which does not open the detail) and the rest with "Retry all".
//!
//! Needs `/usr/bin/chromium` and `local/browser/node_modules` (`scripts/browser-tools`
//! installs both; `scripts/test` runs it). Screenshots go to a temporary folder, or to
//! DASHBOARD_SCREENSHOT_DIR (`docs` refreshes the README's picture).

use std::path::PathBuf;
use std::process::Command;

use crate::support;
use serde_json::json;
use support::harness::Harness;
use testkit::ScratchDatabase;

const TOKEN: &str = "dashboard-browser-test-token";

/// One seeded row of `message_attempts`.
struct Attempt {
    number: i32,
    /// When it started, counted from the message's `created_at`.
    after_seconds: i32,
    duration_ms: i32,
    /// `None`: no HTTP answer came.
    status_code: Option<i16>,
    outcome: &'static str,
    error_code: &'static str,
    response_body: Option<&'static str>,
}

/// The `invalid_response` message's attempt log: busy, then no answer, then a 2xx without a
/// `messageId`, which failed it. All before its `updated_at` (a minute after it was created).
const ATTEMPTS: [Attempt; 3] = [
    Attempt {
        number: 1,
        after_seconds: 2,
        duration_ms: 143,
        status_code: Some(503),
        outcome: "retry",
        error_code: "http_503",
        response_body: Some(r#"{"error":"busy"}"#),
    },
    Attempt {
        number: 2,
        after_seconds: 21,
        duration_ms: 10_000,
        status_code: None,
        outcome: "retry",
        error_code: "timeout",
        response_body: None,
    },
    Attempt {
        number: 3,
        after_seconds: 52,
        duration_ms: 87,
        status_code: Some(200),
        outcome: "failed",
        error_code: "invalid_response",
        response_body: Some(r#"{"status":"ok"}"#),
    },
];

/// The ids of the seeded messages the browser opens.
struct Seeded {
    /// The `invalid_response` failure, with its three attempts logged.
    failed: String,
    /// The newest of each (so on the first page of the list filtered to its kind).
    expired: String,
    delivered: String,
    undelivered: String,
}

/// A believable hour: a steady flow of sent messages, most of them with a delivery receipt (340
/// delivered, 12 undelivered with the carrier's error code, 68 without one yet), a few failures
/// with their error codes (the `invalid_response` one with its three attempts logged), some
/// cancelled, 4 expired before they could be sent, a low-priority campaign (`autumn-sale`, 12
/// messages) scheduled for tomorrow (so nothing changes while the browser looks, until it
/// cancels the campaign), and the dispatch runs that did the work.
async fn seed_an_hour_of_traffic(db: &ScratchDatabase) -> Seeded {
    let statements = [
        "INSERT INTO messages (phone_number, content, status, attempts, sent_at, next_attempt_at,
                               webhook_message_id, created_at)
         SELECT '+90555' || lpad(i::text, 7, '0'), 'Your code is ' || (100000 + i * 7919 % 900000),
                'sent', 1, sent_at, NULL, 'wm-' || i, sent_at - interval '2 seconds'
         FROM (SELECT i, now() - ((i * 37) % 3540) * interval '1 second'
                             - (CASE WHEN i % 5 = 0 THEN 1200 ELSE 0 END) * interval '1 second' AS sent_at
               FROM generate_series(1, 420) AS i) AS s",
        "INSERT INTO messages (phone_number, content, next_attempt_at, created_at, priority, campaign)
         SELECT '+90532' || lpad(i::text, 7, '0'), 'Campaign reminder #' || i,
                now() + interval '1 day', now() - i * interval '1 minute', 2, 'autumn-sale'
         FROM generate_series(1, 12) AS i",
        "INSERT INTO messages (phone_number, content, status, next_attempt_at, created_at)
         SELECT '+90533' || lpad(i::text, 7, '0'), 'Withdrawn offer #' || i, 'cancelled', now(),
                now() - i * interval '3 minutes'
         FROM generate_series(1, 2) AS i",
        // Receipts (an UPDATE, as receipts do, so the delivery_counts triggers count them):
        // wm-n undelivered when n % 35 = 0, else delivered unless n % 6 = 0 (none yet).
        "UPDATE messages AS m
         SET delivery_status = CASE WHEN s.n % 35 = 0 THEN 'undelivered' ELSE 'delivered' END,
             delivery_at = least(m.sent_at + (3 + s.n % 20) * interval '1 second', now()),
             delivery_error_code = CASE WHEN s.n % 35 = 0 THEN '30003' END
         FROM (SELECT id, split_part(webhook_message_id, '-', 2)::int AS n
               FROM messages WHERE status = 'sent') AS s
         WHERE m.id = s.id AND (s.n % 35 = 0 OR s.n % 6 <> 0)",
        // Expired: each ran out of time a quarter of an hour after it was created.
        "INSERT INTO messages (phone_number, content, status, next_attempt_at, expires_at, error_code,
                               last_error, created_at, updated_at)
         SELECT '+90534' || lpad(i::text, 7, '0'), 'Flash sale, today only #' || i, 'expired', NULL,
                now() - i * interval '7 minutes', 'expired', 'not sent by its expires_at',
                now() - i * interval '7 minutes' - interval '15 minutes', now() - i * interval '7 minutes'
         FROM generate_series(1, 4) AS i",
        "INSERT INTO messages (phone_number, content, status, attempts, next_attempt_at, error_code,
                               last_error, created_at, updated_at)
         VALUES ('+905421234567', 'Your parcel is on its way', 'failed', 1, NULL, 'http_400',
                 'receiver answered 400 Bad Request: unknown recipient', now() - interval '50 minutes',
                 now() - interval '48 minutes'),
                ('+905439876543', 'Payment received, thank you', 'failed', 1, NULL, 'invalid_response',
                 'a 2xx without a messageId', now() - interval '21 minutes', now() - interval '20 minutes'),
                ('+905447654321', 'Appointment tomorrow at 10:00', 'failed', 3, NULL, 'http_503',
                 'receiver answered 503 Service Unavailable (3 of 3 attempts)', now() - interval '9 minutes',
                 now() - interval '2 minutes')",
        "INSERT INTO dispatch_runs (started_at, finished_at, claimed, sent, retried, failed, released)
         SELECT now() - i * interval '2 minutes', now() - i * interval '2 minutes' + interval '850 ms',
                40 - i, 40 - i - (i % 3), i % 3, CASE WHEN i = 4 THEN 1 ELSE 0 END, 0
         FROM generate_series(1, 8) AS i",
        // The receiver went down a minute ago: the breaker is open, its next probe minutes away.
        "UPDATE receiver_breaker
         SET state = 'open', since = now() - interval '1 minute', consecutive_failures = 5,
             window_bits = (1::int8 << 20) - 1 - 2, window_results = 20,
             cooldown_seconds = 300, next_probe_at = now() + interval '4 minutes',
             last_error = 'cannot connect: error sending request: tcp connect error: Connection refused (os error 111)'",
    ];
    for sql in statements {
        sqlx::raw_sql(sql).execute(&db.pool).await.unwrap();
    }
    let id_of = |condition: &str| {
        // Newest first, as the message list orders them.
        let sql = format!(
            "SELECT id::text FROM messages WHERE {condition} ORDER BY created_at DESC, id DESC LIMIT 1"
        );
        async move { sqlx::query_scalar::<_, String>(&sql).fetch_one(&db.pool).await.unwrap() }
    };
    let id = id_of("error_code = 'invalid_response'").await;
    // Three requests, each one spent attempt.
    sqlx::query("UPDATE messages SET attempts = 3, request_count = 3 WHERE id = $1::uuid")
        .bind(&id)
        .execute(&db.pool)
        .await
        .unwrap();
    for attempt in &ATTEMPTS {
        sqlx::query(
            "INSERT INTO message_attempts (message_id, number, started_at, duration_ms, status_code, outcome,
                                           error_code, response_body)
             SELECT id, $2, created_at + $3 * interval '1 second', $4, $5, $6, $7, $8
             FROM messages WHERE id = $1::uuid",
        )
        .bind(&id)
        .bind(attempt.number)
        .bind(attempt.after_seconds)
        .bind(attempt.duration_ms)
        .bind(attempt.status_code)
        .bind(attempt.outcome)
        .bind(attempt.error_code)
        .bind(attempt.response_body)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    Seeded {
        failed: id,
        expired: id_of("status = 'expired'").await,
        delivered: id_of("delivery_status = 'delivered'").await,
        undelivered: id_of("delivery_status = 'undelivered'").await,
    }
}

/// What the detail's attempts table must list, oldest first, for EXPECTED_ATTEMPTS.
fn expected_attempts() -> serde_json::Value {
    ATTEMPTS
        .iter()
        .map(|attempt| {
            json!({
                "number": attempt.number,
                "status_code": attempt.status_code,
                "outcome": attempt.outcome,
                "error_code": attempt.error_code,
                "response_body": attempt.response_body,
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_works_in_a_real_browser() {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser/dashboard.test.mjs");
    let modules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser/node_modules/playwright-core");
    assert!(modules.exists(), "playwright-core is not installed: run scripts/browser-tools");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(PathBuf::from(&chromium).exists(), "{chromium} is missing: run scripts/browser-tools");

    let db = ScratchDatabase::create().await;
    let seeded = seed_an_hour_of_traffic(&db).await;
    let mock_port = testkit::free_port().to_string();
    let env =
        [("DATABASE_URL", db.url.as_str()), ("API_AUTH_TOKEN", TOKEN), ("MOCK_RECEIVER_PORT", &mock_port)];
    let harness = Harness::start(&env).await;
    let stats = reqwest::Client::new()
        .get(format!("{}/api/v1/messages/stats", harness.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(
        stats,
        json!({
            "pending": 12, "processing": 0, "sent": 420, "failed": 3, "cancelled": 2, "expired": 4, "total": 441,
            "deliveries": {"delivered": 340, "undelivered": 12},
        }),
        "the seeded hour, as the API counts it"
    );

    let screenshots = match std::env::var("DASHBOARD_SCREENSHOT_DIR") {
        Ok(dir) => PathBuf::from(dir),
        Err(_) => std::env::temp_dir().join(format!("dashboard-shots-{}", uuid::Uuid::new_v4().simple())),
    };
    let output = Command::new("node")
        .arg(&script)
        .env("DASHBOARD_URL", &harness.base)
        .env("API_TOKEN", TOKEN)
        .env("EXPECTED_STATS", stats.to_string())
        .env("FAILED_MESSAGE_ID", &seeded.failed)
        .env("EXPIRED_MESSAGE_ID", &seeded.expired)
        .env("DELIVERED_MESSAGE_ID", &seeded.delivered)
        .env("UNDELIVERED_MESSAGE_ID", &seeded.undelivered)
        .env("EXPECTED_ATTEMPTS", expected_attempts().to_string())
        .env("CAMPAIGN", "autumn-sale")
        .env("SCREENSHOT_DIR", &screenshots)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("node runs (Node.js 20 is on the machine)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("dashboard browser test passed"),
        "browser test failed ({}):\n{stdout}\n{stderr}\nharness log:\n{}",
        output.status,
        harness.logs()
    );
    println!("{stdout}");

    // What the browser did, the database shows.
    let scheduler: String =
        sqlx::query_scalar("SELECT state FROM scheduler_state").fetch_one(&db.pool).await.unwrap();
    assert_eq!(scheduler, "stopped");
    assert_eq!(db.status_count("failed").await, 0, "one failed message requeued, then the rest");
    let campaign_pending = testkit::database::fetch_i64(
        &db.pool,
        "SELECT count(*) FROM messages WHERE campaign = 'autumn-sale' AND status = 'pending'",
    )
    .await;
    assert_eq!(campaign_pending, 0, "the campaign was cancelled from the page");
    for shot in ["dashboard.png", "dashboard-detail.png", "dashboard-phone.png"] {
        let size = std::fs::metadata(screenshots.join(shot)).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{shot} written ({size} bytes)");
    }
    drop(harness);
}
