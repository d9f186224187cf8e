//! The pool pings a connection only when it has been idle a while: a connection the server
//! closed during a quiet spell is replaced before use, and a busy one costs no extra round trip.

use std::time::Duration;

use dispatcher_core::config::DatabaseSettings;
use dispatcher_core::db::{connect, PING_WHEN_IDLE_FOR};
use secrecy::SecretString;
use sqlx::{Connection, PgConnection};

async fn backend_pid(pool: &sqlx::PgPool) -> i32 {
    sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(pool).await.unwrap()
}

async fn terminate(url: &str, pid: i32) {
    let mut admin = PgConnection::connect(url).await.unwrap();
    let done: bool =
        sqlx::query_scalar("SELECT pg_terminate_backend($1)").bind(pid).fetch_one(&mut admin).await.unwrap();
    assert!(done);
}

#[tokio::test]
async fn a_connection_closed_while_idle_is_replaced_before_use() {
    let url = std::env::var("DATABASE_URL").unwrap();
    let pool = connect(&DatabaseSettings::at(SecretString::from(url.clone())), 1).await.unwrap();
    let first = backend_pid(&pool).await;
    terminate(&url, first).await;

    // Used again at once, the connection is not pinged: the query meets the closed socket.
    assert!(sqlx::query("SELECT 1").execute(&pool).await.is_err(), "no ping while busy");
    // The pool dropped it; the next query gets a fresh connection.
    let second = backend_pid(&pool).await;
    assert_ne!(second, first);

    // Closed during a quiet spell: the ping before use finds out, and nobody sees an error.
    terminate(&url, second).await;
    tokio::time::sleep(PING_WHEN_IDLE_FOR + Duration::from_millis(500)).await;
    let third = backend_pid(&pool).await;
    assert_ne!(third, second);
}
