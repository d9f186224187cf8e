//! What the receiver sees on the wire: method, headers and body exactly as specified.

use crate::support;
use sqlx::PgPool;
use support::dispatch::{limits, Setup, AUTH_KEY};
use testkit::receiver::Receiver;

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn headers_and_body_are_exactly_as_specified(pool: PgPool) {
    let receiver = Receiver::accepting().await;
    let message = support::insert(&pool, 7).await;
    Setup::default().build(&pool, &receiver.url).run_once(limits()).await.unwrap();

    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.headers["content-type"], "application/json");
    assert_eq!(request.headers["x-ins-auth-key"], AUTH_KEY);
    assert_eq!(request.idempotency_key(), message.id.to_string());
    assert_eq!(request.body, r#"{"to":"+905550000007","content":"message number 7"}"#);
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn unicode_and_special_characters_reach_the_receiver_verbatim(pool: PgPool) {
    let receiver = Receiver::accepting().await;
    let text = "Merhaba dünya 🚀 \"quoted\" \\ '; DROP TABLE messages; --\nnew line";
    sqlx::query("INSERT INTO messages (phone_number, content) VALUES ('+905551111111', $1)")
        .bind(text)
        .execute(&pool)
        .await
        .unwrap();
    Setup::default().build(&pool, &receiver.url).run_once(limits()).await.unwrap();
    let body = receiver.received()[0].json();
    assert_eq!(body, serde_json::json!({"to": "+905551111111", "content": text}));
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_auth_key_never_reaches_a_stored_error(pool: PgPool) {
    let receiver = testkit::receiver::Receiver::start(|received| {
        // A hostile receiver echoing the headers back in an error.
        let echoed = format!("{:?}", received.headers);
        testkit::receiver::Reply::status(400, &echoed)
    })
    .await;
    support::insert(&pool, 1).await;
    Setup::default().build(&pool, &receiver.url).run_once(limits()).await.unwrap();
    let (last_error, code): (String, String) =
        sqlx::query_as("SELECT last_error, error_code FROM messages").fetch_one(&pool).await.unwrap();
    assert_eq!(code, "http_400");
    assert!(!last_error.contains(AUTH_KEY));
}
