//! Every migration reverses cleanly: down to zero, then up again, leaves a working schema; and
//! what single migrations promise.

use crate::support;
use dispatcher_core::domain::{MessageStatus, PhoneNumber};
use dispatcher_core::repository::listing::{self, MessageFilter};
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn migrating_down_to_zero_and_up_again_leaves_a_working_schema(pool: PgPool) {
    let migrator = &dispatcher_core::db::MIGRATOR;
    assert!(migrator.iter().all(|m| m.migration_type.is_reversible()), "every migration has a .down.sql");

    migrator.run(&pool).await.unwrap();
    support::insert(&pool, 1).await;
    migrator.undo(&pool, 0).await.unwrap();

    let tables = testkit::database::fetch_i64(
        &pool,
        "SELECT count(*) FROM information_schema.tables
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .await;
    assert_eq!(tables, 0, "down to zero removes every table");

    migrator.run(&pool).await.unwrap();
    support::insert(&pool, 2).await;
    assert_eq!(support::count(&pool).await, 1);
    let state: String =
        sqlx::query_scalar("SELECT state FROM scheduler_state").fetch_one(&pool).await.unwrap();
    assert_eq!(state, "running");
}

#[sqlx::test(migrations = false)]
async fn reverting_the_cancelled_status_keeps_cancelled_messages_as_failed(pool: PgPool) {
    let migrator = &dispatcher_core::db::MIGRATOR;
    migrator.run(&pool).await.unwrap();
    let kept = support::insert(&pool, 1).await;
    let cancelled = support::insert(&pool, 2).await;
    support::update_one(&pool, &cancelled, "status = 'cancelled'").await;

    migrator.undo(&pool, 4).await.unwrap();
    let (status, code): (String, Option<String>) =
        sqlx::query_as("SELECT status, error_code FROM messages WHERE id = $1")
            .bind(cancelled.id.as_uuid())
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), code.as_deref()), ("failed", Some("cancelled")));
    assert_eq!(support::status_of(&pool, &kept).await, "pending");
    let refused = sqlx::query("UPDATE messages SET status = 'cancelled' WHERE id = $1")
        .bind(kept.id.as_uuid())
        .execute(&pool)
        .await;
    assert!(refused.is_err(), "the old schema knows no cancelled status");

    migrator.run(&pool).await.unwrap();
    let stats = dispatcher_core::repository::stats::all(&pool).await.unwrap();
    let counts =
        [MessageStatus::Pending, MessageStatus::Failed, MessageStatus::Cancelled].map(|s| stats.count(s));
    assert_eq!((counts, stats.total()), ([1, 1, 0], 2));
}

#[sqlx::test(migrations = false)]
async fn ids_the_database_gives_are_time_ordered_uuid_v7_and_random_again_after_reverting(pool: PgPool) {
    let migrator = &dispatcher_core::db::MIGRATOR;
    migrator.run(&pool).await.unwrap();
    let insert_without_id =
        "INSERT INTO messages (phone_number, content) VALUES ('+905551234567', 'hi') RETURNING id";
    let mut ids = Vec::new();
    for _ in 0..5 {
        let id: uuid::Uuid = sqlx::query_scalar(insert_without_id).fetch_one(&pool).await.unwrap();
        ids.push(id);
        // The next row's id lands in a later millisecond.
        sqlx::query("SELECT pg_sleep(0.002)").execute(&pool).await.unwrap();
    }
    assert!(ids.iter().all(|id| id.get_version_num() == 7), "UUIDv7: {ids:?}");
    assert!(ids.iter().all(|id| id.get_variant() == uuid::Variant::RFC4122), "{ids:?}");
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "ids follow insertion order: {ids:?}");
    let seconds = |id: &uuid::Uuid| id.get_timestamp().unwrap().to_unix().0;
    let now = chrono::Utc::now().timestamp() as u64;
    assert!(
        ids.iter().all(|id| now.abs_diff(seconds(id)) < 60),
        "the id carries the insertion time: {ids:?}"
    );

    migrator.undo(&pool, 5).await.unwrap();
    let id: uuid::Uuid = sqlx::query_scalar(insert_without_id).fetch_one(&pool).await.unwrap();
    assert_eq!(id.get_version_num(), 4);
}

/// The phone lookup moves out of `messages` (migration 9) with every message in it, goes back
/// to an index on `messages` (down) and out again (up), each time without losing or changing a
/// message, its status or its idempotency key; and its triggers keep it exact through inserts,
/// deletes, a phone number changed by hand and TRUNCATE.
#[sqlx::test(migrations = false)]
async fn the_phone_lookup_moves_out_with_every_message_and_back_again(pool: PgPool) {
    let migrator = &dispatcher_core::db::MIGRATOR;
    migrator.run(&pool).await.unwrap();
    migrator.undo(&pool, 8).await.unwrap();
    // At version 8: messages in several statuses, one with an idempotency key.
    testkit::messages::insert_pending(&pool, 50).await;
    sqlx::raw_sql(
        "UPDATE messages SET status = 'sent', sent_at = now(), next_attempt_at = NULL, webhook_message_id = 'w'
         WHERE id IN (SELECT id FROM messages ORDER BY id LIMIT 20);
         UPDATE messages SET status = 'cancelled' WHERE id IN (SELECT id FROM messages WHERE status = 'pending' LIMIT 5);
         UPDATE messages SET idempotency_key = 'campaign-7' WHERE id = (SELECT id FROM messages ORDER BY id DESC LIMIT 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let snapshot = || {
        let pool = pool.clone();
        async move {
            let every_message = "SELECT string_agg(concat_ws('/', id, phone_number, created_at, status, idempotency_key), ',' ORDER BY id)
                                 FROM messages";
            sqlx::query_scalar::<_, String>(every_message).fetch_one(&pool).await.unwrap()
        }
    };
    let at_8 = snapshot().await;

    migrator.run(&pool).await.unwrap();
    assert_eq!(snapshot().await, at_8, "up changes no message");
    assert_lookup_is_exact(&pool).await;
    migrator.undo(&pool, 8).await.unwrap();
    assert_eq!(snapshot().await, at_8, "down changes no message");
    let relation = |name: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, Option<String>>("SELECT to_regclass($1)::text")
                .bind(name)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert!(relation("messages_phone_created_idx").await.is_some(), "down restores the index");
    assert!(relation("message_phones").await.is_none(), "down removes the table");
    migrator.run(&pool).await.unwrap();
    assert_eq!(snapshot().await, at_8, "up again changes no message");
    assert_lookup_is_exact(&pool).await;
    assert!(relation("messages_phone_created_idx").await.is_none());

    support::insert(&pool, 1).await;
    sqlx::raw_sql(
        "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE status = 'sent' LIMIT 3);
         UPDATE messages SET phone_number = '+905559999999' WHERE id = (SELECT id FROM messages ORDER BY id LIMIT 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_lookup_is_exact(&pool).await;
    let filter = MessageFilter {
        phone_number: Some(PhoneNumber::parse("+905559999999").unwrap()),
        ..MessageFilter::default()
    };
    assert_eq!(
        listing::list(&pool, &filter, None, 10).await.unwrap().items.len(),
        1,
        "listed by its new number"
    );
    sqlx::query("TRUNCATE messages").execute(&pool).await.unwrap();
    assert_lookup_is_exact(&pool).await;
}

/// `message_phones` holds exactly each message's phone number, created_at and id.
async fn assert_lookup_is_exact(pool: &PgPool) {
    let differences = testkit::database::fetch_i64(
        pool,
        "SELECT count(*) FROM (
             (SELECT phone_number, created_at, id FROM messages EXCEPT ALL SELECT * FROM message_phones)
             UNION ALL
             (SELECT * FROM message_phones EXCEPT ALL SELECT phone_number, created_at, id FROM messages)
         ) AS differences",
    )
    .await;
    assert_eq!(differences, 0, "message_phones differs from messages in {differences} rows");
}

/// The attempt log's migration, with data: messages written before it get no attempts; down
/// drops the log and the request counter and keeps every message; up again logs anew.
#[sqlx::test(migrations = false)]
async fn the_attempt_log_migrates_down_and_up_with_data_and_invents_nothing(pool: PgPool) {
    let migrator = &dispatcher_core::db::MIGRATOR;
    migrator.run(&pool).await.unwrap();
    migrator.undo(&pool, 9).await.unwrap();
    // Written as the schema of then had it (the repository writes today's columns).
    let older: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO messages (phone_number, content, status, attempts, sent_at, next_attempt_at, webhook_message_id)
         VALUES ('+905550000001', 'sent before the log', 'sent', 2, now(), NULL, 'w') RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let older = dispatcher_core::domain::MessageId::from(older);

    migrator.run(&pool).await.unwrap();
    let log = dispatcher_core::repository::attempts::of_message(&pool, older).await.unwrap();
    assert_eq!(log, Some(vec![]), "a message sent before the log has no invented attempts");
    let logged_with_it = support::insert(&pool, 2).await;
    let claimed =
        dispatcher_core::repository::claims::claim_batch(&pool, 1, std::time::Duration::from_secs(60))
            .await
            .unwrap();
    dispatcher_core::dispatch::outcome::record(&pool, &support::sent_records(&claimed)).await.unwrap();
    let attempts = dispatcher_core::repository::attempts::of_message(&pool, logged_with_it.id).await.unwrap();
    assert_eq!(attempts.map(|log| log.len()), Some(1));

    migrator.undo(&pool, 9).await.unwrap();
    assert_eq!(support::count(&pool).await, 2, "reverting keeps every message");
    let log_tables = testkit::database::fetch_i64(
        &pool,
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'message_attempts'",
    )
    .await;
    assert_eq!(log_tables, 0);
    migrator.run(&pool).await.unwrap();
    sqlx::query("DELETE FROM messages").execute(&pool).await.unwrap();
    assert_eq!(testkit::database::fetch_i64(&pool, "SELECT count(*) FROM message_attempts").await, 0);
}

#[sqlx::test(migrations = false)]
async fn reverting_receipts_and_expiry_keeps_expired_messages_as_failed(pool: PgPool) {
    let migrator = &dispatcher_core::db::MIGRATOR;
    migrator.run(&pool).await.unwrap();
    let expired = support::insert(&pool, 1).await;
    support::update_one(&pool, &expired, "status = 'expired', error_code = 'expired', expires_at = now()")
        .await;
    let delivered = support::insert(&pool, 2).await;
    support::update_one(&pool, &delivered, "status = 'sent', webhook_message_id = 'w2'").await;
    let receipt = dispatcher_core::repository::receipts::Receipt {
        provider_message_id: "w2".into(),
        status: dispatcher_core::domain::DeliveryStatus::Delivered,
        at: chrono::Utc::now(),
        error_code: None,
    };
    dispatcher_core::repository::receipts::record(&pool, &[receipt]).await.unwrap();

    migrator.undo(&pool, 10).await.unwrap();
    assert_eq!(support::count(&pool).await, 2, "reverting keeps every message");
    let (status, code): (String, Option<String>) =
        sqlx::query_as("SELECT status, error_code FROM messages WHERE id = $1")
            .bind(expired.id.as_uuid())
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), code.as_deref()), ("failed", Some("expired")));
    let receipt_tables = testkit::database::fetch_i64(
        &pool,
        "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('unmatched_receipts', 'delivery_counts')",
    )
    .await;
    assert_eq!(receipt_tables, 0);

    migrator.run(&pool).await.unwrap();
    let again = support::insert(&pool, 3).await;
    assert_eq!(again.status, MessageStatus::Pending);
    assert!(again.delivery().is_none());
}

#[sqlx::test(migrations = false)]
async fn the_due_order_index_goes_and_comes_back_with_every_message_claimable(pool: PgPool) {
    let migrator = &dispatcher_core::db::MIGRATOR;
    migrator.run(&pool).await.unwrap();
    let due = support::insert(&pool, 1).await;
    let later = support::insert(&pool, 2).await;
    support::update_one(&pool, &later, "next_attempt_at = now() + interval '1 hour'").await;
    let index_count = || async {
        testkit::database::fetch_i64(
            &pool,
            "SELECT count(*) FROM pg_indexes WHERE indexname IN ('messages_due_idx', 'messages_due_lane_idx')",
        )
        .await
    };
    assert_eq!(index_count().await, 1);

    migrator.undo(&pool, 11).await.unwrap();
    assert_eq!(index_count().await, 0);
    assert_eq!(support::count(&pool).await, 2, "reverting keeps every message");
    migrator.run(&pool).await.unwrap();
    assert_eq!(index_count().await, 1);
    let claimed =
        dispatcher_core::repository::claims::claim_batch(&pool, 10, std::time::Duration::from_secs(60))
            .await
            .unwrap();
    assert_eq!(claimed.iter().map(|row| row.id).collect::<Vec<_>>(), [due.id.as_uuid()], "the due one only");
}

/// 0013 adds the breaker's window and `awaits_receiver`, which it sets on the pending retries
/// that were already waiting for the receiver (their attempt not counted), so the next close
/// releases them too; reverting keeps every message.
#[sqlx::test(migrations = false)]
async fn the_breaker_window_marks_retries_already_waiting_for_the_receiver_and_reverts(pool: PgPool) {
    let migrator = &dispatcher_core::db::MIGRATOR;
    migrator.run(&pool).await.unwrap();
    migrator.undo(&pool, 12).await.unwrap();
    let probe = insert_as_of_old(&pool, 1).await;
    update_by_id(
        &pool,
        probe,
        "next_attempt_at = now() + interval '20 minutes', error_code = 'http_503',
         last_error = 'HTTP 503 (receiver breaker open: attempt not counted)'",
    )
    .await;
    let own = insert_as_of_old(&pool, 2).await;
    update_by_id(&pool, own, "next_attempt_at = now() + interval '5 minutes', last_error = 'HTTP 503'").await;
    insert_as_of_old(&pool, 3).await;

    migrator.run(&pool).await.unwrap();
    let waiting: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT id FROM messages WHERE awaits_receiver").fetch_all(&pool).await.unwrap();
    assert_eq!(waiting, [probe]);
    let (bits, results): (i64, i32) =
        sqlx::query_as("SELECT window_bits, window_results FROM receiver_breaker")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((bits, results), (0, 0), "the window starts empty");

    migrator.undo(&pool, 12).await.unwrap();
    assert_eq!(support::count(&pool).await, 3, "reverting keeps every message");
    migrator.run(&pool).await.unwrap();
}

/// A message inserted with the columns every schema version has (as the code of that version
/// would); its id.
async fn insert_as_of_old(pool: &PgPool, n: i32) -> uuid::Uuid {
    sqlx::query_scalar(
        "INSERT INTO messages (phone_number, content) VALUES ('+90555' || lpad($1::text, 7, '0'), 'message ' || $1)
         RETURNING id",
    )
    .bind(n)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn update_by_id(pool: &PgPool, id: uuid::Uuid, set: &str) {
    sqlx::query(&format!("UPDATE messages SET {set} WHERE id = $1")).bind(id).execute(pool).await.unwrap();
}

/// 0014 adds the lanes and campaigns: a deployed queue's pending messages all become `normal`,
/// with no campaign, and are claimed in the order the claim before took them (first due
/// first); reverting keeps every message.
#[sqlx::test(migrations = false)]
async fn the_lanes_keep_a_deployed_queues_order_and_revert(pool: PgPool) {
    let migrator = &dispatcher_core::db::MIGRATOR;
    migrator.run(&pool).await.unwrap();
    migrator.undo(&pool, 13).await.unwrap();
    let mut ids = Vec::new();
    for n in 1..=40 {
        ids.push(insert_as_of_old(&pool, n).await);
    }
    // Due at scattered times in the past: the order is the due time, not the creation.
    for (i, id) in ids.iter().enumerate() {
        let minutes_ago = (i * 17) % 40;
        update_by_id(&pool, *id, &format!("next_attempt_at = now() - interval '{minutes_ago} minutes'"))
            .await;
    }
    let before: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT id FROM messages WHERE status = 'pending' ORDER BY next_attempt_at, created_at, id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();

    migrator.run(&pool).await.unwrap();
    let lanes: Vec<(i16, Option<String>)> =
        sqlx::query_as("SELECT DISTINCT priority, campaign FROM messages").fetch_all(&pool).await.unwrap();
    assert_eq!(lanes, [(1, None)], "every existing message is normal, with no campaign");
    let claimed =
        dispatcher_core::repository::claims::claim_batch(&pool, 100, std::time::Duration::from_secs(60))
            .await
            .unwrap();
    assert_eq!(claimed.iter().map(|row| row.id).collect::<Vec<_>>(), before);

    migrator.undo(&pool, 13).await.unwrap();
    assert_eq!(support::count(&pool).await, 40, "reverting keeps every message");
    migrator.run(&pool).await.unwrap();
}

/// 0015 adds `counted` to the attempt log: every logged request counted before it, except the
/// last request of a message whose last error says it was not counted; reverting keeps every
/// attempt.
#[sqlx::test(migrations = false)]
async fn the_uncounted_flag_marks_the_requests_an_outage_did_not_count_and_reverts(pool: PgPool) {
    let migrator = &dispatcher_core::db::MIGRATOR;
    migrator.run(&pool).await.unwrap();
    migrator.undo(&pool, 14).await.unwrap();
    let held_back = insert_as_of_old(&pool, 1).await;
    let own = insert_as_of_old(&pool, 2).await;
    for (id, last_error) in
        [(held_back, "HTTP 503 (receiver breaker open: attempt not counted)"), (own, "HTTP 503")]
    {
        update_by_id(&pool, id, &format!("request_count = 2, attempts = 1, last_error = '{last_error}'"))
            .await;
        for number in 1..=2 {
            sqlx::query(
                "INSERT INTO message_attempts (message_id, number, started_at, duration_ms, status_code, outcome)
                 VALUES ($1, $2, now(), 5, 503, 'retry')",
            )
            .bind(id)
            .bind(number)
            .execute(&pool)
            .await
            .unwrap();
        }
    }

    migrator.run(&pool).await.unwrap();
    let uncounted: Vec<(uuid::Uuid, i32)> =
        sqlx::query_as("SELECT message_id, number FROM message_attempts WHERE NOT counted")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(uncounted, [(held_back, 2)]);

    migrator.undo(&pool, 14).await.unwrap();
    let kept = testkit::database::fetch_i64(&pool, "SELECT count(*) FROM message_attempts").await;
    assert_eq!(kept, 4, "reverting keeps every attempt");
    migrator.run(&pool).await.unwrap();
}
