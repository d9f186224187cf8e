//! Priorities: a run claims due messages strictly by lane (high, then normal, then low), first
//! due first inside a lane, in one claim and across runs; a scheduled high message is not due
//! before its time.

use std::time::Duration;

use crate::support;
use dispatcher_core::domain::Priority;
use dispatcher_core::repository::claims;
use sqlx::PgPool;
use support::dispatch::{limits, Setup};
use testkit::receiver::Receiver;
use uuid::Uuid;

const LEASE: Duration = Duration::from_secs(60);

/// `count` messages in `lane`, created now, due `minutes_ago` minutes ago plus one second each
/// (so the order inside the lane is the insert order); their ids in that order.
async fn insert_lane(pool: &PgPool, lane: Priority, count: i32, minutes_ago: i32) -> Vec<Uuid> {
    sqlx::query_scalar(
        "INSERT INTO messages (phone_number, content, priority, next_attempt_at)
         SELECT '+90555' || lpad(i::text, 7, '0'), 'lane ' || $1 || ' ' || i, $1,
                now() - make_interval(mins => $3) + i * interval '1 second'
         FROM generate_series(1, $2) AS i
         RETURNING id",
    )
    .bind(lane.lane())
    .bind(count)
    .bind(minutes_ago)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_claim_takes_high_then_normal_then_low_and_first_due_first_inside_each(pool: PgPool) {
    // The low lane waits longest and the high one least: lanes still come first.
    let low = insert_lane(&pool, Priority::Low, 4, 60).await;
    let normal = insert_lane(&pool, Priority::Normal, 3, 30).await;
    let high = insert_lane(&pool, Priority::High, 2, 1).await;

    let first = claims::claim_batch(&pool, 2, LEASE).await.unwrap();
    assert_eq!(first.iter().map(|row| row.id).collect::<Vec<_>>(), high, "the high lane fills a claim first");
    let rest = claims::claim_batch(&pool, 100, LEASE).await.unwrap();
    let expected: Vec<Uuid> = normal.iter().chain(&low).copied().collect();
    assert_eq!(rest.iter().map(|row| row.id).collect::<Vec<_>>(), expected);
    let lanes: Vec<Priority> = rest.iter().map(|row| row.priority).collect();
    assert_eq!(lanes, [[Priority::Normal; 3].as_slice(), &[Priority::Low; 4]].concat());
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_claim_that_a_higher_lane_fills_takes_nothing_from_the_lanes_below(pool: PgPool) {
    insert_lane(&pool, Priority::Low, 50, 60).await;
    let high = insert_lane(&pool, Priority::High, 10, 1).await;
    let claimed = claims::claim_batch(&pool, 10, LEASE).await.unwrap();
    assert_eq!(claimed.iter().map(|row| row.id).collect::<Vec<_>>(), high);
    let locked_or_taken: i64 = testkit::database::fetch_i64(
        &pool,
        "SELECT count(*) FROM messages WHERE priority = 2 AND status <> 'pending'",
    )
    .await;
    assert_eq!(locked_or_taken, 0, "no low message was taken");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_scheduled_high_message_waits_for_its_time(pool: PgPool) {
    let low = insert_lane(&pool, Priority::Low, 2, 10).await;
    let mut scheduled = support::new_message(1);
    scheduled.priority = Priority::High;
    scheduled.send_at = Some(chrono::Utc::now() + chrono::Duration::hours(1));
    let high = dispatcher_core::repository::messages::insert(&pool, &scheduled).await.unwrap().into_message();

    let claimed = claims::claim_batch(&pool, 10, LEASE).await.unwrap();
    assert_eq!(claimed.iter().map(|row| row.id).collect::<Vec<_>>(), low, "not the high one before its time");
    support::update_one(&pool, &high, "next_attempt_at = now()").await;
    let claimed = claims::claim_batch(&pool, 10, LEASE).await.unwrap();
    assert_eq!(claimed.iter().map(|row| row.id).collect::<Vec<_>>(), [high.id.as_uuid()]);
}

/// A code created while a campaign drains goes in the next run, not after the backlog.
#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_high_message_created_behind_a_low_backlog_goes_in_the_next_run(pool: PgPool) {
    insert_lane(&pool, Priority::Low, 200, 30).await;
    let receiver = Receiver::accepting().await;
    let dispatcher = Setup::default().with_batches(20, 10).build(&pool, &receiver.url);
    dispatcher.run_once(limits()).await.unwrap();

    let mut code = support::new_message(9);
    code.priority = Priority::High;
    let code = dispatcher_core::repository::messages::insert(&pool, &code).await.unwrap().into_message();
    let summary = dispatcher.run_once(limits()).await.unwrap();
    assert_eq!(summary.sent, 20);
    assert_eq!(support::status_of(&pool, &code).await, "sent", "sent in the run after it was created");
    let low_pending = testkit::database::status_count(&pool, "pending").await;
    assert_eq!(low_pending, 200 - 20 - 19, "the rest of that run's batch came from the low lane");
}
