//! Queue health: a claim's cost depends on the due work only. Checked with EXPLAIN (ANALYZE,
//! BUFFERS, FORMAT JSON) of the very statement that runs, in rows and buffers, not in time:
//! rows that are not due are never read, and under a snapshot held open elsewhere a claim
//! walks only what was claimed since its cursor's last claim, not everything claimed since the
//! snapshot. Plus the order (first due, first claimed), concurrency and lease recovery with
//! cursors, and that a message behind a cursor is found by the full pass.

use std::collections::HashSet;
use std::time::Duration;

use dispatcher_core::dispatch::outcome as outcomes;
use dispatcher_core::repository::claim_cursor::ClaimCursor;
use dispatcher_core::repository::claims::{self, ClaimFrom, CLAIM_SQL};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

const LEASE: Duration = Duration::from_secs(60);

/// `n` pending messages due in a day, created before anything else (a scheduled campaign).
async fn insert_scheduled(pool: &PgPool, n: i32) {
    sqlx::query(
        "INSERT INTO messages (phone_number, content, created_at, next_attempt_at)
         SELECT '+90533' || lpad(i::text, 7, '0'), 'tomorrow ' || i, now() - interval '2 days' + i * interval '1 ms',
                now() + interval '1 day'
         FROM generate_series(1, $1) AS i",
    )
    .bind(n)
    .execute(pool)
    .await
    .unwrap();
}

/// What EXPLAIN ANALYZE says the claim from `from` did, in a transaction rolled back after.
struct Explained {
    /// Rows read and thrown away by a filter, summed over the plan.
    rows_removed: u64,
    /// Entries of the due index the scans read, live or not (dead ones cost a heap visit each).
    due_entries_read: i64,
    /// Rows the claim returned.
    claimed: u64,
}

async fn explain_claim(conn: &mut PgConnection, limit: u32, from: ClaimFrom) -> Explained {
    let arguments = claims::claim_arguments(limit, LEASE, from).unwrap();
    let sql = format!("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {CLAIM_SQL}");
    // The counter below holds what this backend has not reported yet: report the rest first.
    sqlx::raw_sql("SELECT pg_stat_force_next_flush()").execute(&mut *conn).await.unwrap();
    sqlx::raw_sql("BEGIN").execute(&mut *conn).await.unwrap();
    let plan: Value = sqlx::query_scalar_with(&sql, arguments).fetch_one(&mut *conn).await.unwrap();
    let due_entries_read: i64 =
        sqlx::query_scalar("SELECT pg_stat_get_xact_tuples_returned('messages_due_lane_idx'::regclass)")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await.unwrap();
    let top = &plan[0]["Plan"];
    let mut rows_removed = 0;
    sum_removed(top, &mut rows_removed);
    Explained { rows_removed, due_entries_read, claimed: top["Actual Rows"].as_u64().unwrap() }
}

fn sum_removed(node: &Value, total: &mut u64) {
    for key in ["Rows Removed by Filter", "Rows Removed by Index Recheck"] {
        *total += node[key].as_u64().unwrap_or(0);
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        sum_removed(child, total);
    }
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_claim_reads_none_of_the_scheduled_messages_created_before_the_due_ones(pool: PgPool) {
    insert_scheduled(&pool, 20_000).await;
    testkit::messages::insert_pending(&pool, 300).await;
    sqlx::query("VACUUM ANALYZE messages").execute(&pool).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let full_pass = explain_claim(&mut conn, 100, ClaimFrom::everything()).await;
    assert_eq!(full_pass.claimed, 100);
    // The FIFO layout read the 20,000 scheduled rows and filtered each out ("Rows Removed by
    // Filter: 20000").
    assert_eq!(full_pass.rows_removed, 0, "no row read and thrown away");
    assert!(full_pass.due_entries_read <= 101, "{} due index entries read", full_pass.due_entries_read);
    let claimed = claims::claim_batch(&pool, 1000, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 300, "the due messages, and only them");
}

/// The rule holds per lane: a claim the high lane fills reads nothing of a low backlog, nor of
/// the high messages scheduled for later.
#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_claim_reads_nothing_of_a_lower_lanes_backlog_nor_of_its_own_lanes_later_messages(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 20_000).await;
    sqlx::query("UPDATE messages SET priority = 2").execute(&pool).await.unwrap();
    insert_scheduled(&pool, 5_000).await;
    sqlx::query("UPDATE messages SET priority = 0 WHERE priority = 1").execute(&pool).await.unwrap();
    sqlx::query(
        "INSERT INTO messages (phone_number, content, priority)
         SELECT '+90544' || lpad(i::text, 7, '0'), 'code ' || i, 0 FROM generate_series(1, 100) AS i",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("VACUUM ANALYZE messages").execute(&pool).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let high_only = explain_claim(&mut conn, 100, ClaimFrom::everything()).await;
    assert_eq!((high_only.claimed, high_only.rows_removed), (100, 0));
    assert!(high_only.due_entries_read <= 101, "{} due index entries read", high_only.due_entries_read);
    // With room left, the low lane gives only what is left of the batch.
    let with_room = explain_claim(&mut conn, 150, ClaimFrom::everything()).await;
    assert_eq!((with_room.claimed, with_room.rows_removed), (150, 0));
    assert!(with_room.due_entries_read <= 152, "{} due index entries read", with_room.due_entries_read);
}

/// `n` pending messages that arrived over the last hour, each due as it arrived, and another
/// session's snapshot held open on them (returned: roll it back when done): while it is open,
/// no claimed row's old index entry can be removed.
async fn queue_under_a_held_snapshot(pool: &PgPool, n: usize) -> sqlx::pool::PoolConnection<sqlx::Postgres> {
    testkit::messages::insert_pending(pool, n).await;
    sqlx::query("UPDATE messages SET next_attempt_at = created_at").execute(pool).await.unwrap();
    sqlx::query("VACUUM ANALYZE messages").execute(pool).await.unwrap();
    let mut holder = pool.acquire().await.unwrap();
    sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM messages")
        .execute(&mut *holder)
        .await
        .unwrap();
    holder
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn under_a_held_snapshot_a_claim_walks_only_what_was_claimed_since_its_last(pool: PgPool) {
    let mut holder = queue_under_a_held_snapshot(&pool, 12_000).await;
    let cursor = ClaimCursor::new();
    let mut conn = pool.acquire().await.unwrap();
    for _ in 0..100 {
        assert_eq!(cursor.claim(&mut *conn, 100, LEASE).await.unwrap().len(), 100);
    }
    let from_cursor = explain_claim(&mut conn, 100, cursor.next(LEASE)).await;
    let from_the_front = explain_claim(&mut conn, 100, ClaimFrom::everything()).await;
    sqlx::raw_sql("ROLLBACK").execute(&mut *holder).await.unwrap();
    assert_eq!((from_cursor.claimed, from_the_front.claimed), (100, 100));
    // From the front, the scan reads the 10,000 entries claimed under the snapshot one by one,
    // a heap visit each; from the cursor, only the last claim's 100 and the 100 it takes.
    assert!(
        from_the_front.due_entries_read > 10_000,
        "{} entries from the front",
        from_the_front.due_entries_read
    );
    assert!(from_cursor.due_entries_read <= 201, "{} entries from the cursor", from_cursor.due_entries_read);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn messages_are_claimed_first_due_first_and_by_creation_among_equals(pool: PgPool) {
    let messages = crate::support::insert_each(&pool, 1..=4).await;
    // 1 was created first but became due last; 3 and 4 became due together, 3 created first.
    for (message, due) in messages.iter().zip(["-1 minute", "-3 minutes", "-2 minutes", "-2 minutes"]) {
        crate::support::update_one(&pool, message, &format!("next_attempt_at = now() + interval '{due}'"))
            .await;
    }
    let claimed = claims::claim_batch(&pool, 10, LEASE).await.unwrap();
    let order: Vec<Uuid> = claimed.iter().map(|row| row.id).collect();
    let expected: Vec<Uuid> = [1, 2, 3, 0].iter().map(|&i| messages[i].id.as_uuid()).collect();
    assert_eq!(order, expected);
}

/// Eight processes, each with its own cursor, and two runs sharing one: every row once.
#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn cursors_of_eight_concurrent_claimers_take_each_of_2000_rows_exactly_once(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 2000).await;
    let shared = std::sync::Arc::new(ClaimCursor::new());
    let claimers = (0..8).map(|n| {
        let pool = pool.clone();
        let cursor = if n < 2 { shared.clone() } else { std::sync::Arc::new(ClaimCursor::new()) };
        async move {
            let mut ids = Vec::new();
            loop {
                let rows = cursor.claim(&pool, 50, LEASE).await.unwrap();
                if rows.is_empty() {
                    return ids;
                }
                ids.extend(rows.into_iter().map(|row| row.id));
            }
        }
    });
    let all: Vec<Uuid> = testkit::concurrently(claimers).await.into_iter().flatten().collect();
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!((all.len(), unique.len()), (2000, 2000), "every row claimed, none twice");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_lapsed_lease_is_taken_by_a_cursor_once_it_looks_for_lapsed_leases(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 3).await;
    let crashed = claims::claim_batch(&pool, 1, Duration::from_millis(200)).await.unwrap().remove(0);
    let cursor = ClaimCursor::with_periods(Duration::from_secs(3600), Duration::from_millis(400));
    let first = cursor.claim(&pool, 1, LEASE).await.unwrap(); // the full pass: the lease still holds
    assert_ne!(first[0].id, crashed.id);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let reclaimed = cursor.claim(&pool, 1, LEASE).await.unwrap();
    assert_eq!(reclaimed[0].id, crashed.id, "the lapsed claim comes first: it was due first");
    assert_eq!(reclaimed[0].version, crashed.version + 1);
    assert_eq!(reclaimed[0].attempts, 2);
}

/// A message put behind the cursor (by hand here; a write that took longer than the margin in
/// life) is not lost: the next full pass claims it.
#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_message_behind_the_cursor_is_claimed_by_the_next_full_pass(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 10).await;
    let cursor = ClaimCursor::with_periods(Duration::from_millis(600), Duration::from_secs(3600));
    let taken = cursor.claim(&pool, 5, LEASE).await.unwrap();
    assert_eq!(taken.len(), 5);
    let straggler = crate::support::insert(&pool, 99).await;
    crate::support::update_one(&pool, &straggler, "next_attempt_at = now() - interval '1 day'").await;
    let rest = cursor.claim(&pool, 10, LEASE).await.unwrap();
    assert_eq!(rest.len(), 5, "the other five");
    assert!(rest.iter().all(|row| row.id != straggler.id.as_uuid()));
    assert!(cursor.claim(&pool, 10, LEASE).await.unwrap().is_empty(), "not seen until the full pass");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let found = cursor.claim(&pool, 10, LEASE).await.unwrap();
    assert_eq!(found.iter().map(|row| row.id).collect::<Vec<_>>(), [straggler.id.as_uuid()]);
}

/// Claims handed back unsent (time short, a shutdown, the breaker) keep their place: the
/// process's next claim takes them first, though its cursor had moved past them.
#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn claims_handed_back_keep_their_place_in_the_order(pool: PgPool) {
    testkit::messages::insert_pending(&pool, 6).await;
    let cursor = ClaimCursor::new();
    let first_run = cursor.claim(&pool, 2, LEASE).await.unwrap();
    let second_run = cursor.claim(&pool, 2, LEASE).await.unwrap();
    outcomes::record(&pool, &crate::support::released_records(&first_run)).await.unwrap();
    cursor.hand_back(first_run[0].priority, first_run[0].position());
    let next = cursor.claim(&pool, 3, LEASE).await.unwrap();
    let expected: Vec<Uuid> = first_run.iter().map(|row| row.id).chain(std::iter::once(next[2].id)).collect();
    assert_eq!(next.iter().map(|row| row.id).collect::<Vec<_>>(), expected, "the handed back two first");
    assert!(next[2].position() > second_run[1].position(), "then the next in line");
    assert!(next[..2]
        .iter()
        .zip(&first_run)
        .all(|(again, before)| again.next_attempt_at == before.next_attempt_at));
}

/// Index entries of `index` this connection's statements read since the last report.
async fn entries_read(conn: &mut PgConnection, index: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT pg_stat_get_xact_tuples_returned('{index}'::regclass)"))
        .fetch_one(&mut *conn)
        .await
        .unwrap()
}

/// The outcome statement looks each row up by primary key. Statistics say almost no message is
/// `processing`, so the planner would rather scan the partial index of processing rows, which
/// under a held snapshot holds every row claimed since: 5,000 here, read by each record.
#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn under_a_held_snapshot_recording_reads_no_index_of_processing_rows(pool: PgPool) {
    let mut holder = queue_under_a_held_snapshot(&pool, 6_000).await;
    let cursor = ClaimCursor::new();
    let mut conn = pool.acquire().await.unwrap();
    for _ in 0..50 {
        let claimed = cursor.claim(&mut *conn, 100, LEASE).await.unwrap();
        outcomes::record(&mut *conn, &crate::support::sent_records(&claimed)).await.unwrap();
    }
    let claimed = cursor.claim(&mut *conn, 100, LEASE).await.unwrap();
    sqlx::raw_sql("SELECT pg_stat_force_next_flush()").execute(&mut *conn).await.unwrap();
    sqlx::raw_sql("BEGIN").execute(&mut *conn).await.unwrap();
    let applied = outcomes::record(&mut *conn, &crate::support::sent_records(&claimed)).await.unwrap();
    let leases_read = entries_read(&mut conn, "messages_expired_claims_idx").await;
    let keys_read = entries_read(&mut conn, "messages_pkey").await;
    sqlx::raw_sql("COMMIT").execute(&mut *conn).await.unwrap();
    sqlx::raw_sql("ROLLBACK").execute(&mut *holder).await.unwrap();
    assert_eq!(applied.len(), 100);
    assert_eq!(leases_read, 0, "the index of processing rows was scanned");
    assert!((100..=400).contains(&keys_read), "{keys_read} primary key entries for 100 rows");
}
