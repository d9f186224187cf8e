//! Holding the messages table locked from a second connection, so that statements queue up
//! behind it deterministically.

use std::time::Duration;

use sqlx::{Connection, PgConnection, PgPool};

/// A second connection holding `mode` on the messages table until it is dropped, so that
/// requests queue up behind the first statement that needs the table.
pub async fn lock_messages(pool: &PgPool, mode: &str) -> PgConnection {
    let options = pool.connect_options();
    let mut conn = PgConnection::connect_with(&options).await.unwrap();
    sqlx::raw_sql(&format!("BEGIN; LOCK TABLE messages IN {mode} MODE")).execute(&mut conn).await.unwrap();
    conn
}

/// Waits until some backend is blocked on a lock: a statement reached the locked table.
pub async fn wait_for_a_blocked_statement(pool: &PgPool) {
    for _ in 0..500 {
        let blocked = crate::database::fetch_i64(pool, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()").await;
        if blocked > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no statement ever waited for the table lock");
}
