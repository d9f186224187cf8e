//! Claiming and recording against a real PostgreSQL: FIFO, due times, leases,
//! concurrent claimers and stale versions.

use std::collections::HashSet;
use std::time::Duration;

use crate::support;
use chrono::Utc;
use dispatcher_core::dispatch::outcome::{self as outcomes, Outcome, OutcomeKind, OutcomeRecord};
use dispatcher_core::domain::{ErrorCode, Message, MessageId};
use dispatcher_core::repository::claim_cursor::ClaimCursor;
use dispatcher_core::repository::claims;
use sqlx::PgPool;
use support::{insert, set_created_at, status_of};

const LEASE: Duration = Duration::from_secs(60);

/// Messages 1 and 2, pending and due, the first the older.
async fn two_pending(pool: &PgPool) -> (Message, Message) {
    (insert(pool, 1).await, insert(pool, 2).await)
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn claims_come_oldest_first(pool: PgPool) {
    let inserted = support::insert_each(&pool, 0..5).await;
    // Make insertion order and age disagree: the last inserted is the oldest.
    let base = Utc::now() - chrono::Duration::minutes(10);
    for (i, message) in inserted.iter().rev().enumerate() {
        set_created_at(&pool, message, base + chrono::Duration::seconds(i as i64)).await;
    }

    let first = claims::claim_batch(&pool, 2, LEASE).await.unwrap();
    let second = claims::claim_batch(&pool, 10, LEASE).await.unwrap();
    let order: Vec<_> = first.iter().chain(&second).map(|row| row.id).collect();
    let expected: Vec<_> = inserted.iter().rev().map(|m| m.id.as_uuid()).collect();
    assert_eq!(order, expected);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_claim_marks_processing_with_a_lease_one_more_attempt_and_a_new_version(pool: PgPool) {
    let message = insert(&pool, 1).await;
    let claimed = claims::claim_batch(&pool, 1, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!((claimed[0].attempts, claimed[0].version), (1, 1));
    let (status, locked_until): (String, chrono::DateTime<Utc>) =
        sqlx::query_as("SELECT status, locked_until FROM messages WHERE id = $1")
            .bind(message.id.as_uuid())
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(status, "processing");
    let lease_left = locked_until - Utc::now();
    assert!(lease_left > chrono::Duration::seconds(55) && lease_left <= chrono::Duration::seconds(60));
    assert!(claims::claim_batch(&pool, 1, LEASE).await.unwrap().is_empty(), "held by the claim");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_message_due_in_the_future_is_not_claimed(pool: PgPool) {
    let (later, now) = two_pending(&pool).await;
    support::update_one(&pool, &later, "next_attempt_at = now() + interval '5 minutes'").await;
    let claimed = claims::claim_batch(&pool, 10, LEASE).await.unwrap();
    assert_eq!(claimed.iter().map(|r| r.id).collect::<Vec<_>>(), [now.id.as_uuid()]);
    assert_eq!(status_of(&pool, &later).await, "pending");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn an_expired_claim_is_reclaimed_and_an_unexpired_one_is_not(pool: PgPool) {
    let (expired, held) = two_pending(&pool).await;
    let first = claims::claim_batch(&pool, 2, LEASE).await.unwrap();
    assert_eq!(first.len(), 2);
    support::update_one(&pool, &expired, "locked_until = now() - interval '1 second'").await;

    let again = claims::claim_batch(&pool, 10, LEASE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, expired.id.as_uuid());
    assert_eq!((again[0].attempts, again[0].version), (2, 2));
    assert_eq!(status_of(&pool, &held).await, "processing");
}

/// Claims 7 at a time until nothing is left; the ids it got. Within one claim, FIFO holds.
async fn claim_until_none_left(pool: PgPool) -> Vec<uuid::Uuid> {
    let mut mine = Vec::new();
    loop {
        let batch = claims::claim_batch(&pool, 7, LEASE).await.unwrap();
        if batch.is_empty() {
            return mine;
        }
        assert!(batch.windows(2).all(|w| w[0].created_at <= w[1].created_at));
        mine.extend(batch.into_iter().map(|row| row.id));
    }
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn eight_concurrent_claimers_take_each_of_1000_rows_exactly_once(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 1000).await;
    let claimers = (0..8).map(|_| claim_until_none_left(pool.clone()));
    let all: Vec<_> = testkit::concurrently(claimers).await.into_iter().flatten().collect();
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 1000, "every row claimed once");
    assert_eq!(unique.len(), 1000, "no row claimed twice");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn recording_with_a_stale_version_changes_nothing(pool: PgPool) {
    let message = insert(&pool, 1).await;
    let first = claims::claim_batch(&pool, 1, LEASE).await.unwrap().remove(0);
    // The lease runs out and another run reclaims the message.
    sqlx::query("UPDATE messages SET locked_until = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    let second = claims::claim_batch(&pool, 1, LEASE).await.unwrap().remove(0);
    assert_eq!(second.version, first.version + 1);

    let before: (String, i64, i32) = row_state(&pool, message.id).await;
    let id = message.id;
    let sent = Outcome::Sent { webhook_message_id: "late".into(), response: None };
    let retry = Outcome::Retry {
        next_attempt_at: Utc::now(),
        counted: true,
        error_code: ErrorCode::Http(500),
        last_error: "boom".into(),
        response: None,
    };
    let failed =
        Outcome::Failed { error_code: ErrorCode::Http(400), last_error: "no".into(), response: None };
    for outcome in [sent, retry, failed, Outcome::Released] {
        let stale_record = OutcomeRecord { hold: first.hold(), outcome, request: None };
        assert!(outcomes::record(&pool, &[stale_record]).await.unwrap().is_empty());
    }
    assert_eq!(row_state(&pool, message.id).await, before);

    // The current claim still records.
    let current = Outcome::Sent { webhook_message_id: "ok".into(), response: None };
    let applied =
        outcomes::record(&pool, &[OutcomeRecord { hold: second.hold(), outcome: current, request: None }])
            .await
            .unwrap();
    assert_eq!(applied.iter().map(|a| (a.id, a.kind)).collect::<Vec<_>>(), [(id, OutcomeKind::Sent)]);
    assert_eq!(status_of(&pool, &message).await, "sent");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn retry_sets_the_due_time_and_release_hands_the_attempt_back(pool: PgPool) {
    let (a, b) = two_pending(&pool).await;
    let claimed = claims::claim_batch(&pool, 2, LEASE).await.unwrap();
    let due = Utc::now() + chrono::Duration::seconds(30);
    let retry = Outcome::Retry {
        next_attempt_at: due,
        counted: true,
        error_code: ErrorCode::Http(503),
        last_error: "HTTP 503".into(),
        response: Some("busy".into()),
    };
    // One statement for both outcomes.
    let mut records = support::records(&claimed[..1], retry);
    records.extend(support::released_records(&claimed[1..]));
    outcomes::record(&pool, &records).await.unwrap();

    let a = dispatcher_core::repository::messages::get(&pool, a.id).await.unwrap().unwrap();
    assert_eq!(a.status.as_str(), "pending");
    assert_eq!(a.attempts, 1);
    assert_eq!(a.error_code.as_deref(), Some("http_503"));
    assert!((a.next_attempt_at.unwrap() - due).num_milliseconds().abs() < 1);

    let b = dispatcher_core::repository::messages::get(&pool, b.id).await.unwrap().unwrap();
    assert_eq!((b.status.as_str(), b.attempts), ("pending", 0));
    assert!(b.next_attempt_at.unwrap() <= Utc::now());
    // Released work is claimable again at once; the retried one is not yet due.
    let next = claims::claim_batch(&pool, 10, LEASE).await.unwrap();
    assert_eq!(next.iter().map(|r| r.id).collect::<Vec<_>>(), [b.id.as_uuid()]);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_claimed_row_that_breaks_the_rules_is_failed_instead_of_blocking_the_queue(pool: PgPool) {
    // Written by another tool: within the schema's ceiling, over the configured limit.
    let too_long: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO messages (phone_number, content, created_at)
         VALUES ('+905551111111', repeat('x', 200), now() - interval '1 hour') RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let good = insert(&pool, 1).await;

    let claims =
        dispatcher_core::dispatch::claim::claim_valid_batch(&pool, &ClaimCursor::new(), 10, LEASE, 160)
            .await
            .unwrap();
    assert_eq!(claims.claims.iter().map(|c| c.id).collect::<Vec<_>>(), [good.id]);
    assert_eq!(claims.rejected, 1);

    let rejected =
        dispatcher_core::repository::messages::get(&pool, MessageId::from(too_long)).await.unwrap().unwrap();
    assert_eq!(rejected.status.as_str(), "failed");
    assert_eq!(rejected.error_code.as_deref(), Some("invalid_content"));
    assert_eq!(rejected.last_error.as_deref(), Some("content has 200 characters; the limit is 160"));
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_message_reclaimed_past_its_attempts_ends_failed(pool: PgPool) {
    let message = insert(&pool, 1).await;
    // Three runs crashed holding it: attempts already at the limit.
    sqlx::query(
        "UPDATE messages SET attempts = 3, status = 'processing', locked_until = now() - interval '1 second'",
    )
    .execute(&pool)
    .await
    .unwrap();
    let batch =
        dispatcher_core::dispatch::claim::claim_valid_batch(&pool, &ClaimCursor::new(), 10, LEASE, 160)
            .await
            .unwrap();
    assert!(batch.claims.is_empty());
    assert_eq!(batch.rejected, 1);
    let failed = dispatcher_core::repository::messages::get(&pool, message.id).await.unwrap().unwrap();
    assert_eq!(failed.error_code.as_deref(), Some("attempts_exhausted"));
    assert_eq!(failed.status.as_str(), "failed");
}

async fn row_state(pool: &PgPool, id: MessageId) -> (String, i64, i32) {
    sqlx::query_as("SELECT status, version, attempts FROM messages WHERE id = $1")
        .bind(id.as_uuid())
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The outcome statement is planned for its own arrays, never kept as a prepared statement:
/// kept, PostgreSQL switches it to one generic plan after five calls, a nested loop that reads
/// the whole UNNEST again for every row (BENCHMARKS.md). Each outcome runs seven times here, on
/// one connection, and the statement is not left prepared on it.
#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_outcome_statement_is_planned_for_each_call_not_kept_prepared(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 40).await;
    let mut conn = pool.acquire().await.unwrap();
    for _ in 0..7 {
        let claimed = claims::claim_batch(&mut *conn, 5, LEASE).await.unwrap();
        let later = Utc::now() + chrono::Duration::hours(1);
        let mut records = support::sent_records(&claimed[..1]);
        records.extend(support::retry_records(&claimed[1..2], later));
        records.extend(support::failed_records(&claimed[2..3]));
        records.extend(support::released_records(&claimed[3..4]));
        records.extend(support::expired_records(&claimed[4..]));
        let applied = outcomes::record(&mut *conn, &records).await.unwrap();
        let kinds: Vec<OutcomeKind> = applied.iter().map(|a| a.kind).collect();
        assert_eq!(kinds.len(), 5);
        assert!(OutcomeKind::ALL.iter().all(|kind| kinds.contains(kind)), "{kinds:?}");
    }
    let kept: Vec<String> =
        // Spelled in two halves, so that this statement does not find itself.
        sqlx::query_scalar("SELECT statement FROM pg_prepared_statements WHERE strpos(statement, 'UN' || 'NEST') > 0")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    assert!(kept.is_empty(), "kept as prepared statements: {kept:#?}");
}
