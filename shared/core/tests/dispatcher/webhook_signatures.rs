//! Signed webhooks checked the way receivers will check them: by the `standardwebhooks`
//! package from PyPI, an implementation independent of ours, behind a real HTTP receiver.

use crate::support;
use dispatcher_core::webhook::{WebhookSigner, TOLERANCE_SECONDS};
use sqlx::PgPool;
use support::dispatch::{limits, Setup, AUTH_KEY};
use support::standardwebhooks::PythonReceiver;
use testkit::receiver::{Received, Receiver};

const OLD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NEW_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn signed_with(secrets: &str) -> Setup {
    Setup { signer: Some(WebhookSigner::parse(secrets).unwrap()), ..Setup::default() }
}

/// Inserts one message and runs the dispatcher once against `url`; returns the message's status.
async fn send_one(pool: &PgPool, setup: &Setup, url: &str, n: usize) -> String {
    let message = support::insert(pool, n).await;
    setup.build(pool, url).run_once(limits()).await.unwrap();
    support::status_of(pool, &message).await
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn every_request_of_a_signed_run_verifies_with_the_standardwebhooks_package(pool: PgPool) {
    let receiver = PythonReceiver::start(OLD_SECRET).await;
    let mut ids = Vec::new();
    for n in 1..=5 {
        ids.push(support::insert(&pool, n).await.id.to_string());
    }
    let summary = signed_with(OLD_SECRET).build(&pool, &receiver.url).run_once(limits()).await.unwrap();
    assert_eq!(summary.sent, 5, "{summary:?}");

    let verdicts = receiver.verdicts().await;
    assert_eq!(verdicts.len(), 5);
    let mut seen: Vec<String> = verdicts
        .iter()
        .map(|verdict| {
            assert_eq!(verdict["verified"], true, "{verdict}");
            assert_eq!(
                verdict["webhook_id"], verdict["idempotency_key"],
                "webhook-id is the Idempotency-Key"
            );
            assert_eq!(verdict["signatures"], 1);
            verdict["webhook_id"].as_str().unwrap().to_owned()
        })
        .collect();
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids, "webhook-id is the message id");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_rotation_verifies_with_either_secret_then_only_with_the_new_one(pool: PgPool) {
    let old_receiver = PythonReceiver::start(OLD_SECRET).await;
    let new_receiver = PythonReceiver::start(NEW_SECRET).await;

    let during = signed_with(&format!("{OLD_SECRET} {NEW_SECRET}"));
    assert_eq!(send_one(&pool, &during, &old_receiver.url, 1).await, "sent", "receiver not yet switched");
    assert_eq!(send_one(&pool, &during, &new_receiver.url, 2).await, "sent", "receiver already switched");

    let after = signed_with(NEW_SECRET);
    assert_eq!(send_one(&pool, &after, &new_receiver.url, 3).await, "sent");
    assert_eq!(
        send_one(&pool, &after, &old_receiver.url, 4).await,
        "failed",
        "the old secret no longer verifies"
    );
    let refused = old_receiver.verdicts().await;
    assert_eq!((refused.len(), &refused[1]["verified"]), (2, &serde_json::json!(false)), "{refused:?}");
    let code: String = sqlx::query_scalar("SELECT error_code FROM messages WHERE status = 'failed'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(code, "http_401");
}

/// One request exactly as the dispatcher sent it, captured by a plain receiver.
async fn captured_request(pool: &PgPool) -> Received {
    let capture = Receiver::accepting().await;
    support::insert(pool, 1).await;
    signed_with(OLD_SECRET).build(pool, &capture.url).run_once(limits()).await.unwrap();
    capture.received().remove(0)
}

fn header<'a>(request: &'a Received, name: &str) -> &'a str {
    request.headers[name].to_str().unwrap()
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn a_stale_timestamp_or_a_body_changed_by_one_byte_is_rejected(pool: PgPool) {
    let request = captured_request(&pool).await;
    let receiver = PythonReceiver::start(OLD_SECRET).await;
    let (id, signature) = (header(&request, "webhook-id"), header(&request, "webhook-signature"));
    assert_eq!(id, request.idempotency_key());
    assert_eq!(header(&request, "x-ins-auth-key"), AUTH_KEY, "the auth key is still sent");
    let timestamp: i64 = header(&request, "webhook-timestamp").parse().unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!((now - timestamp).abs() <= 5, "the timestamp is the send time: {timestamp} vs {now}");
    let body = request.body.as_bytes().to_vec();
    let post = |timestamp: String, signature: String, body: Vec<u8>| {
        let receiver = &receiver;
        async move {
            let headers = [
                ("webhook-id", id),
                ("webhook-timestamp", timestamp.as_str()),
                ("webhook-signature", signature.as_str()),
            ];
            receiver.post(&headers, body).await
        }
    };

    let (status, _) = post(timestamp.to_string(), signature.to_owned(), body.clone()).await;
    assert_eq!(status, 202, "the request as sent verifies");

    let mut tampered = body.clone();
    let last_digit = tampered.iter().rposition(u8::is_ascii_digit).unwrap();
    tampered[last_digit] = if tampered[last_digit] == b'9' { b'8' } else { tampered[last_digit] + 1 };
    let (status, answer) = post(timestamp.to_string(), signature.to_owned(), tampered).await;
    assert_eq!(status, 401, "a body changed by one byte: {answer}");
    assert!(answer["error"].as_str().unwrap().contains("signature"), "{answer}");

    // A replay after the tolerance, re-signed so that only its age is wrong; and one from the future.
    let signer = WebhookSigner::parse(OLD_SECRET).unwrap();
    for (stale, why) in [(now - TOLERANCE_SECONDS - 60, "too old"), (now + TOLERANCE_SECONDS + 60, "too new")]
    {
        let (status, answer) = post(stale.to_string(), signer.sign(id, stale, &body), body.clone()).await;
        assert_eq!(status, 401, "{why}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains(why), "{answer}");
    }
    let (status, _) = post(timestamp.to_string(), signer.sign(id, timestamp, &body), body.clone()).await;
    assert_eq!(status, 202, "our own signature of the same request is the one sent");
}

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn without_a_secret_no_standard_webhooks_headers_are_sent(pool: PgPool) {
    let capture = Receiver::accepting().await;
    support::insert(&pool, 1).await;
    Setup::default().build(&pool, &capture.url).run_once(limits()).await.unwrap();
    let request = capture.received().remove(0);
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        assert!(!request.headers.contains_key(name), "{name} sent unsigned");
    }
    assert!(request.headers.contains_key("x-ins-auth-key"));
}
